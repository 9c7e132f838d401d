"""The inputs of the cohort projection, taken from the SEN2 statistics of one council.

Every array here is derived from the shipped SEN2 extract (or a newer release) by
the rules in :func:`cohort_inputs`; nothing is typed in by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from placeplan import sen2
from placeplan.scenario import NEEDS

__all__ = ["AGES", "CohortInputs", "cohort_inputs", "stack"]

_SPECIAL_TOTAL = "Special - total"
"""SEN2 type-of-placement label of all special schools (maintained, academy, independent, NM)."""

AGES = np.arange(26)
"""SEN2 ages (at 31 August) of the projection, 0–25."""


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


def _special_by_need(t: sen2.SEN2Tables) -> np.ndarray:
    """Plans in special schools by primary need [plans]."""
    frame = t.placement_by_need
    frame = frame[frame["placement"] == _SPECIAL_TOTAL]
    return np.array(
        [frame.loc[frame["need"] == n, "plans"].fillna(0).sum() for n in NEEDS], dtype=float
    )


def _special_like_england(plans: np.ndarray, year: int) -> np.ndarray:
    """Plans in special schools by age if each age had England's share [plans]."""
    e = _england().plans_by_age
    e = e[e["year"] == year]
    share = np.divide(
        _by_age(e, "special"),
        _by_age(e, "plans"),
        out=np.zeros(len(AGES)),
        where=_by_age(e, "plans") > 0,
    )
    return plans * share


def _england() -> sen2.SEN2Tables:
    return sen2.load("E92000001")


def cohort_inputs(
    area: str, base_year: int = 2025, tables: sen2.SEN2Tables | None = None
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

    Parameters
    ----------
    area : str
        ONS code or name of a council (or of England or a region).
    base_year : int
        January to start from (2019–2025).
    tables : placeplan.sen2.SEN2Tables, optional
        SEN2 tables; the shipped extract if omitted.

    Returns
    -------
    CohortInputs

    """
    from placeplan.demand.cohort import specialist_share

    t = tables if tables is not None else sen2.load(area)
    by_age = t.plans_by_age
    base = by_age[by_age["year"] == base_year]
    if base.empty:
        raise ValueError(f"SEN2 has no plans by age for {area} in January {base_year}")
    plans = _by_age(base, "plans")
    special = _by_age(base, "special")
    if base["special"].isna().all():  # not published by age: England's shares by age,
        special = _special_like_england(plans, base_year)  # scaled to the area's total
        total = t.plans_total.loc[t.plans_total["year"] == base_year, "special"].dropna()
        if len(total) and special.sum() > 0:
            special *= float(total.iloc[0]) / special.sum()

    need_table = _need_table(t.need_by_age, "plans")
    if need_table.sum() == 0:  # need not published for this area (e.g. Surrey, 2025)
        need_table = _need_table(_england().need_by_age, "plans")
    overall = need_table.sum(axis=0) / need_table.sum()
    need_mix = _mix(need_table, overall)
    stock = plans[:, None] * need_mix

    rates = []
    for year, ceased in t.ceased_by_age[t.ceased_by_age["reason"] == "total_ceased"].groupby(
        "year"
    ):
        jan = by_age[by_age["year"] == year]
        if jan.empty:
            continue
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
    new_need = _need_table(t.new_need_by_age, "new_plans")
    if new_need.sum() == 0:
        new_need = _need_table(_england().new_need_by_age, "new_plans")
    new_overall = new_need.sum(axis=0) / new_need.sum()
    new_plans = new_by_age[:, None] * _mix(new_need, new_overall)

    by_need = _special_by_need(t)
    if by_need.sum() == 0:  # not published for this area: England's mix
        by_need = _special_by_need(_england())
    share = specialist_share(stock, special, by_need)
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
    )


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
