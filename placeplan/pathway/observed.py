"""The EHC needs-assessment pathway as SEN2 publishes it, year by year, for any area.

:func:`pathway_series` gives one row per calendar year for a council, a region or
England, from the ``requests`` table of the SEN2 extract (:mod:`placeplan.sen2`):
requests and their outcomes, assessments, plans issued and their timeliness. A
figure DfE did not publish (``x``, ``z``, ``c``) is missing (``<NA>``), never 0.
:func:`pathway_panel` gives the same columns for every area at once.

What each year counts (SEN2 release 2025 data guidance): requests and their
outcomes are counted by the year the request was received (``decision_not_made``
is still undecided when the year's return was made); assessments by the year they
were carried out; plans issued and their timeliness by the year the plan was
issued, including the permitted exceptions to the 20-week limit (the ``_ex``
columns leave those plans out).

Contains public sector information licensed under the Open Government Licence v3.0.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from placeplan import sen2

__all__ = ["COLUMNS", "pathway_panel", "pathway_series"]

#: Output column -> the ``requests`` table column it is read from, in output order.
COLUMNS: dict[str, str] = {
    "requests": "requests_received",
    "decided_to_assess": "requests_decided_to_assess",
    "decided_not_to_assess": "requests_refused",
    "decision_not_made": "requests_decision_not_made",
    "withdrawn": "requests_withdrawn",
    "decided_within_6_weeks": "requests_decided_within_6_weeks",
    "decided_over_6_weeks": "requests_decided_over_6_weeks",
    "assessments": "assessments_in_year",
    "assessments_issued": "assessments_issued",
    "assessments_not_issued": "assessments_not_issued",
    "assessments_outstanding": "assessments_outstanding",
    "assessments_withdrawn": "assessments_withdrawn",
    "plans_issued": "plans_issued_den",
    "within_20_weeks": "plans_issued_within_20_weeks",
    "pct_within_20_weeks": "pct_within_20_weeks",
    "weeks_20_to_52": "plans_issued_20_to_52_weeks",
    "over_52_weeks": "plans_issued_over_52_weeks",
    "plans_issued_ex": "plans_issued_den_ex",
    "within_20_weeks_ex": "plans_issued_within_20_weeks_ex",
    "pct_within_20_weeks_ex": "pct_within_20_weeks_ex",
    "over_52_weeks_ex": "plans_issued_over_52_weeks_ex",
}
"""Columns of :func:`pathway_series`: counts in [requests], [assessments] or [plans],
percentages in [%] (as published, to one decimal place)."""


def _shape(rows: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"code": rows["code"], "year": rows["year"].astype("int64")})
    for column, source in COLUMNS.items():
        out[column] = rows[source].to_numpy()
        out[column] = out[column].astype(rows[source].dtype)
    out["release"] = rows["release"].to_numpy()
    return out


def pathway_panel(sen2_dir: str | Path | None = None) -> pd.DataFrame:
    """The pathway series of every area, one row per area and calendar year.

    Parameters
    ----------
    sen2_dir : str or pathlib.Path, optional
        A folder of official SEN2 files (see :func:`placeplan.sen2.load`); the
        shipped extract if omitted.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``level``, ``name``, ``year`` then :data:`COLUMNS` and ``release``.
    """
    t = sen2.load(sen2_dir=sen2_dir)
    rows = t.requests
    out = _shape(rows)
    out.insert(1, "level", rows["level"].to_numpy())
    out.insert(2, "name", rows["name"].to_numpy())
    return out.reset_index(drop=True)


def pathway_series(council: str, *, sen2_dir: str | Path | None = None) -> pd.DataFrame:
    """The pathway of one area by calendar year, as SEN2 publishes it.

    Parameters
    ----------
    council : str
        A council, region or ``"England"``: ONS code, DfE LA number or name (as
        :func:`placeplan.sen2.load` takes them).
    sen2_dir : str or pathlib.Path, optional
        A folder of official SEN2 files; the shipped extract if omitted.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year`` (calendar year, ascending), the columns of
        :data:`COLUMNS` (nullable; missing where not published) and ``release``
        (the SEN2 release each year was read from). ``attrs`` holds ``code``,
        ``name``, ``level`` and ``release`` (the releases in words).

    Raises
    ------
    KeyError
        If no SEN2 area matches ``council``.
    """
    t = sen2.load(council, sen2_dir=sen2_dir)
    out = _shape(t.requests).drop(columns="code").set_index("year").sort_index()
    level = str(t.areas["level"].iloc[0]) if len(t.areas) else ""
    out.attrs.update(code=t.code, name=t.name, level=level, release=t.release)
    return out
