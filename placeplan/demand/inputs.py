"""The inputs of the cohort projection, taken from the SEN2 statistics of one council.

Every array here is derived from the shipped SEN2 extract (or a newer release) by
the rules in :func:`cohort_inputs`; nothing is typed in by hand.

From a past origin (a hindcast, ``known_until``) the *levels* come only from data
published for Januaries and years up to then: plans by age band, plans and special
school children in total, new plans by age band of the year before, the caseload
signals of that January, and ceasing from the stock identity. SEN2 publishes some
breakdowns only later (single years of age from January 2024, need by age for
January 2025, ceasing by age for 2023–2024), so their *shapes* are borrowed from
the earliest later publication; each borrowing is named in
:attr:`CohortInputs.borrowed`, and from there in the run's provenance and the
hindcast report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from placeplan import sen2
from placeplan.scenario import LAST_BASE_YEAR, NEEDS

__all__ = ["AGES", "FIRST_SINGLE_AGE_YEAR", "CohortInputs", "cohort_inputs", "stack"]

_SPECIAL_TOTAL = "Special - total"
"""SEN2 type-of-placement label of all special schools (maintained, academy, independent, NM)."""

AGES = np.arange(26)
"""SEN2 ages (at 31 August) of the projection, 0–25."""

FIRST_SINGLE_AGE_YEAR = 2024
"""First January SEN2 publishes plans by single year of age (earlier: age bands)."""

_FIRST_BASE_YEAR = 2019
"""First January a projection can start from (SEN2's series of placements begins)."""

_BAND_AGES = ((0, 4), (5, 10), (11, 15), (16, 19), (20, 25))
"""Ages of each of :data:`placeplan.sen2.AGE_BANDS`, youngest first."""


@dataclass(frozen=True)
class CohortInputs:
    """Arrays a cohort projection starts from, all indexed ``[age, need]`` or ``[age]``.

    Attributes
    ----------
    area : str
        ONS code of the SEN2 area.
    base_year : int
        January of ``stock``.
    stock : numpy.ndarray
        Plans in the base January [plans].
    cease_rate : numpy.ndarray
        Share of plans at each age ceasing within a year [per year].
    new_plans : numpy.ndarray
        New plans made in ``new_plans_year``, by age and need [plans per year].
    new_plans_year : int
        Calendar year of ``new_plans``.
    special_share : numpy.ndarray
        Share of plans in special schools in the base January [1].
    need_mix : numpy.ndarray
        Need mix of the plans of each age in January 2025 (rows sum to 1) [1].
    release : str
        The SEN2 release(s) the inputs come from.
    attribution : str
        The licence attribution the SEN2 figures must carry.
    caseload : dict
        The base January's caseload figures the starting state is derived from:
        ``special`` (special schools of every type), ``special_independent``,
        ``special_non_maintained``, ``ed_elsewhere`` (educated elsewhere) and
        ``await_prov`` (awaiting provision, to 2022) [children]; NaN where not
        published.
    known_until : int or None
        Last January (and calendar year before it) whose levels the inputs use; None
        for all data published.
    borrowed : tuple of str
        Each shape taken from a publication later than ``known_until`` (or, for all
        data, later than the base January), in words: what, from when, and how it is
        scaled to the levels known then.

    """

    area: str
    base_year: int
    stock: np.ndarray
    cease_rate: np.ndarray
    new_plans: np.ndarray
    new_plans_year: int
    special_share: np.ndarray
    need_mix: np.ndarray
    release: str
    attribution: str
    caseload: dict[str, float] = field(default_factory=dict)
    known_until: int | None = None
    borrowed: tuple[str, ...] = ()

    @property
    def special_table(self) -> np.ndarray:
        """Plans in special schools of every type in the base January, ``[age, need]`` [plans]."""
        return self.stock * self.special_share


_CASELOAD = (
    "special",
    "special_independent",
    "special_non_maintained",
    "ed_elsewhere",
    "await_prov",
)
"""Columns of the SEN2 January caseload the starting state uses."""


def _caseload(t: sen2.SEN2Tables, year: int) -> dict[str, float]:
    """The base January's special school and queue-signal counts (NaN if not published)."""
    frame = t.plans_total[t.plans_total["year"] == year]
    out = {}
    for column in _CASELOAD:
        values = frame[column].dropna() if column in frame else frame.iloc[0:0]
        out[column] = float(values.iloc[-1]) if len(values) else float("nan")
    return out


def _by_age(frame: pd.DataFrame, value: str) -> np.ndarray:
    """Sum a column over ages 0–25; ages of 20+ groups are spread evenly over 20–25."""
    out = np.zeros(len(AGES))
    for age, label, amount in frame[["age", "age_label", value]].itertuples(index=False):
        if pd.isna(age) or pd.isna(amount):
            continue
        if "and over" in str(label) and int(age) < 25:
            span = AGES[int(age) :]
            out[span] += float(amount) / len(span)
        else:
            out[min(int(age), 25)] += float(amount)
    return out


def _need_table(frame: pd.DataFrame, value: str) -> np.ndarray:
    """``[age, need]`` table; plans of unknown need are spread over the known needs."""
    table = np.zeros((len(AGES), len(NEEDS)))
    unknown = np.zeros(len(AGES))
    for age, need, amount in frame[["age", "need", value]].itertuples(index=False):
        if pd.isna(age) or pd.isna(amount):
            continue
        if need in NEEDS:
            table[min(int(age), 25), NEEDS.index(need)] += float(amount)
        else:
            unknown[min(int(age), 25)] += float(amount)
    rows = table.sum(axis=1, keepdims=True)
    mix = np.divide(table, rows, out=np.zeros_like(table), where=rows > 0)
    return table + mix * unknown[:, None]


def _mix(table: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Row-normalised need mix; rows without plans take the fallback mix."""
    rows = table.sum(axis=1, keepdims=True)
    return np.where(
        rows > 0,
        np.divide(table, rows, out=np.zeros_like(table), where=rows > 0),
        fallback[None, :],
    )


def _one_year(frame: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """The rows of ``year`` if the table has it, else of its latest year.

    Release 2025 publishes one year of each need table; later releases publish two
    (release 2026: January 2025 revised, and January 2026), which must not be summed.
    """
    if frame.empty:
        return frame
    years = frame["year"].astype(int)
    pick = year if year is not None and (years == year).any() else int(years.max())
    return frame[years == pick]


def _special_by_need(t: sen2.SEN2Tables, year: int | None = None) -> np.ndarray:
    """Plans in special schools by primary need in January ``year`` (else the latest) [plans]."""
    frame = _one_year(t.placement_by_need, year)
    frame = frame[frame["placement"] == _SPECIAL_TOTAL]
    return np.array(
        [frame.loc[frame["need"] == n, "plans"].fillna(0).sum() for n in NEEDS], dtype=float
    )


def _special_like_england(t: sen2.SEN2Tables, plans: np.ndarray, year: int) -> np.ndarray:
    """Plans in special schools by age if each age had England's share [plans]."""
    e = _england(t).plans_by_age
    e = e[e["year"] == year]
    share = np.divide(
        _by_age(e, "special"),
        _by_age(e, "plans"),
        out=np.zeros(len(AGES)),
        where=_by_age(e, "plans") > 0,
    )
    return plans * share


def _england(t: sen2.SEN2Tables) -> sen2.SEN2Tables:
    """England's tables from the same source as ``t`` (the shipped extract or a folder)."""
    return sen2.load("E92000001", sen2_dir=getattr(t, "sen2_dir", None))


def cohort_inputs(
    area: str,
    base_year: int = 2025,
    tables: sen2.SEN2Tables | None = None,
    *,
    known_until: int | None = None,
    sen2_dir: str | Path | None = None,
) -> CohortInputs:
    """Derive the cohort projection's inputs for one area from SEN2.

    Rules (each a documented assumption of the method):

    - *Stock*: plans by single year of age in the base January, split by primary need
      with the January 2025 need mix of each age (plans of unknown need spread over
      the known needs in proportion; England's mix where an area's is not published);
      ``under 3`` is counted at age 2.
    - *Ceasing*: plans ceased in each calendar year by age, over the plans of that age
      in the January of that year, averaged over the years published; the ``20 and
      over`` group is spread evenly over ages 20–25.
    - *New plans*: the latest calendar year's new plans by age, split by need with
      that year's need mix of new plans (of each age where published).
    - *Special school share*: plans in special schools by age and by need in the base
      January (where an area's are not published: England's shares by age scaled to
      the area's total, England's need mix), crossed by iterative proportional fitting
      (:func:`~placeplan.demand.cohort.specialist_share`).

    From a past origin (``known_until``, and any base year before
    :data:`FIRST_SINGLE_AGE_YEAR`) the rules of :func:`_known_then` apply instead:
    levels from data known then, shapes published only later borrowed and named.

    Parameters
    ----------
    area : str
        ONS code or name of a council (or of England or a region).
    base_year : int
        January to start from (2019–2026; 2026 needs a release of 2026 or later).
    tables : placeplan.sen2.SEN2Tables, optional
        SEN2 tables; the shipped extract if omitted.
    known_until : int, optional
        Last January whose data the levels may use (a hindcast's origin), at least
        ``base_year``. By default every publication for base years from 2024, and
        the base year itself for earlier ones.
    sen2_dir : str or pathlib.Path, optional
        A folder of official SEN2 files to read when ``tables`` is omitted (see
        :func:`placeplan.sen2.read_official`); the shipped extract if omitted.

    Returns
    -------
    CohortInputs

    Raises
    ------
    ValueError
        If SEN2 lacks the figures the base year needs, or ``known_until`` is before
        the base year.

    """
    if not _FIRST_BASE_YEAR <= base_year <= LAST_BASE_YEAR:
        raise ValueError(
            f"base year {base_year}: expected a January from {_FIRST_BASE_YEAR} to {LAST_BASE_YEAR}"
        )
    if known_until is not None and known_until < base_year:
        raise ValueError(
            f"known_until {known_until} is before the base year {base_year}: the base "
            "January's plans would not be known"
        )
    t = tables if tables is not None else sen2.load(area, sen2_dir=sen2_dir)
    if known_until is None and base_year < FIRST_SINGLE_AGE_YEAR:
        known_until = base_year
    if known_until is not None:
        return _known_then(area, t, base_year, known_until)
    return _all_published(area, t, base_year)


def _all_published(area: str, t: sen2.SEN2Tables, base_year: int) -> CohortInputs:
    """The inputs from every SEN2 publication (base years with plans by single age)."""
    from placeplan.demand.cohort import specialist_share

    by_age = t.plans_by_age
    base = by_age[by_age["year"] == base_year]
    if base.empty:
        raise ValueError(f"SEN2 has no plans by age for {area} in January {base_year}")
    plans = _by_age(base, "plans")
    special = _by_age(base, "special")
    if base["special"].isna().all():  # not published by age: England's shares by age,
        special = _special_like_england(t, plans, base_year)  # scaled to the area's total
        total = t.plans_total.loc[t.plans_total["year"] == base_year, "special"].dropna()
        if len(total) and special.sum() > 0:
            special *= float(total.iloc[0]) / special.sum()

    need_table = _need_table(_one_year(t.need_by_age, base_year), "plans")
    if need_table.sum() == 0:  # need not published for this area (e.g. Surrey, 2025)
        need_table = _need_table(_one_year(_england(t).need_by_age, base_year), "plans")
    overall = need_table.sum(axis=0) / need_table.sum()
    need_mix = _mix(need_table, overall)
    stock = plans[:, None] * need_mix

    rates = []
    ceased_years = []
    for year, ceased in t.ceased_by_age[t.ceased_by_age["reason"] == "total_ceased"].groupby(
        "year"
    ):
        jan = by_age[by_age["year"] == year]
        if jan.empty:
            continue
        ceased_years.append(int(year))
        denominator = _by_age(jan, "plans")
        rates.append(
            np.divide(
                _by_age(ceased, "ceased"),
                denominator,
                out=np.zeros(len(AGES)),
                where=denominator > 0,
            )
        )
    if not rates:
        raise ValueError(f"SEN2 has no ceased plans by age for {area}")
    cease_rate = np.clip(np.mean(rates, axis=0), 0.0, 1.0)

    new = t.new_plans_by_age
    new_year = int(new["year"].max())
    new_by_age = _by_age(new[new["year"] == new_year], "new_plans")
    new_need = _need_table(_one_year(t.new_need_by_age, new_year), "new_plans")
    if new_need.sum() == 0:
        new_need = _need_table(_one_year(_england(t).new_need_by_age, new_year), "new_plans")
    new_need, folded = _fold_unrecorded(new_need, need_table)
    new_overall = new_need.sum(axis=0) / new_need.sum()
    new_plans = new_by_age[:, None] * _mix(new_need, new_overall)

    by_need = _special_by_need(t, base_year)
    if by_need.sum() == 0:  # not published for this area: England's mix
        by_need = _special_by_need(_england(t), base_year)
    share = specialist_share(stock, special, by_need)
    later = [
        f"{what}: {', '.join(str(y) for y in years)}"
        for what, years in (
            ("need mix of plans by age, January", _used_after(t.need_by_age, base_year)),
            ("ceasing by age, calendar year", [y for y in ceased_years if y >= base_year]),
            ("new plans by age, calendar year", [new_year] if new_year >= base_year else []),
        )
        if years
    ]
    return CohortInputs(
        area=str(base["code"].iloc[0]),
        base_year=base_year,
        stock=stock,
        cease_rate=cease_rate,
        new_plans=new_plans,
        new_plans_year=new_year,
        special_share=share,
        need_mix=need_mix,
        release=t.release,
        attribution=t.attribution,
        caseload=_caseload(t, base_year),
        borrowed=tuple(later + folded),
    )


def _fold_unrecorded(new: np.ndarray, stock: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Count new plans of a need the base stock does not record under the need it was in.

    SEN2 counted Down syndrome under OTH before reporting year 2026
    (:data:`placeplan.sen2.RECORDED_UNDER`). If the base January's need mix has no DS
    (a January before 2026) but the new plans' mix does (a later calendar year), the
    new DS plans are counted under OTH, as the base stock counts them: otherwise they
    would have no share in special schools (none was recorded) and drop out of demand.

    Returns the new-plan table ``[age, need]`` and what was folded, in words.
    """
    out = new.copy()
    notes = []
    for need, under in sen2.RECORDED_UNDER.items():
        k, j = NEEDS.index(need), NEEDS.index(under)
        if stock[:, k].sum() == 0 and out[:, k].sum() > 0:
            notes.append(
                f"new plans of need {need}: counted under {under}, as the base January's "
                f"stock counts them (SEN2 made {need} a primary need from reporting year 2026)"
            )
            out[:, j] += out[:, k]
            out[:, k] = 0.0
    return out, notes


def _used_after(frame: pd.DataFrame, year: int) -> list[int]:
    """The year :func:`_one_year` takes from a table, if later than ``year`` (borrowed)."""
    picked = _one_year(frame, year)
    if picked.empty:
        return []
    used = int(picked["year"].iloc[0])
    return [used] if used > year else []


def _pick_year(frame: pd.DataFrame, known_until: int, column: str) -> tuple[int, bool] | None:
    """The year of a table to take a shape from, and whether it is borrowed.

    The latest year up to ``known_until`` with values if there is one (data known
    then); otherwise the earliest later year (borrowed). None if the table has none.
    """
    with_values = frame[frame[column].notna()] if column in frame else frame.iloc[0:0]
    years = sorted({int(y) for y in with_values["year"].unique()})
    if not years:
        return None
    known = [y for y in years if y <= known_until]
    return (known[-1], False) if known else (years[0], True)


def _bands(frame: pd.DataFrame, year: int, value: str) -> np.ndarray | None:
    """Counts by :data:`placeplan.sen2.AGE_BANDS` in one year, or None if any is missing."""
    rows = frame[frame["year"] == year].set_index("age_band")[value]
    if any(band not in rows.index or pd.isna(rows[band]) for band in sen2.AGE_BANDS):
        return None
    return np.array([float(rows[band]) for band in sen2.AGE_BANDS])


def _spread(bands: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Counts by age band spread over single years of age in proportion to ``shape``.

    A band whose ages all have zero weight in ``shape`` is spread evenly over them.
    """
    out = np.zeros(len(AGES))
    for total, (lo, hi) in zip(bands, _BAND_AGES, strict=True):
        weights = np.asarray(shape[lo : hi + 1], dtype=float)
        if weights.sum() <= 0:
            weights = np.ones(hi - lo + 1)
        out[lo : hi + 1] = total * weights / weights.sum()
    return out


def _total(t: sen2.SEN2Tables, table: str, column: str, year: int) -> float:
    """One published total (NaN if not published)."""
    frame = getattr(t, table)
    values = frame.loc[frame["year"] == year, column].dropna()
    return float(values.iloc[-1]) if len(values) else float("nan")


def _identity_ceasing(t: sen2.SEN2Tables, known_until: int) -> tuple[float, list[int]]:
    """Share of plans ceasing a year from the stock identity, on data known then.

    ``plans[y + 1] = plans[y] (1 - c) + new[y]`` for the (up to) three years before
    ``known_until`` (from 2016, as :func:`placeplan.demand.calibrate.fit`), averaged;
    NaN if no year has the figures.
    """
    rates, years = [], []
    for y in range(max(2016, known_until - 3), known_until):
        plans = _total(t, "plans_total", "plans", y)
        after = _total(t, "plans_total", "plans", y + 1)
        new = _total(t, "new_plans_total", "new_plans", y)
        if np.isfinite([plans, after, new]).all() and plans > 0:
            rates.append((plans + new - after) / plans)
            years.append(y)
    return (float(np.mean(rates)) if rates else float("nan")), years


def _scale_to(rate: np.ndarray, weights: np.ndarray, level: float) -> np.ndarray:
    """Rates by age scaled so that their mean weighted by ``weights`` is ``level``.

    Rates are kept within [0, 1]; the scale is found again over the ages not at 1.
    """
    out = np.clip(rate, 0.0, 1.0)
    if not np.isfinite(level) or weights.sum() <= 0:
        return out
    target = max(level, 0.0) * weights.sum()
    for _ in range(20):
        full = out >= 1.0
        free = float((out * weights)[~full].sum())
        if free <= 0:
            break
        factor = (target - float(weights[full].sum())) / free
        scaled = np.clip(np.where(full, 1.0, out * max(factor, 0.0)), 0.0, 1.0)
        if np.allclose(scaled, out):
            break
        out = scaled
    return out


def _known_then(area: str, t: sen2.SEN2Tables, base_year: int, known_until: int) -> CohortInputs:
    """The inputs from a past origin: levels known then, later shapes borrowed and named.

    Rules, for base January ``B`` and data known until January ``K`` (``B <= K``):

    - *Stock*: plans by single year of age in January ``B`` if SEN2 publishes them
      (from 2024); else plans by age band in January ``B`` (January 2023, published in
      total only: the latest earlier band mix scaled to that total), spread over the
      single years of each band in proportion to the earliest later January with
      single years (borrowed). Split by need with the need mix by age of the latest
      January up to ``K``, else the earliest later one (borrowed).
    - *New plans*: those of the latest calendar year before ``K``, by single year of
      age if published, else by age band spread like the stock (the earliest single-
      age year's shape within each band, borrowed); split by need likewise.
    - *Ceasing*: the rates by age of the years up to ``K - 1`` published; if none
      (ceasing by age starts in 2023), the earliest later year's rates by age
      (borrowed shape) scaled so that their mean over the base stock equals the
      ceasing of the stock identity over the three years before ``K`` (a level
      known then).
    - *Special school share*: plans in special schools by single age in January ``B``
      if published; else England's share by age of its earliest single-age January
      (borrowed shape) scaled to the area's special school children of January ``B``
      (``plans_total.special``, a level known then); by need, the mix of special school
      children by need of the earliest January published (borrowed).
    - *Caseload*: January ``B``'s special school children and queue signals.
    """
    from placeplan.demand.cohort import specialist_share

    borrowed: list[str] = []
    name = t.name or area
    by_age = t.plans_by_age

    # the stock by single year of age
    single = by_age[(by_age["year"] == base_year) & by_age["plans"].notna()]
    if base_year <= known_until and not single.empty:
        plans = _by_age(single, "plans")
        special = _by_age(single, "special") if single["special"].notna().any() else None
    else:
        bands = _bands(t.plans_by_age_band, base_year, "plans")
        if bands is None:
            total = _total(t, "plans_total", "plans", base_year)
            earlier = [
                y
                for y in sorted(t.plans_by_age_band["year"].unique(), reverse=True)
                if y < base_year and _bands(t.plans_by_age_band, int(y), "plans") is not None
            ]
            if not np.isfinite(total) or not earlier:
                raise ValueError(
                    f"SEN2 has no plans by age band or in total for {name} in January {base_year}"
                )
            mix = _bands(t.plans_by_age_band, int(earlier[0]), "plans")
            assert mix is not None
            bands = total * mix / mix.sum()
            borrowed.append(
                f"plans by age band: the band mix of January {int(earlier[0])} (SEN2 publishes "
                f"no age breakdown for January {base_year}), scaled to January {base_year}'s "
                f"{total:,.0f} plans"
            )
        shape_year = _pick_year(by_age, known_until, "plans")
        if shape_year is None:
            raise ValueError(f"SEN2 has no plans by single year of age for {name}")
        year, _ = shape_year
        plans = _spread(bands, _by_age(by_age[by_age["year"] == year], "plans"))
        special = None
        borrowed.append(
            f"plans by single year of age within each age band: the shape of January {year} "
            f"(the first January SEN2 publishes single years), scaled to the bands of "
            f"January {base_year}"
        )

    need_mix, note = _need_mix(t, "need_by_age", "plans", known_until)
    if note:
        borrowed.append(f"need mix of plans by age: {note}")
    stock = plans[:, None] * need_mix

    # new plans of the calendar year before the origin
    new_year = max(
        (
            int(y)
            for frame, column in (
                (t.new_plans_by_age, "new_plans"),
                (t.new_plans_by_age_band, "new_plans"),
            )
            for y in frame.loc[frame[column].notna(), "year"].unique()
            if int(y) < known_until
        ),
        default=None,
    )
    if new_year is None:
        raise ValueError(f"SEN2 has no new plans by age for {name} before {known_until}")
    new_single = t.new_plans_by_age[
        (t.new_plans_by_age["year"] == new_year) & t.new_plans_by_age["new_plans"].notna()
    ]
    if not new_single.empty:
        new_by_age = _by_age(new_single, "new_plans")
    else:
        new_bands = _bands(t.new_plans_by_age_band, new_year, "new_plans")
        shape_year = _pick_year(t.new_plans_by_age, known_until, "new_plans")
        if new_bands is None or shape_year is None:
            raise ValueError(f"SEN2 has no new plans by age band for {name} in {new_year}")
        year, _ = shape_year
        new_by_age = _spread(
            new_bands, _by_age(t.new_plans_by_age[t.new_plans_by_age["year"] == year], "new_plans")
        )
        borrowed.append(
            f"new plans by single year of age within each age band: the shape of {year} (the "
            f"first year SEN2 publishes single years), scaled to the bands of {new_year}"
        )
    new_mix, note = _need_mix(t, "new_need_by_age", "new_plans", known_until)
    if note:
        borrowed.append(f"need mix of new plans by age: {note}")
    new_mix, folded = _fold_unrecorded(new_mix, need_mix)
    borrowed += folded
    new_plans = new_by_age[:, None] * new_mix

    # ceasing
    cease_rate, note = _ceasing(t, known_until, plans)
    if note:
        borrowed.append(note)

    # special schools
    if special is None:
        special, note = _special_by_age(t, plans, base_year, known_until)
        borrowed.append(note)
    picked = _pick_year(t.placement_by_need, known_until, "plans")  # known then, else earliest
    by_need = _special_by_need(t, picked[0] if picked else None)
    need_note = "the area's"
    if by_need.sum() == 0:
        e = _england(t).placement_by_need
        picked = _pick_year(e, known_until, "plans")
        by_need = _special_by_need(_england(t), picked[0] if picked else None)
        need_note = "England's"
    placed_years = sorted(int(y) for y in t.placement_by_need["year"].unique())
    if not placed_years or placed_years[0] > known_until:
        when = f"January {placed_years[0]}" if placed_years else "the latest January"
        borrowed.append(
            f"special school children by primary need: {need_note} mix of {when}, scaled "
            f"to the special school children of January {base_year}"
        )
    share = specialist_share(stock, special, by_need)
    fitted, wanted = float((share * stock).sum()), float(special.sum())
    if fitted < wanted - 0.5:  # borrowed shapes can clash: cells at a share of 1
        share = _scale_to(share.ravel(), stock.ravel(), wanted / stock.sum()).reshape(share.shape)
        borrowed.append(
            f"special school share by age and need: the fit to both borrowed margins reached "
            f"{fitted:,.0f} of the {wanted:,.0f} special school children of January "
            f"{base_year} (cells at a share of 1); the shares below 1 were scaled up to "
            f"{float((share * stock).sum()):,.0f}"
        )
    return CohortInputs(
        area=str(t.code or area),
        base_year=base_year,
        stock=stock,
        cease_rate=cease_rate,
        new_plans=new_plans,
        new_plans_year=new_year,
        special_share=share,
        need_mix=need_mix,
        release=t.release,
        attribution=t.attribution,
        caseload=_caseload(t, base_year),
        known_until=known_until,
        borrowed=tuple(borrowed),
    )


def _need_mix(
    t: sen2.SEN2Tables, table: str, value: str, known_until: int
) -> tuple[np.ndarray, str]:
    """Row-normalised need mix by age of the year to use, and what was borrowed ("" if none)."""
    own = getattr(t, table)
    source, whose = own, "the area's"
    if _need_table(own, value).sum() == 0:
        source, whose = getattr(_england(t), table), "England's"
    picked = _pick_year(source, known_until, value)
    if picked is None:
        raise ValueError(f"SEN2 publishes no {table} for {t.name} or England")
    year, later = picked
    table_ = _need_table(source[source["year"] == year], value)
    mix = _mix(table_, table_.sum(axis=0) / table_.sum())
    kind = "January" if table == "need_by_age" else "calendar year"
    note = f"{whose} of {kind} {year}, the first SEN2 publishes" if later else ""
    return mix, note


def _ceasing(t: sen2.SEN2Tables, known_until: int, plans: np.ndarray) -> tuple[np.ndarray, str]:
    """Ceasing rates by age known then, or a later shape scaled to the identity's level."""
    by_age = t.plans_by_age
    ceased = t.ceased_by_age[t.ceased_by_age["reason"] == "total_ceased"]
    rates: dict[int, np.ndarray] = {}
    for year, rows in ceased.groupby("year"):
        jan = by_age[by_age["year"] == year]
        if jan.empty:
            continue
        denominator = _by_age(jan, "plans")
        rates[int(year)] = np.divide(
            _by_age(rows, "ceased"), denominator, out=np.zeros(len(AGES)), where=denominator > 0
        )
    if not rates:
        raise ValueError(f"SEN2 has no ceased plans by age for {t.name}")
    known = [y for y in rates if y < known_until]
    if known:
        return np.clip(np.mean([rates[y] for y in known], axis=0), 0.0, 1.0), ""
    year = min(rates)
    level, years = _identity_ceasing(t, known_until)
    if not np.isfinite(level):
        return np.clip(rates[year], 0.0, 1.0), (
            f"ceasing by age: the rates of {year} (ceased over plans of January {year}), "
            "unscaled: no year before the origin has the stock identity's figures"
        )
    shape_mean = float((rates[year] * plans).sum() / max(plans.sum(), 1e-12))
    shape = rates[year] / shape_mean if shape_mean > 0 else rates[year]  # free of its level
    return _scale_to(shape * level, plans, level), (
        f"ceasing by age: the shape of {year} (ceased over plans of January {year}; "
        f"{shape_mean:.1%} of the base stock a year at its own level), scaled to "
        f"{level:.1%} a year, the ceasing of the stock identity plans[y+1] = plans[y](1 − c) "
        f"+ new[y] over {years[0]}–{years[-1]}"
    )


def _special_by_age(
    t: sen2.SEN2Tables, plans: np.ndarray, base_year: int, known_until: int
) -> tuple[np.ndarray, str]:
    """Special school children by age: England's earliest shares, scaled to the area's total."""
    e = _england(t).plans_by_age
    picked = _pick_year(e, known_until, "special")
    if picked is None:
        raise ValueError("SEN2 publishes no special school children by age for England")
    year, _ = picked
    e = e[e["year"] == year]
    denominator = _by_age(e, "plans")
    share = np.divide(
        _by_age(e, "special"), denominator, out=np.zeros(len(AGES)), where=denominator > 0
    )
    special = plans * share
    total = _total(t, "plans_total", "special", base_year)
    if np.isfinite(total) and special.sum() > 0:
        special *= total / special.sum()
        scaled = f"scaled to the area's {total:,.0f} special school children of January {base_year}"
    else:
        scaled = f"unscaled (SEN2 has no special school total for January {base_year})"
    return special, f"special school share by age: England's of January {year}, {scaled}"


def stack(inputs: list[CohortInputs]) -> dict[str, np.ndarray]:
    """The arrays of several areas stacked on a leading ``area`` axis.

    The cohort functions broadcast over leading axes, so every area projects in one
    call: ``project(s["stock"], s["cease_rate"], new[:, None] * ..., s["need_mix"], 1)``.

    Returns
    -------
    dict
        ``stock``, ``new_plans``, ``special_share``, ``need_mix`` (``[area, age, need]``)
        and ``cease_rate`` (``[area, age]``), plus ``area`` (codes).
    """
    fields = ("stock", "cease_rate", "new_plans", "special_share", "need_mix")
    out = {f: np.stack([getattr(i, f) for i in inputs]) for f in fields}
    out["area"] = np.array([i.area for i in inputs])
    return out
