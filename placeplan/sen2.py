"""Official SEN2 statistics on education, health and care (EHC) plans, as tidy tables.

The Department for Education publishes the SEN2 collection as the "Education, health
and care plans" statistics release on explore-education-statistics. This module reads
the release's underlying CSV files (unchanged, as downloaded) into long-format tables,
one row per area x year x category, and serves a compact extract of them that ships
with the package (``placeplan/data/sen2/``), so nothing outside the package is read
at run time.

Conventions
-----------
- Every table starts with the area columns ``code, name, level, new_la_code,
  old_la_code`` and ends with ``release`` (the reporting year of the release the row
  came from).

  * ``level`` is ``"national"``, ``"regional"`` or ``"la"``.
  * ``code`` is the ONS code of the area: ``E92000001`` for England, ``E12...``
    (``E13...`` for Inner/Outer London) for regions, the local authority's ONS code
    otherwise. Pure re-codings of an unchanged council are harmonised to the
    council's current code (Buckinghamshire ``E10000002`` -> ``E06000060``,
    Gateshead ``E08000020`` -> ``E08000037``, Northumberland ``E06000048`` ->
    ``E06000057``); ``new_la_code`` keeps the code exactly as published and
    ``old_la_code`` the three-digit DfE LA number. Councils whose boundaries changed
    (Dorset county ``E10000009``, Bournemouth, Poole, Cumbria, Northamptonshire)
    keep their own codes and end when they were replaced.
- ``year`` is an integer. For active plans (``plans_*``, ``placement_by_need``,
  ``need_by_age``) it is the year of the January snapshot (academic year 2024/25 ->
  January 2025 -> ``2025``). For flows (new plans, ceased plans, requests,
  assessments, timeliness) it is the calendar year the events happened in.
- Counts are nullable integers (``Int64``): [plans] for active plans, [plans] for new
  and ceased plans, [requests], [assessments]. The DfE markers ``x`` (not available),
  ``z`` (not applicable), ``c`` (suppressed), ``low``, ``u``, ``:`` and the like are
  read as missing (``<NA>``), never as zero. An unrecognised token in a value column
  is an error.
- ``age`` is the age in whole years: ``"under 3"`` and ``"age 2 and under"`` -> 2,
  ``"age 20 and over"`` -> 20, ``"unknown"`` -> ``<NA>``; ``age_label`` keeps the
  published label.
- ``age_band`` is one of :data:`AGE_BANDS` (``"under 5"``, ``"5 to 10"``, ``"11 to
  15"``, ``"16 to 19"``, ``"20 to 25"``). Release 2022 publishes these bands; later
  releases publish single years of age, which are summed into them (ages 2 and under,
  3 and 4 -> ``"under 5"``; ``"age 20 and over"`` -> ``"20 to 25"``). A band is missing
  (``<NA>``) if any of its ages is, and 0 if none of its ages is listed (the single-age
  files list no row for an age without plans and apply no suppression). Release 2022
  has no ``"20 to 25"`` band before January 2015 (new plans: before 2014), when plans
  did not extend to young people over 19; those rows are absent, not zero.
- Where two releases hold the same area and year, the newer release wins (DfE revises
  earlier years: release 2026 moved England's SLD plans of January 2025 from 25,681
  to 25,025); :mod:`placeplan.sen2_diff` names what a folder changes against the
  shipped extract. A folder holding only releases newer than the extract (release
  2026 as downloaded) is read over it (:func:`layered`), so a planner needs only the
  newest release to calibrate to its January.
- Each official file is read only if its header is one of its known layouts
  (:data:`LAYOUTS`, :mod:`placeplan.sen2_layouts`): release 2025's, or release
  2026's (Down syndrome a primary need; special academies and free schools split).
  Anything else is refused, naming the file and the columns missing or unexpected.
- Need tables hold the needs a release publishes: ``DS`` (Down syndrome) from
  release 2026 (``<NA>`` for January 2025, published as ``x``); release 2025 counts
  those children under ``OTH`` (:data:`RECORDED_UNDER`) and has no ``DS`` rows.

Tables
------
plans_by_age
    Active plans each January by age [plans]: ``plans``, ``special`` (in special
    schools, all types), ``special_independent``, ``mainstream``. The age breakdown
    is published for January 2024 and 2025 only.
plans_by_age_band
    Active plans (statements and plans) each January by age band [plans]:
    ``plans``. January 2010-2022 from release 2022, January 2024-2025 summed from
    ``plans_by_age``; January 2023 is not published by age in either release. Bands
    add up to ``plans_total`` except where a release's age breakdown and total differ
    (January 2024: England, London and East of England, whose age breakdown leaves out
    Hackney and Peterborough, which returned totals only; those two councils' 2024
    bands are missing).
plans_total
    Active plans each January [plans], 2010-2025: ``plans``, ``statements`` (of
    which statements of SEN, before 2019), ``special``, ``special_independent``,
    ``mainstream`` (from 2019), ``series`` (``"statements+plans"`` before 2019,
    ``"plans"`` from 2019); special schools by type (from 2019), which add up to
    ``special``: ``special_la_maintained``, ``special_academy_free`` (academies and
    free schools, in every release) and, where published (release 2026 on), its
    split ``special_academy`` and ``special_free_school``, besides
    ``special_independent`` and ``special_non_maintained``.
placement_by_need
    Active plans, January 2025, by type of placement (the published "Type of
    placement" label; ``"Special - total"`` is all special schools) and primary need
    [plans].
need_by_age
    Active plans, January 2025, by age and primary need [plans].
new_need_by_age
    New plans started in calendar year 2024 by age when the plan started and primary
    need [plans] (``new_plans``).
new_plans_by_age
    New plans by age when the plan started [plans] (``new_plans``, ``new_special``
    placed in special schools), calendar years 2022-2024.
new_plans_by_age_band
    New plans (statements and plans) by age band when the plan started [plans]
    (``new_plans``): calendar years 2009-2021 from release 2022, 2022-2024 summed
    from ``new_plans_by_age``. Bands add up to ``new_plans_total`` except 2022 for
    Yorkshire and The Humber and England (Wakefield returned only a total that year).
new_plans_total
    New plans each calendar year [plans], 2009-2024, with ``new_statements`` before
    2019 and ``new_special`` from 2019; of those in special academies and free
    schools ``new_special_academy_free`` and, where published, its split
    ``new_special_academy`` and ``new_special_free_school``.
ceased_by_age
    Plans ceased by age when the plan ceased and reason [plans] (``ceased``),
    calendar years 2023-2024.
ceased_total
    Plans ceased by reason [plans], calendar years 2022-2024.
requests
    Requests for an EHC needs assessment [requests] (``requests_received``,
    ``requests_refused``), assessments where a plan was or was not issued
    [assessments] (``assessments_issued``, ``assessments_not_issued``), plans issued
    including exceptions [plans] (``plans_issued_den``) and of those within 20 weeks
    (``plans_issued_within_20_weeks``, ``pct_within_20_weeks`` [%]); calendar years
    2014-2024 (2014-2018 from the management-information series of release 2022).
    The pathway's other counts, where published (release 2025's files; release
    2022's series only has those marked *2022*): requests decided to assess
    (``requests_decided_to_assess``), still undecided at the year's end
    (``requests_decision_not_made``), withdrawn (``requests_withdrawn``), decided
    within / after 6 weeks (``requests_decided_within_6_weeks``,
    ``requests_decided_over_6_weeks``) [requests], all counted by the year the
    request was received; assessments in the year (``assessments_in_year``), still
    without a decision at the year's end (``assessments_outstanding``, *2022*) and
    withdrawn (``assessments_withdrawn``) [assessments]; plans issued after 20 but
    within 52 weeks (``plans_issued_20_to_52_weeks``) and after 52 weeks
    (``plans_issued_over_52_weeks``) [plans]; and the same timeliness figures
    excluding the permitted exceptions (``plans_issued_den_ex``,
    ``plans_issued_within_20_weeks_ex``, ``pct_within_20_weeks_ex`` [%], *2022*;
    ``plans_issued_20_to_52_weeks_ex``, ``plans_issued_over_52_weeks_ex``).
areas
    One row per area: ``code, name, level, region_name, first_year, last_year`` and
    ``region_code, old_la_code, published_codes``.
releases
    The releases read: ``release`` (reporting year), ``label``, ``published``,
    ``folder``, ``files``, ``layouts`` (``file:layout;...``, the layout each file was
    read as).
corrections
    Published values that the reader set to missing because they are impossible,
    with the reason (for example every Yorkshire and The Humber council showing the
    regional total of new plans for 2022).

Contains public sector information licensed under the Open Government Licence v3.0.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from placeplan.scenario import NEEDS as _MODELLED_NEEDS
from placeplan.sen2_layouts import (
    CEASED_REASONS,
    LAYOUTS,
    SPECIAL_PARTS,
    Layout,
    LayoutError,
    match_layout,
)

__all__ = [
    "AGE_BANDS",
    "CEASED_REASONS",
    "LAYOUTS",
    "MISSING_MARKERS",
    "NEEDS",
    "RECODED",
    "RECORDED_UNDER",
    "TABLE_NAMES",
    "SEN2FormatError",
    "SEN2Tables",
    "councils",
    "extract_dir",
    "layered",
    "load",
    "over_extract",
    "read_official",
    "source_files",
]

#: Primary need codes, in the order DfE publishes them: the modelled needs
#: (:data:`placeplan.scenario.NEEDS`, the one list) and ``UNKNOWN``.
NEEDS: tuple[str, ...] = (*_MODELLED_NEEDS, "UNKNOWN")

#: Needs SEN2 added as primary needs -> the need earlier releases counted them under
#: (release 2025, data guidance, footnote 1 of the need files: "EHC plans where the
#: primary need is Down Syndrome are included under 'other difficulty/disability'").
RECORDED_UNDER: Mapping[str, str] = {"DS": "OTH"}


#: Age bands of ``plans_by_age_band`` and ``new_plans_by_age_band``, youngest first.
AGE_BANDS: tuple[str, ...] = ("under 5", "5 to 10", "11 to 15", "16 to 19", "20 to 25")
#: Upper age (inclusive) of each band of :data:`AGE_BANDS`.
_BAND_TOPS: tuple[int, ...] = (4, 10, 15, 19, 25)

_AREA_COLUMNS: tuple[str, ...] = ("code", "name", "level", "new_la_code", "old_la_code")
_LEVELS = {"national": "national", "regional": "regional", "local authority": "la"}
_LEVEL_ORDER = {"national": 0, "regional": 1, "la": 2}

#: Published codes of councils re-coded by ONS without a change of area -> current code.
RECODED: Mapping[str, str] = {
    "E10000002": "E06000060",  # Buckinghamshire: county code, still used by SEN2 in 2023-24
    "E08000020": "E08000037",  # Gateshead, re-coded 2013 (minor boundary change)
    "E06000048": "E06000057",  # Northumberland, re-coded 2013 (minor boundary change)
}

#: Value tokens that mean "no number here" (compared case-insensitively after stripping).
MISSING_MARKERS: frozenset[str] = frozenset(
    {"", "x", "z", "c", "u", "low", ":", "..", "~", "-", "*", "#", "na", "n/a", "k", "w"}
)

#: Publication months known for releases (reporting year -> month published).
_PUBLISHED: Mapping[int, str] = {2025: "June 2025", 2026: "June 2026"}

_S = "string"
_I = "Int64"
_AREA_SCHEMA: dict[str, str] = {c: _S for c in _AREA_COLUMNS}

#: Column -> dtype of every table, in column order.
_SCHEMAS: dict[str, dict[str, str]] = {
    "plans_by_age": {
        **_AREA_SCHEMA,
        "year": "int64",
        "age": _I,
        "age_label": _S,
        "plans": _I,
        "special": _I,
        "special_independent": _I,
        "mainstream": _I,
        "release": "int64",
    },
    "plans_by_age_band": {
        **_AREA_SCHEMA,
        "year": "int64",
        "age_band": _S,
        "plans": _I,
        "release": "int64",
    },
    "plans_total": {
        **_AREA_SCHEMA,
        "year": "int64",
        "series": _S,
        "plans": _I,
        "statements": _I,
        "special": _I,
        "special_independent": _I,
        "special_non_maintained": _I,
        "special_la_maintained": _I,
        "special_academy_free": _I,
        "special_academy": _I,
        "special_free_school": _I,
        "mainstream": _I,
        "ed_elsewhere": _I,
        "await_prov": _I,
        "release": "int64",
    },
    "placement_by_need": {
        **_AREA_SCHEMA,
        "year": "int64",
        "placement": _S,
        "need": _S,
        "plans": _I,
        "release": "int64",
    },
    "need_by_age": {
        **_AREA_SCHEMA,
        "year": "int64",
        "age": _I,
        "age_label": _S,
        "need": _S,
        "plans": _I,
        "release": "int64",
    },
    "new_need_by_age": {
        **_AREA_SCHEMA,
        "year": "int64",
        "age": _I,
        "age_label": _S,
        "need": _S,
        "new_plans": _I,
        "release": "int64",
    },
    "new_plans_by_age": {
        **_AREA_SCHEMA,
        "year": "int64",
        "age": _I,
        "age_label": _S,
        "new_plans": _I,
        "new_special": _I,
        "release": "int64",
    },
    "new_plans_by_age_band": {
        **_AREA_SCHEMA,
        "year": "int64",
        "age_band": _S,
        "new_plans": _I,
        "release": "int64",
    },
    "new_plans_total": {
        **_AREA_SCHEMA,
        "year": "int64",
        "series": _S,
        "new_plans": _I,
        "new_statements": _I,
        "new_special": _I,
        "new_special_academy_free": _I,
        "new_special_academy": _I,
        "new_special_free_school": _I,
        "release": "int64",
    },
    "ceased_by_age": {
        **_AREA_SCHEMA,
        "year": "int64",
        "age": _I,
        "age_label": _S,
        "reason": _S,
        "ceased": _I,
        "release": "int64",
    },
    "ceased_total": {
        **_AREA_SCHEMA,
        "year": "int64",
        "reason": _S,
        "ceased": _I,
        "release": "int64",
    },
    "requests": {
        **_AREA_SCHEMA,
        "year": "int64",
        "requests_received": _I,
        "requests_refused": _I,
        "assessments_issued": _I,
        "assessments_not_issued": _I,
        "plans_issued_den": _I,
        "plans_issued_within_20_weeks": _I,
        "pct_within_20_weeks": "Float64",
        "requests_decided_to_assess": _I,
        "requests_decision_not_made": _I,
        "requests_withdrawn": _I,
        "requests_decided_within_6_weeks": _I,
        "requests_decided_over_6_weeks": _I,
        "assessments_in_year": _I,
        "assessments_outstanding": _I,
        "assessments_withdrawn": _I,
        "plans_issued_20_to_52_weeks": _I,
        "plans_issued_over_52_weeks": _I,
        "plans_issued_den_ex": _I,
        "plans_issued_within_20_weeks_ex": _I,
        "pct_within_20_weeks_ex": "Float64",
        "plans_issued_20_to_52_weeks_ex": _I,
        "plans_issued_over_52_weeks_ex": _I,
        "release": "int64",
    },
    "areas": {
        "code": _S,
        "name": _S,
        "level": _S,
        "region_name": _S,
        "first_year": _I,
        "last_year": _I,
        "region_code": _S,
        "old_la_code": _S,
        "published_codes": _S,
    },
    "releases": {
        "release": "int64",
        "label": _S,
        "published": _S,
        "folder": _S,
        "files": _S,
        "layouts": _S,
    },
    "corrections": {
        "table": _S,
        "code": _S,
        "name": _S,
        "year": "int64",
        "category": _S,
        "column": _S,
        "published_value": _I,
        "new_value": _I,
        "reason": _S,
    },
}

#: Names of the tables returned by :func:`read_official`, data tables first.
TABLE_NAMES: tuple[str, ...] = tuple(_SCHEMAS)
_DATA_TABLES: tuple[str, ...] = tuple(
    t for t in TABLE_NAMES if t not in {"areas", "releases", "corrections"}
)
#: Category columns (besides area and year) that identify a row of each data table.
_CATEGORY_KEYS: dict[str, tuple[str, ...]] = {
    "plans_by_age": ("age_label",),
    "plans_by_age_band": ("age_band",),
    "plans_total": (),
    "placement_by_need": ("placement", "need"),
    "need_by_age": ("age_label", "need"),
    "new_need_by_age": ("age_label", "need"),
    "new_plans_by_age": ("age_label",),
    "new_plans_by_age_band": ("age_band",),
    "new_plans_total": (),
    "ceased_by_age": ("age_label", "reason"),
    "ceased_total": ("reason",),
    "requests": (),
}

_NEED_COLUMNS: dict[str, str] = {f"number_{n.lower()}": n for n in NEEDS if n != "UNKNOWN"} | {
    "number_need_unknown": "UNKNOWN"
}
_BREAKDOWN = ("breakdown_topic", "breakdown")

#: The official files read (their columns: :data:`placeplan.sen2_layouts.LAYOUTS`).
_FILES: tuple[str, ...] = tuple(LAYOUTS)

_ATTRIBUTION_LICENCE = (
    "Contains public sector information licensed under the Open Government Licence v3.0."
)


class SEN2FormatError(ValueError):
    """A SEN2 file does not have the layout this reader expects.

    Parameters
    ----------
    file : str or pathlib.Path
        The offending file.
    message : str
        What is wrong.
    column : str, optional
        The column concerned, if any.

    """

    def __init__(self, file: str | Path, message: str, column: str | None = None) -> None:
        self.file = str(file)
        self.column = column
        super().__init__(f"{file}: {message}")


# --------------------------------------------------------------------------------------
# Low-level parsing
# --------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    """Lower-case ``text`` and drop everything but letters and digits."""
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def _read_csv(path: Path) -> tuple[pd.DataFrame, Layout]:
    """Read an official CSV as text, and the known layout its header has.

    Raises
    ------
    SEN2FormatError
        If the file cannot be read, or its header is none of the file's known layouts
        (:func:`placeplan.sen2_layouts.match_layout`).
    """
    try:
        raw = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig"
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "empty"
        raise SEN2FormatError(path, f"not a readable UTF-8 CSV file ({reason})") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    try:
        layout = match_layout(path.name, list(raw.columns))
    except LayoutError as exc:
        raise SEN2FormatError(path, str(exc), exc.column) from None
    return raw.apply(lambda s: s.str.strip()), layout


def _numbers(raw: pd.Series, path: Path, column: str, *, integer: bool = True) -> pd.Series:
    """Parse published values, turning the DfE markers into missing values.

    Parameters
    ----------
    raw : pandas.Series
        Text values as published.
    path : pathlib.Path
        File the values come from (for error messages).
    column : str
        Column the values come from (for error messages).
    integer : bool, default True
        Whether the values are counts, returned as ``Int64``; else ``Float64``.

    Returns
    -------
    pandas.Series
        Numbers, with ``<NA>`` where a marker (``x``, ``z``, ``c``, ...) was published.

    """
    text = raw.astype(str).str.strip().str.replace(",", "", regex=False)
    marker = text.str.lower().isin(MISSING_MARKERS)
    values = pd.to_numeric(text.where(~marker, None), errors="coerce")
    bad = values.isna() & ~marker
    if bad.any():
        examples = sorted(set(raw[bad].astype(str)))[:5]
        raise SEN2FormatError(
            path, f"unrecognised value(s) {examples} in column {column!r}", column
        )
    if not integer:
        return values.astype("Float64")
    fractional = values.notna() & (values != np.round(values))
    if fractional.any():
        examples = sorted(set(raw[fractional].astype(str)))[:5]
        raise SEN2FormatError(path, f"non-integer count(s) {examples} in column {column!r}", column)
    return values.astype("Int64")


def _age(label: str, path: Path) -> int | None:
    """Age in whole years for a published age label (``None`` for an unknown age)."""
    text = " ".join(str(label).lower().split())
    if "unknown" in text:
        return None
    match = re.fullmatch(r"(?:aged?\s*)?(\d+)(?:\s+and\s+(?:under|over|above|below))?", text)
    if match:
        return int(match.group(1))
    match = re.fullmatch(r"(?:aged?\s*)?under\s+(\d+)", text)
    if match:
        return int(match.group(1)) - 1
    raise SEN2FormatError(path, f"unrecognised age label {label!r}")


def _ages(labels: pd.Series, path: Path) -> pd.Series:
    """Vectorised :func:`_age`, as ``Int64``."""
    mapping = {lab: _age(lab, path) for lab in labels.unique()}
    return pd.Series(labels.map(mapping), index=labels.index, dtype="Int64")


def _years(raw: pd.DataFrame, path: Path) -> pd.Series:
    """January/calendar year of each row from ``time_period`` (``201819`` -> 2019)."""
    period = raw["time_period"]
    ok = period.str.fullmatch(r"\d{4}(\d{2})?")
    if not ok.all():
        examples = sorted(set(period[~ok]))[:5]
        raise SEN2FormatError(path, f"unrecognised time_period {examples}", "time_period")
    start = period.str[:4].astype("int64")
    academic = period.str.len() == 6
    if academic.any():
        tail = period[academic].str[4:].astype("int64")
        if not ((start[academic] + 1) % 100 == tail).all():
            raise SEN2FormatError(path, "academic-year time_period not of the form YYYYyy")
    return start + academic.astype("int64")


def _blank(series: pd.Series) -> pd.Series:
    """Text as ``string`` dtype with empty values missing."""
    out = series.astype("string")
    return out.mask(out == "")


def _areas(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Area columns, year and region of each row (rows of other levels are dropped)."""
    level = raw["geographic_level"].str.lower().map(_LEVELS)
    raw = raw[level.notna()]
    level = level[level.notna()]
    la = level == "la"
    national = level == "national"
    published = _blank(raw["new_la_code"])
    if published[la].isna().any():
        raise SEN2FormatError(path, "local-authority row without new_la_code", "new_la_code")
    code = published.replace(dict(RECODED))
    code = code.mask(national, _blank(raw["country_code"]))
    code = code.mask(level == "regional", _blank(raw["region_code"]))
    name = _blank(raw["la_name"])
    name = name.mask(national, _blank(raw["country_name"]))
    name = name.mask(level == "regional", _blank(raw["region_name"]))
    if code.isna().any() or name.isna().any():
        raise SEN2FormatError(path, "row without an area code or name")
    out = pd.DataFrame(
        {
            "code": code,
            "name": name,
            "level": level.astype("string"),
            "new_la_code": published.where(la),
            "old_la_code": _blank(raw["old_la_code"]).where(la),
            "year": _years(raw, path),
            "_region_code": _blank(raw["region_code"]).where(la),
            "_region_name": _blank(raw["region_name"]).where(la),
        },
        index=raw.index,
    )
    return out


class _File:
    """One parsed official file: the raw text columns plus area columns and year."""

    def __init__(self, path: Path) -> None:
        self.path = path
        raw, self.layout = _read_csv(path)
        self.area = _areas(raw, path)
        self.raw = raw.loc[self.area.index]
        if "breakdown_topic" in self.raw.columns:
            self.topic = self.raw["breakdown_topic"].map(_norm)
        else:
            self.topic = pd.Series("", index=self.raw.index)

    def rows(self, mask: pd.Series) -> pd.DataFrame:
        """Return the area columns of the rows selected by ``mask``."""
        return self.area[mask].copy()

    def counts(self, mask: pd.Series, column: str) -> pd.Series:
        """Return the counts of ``column`` in the rows selected by ``mask``."""
        return _numbers(self.raw.loc[mask, column], self.path, column)

    def rates(self, mask: pd.Series, column: str) -> pd.Series:
        """Return the percentages of ``column`` in the rows selected by ``mask``."""
        return _numbers(self.raw.loc[mask, column], self.path, column, integer=False)

    def is_total(self) -> pd.Series:
        """Rows of the "All ..." / headline breakdown."""
        return self.topic.str.startswith("all") | (self.topic == "newehcplans")

    def is_age(self) -> pd.Series:
        """Rows broken down by (single-year) age."""
        return self.topic.isin({"childoryoungpersonsage", "agewhenplanstarted", "ageplanceased"})


# --------------------------------------------------------------------------------------
# Table builders (one release at a time)
# --------------------------------------------------------------------------------------


def _with_age(f: _File, mask: pd.Series, frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``age`` and ``age_label`` from the ``breakdown`` column."""
    labels = f.raw.loc[mask, "breakdown"]
    frame["age"] = _ages(labels, f.path)
    frame["age_label"] = labels.astype("string")
    return frame


def _melt(
    frame: pd.DataFrame, columns: Mapping[str, str], var_name: str, value_name: str
) -> pd.DataFrame:
    """Long format: one row per entry of ``columns`` (renamed to its value)."""
    ids = [c for c in frame.columns if c not in columns]
    long = frame.melt(
        id_vars=ids, value_vars=list(columns), var_name=var_name, value_name=value_name
    )
    long[var_name] = long[var_name].map(columns).astype("string")
    return long


def _needs(f: _File, mask: pd.Series, frame: pd.DataFrame, value_name: str) -> pd.DataFrame:
    """Add one count column per primary need and melt them to ``need``/``value_name``.

    Only the needs the file publishes get rows: a release before 2026 has no Down
    syndrome column (those children are counted under OTH), so no ``DS`` rows.
    """
    columns = {c: n for c, n in _NEED_COLUMNS.items() if c in f.raw.columns}
    for column in columns:
        frame[column] = f.counts(mask, column)
    return _melt(frame, columns, "need", value_name)


def _special_parts(f: _File, mask: pd.Series, prefix: str = "") -> dict[str, pd.Series]:
    """Special school counts by type, academies and free schools combined and split.

    ``special_academy_free`` is published in the 2025 layout and is the sum of
    ``special_academy`` and ``special_free_school`` in the 2026 one (missing if either
    is); the split is missing where it is not published. Where every part of a row is
    a number, the parts must add up to ``special_total``: a file where they do not
    is refused (a column mis-read would otherwise go unnoticed).
    """
    index = f.raw.index[mask]
    blank = pd.Series(pd.NA, index=index, dtype="Int64")
    parts = SPECIAL_PARTS.get(f.layout.name, ())
    if not parts or parts[0] not in f.raw.columns:  # the file publishes no split
        return {
            f"{prefix}{k}": blank
            for k in (
                "special_la_maintained",
                "special_academy_free",
                "special_academy",
                "special_free_school",
            )
        }
    values = {c: f.counts(mask, c) for c in parts}
    total = f.counts(mask, "special_total")
    known = pd.concat([*values.values(), total], axis=1).notna().all(axis=1)
    summed = sum(v.fillna(0) for v in values.values())
    wrong = known & (summed != total.fillna(0))
    if wrong.any():
        at = wrong[wrong].index[0]
        raise SEN2FormatError(
            f.path,
            f"line {int(at) + 2}: {' + '.join(parts)} = {int(summed[at])}, but special_total "
            f"= {int(total[at])}; expected the special school types to add up to the total",
            "special_total",
        )
    if "special_academy_free" in values:
        combined = values["special_academy_free"]
        academy = free = blank
    else:
        academy, free = values["special_academy"], values["special_free_school"]
        combined = academy + free
    return {
        f"{prefix}special_la_maintained": values["special_la_maintained"],
        f"{prefix}special_academy_free": combined,
        f"{prefix}special_academy": academy,
        f"{prefix}special_free_school": free,
    }


def _band_of_age(ages: pd.Series, path: Path) -> pd.Series:
    """Age band (:data:`AGE_BANDS`) of each whole-year age (ages 0-25)."""
    outside = ages.notna() & ((ages < 0) | (ages > _BAND_TOPS[-1]))
    if outside.any():
        examples = sorted(set(ages[outside].astype(int)))[:5]
        raise SEN2FormatError(path, f"age(s) {examples} outside 0-25 cannot be put in a band")
    index = np.searchsorted(np.array(_BAND_TOPS), ages.fillna(0).astype("int64").to_numpy())
    bands = pd.Series(np.array(AGE_BANDS, dtype=object)[index], index=ages.index, dtype="string")
    return bands.mask(ages.isna())


def _age_bands(frame: pd.DataFrame, value: str, path: Path) -> pd.DataFrame:
    """Sum single-year-of-age rows into :data:`AGE_BANDS`, every band of each area x year.

    Rows of unknown age are left out. A band is missing if any of its ages is missing,
    and 0 if none of its ages has a row (the files list no row for an age without
    plans).
    """
    known = frame[frame["age"].notna()]
    parts = known.assign(age_band=_band_of_age(known["age"], path), _missing=known[value].isna())
    keys = ["code", "year"]
    sums = (
        parts.groupby([*keys, "age_band"], observed=True)
        .agg(_sum=(value, "sum"), _missing=("_missing", "any"))
        .reset_index()
    )
    area_cols = [c for c in known.columns if c in (*_AREA_COLUMNS, "_region_code", "_region_name")]
    grid = known.drop_duplicates(keys)[[*area_cols, "year"]].merge(
        pd.DataFrame({"age_band": pd.Series(AGE_BANDS, dtype="string")}), how="cross"
    )
    out = grid.merge(sums, on=[*keys, "age_band"], how="left")
    missing = out["_missing"].fillna(False).astype(bool)
    out[value] = out["_sum"].fillna(0).astype("Int64").mask(missing)
    return out.drop(columns=["_sum", "_missing"])


def _published_bands(f: _File, column: str, value: str) -> pd.DataFrame:
    """Rows of a release-2022 age-band file (``characteristic_age``), ``Total`` left out."""
    labels = f.raw["characteristic_age"]
    normal = labels.map(_norm).str.replace(r"^aged?", "", regex=True)
    known = {_norm(band): band for band in AGE_BANDS}
    unknown = sorted(set(labels[~normal.isin([*known, "total"])]))
    if unknown:
        raise SEN2FormatError(
            f.path, f"unrecognised characteristic_age {unknown[:5]}", "characteristic_age"
        )
    band = normal != "total"
    frame = f.rows(band)
    frame["age_band"] = normal[band].map(known).astype("string")
    frame[value] = f.counts(band, column)
    return frame


def _optional(f: _File, mask: pd.Series, column: str) -> pd.Series:
    """Counts of a column some releases do not carry (missing where absent)."""
    if column not in f.raw.columns:
        return pd.Series(pd.NA, index=f.raw.index[mask], dtype="Int64")
    return f.counts(mask, column)


def _caseload(f: _File) -> dict[str, pd.DataFrame]:
    total = f.is_total()
    plans_total = f.rows(total)
    plans_total["series"] = "plans"
    plans_total["plans"] = f.counts(total, "ehcplans")
    plans_total["special"] = f.counts(total, "special_total")
    plans_total["special_independent"] = f.counts(total, "special_independent")
    plans_total["special_non_maintained"] = _optional(f, total, "special_non_maintained")
    for column, values in _special_parts(f, total).items():
        plans_total[column] = values
    plans_total["mainstream"] = f.counts(total, "mainstream_total")
    # the observed shadow of the referral list: educated elsewhere (all years) and
    # awaiting provision (published up to January 2022 only; "await_prov" in the 2026
    # layout, whose caseload file was not seen, "await_prov_2022" before)
    plans_total["ed_elsewhere"] = _optional(f, total, "ed_elsewhere")
    await_prov = "await_prov" if "await_prov" in f.raw.columns else "await_prov_2022"
    plans_total["await_prov"] = _optional(f, total, await_prov)
    age = f.topic == "childoryoungpersonsage"
    by_age = _with_age(f, age, f.rows(age))
    by_age["plans"] = f.counts(age, "ehcplans")
    by_age["special"] = f.counts(age, "special_total")
    by_age["special_independent"] = f.counts(age, "special_independent")
    by_age["mainstream"] = f.counts(age, "mainstream_total")
    return {
        "plans_total": plans_total,
        "plans_by_age": by_age,
        "plans_by_age_band": _age_bands(by_age, "plans", f.path),
    }


def _needs_all(f: _File) -> dict[str, pd.DataFrame]:
    placement = f.topic == "typeofplacement"
    total = f.is_total()
    frame = f.rows(placement | total)
    frame["placement"] = f.raw.loc[placement | total, "breakdown"].astype("string")
    by_placement = _needs(f, placement | total, frame, "plans")
    age = f.topic == "childoryoungpersonsage"
    by_age = _needs(f, age, _with_age(f, age, f.rows(age)), "plans")
    return {"placement_by_need": by_placement, "need_by_age": by_age}


def _needs_new(f: _File) -> dict[str, pd.DataFrame]:
    age = f.is_age()
    if age.any():
        frame = _with_age(f, age, f.rows(age))
    else:  # no age breakdown in this release: keep the headline row, age unknown
        age = f.is_total()
        frame = f.rows(age)
        frame["age"] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
        frame["age_label"] = f.raw.loc[age, "breakdown"].astype("string")
    return {"new_need_by_age": _needs(f, age, frame, "new_plans")}


def _newplans(f: _File) -> dict[str, pd.DataFrame]:
    total = f.is_total()
    new_total = f.rows(total)
    new_total["series"] = "plans"
    new_total["new_plans"] = f.counts(total, "new_ehc_plans")
    new_total["new_special"] = f.counts(total, "special_total")
    for column, values in _special_parts(f, total, "new_").items():
        if column != "new_special_la_maintained":
            new_total[column] = values
    age = f.topic == "agewhenplanstarted"
    by_age = _with_age(f, age, f.rows(age))
    by_age["new_plans"] = f.counts(age, "new_ehc_plans")
    by_age["new_special"] = f.counts(age, "special_total")
    return {
        "new_plans_total": new_total,
        "new_plans_by_age": by_age,
        "new_plans_by_age_band": _age_bands(by_age, "new_plans", f.path),
    }


def _ceased(f: _File) -> dict[str, pd.DataFrame]:
    reasons = {r: r for r in CEASED_REASONS}
    total = f.is_total()
    frame = f.rows(total)
    for r in CEASED_REASONS:
        frame[r] = f.counts(total, r)
    age = f.topic == "ageplanceased"
    by_age = _with_age(f, age, f.rows(age))
    for r in CEASED_REASONS:
        by_age[r] = f.counts(age, r)
    return {
        "ceased_total": _melt(frame, reasons, "reason", "ceased"),
        "ceased_by_age": _melt(by_age, reasons, "reason", "ceased"),
    }


#: Pathway counts of the 2025 layouts read where a file carries them (table column ->
#: published column); a file without one leaves it missing, never 0.
_PATHWAY_COUNTS: dict[str, dict[str, str]] = {
    "requests.csv": {
        "requests_decided_to_assess": "requests_decided_to_assess",
        "requests_decision_not_made": "requests_decision_not_made",
        "requests_withdrawn": "requests_withdrawn",
        "requests_decided_within_6_weeks": "request_outcome_six_weeks",
        "requests_decided_over_6_weeks": "request_outcome_over_6_weeks",
    },
    "assessments.csv": {
        "assessments_in_year": "assess_in_year",
        "assessments_outstanding": "assess_not_made",
        "assessments_withdrawn": "assess_withdrawn",
    },
    "timeliness_20_week.csv": {
        "plans_issued_20_to_52_weeks": "plans_issued_gt20weeks_ltyear",
        "plans_issued_over_52_weeks": "plans_issued_gt_1_year",
        "plans_issued_den_ex": "plans_issued_den_ex",
        "plans_issued_within_20_weeks_ex": "plans_issued_20_weeks_ex",
        "plans_issued_20_to_52_weeks_ex": "plans_issued_gt20weeks_ltyear_ex",
        "plans_issued_over_52_weeks_ex": "plans_issued_gt_1_year_ex",
    },
}


def _optional_rates(f: _File, mask: pd.Series, column: str) -> pd.Series:
    """Percentages of a column some releases do not carry (missing where absent)."""
    if column not in f.raw.columns:
        return pd.Series(pd.NA, index=f.raw.index[mask], dtype="Float64")
    return f.rates(mask, column)


def _requests(f: _File) -> dict[str, pd.DataFrame]:
    total = f.is_total()
    frame = f.rows(total)
    if f.path.name == "requests.csv":
        frame["requests_received"] = f.counts(total, "requests_received_in_year")
        frame["requests_refused"] = f.counts(total, "requests_decided_not_to_assess")
    elif f.path.name == "assessments.csv":
        frame["assessments_issued"] = f.counts(total, "assess_issued")
        frame["assessments_not_issued"] = f.counts(total, "assess_not_issued")
    else:
        frame["plans_issued_den"] = f.counts(total, "plans_issued_den")
        frame["plans_issued_within_20_weeks"] = f.counts(total, "plans_issued_within_20_weeks")
        frame["pct_within_20_weeks"] = f.rates(total, "pc_plans_issued_within_20_weeks")
        frame["pct_within_20_weeks_ex"] = _optional_rates(f, total, "pc_plans_issued_20_weeks_ex")
    for column, published in _PATHWAY_COUNTS[f.path.name].items():
        frame[column] = _optional(f, total, published)
    return {"requests": frame}


def _age_caseload_2022(f: _File) -> dict[str, pd.DataFrame]:
    total = f.raw["characteristic_age"].map(_norm) == "total"
    frame = f.rows(total)
    frame["series"] = np.where(frame["year"] >= 2019, "plans", "statements+plans")
    frame["plans"] = f.counts(total, "total_all")
    frame["statements"] = f.counts(total, "total_st")
    bands = _published_bands(f, "total_all", "plans")
    return {"plans_total": frame, "plans_by_age_band": bands}


def _age_new_plans_2022(f: _File) -> dict[str, pd.DataFrame]:
    total = f.raw["characteristic_age"].map(_norm) == "total"
    frame = f.rows(total)
    frame["series"] = np.where(frame["year"] >= 2019, "plans", "statements+plans")
    frame["new_plans"] = f.counts(total, "total_new_all")
    frame["new_statements"] = f.counts(total, "total_new_st")
    bands = _published_bands(f, "total_new_all", "new_plans")
    return {"new_plans_total": frame, "new_plans_by_age_band": bands}


def _mi_2022(f: _File) -> dict[str, pd.DataFrame]:
    every = pd.Series(True, index=f.raw.index)
    frame = f.rows(every)
    frame["requests_received"] = f.counts(every, "inreqehc")
    frame["requests_refused"] = f.counts(every, "assrefusedehc")
    frame["assessments_issued"] = f.counts(every, "newallehc")
    frame["assessments_not_issued"] = f.counts(every, "assnoneehc")
    frame["plans_issued_den"] = f.counts(every, "totincexcehc")
    frame["plans_issued_within_20_weeks"] = f.counts(every, "incexc20weekehc")
    frame["pct_within_20_weeks"] = f.rates(every, "incexc20weekrate")
    # the management-information series has no request outcomes, withdrawals or
    # timeliness past 20 weeks: those stay missing
    frame["assessments_outstanding"] = _optional(f, every, "assnodecisionehc")
    frame["plans_issued_den_ex"] = _optional(f, every, "totnoexcehc")
    frame["plans_issued_within_20_weeks_ex"] = _optional(f, every, "noexc20weekehc")
    frame["pct_within_20_weeks_ex"] = _optional_rates(f, every, "noexc20weekrate")
    return {"requests": frame}


_BUILDERS: dict[str, Callable[[_File], dict[str, pd.DataFrame]]] = {
    "caseload.csv": _caseload,
    "sen_needs_all_plans.csv": _needs_all,
    "sen_need_newplans.csv": _needs_new,
    "newplans.csv": _newplans,
    "ceased_plans.csv": _ceased,
    "requests.csv": _requests,
    "assessments.csv": _requests,
    "timeliness_20_week.csv": _requests,
    "sen2_age_caseload.csv": _age_caseload_2022,
    "sen2_age_new_plans.csv": _age_new_plans_2022,
    "sen2_mi.csv": _mi_2022,
}


# --------------------------------------------------------------------------------------
# Releases
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Release:
    year: int
    folder: Path
    label: str
    files: tuple[str, ...]


def _release_year(folder: Path) -> int:
    """Return a release folder's reporting year, from its data guidance or its name."""
    guidance = folder / "data-guidance.txt"
    if guidance.is_file():
        head = guidance.read_text(encoding="utf-8-sig", errors="replace")[:2000]
        match = re.search(r"reporting year\s+(\d{4})|(\d{4})\s+reporting year", head, re.I)
        if match:
            return int(match.group(1) or match.group(2))
    match = re.search(r"(?<!\d)(20\d{2})(?!\d)", folder.name)
    if match:
        return int(match.group(1))
    raise SEN2FormatError(
        folder,
        "cannot tell the release's reporting year: add its data-guidance.txt or name the "
        "folder like 'release-2025'",
    )


def _discover(sen2_dir: Path) -> list[_Release]:
    """Release folders under ``sen2_dir`` (or ``sen2_dir`` itself), oldest first."""
    if not sen2_dir.is_dir():
        raise FileNotFoundError(f"SEN2 folder not found: {sen2_dir}")
    candidates = [sen2_dir, *sorted(p for p in sen2_dir.iterdir() if p.is_dir())]
    releases = []
    for folder in candidates:
        files = tuple(name for name in _FILES if (folder / name).is_file())
        if not files:
            continue
        year = _release_year(folder)
        published = _PUBLISHED.get(year)
        label = f"reporting year {year}" + (f" (published {published})" if published else "")
        releases.append(_Release(year, folder, label, files))
    if not releases:
        raise FileNotFoundError(
            f"no SEN2 files ({', '.join(_FILES)}) in {sen2_dir} or its sub-folders"
        )
    years = [r.year for r in releases]
    if len(set(years)) != len(years):
        raise SEN2FormatError(sen2_dir, f"two folders hold the same release year: {years}")
    return sorted(releases, key=lambda r: r.year)


def _release_text(releases: pd.DataFrame) -> str:
    """``"SEN2 release 2025 (June 2025) and release 2022"`` from the releases table."""
    parts = []
    for row in releases.sort_values("release", ascending=False).itertuples():
        published = f" ({row.published})" if pd.notna(row.published) else ""
        parts.append(f"release {row.release}{published}")
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return "SEN2 " + joined


def _attribution_text(releases: pd.DataFrame) -> str:
    """OGL v3.0 attribution naming the releases."""
    labels = [str(v) for v in releases.sort_values("release", ascending=False)["label"]]
    joined = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return (
        f"{_ATTRIBUTION_LICENCE} Source: Department for Education, 'Education, health and "
        f"care plans' statistics (SEN2), {joined}, "
        "https://explore-education-statistics.service.gov.uk/find-statistics/"
        "education-health-and-care-plans"
    )


# --------------------------------------------------------------------------------------
# Assembling the tables
# --------------------------------------------------------------------------------------


def _conform(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Columns of table ``name`` in schema order and dtypes (missing columns as NA)."""
    schema = _SCHEMAS[name]
    out = pd.DataFrame(index=frame.index)
    for column, dtype in schema.items():
        if column in frame.columns:
            out[column] = frame[column].astype(dtype)
        else:
            out[column] = pd.Series(pd.NA, index=frame.index, dtype=dtype)
    return out.reset_index(drop=True)


def _empty(name: str) -> pd.DataFrame:
    """Return an empty table ``name`` with the right columns and dtypes."""
    return _conform(pd.DataFrame(), name)


def _sort(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Deterministic row order: level, code, year, then the table's categories."""
    keys = pd.DataFrame(
        {
            "_level": frame["level"].map(_LEVEL_ORDER).astype("int64"),
            "_code": frame["code"],
            "_year": frame["year"],
        },
        index=frame.index,
    )
    by = ["_level", "_code", "_year"]
    columns = frame.columns
    if "age" in columns:
        keys["_age"] = frame["age"].fillna(999).astype("int64")
        by.append("_age")
    orders = (("age_band", AGE_BANDS), ("need", NEEDS), ("reason", CEASED_REASONS))
    for column, order in orders:
        if column in columns:
            keys["_" + column] = frame[column].map({v: i for i, v in enumerate(order)})
            by.append("_" + column)
    for column in ("age_label", "placement"):
        if column in columns:
            keys["_" + column] = frame[column].fillna("")
            by.append("_" + column)
    order = keys.sort_values(by, kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _check_unique(frame: pd.DataFrame, name: str, where: str | Path) -> None:
    """Raise if two rows of one release share an area, year and category."""
    keys = ["code", "year", *_CATEGORY_KEYS[name]]
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        example = frame.loc[dup, keys].head(3).to_dict("records")
        raise SEN2FormatError(where, f"duplicate rows for table {name!r}: {example}")


def _merge_requests(parts: list[pd.DataFrame], folder: Path) -> pd.DataFrame:
    """Join the requests, assessments and timeliness rows of one release on area x year."""
    area_cols = [*_AREA_COLUMNS, "_region_code", "_region_name"]
    merged: pd.DataFrame | None = None
    areas = []
    for part in parts:
        _check_unique(part, "requests", folder)
        areas.append(part[[*area_cols, "year"]])
        values = part.drop(columns=[c for c in area_cols if c != "code"])
        merged = (
            values if merged is None else merged.merge(values, on=["code", "year"], how="outer")
        )
    assert merged is not None
    lookup = pd.concat(areas).drop_duplicates(["code", "year"])
    return lookup.merge(merged, on=["code", "year"], how="right")


def _parse_release(release: _Release) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """All tables found in one release folder (raw columns, not yet conformed).

    Returns the tables and the layout each file was read as (file name -> layout).
    """
    pieces: dict[str, list[pd.DataFrame]] = defaultdict(list)
    layouts: dict[str, str] = {}
    for name in release.files:
        f = _File(release.folder / name)
        layouts[name] = f.layout.name
        parsed = _BUILDERS[name](f)
        for table, frame in parsed.items():
            pieces[table].append(frame)
    out = {}
    for table, frames in pieces.items():
        if table == "requests":
            frame = _merge_requests(frames, release.folder)
        else:
            frame = pd.concat(frames, ignore_index=True)
        _check_unique(frame, table, release.folder)
        frame["release"] = release.year
        out[table] = frame
    return out, layouts


def _newest_wins(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep, for each area and year, only the rows of the newest release holding it."""
    newest = frame.groupby(["code", "year"])["release"].transform("max")
    return frame[frame["release"] == newest]


def _region_copies(
    frame: pd.DataFrame, name: str, region_of: Mapping[str, str]
) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """Blank council values that repeat their region's value in two or more councils.

    Counts are non-negative, so if two or more councils of a region each show the
    region's own (positive) total, that total has been copied into the council rows:
    the published council values cannot be right and are set to missing.
    """
    category = list(_CATEGORY_KEYS[name])
    values = [c for c, t in _SCHEMAS[name].items() if t == "Int64" and c != "age"]
    la = frame["level"] == "la"
    region_rows = frame[frame["level"] == "regional"]
    if not la.any() or region_rows.empty:
        return frame, []
    keys = ["year", *category]
    councils_ = frame[la].assign(region=frame.loc[la, "code"].map(region_of))
    joined = councils_.reset_index().merge(
        region_rows[["code", *keys, *values]].rename(columns={"code": "region"}),
        on=["region", *keys],
        how="inner",
        suffixes=("", "_regional"),
    )
    records: list[dict[str, object]] = []
    frame = frame.copy()
    for column in values:
        same = joined[column].eq(joined[column + "_regional"]).fillna(False).astype(bool)
        same &= joined[column].fillna(0).gt(0).astype(bool)
        hits = joined[same]
        if hits.empty:
            continue
        counts = hits.groupby(["region", *keys], dropna=False)["index"].transform("size")
        hits = hits[counts.to_numpy() >= 2]
        for row in hits.itertuples(index=False):
            row_d = row._asdict()
            cat = "; ".join(str(row_d[c]) for c in category) if category else pd.NA
            records.append(
                {
                    "table": name,
                    "code": row_d["code"],
                    "name": row_d["name"],
                    "year": row_d["year"],
                    "category": cat,
                    "column": column,
                    "published_value": row_d[column],
                    "new_value": pd.NA,
                    "reason": (
                        f"published value equals the regional total of {row_d['region']} "
                        f"({row_d[column]}) for several councils of that region in "
                        f"{row_d['year']}; a council cannot hold its whole region's total"
                    ),
                }
            )
        frame.loc[hits["index"].to_numpy(), column] = pd.NA
    return frame, records


def _build_areas(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """One row per area: names and region from its latest row, years covered."""
    cols = [*_AREA_COLUMNS, "year", "_region_code", "_region_name"]
    rows = pd.concat([f[cols] for f in frames], ignore_index=True)
    rows = rows.drop_duplicates()
    span = rows.groupby("code")["year"].agg(["min", "max"])
    published = rows.groupby("code")["new_la_code"].agg(
        lambda s: ";".join(sorted(set(s.dropna()))) or pd.NA
    )
    old = rows.groupby("code")["old_la_code"].agg(
        lambda s: ";".join(sorted(set(s.dropna()))) or pd.NA
    )
    latest = rows.sort_values(["code", "year"], kind="stable").drop_duplicates("code", keep="last")
    latest = latest.set_index("code")
    regional = latest["level"] == "regional"  # a region is its own region
    latest["_region_code"] = latest["_region_code"].mask(regional, latest.index.to_series())
    latest["_region_name"] = latest["_region_name"].mask(regional, latest["name"])
    areas = pd.DataFrame(
        {
            "code": latest.index,
            "name": latest["name"].to_numpy(),
            "level": latest["level"].to_numpy(),
            "region_name": latest["_region_name"].to_numpy(),
            "first_year": span.loc[latest.index, "min"].to_numpy(),
            "last_year": span.loc[latest.index, "max"].to_numpy(),
            "region_code": latest["_region_code"].to_numpy(),
            "old_la_code": old.loc[latest.index].to_numpy(),
            "published_codes": published.loc[latest.index].to_numpy(),
        }
    )
    areas = _conform(areas, "areas")
    areas["year"] = 0  # _sort needs a year column
    areas = _sort(areas, "areas").drop(columns="year")
    return areas


def read_official(sen2_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read official SEN2 CSV files into tidy tables.

    Parameters
    ----------
    sen2_dir : str or pathlib.Path
        A folder laid out like the DfE downloads: sub-folders such as
        ``release-2025`` (``caseload.csv``, ``sen_needs_all_plans.csv``,
        ``sen_need_newplans.csv``, ``newplans.csv``, ``ceased_plans.csv``,
        ``requests.csv``, ``assessments.csv``, ``timeliness_20_week.csv``) and
        optionally ``release-2022`` (``sen2_age_caseload.csv``,
        ``sen2_age_new_plans.csv``, ``sen2_mi.csv``); or a single release folder
        holding those files. Files that are absent leave their tables empty. The
        reporting year of each release is read from its ``data-guidance.txt`` or,
        failing that, from the folder name.

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables named in :data:`TABLE_NAMES` (see the module documentation):
        counts of plans [plans], requests [requests] and assessments [assessments]
        as nullable ``Int64`` with DfE markers as ``<NA>``.

    Raises
    ------
    FileNotFoundError
        If ``sen2_dir`` holds no SEN2 file.
    SEN2FormatError
        If a file lacks an expected column (the message names the file and the
        column) or holds values that cannot be read.

    """
    return {name: frame.copy() for name, frame in _official(sen2_dir).items()}


def _official(sen2_dir: str | Path) -> dict[str, pd.DataFrame]:
    """:func:`read_official`'s tables as cached, not copied: never to be changed."""
    folder = Path(sen2_dir)
    key = tuple(
        (
            str(r.folder / name),
            (r.folder / name).stat().st_mtime_ns,
            (r.folder / name).stat().st_size,
        )
        for r in _discover(folder)
        for name in r.files
    )
    return _read_official_cached(str(folder.resolve()), key)


@lru_cache(maxsize=2)
def _read_official_cached(
    folder: str, files: tuple[tuple[str, int, int], ...]
) -> dict[str, pd.DataFrame]:
    """:func:`read_official` of one folder, cached on its files' paths, times and sizes."""
    sen2_dir = Path(folder)
    releases = _discover(sen2_dir)
    pieces: dict[str, list[pd.DataFrame]] = defaultdict(list)
    layouts: dict[int, dict[str, str]] = {}
    for release in releases:
        parsed, layouts[release.year] = _parse_release(release)
        for table, frame in parsed.items():
            pieces[table].append(frame)
    tables: dict[str, pd.DataFrame] = {}
    raw_tables: dict[str, pd.DataFrame] = {}
    for name in _DATA_TABLES:
        if pieces[name]:
            raw_tables[name] = _newest_wins(pd.concat(pieces[name], ignore_index=True))
    areas = _build_areas(raw_tables.values()) if raw_tables else _empty("areas")
    region_of = dict(zip(areas["code"], areas["region_code"], strict=True))
    corrections: list[dict[str, object]] = []
    for name in _DATA_TABLES:
        if name not in raw_tables:
            tables[name] = _empty(name)
            continue
        frame = _conform(raw_tables[name], name)
        frame, fixes = _region_copies(frame, name, region_of)
        corrections.extend(fixes)
        tables[name] = _sort(frame, name)
    tables["areas"] = areas
    tables["releases"] = _conform(
        pd.DataFrame(
            {
                "release": [r.year for r in reversed(releases)],
                "label": [r.label for r in reversed(releases)],
                "published": [_PUBLISHED.get(r.year, pd.NA) for r in reversed(releases)],
                "folder": [
                    "." if r.folder == Path(sen2_dir) else r.folder.name for r in reversed(releases)
                ],
                "files": [";".join(r.files) for r in reversed(releases)],
                "layouts": [
                    ";".join(f"{k}:{v}" for k, v in layouts[r.year].items())
                    for r in reversed(releases)
                ],
            }
        ),
        "releases",
    )
    fixes_frame = _conform(pd.DataFrame(corrections), "corrections")
    tables["corrections"] = fixes_frame.sort_values(
        ["table", "code", "year", "column"], kind="stable"
    ).reset_index(drop=True)
    return {name: tables[name] for name in TABLE_NAMES}


# --------------------------------------------------------------------------------------
# The shipped extract and the public loaders
# --------------------------------------------------------------------------------------


def extract_dir() -> Path:
    """Folder of the SEN2 extract shipped with the package.

    Returns
    -------
    pathlib.Path
        ``placeplan/data/sen2`` inside the installed package; it holds one
        ``<table>.csv.gz`` per table, ``MANIFEST.json`` and ``README.md``.

    """
    return Path(__file__).resolve().parent / "data" / "sen2"


#: How the cached extract holds each schema dtype (:func:`_read_extract_cached`):
#: text as categories (each distinct value once, a one- or two-byte code a row), years
#: (the ``int64`` columns: ``year``, ``release``) in 16 bits, counts in 32.
#: :func:`_expand` gives the rows a caller asks for back in the schema's dtypes, so
#: nobody sees the difference; the whole extract takes about a third of the memory
#: its ``string``/``int64`` columns would.
_STORED: Mapping[str, str] = {"string": "category", "int64": "int16", "Int64": "Int32"}


@lru_cache(maxsize=4)
def _read_extract_cached(folder: str) -> dict[str, pd.DataFrame]:
    """The extract's tables in ``folder`` as read once, held compactly (:data:`_STORED`).

    Never handed out: :func:`_expand` makes fresh tables of the rows wanted. A number
    too large for its stored column is an error (SEN2FormatError), never wrapped.
    """
    tables = {}
    for name, schema in _SCHEMAS.items():
        path = Path(folder) / f"{name}.csv.gz"
        if not path.is_file():
            raise FileNotFoundError(
                f"SEN2 extract table {path} is missing; rebuild it with "
                "`python tools/build_sen2_extract.py --source <sen2 folder> --out "
                "placeplan/data/sen2`"
            )
        # Text is read as plain Python strings, then coded: read_csv's own category
        # dtype would turn the codes "805", "806" into numbers.
        read = {c: object if d == _S else _STORED.get(d, d) for c, d in schema.items()}
        try:
            frame = pd.read_csv(
                path, dtype=read, keep_default_na=False, na_values=[""], encoding="utf-8"
            )
        except (TypeError, ValueError) as exc:
            raise SEN2FormatError(path, f"cannot be read as its schema: {exc}") from None
        if list(frame.columns) != list(schema):
            raise SEN2FormatError(path, f"columns {list(frame.columns)} != {list(schema)}")
        for column, dtype in schema.items():
            if dtype == _S:
                codes, uniques = pd.factorize(frame[column].to_numpy())  # missing: code -1
                frame[column] = pd.Categorical.from_codes(codes, pd.Index(uniques, dtype=object))
        tables[name] = frame
    return tables


def _expand(frame: pd.DataFrame, name: str, code: str | None = None) -> pd.DataFrame:
    """Fresh table ``name`` in its schema's dtypes: the rows of area ``code``, or all.

    Only the rows kept are converted from the stored dtypes (:data:`_STORED`), so one
    council's tables cost a few kilobytes whatever the size of the extract; nothing
    returned shares memory with ``frame``.
    """
    if code is None:
        rows = np.arange(len(frame))
    else:
        rows = np.flatnonzero((frame["code"] == code).fillna(False).to_numpy(dtype=bool))
    columns = {}
    for column, dtype in _SCHEMAS[name].items():
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):  # text: its distinct values, taken
            text = pd.array(values.cat.categories.to_numpy(dtype=object), dtype=dtype)
            columns[column] = text.take(values.cat.codes.to_numpy()[rows], allow_fill=True)
        else:  # take copies; a 16- or 32-bit column is widened to its schema's dtype
            columns[column] = pd.array(values.array.take(rows), dtype=dtype)
    return pd.DataFrame(columns)


def _read_extract(folder: Path, code: str | None = None) -> dict[str, pd.DataFrame]:
    """The extract's tables in ``folder`` (fresh tables of a cached read).

    With ``code``, the tables of that area only (``releases`` whole), as
    :func:`load` filters them.
    """
    return {
        name: _expand(frame, name, None if name == "releases" else code)
        for name, frame in _read_extract_cached(str(folder)).items()
    }


def _tables(sen2_dir: str | Path | None, *, fresh: bool = True) -> dict[str, pd.DataFrame]:
    """All areas' tables: the extract's, a folder's, or a folder's laid over the extract.

    ``fresh=False`` may return a folder's cached tables themselves, for a caller that
    only selects rows of them (which makes new tables) and never changes them.
    """
    if sen2_dir is None:
        return _read_extract(extract_dir())
    if over_extract(sen2_dir):
        return layered(_read_extract(extract_dir()), _official(sen2_dir))
    return read_official(sen2_dir) if fresh else _official(sen2_dir)


def _rows(frame: pd.DataFrame, code: str) -> pd.DataFrame:
    """A new table of the rows of area ``code``."""
    return frame[(frame["code"] == code).fillna(False).astype(bool)].reset_index(drop=True)


def over_extract(sen2_dir: str | Path | None) -> bool:
    """Whether reading ``sen2_dir`` also reads the shipped extract (see :func:`layered`).

    True without a folder, and for a folder holding only releases newer than the
    extract's; False for a folder read alone.
    """
    if sen2_dir is None:
        return True
    newest = int(_read_extract_cached(str(extract_dir()))["releases"]["release"].max())
    return min(r.year for r in _discover(Path(sen2_dir))) > newest


def layered(base: dict[str, pd.DataFrame], top: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Tables of newer releases (``top``) laid over older ones (``base``).

    A folder holding only releases newer than the shipped extract (say release 2026
    alone, as downloaded) is read over the extract: wherever the newer release
    publishes an area's year in a table, its rows replace the extract's (DfE revises
    earlier years); every other area and year keeps the extract's rows. A folder
    holding a release as old as the extract's is read alone, as given.

    Parameters
    ----------
    base, top : dict of str to pandas.DataFrame
        Tables as :func:`read_official` returns them.

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables of :data:`TABLE_NAMES`; ``releases`` lists both sets.
    """
    out: dict[str, pd.DataFrame] = {}
    for name in _DATA_TABLES:
        b, t = base[name], top[name]
        if t.empty:
            out[name] = b
            continue
        published = pd.MultiIndex.from_frame(t[["code", "year"]].astype(str))
        kept = ~pd.MultiIndex.from_frame(b[["code", "year"]].astype(str)).isin(published)
        joined = pd.concat([b[kept], t], ignore_index=True).astype(t.dtypes.to_dict())
        out[name] = _sort(joined, name).reset_index(drop=True)
    areas = pd.concat([top["areas"], base["areas"]], ignore_index=True)
    first = areas.groupby("code")["first_year"].transform("min")
    last = areas.groupby("code")["last_year"].transform("max")
    areas = areas.assign(first_year=first, last_year=last).drop_duplicates("code")
    order = areas["level"].map(_LEVEL_ORDER).astype("int64")
    out["areas"] = (
        areas.assign(_o=order).sort_values(["_o", "code"], kind="stable").drop(columns="_o")
    ).reset_index(drop=True)
    out["releases"] = pd.concat([top["releases"], base["releases"]], ignore_index=True)
    out["corrections"] = pd.concat([base["corrections"], top["corrections"]], ignore_index=True)
    return {name: out[name] for name in TABLE_NAMES}


def _name_key(text: str) -> str:
    """Normalised area name for matching (case, punctuation and '&' ignored)."""
    text = str(text).casefold().replace("&", " and ")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _resolve(council: str, areas: pd.DataFrame) -> str:
    """ONS code of the area ``council`` names (code, DfE LA number or name)."""
    wanted = str(council).strip()
    key = _name_key(wanted)
    upper = wanted.upper()
    by_code = areas[areas["code"].str.upper() == upper]
    if by_code.empty:
        also = areas["published_codes"].fillna("").str.upper().str.split(";")
        old = areas["old_la_code"].fillna("").str.split(";")
        hit = also.map(lambda codes: upper in codes) | old.map(lambda codes: wanted in codes)
        by_code = areas[hit.astype(bool)]
    if not by_code.empty:
        return str(by_code["code"].iloc[0])
    names = areas["name"].map(_name_key)
    by_name = areas[names == key]
    if by_name.empty:  # "Bristol" for "Bristol, City of", "Herefordshire" for "..., County of"
        short = names.str.replace(r" (?:city|county) of$", "", regex=True)
        by_name = areas[short == key]
    if not by_name.empty:
        # Several areas share a name (Dorset county before 2019 and Dorset unitary):
        # take the one with the most recent data.
        best = by_name.sort_values("last_year", ascending=False, kind="stable")
        return str(best["code"].iloc[0])
    display = {
        _name_key(n): f"{n} ({c})" for n, c in zip(areas["name"], areas["code"], strict=True)
    }
    close = [k for k in display if key and (k.startswith(key) or key in k)]
    close += difflib.get_close_matches(key, list(display), n=5, cutoff=0.6)
    codes = difflib.get_close_matches(upper, list(areas["code"]), n=3, cutoff=0.8)
    suggestions = list(dict.fromkeys([display[k] for k in close] + codes))[:6]
    hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
    raise KeyError(
        f"No SEN2 area matches {council!r}.{hint} "
        "Use placeplan.sen2.councils() for the full list of codes and names."
    )


@dataclass(frozen=True, eq=False)
class SEN2Tables:
    """SEN2 tables for one area (or all areas), with their provenance.

    Attributes
    ----------
    plans_by_age, plans_by_age_band, plans_total, placement_by_need, need_by_age, \
new_need_by_age, new_plans_by_age, new_plans_by_age_band, new_plans_total, ceased_by_age, \
ceased_total, requests : pandas.DataFrame
        The tidy tables described in the module documentation, filtered to the area.
        Counts are in [plans] (requests in [requests], assessments in
        [assessments]); ``year`` is the January snapshot for active plans and the
        calendar year for flows.
    areas : pandas.DataFrame
        The area's row of :func:`councils` (all areas if no council was chosen).
    releases : pandas.DataFrame
        The releases the tables come from.
    corrections : pandas.DataFrame
        Published values the reader set to missing, for this area.
    release : str
        The releases in words, e.g. ``"SEN2 release 2025 (June 2025) and release 2022"``.
    attribution : str
        Open Government Licence v3.0 attribution to show wherever the data is used.
    code, name : str or None
        The area chosen, or ``None`` for all areas.
    sen2_dir : str or None
        The folder of official files read (absolute), or ``None`` for the shipped
        extract.

    """

    plans_by_age: pd.DataFrame
    plans_by_age_band: pd.DataFrame
    plans_total: pd.DataFrame
    placement_by_need: pd.DataFrame
    need_by_age: pd.DataFrame
    new_need_by_age: pd.DataFrame
    new_plans_by_age: pd.DataFrame
    new_plans_by_age_band: pd.DataFrame
    new_plans_total: pd.DataFrame
    ceased_by_age: pd.DataFrame
    ceased_total: pd.DataFrame
    requests: pd.DataFrame
    areas: pd.DataFrame
    releases: pd.DataFrame
    corrections: pd.DataFrame
    release: str
    attribution: str
    code: str | None = None
    name: str | None = None
    sen2_dir: str | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the tables by name.

        Returns
        -------
        dict of str to pandas.DataFrame
            Every table, keyed as in :data:`TABLE_NAMES`.

        """
        return {name: getattr(self, name) for name in TABLE_NAMES}


@lru_cache(maxsize=16)
def _load_area(council: str) -> SEN2Tables:
    """One area's tables of the shipped extract, as :func:`load` first made them.

    The extract never changes in a process, and an area's tables are asked for again
    and again (``placeplan init`` reads a council's three times, and England's for
    each council); :func:`load` hands out copies, so no caller sees another's changes.
    """
    areas = _expand(_read_extract_cached(str(extract_dir()))["areas"], "areas")
    code = _resolve(council, areas)
    return _assembled(_read_extract(extract_dir(), code), code, None)


def _assembled(
    tables: dict[str, pd.DataFrame], code: str | None, sen2_dir: str | Path | None
) -> SEN2Tables:
    """The :class:`SEN2Tables` of these tables: of area ``code`` (None: all areas)."""
    releases = tables["releases"]
    name = None if code is None else str(tables["areas"]["name"].iloc[0])
    return SEN2Tables(
        **tables,
        release=_release_text(releases),
        attribution=_attribution_text(releases),
        code=code,
        name=name,
        sen2_dir=None if sen2_dir is None else str(Path(sen2_dir).resolve()),
    )


def load(council: str | None = None, *, sen2_dir: str | Path | None = None) -> SEN2Tables:
    """Load SEN2 tables for one council, region or England.

    Parameters
    ----------
    council : str, optional
        ONS code (``"E10000015"``), published or DfE LA code (``"E10000002"``,
        ``"919"``) or name (``"Hertfordshire"``, ``"England"``, ``"East of
        England"``), matched case-insensitively. ``None`` keeps all areas. A name
        shared by two areas (Dorset) picks the one with the most recent data; use
        the code for the other.
    sen2_dir : str or pathlib.Path, optional
        Read the official CSV files in this folder (see :func:`read_official`): over
        the extract shipped with the package if the folder holds only newer releases
        (:func:`layered`), instead of it otherwise.

    Returns
    -------
    SEN2Tables
        The tables filtered to the area, plus ``release`` and ``attribution``.

    Raises
    ------
    KeyError
        If no area matches ``council``; the message suggests close matches.

    """
    if sen2_dir is None and council is not None:  # the shipped extract, one area: kept
        kept = _load_area(str(council))
        return replace(kept, **{name: frame.copy() for name, frame in kept.tables().items()})
    if sen2_dir is None:  # the shipped extract, every area
        return _assembled(_read_extract(extract_dir()), None, None)
    tables = _tables(sen2_dir, fresh=council is None)
    code = None
    if council is not None:
        code = _resolve(council, tables["areas"])
        tables = {
            key: frame.copy() if key == "releases" else _rows(frame, code)
            for key, frame in tables.items()
        }
    return _assembled(tables, code, sen2_dir)


def source_files(sen2_dir: str | Path) -> list[dict[str, str]]:
    """The official files a folder holds, as read, with their SHA-256 (for provenance).

    Parameters
    ----------
    sen2_dir : str or pathlib.Path
        A folder as :func:`read_official` takes it.

    Returns
    -------
    list of dict
        One ``{"release", "file", "sha256"}`` per file (``file`` relative to the
        folder), newest release first.

    """
    import hashlib

    folder = Path(sen2_dir)
    out = []
    for release in reversed(_discover(folder)):
        for name in release.files:
            path = release.folder / name
            out.append(
                {
                    "release": str(release.year),
                    "file": path.relative_to(folder).as_posix(),
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                }
            )
    return out


def councils(sen2_dir: str | Path | None = None) -> pd.DataFrame:
    """List the areas with SEN2 data.

    Parameters
    ----------
    sen2_dir : str or pathlib.Path, optional
        Read the official CSV files in this folder instead of the shipped extract.

    Returns
    -------
    pandas.DataFrame
        One row per area: ``code`` (ONS), ``name``, ``level`` (``national``,
        ``regional``, ``la``), ``region_name``, ``first_year`` and ``last_year``
        (first and last year with data in any table), then ``region_code``,
        ``old_la_code`` (DfE LA number) and ``published_codes`` (codes the area was
        published under).

    """
    if sen2_dir is None:
        return _expand(_read_extract_cached(str(extract_dir()))["areas"], "areas")
    return _tables(sen2_dir, fresh=False)["areas"].copy()
