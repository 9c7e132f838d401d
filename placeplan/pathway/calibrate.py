"""Calibrating a council's EHC needs-assessment pathway (``pathway:``) on SEN2.

:func:`calibrate_pathway` writes a ``pathway:`` section (a plain mapping, valid
against :class:`placeplan.scenario.PathwaySpec`) for any council from its SEN2
series (:func:`placeplan.pathway.observed.pathway_series`), using only the calendar
years up to ``until``:

- **requests**: the level of the last year, and the yearly log growth, the mean of
  the yearly log changes since 2019 (at most the last five), its uncertainty the
  standard error of that mean (the changes' sd, half the council's own and half
  the national median council's, over the number of changes), as the demand
  calibration treats the growth of new plans (:mod:`placeplan.demand.calibrate`);
- **outcomes**: the share withdrawn, decided to assess and ending in a plan,
  pooled over the years published, each with its sampling uncertainty: the
  binomial standard error of the pooled share combined with the year-to-year
  spread of the yearly shares;
- **staff capacity and delay**: SEN2 publishes no staffing, and FTE × casework
  days a year is not identifiable from it; the calibration assumes the stages'
  work, minima and casework days (:data:`STAGE_ASSUMPTIONS`, :data:`DAYS_PER_YEAR`)
  and the spread of a case's delay, and fits with the ENGINE
  (:mod:`placeplan.pathway.engine_fit`: the compiled engine a run uses,
  :data:`~placeplan.pathway.engine_fit.REPLICATIONS` replications on common random
  numbers, from empty two years before the fit years, staff following requests)
  one *effective* capacity per staff group (caseworkers, psychologists) and the
  mean delay of an assessment beyond its minimum, so that the engine's plans issued
  (loosely: :data:`PLANS_SCALE`) and % within 20 weeks match the last
  :data:`FIT_YEARS` published years. :func:`fluid`, a fast deterministic fluid
  approximation (FIFO queues as continuous flows, weekly steps), gives a first
  guess only; at the same capacities the engine is far harsher;
- **backlog at the start**: undecided requests as published at the year's end;
  open assessments and plans as the fitted engine holds them at the end of
  ``until`` (SEN2 publishes none). An estimate, and stated as one.

Contains public sector information licensed under the Open Government Licence v3.0.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numba import njit
from scipy.optimize import minimize

from placeplan._version import __version__
from placeplan.errors import InputError
from placeplan.pathway.engine_fit import (
    DELAY_CV,
    DELAY_STAGE,
    REPLICATIONS,
    EngineRun,
    lognormal_quantile_mean,
    prepare,
)
from placeplan.pathway.observed import pathway_panel, pathway_series

__all__ = [
    "DAYS_PER_YEAR",
    "FIRST_YEAR",
    "STAGE_ASSUMPTIONS",
    "FluidResult",
    "PathwayFit",
    "calibrate_pathway",
    "engine_check",
    "fit_pathway",
    "fluid",
    "fluid_yearly",
    "pathway_block",
    "pooled_share",
]

STAGES: tuple[str, ...] = ("decision", "assessment", "plan")
FIRST_YEAR = 2019
"""First calendar year fitted: SEN2 became the EHC plan series in 2019 (a break)."""
FIT_VERSION = 3
"""Version of the fit's method: the shipped fits (:mod:`placeplan.pathway.fits`) are
used only when made by this version. Bump it whenever a change moves any fit."""
FIT_YEARS = 3
"""Years the capacities are fitted on (the last ``FIT_YEARS`` up to ``until``)."""
DAYS_PER_YEAR = 180.0
"""Assumed casework days one FTE gives the pathway a year [days/FTE/year]."""
SPREAD_WEEKS = 4.0
"""Assumed sd of a case's time to plan around its cohort's fluid time [weeks]."""
WAIT_CV = 0.5
"""Assumed coefficient of variation of a case's queueing delay (its wait beyond the
pathway's minimum): cases that wait long wait unequally long [1]."""
WITHIN_WEEKS = 20.0
DECISION_WEEKS = 6.0

STAGE_ASSUMPTIONS: dict[str, dict[str, Any]] = {
    "decision": {"staff": "caseworkers", "work_days": 1.0, "work_cv": 1.0, "min_weeks": 2.0},
    "assessment": {"staff": "psychologists", "work_days": 3.0, "work_cv": 1.0, "min_weeks": 6.0},
    "plan": {"staff": "caseworkers", "work_days": 2.0, "work_cv": 1.0, "min_weeks": 4.0},
}
"""Work per case [days of one FTE], its coefficient of variation and the stage's fixed
minimum [weeks]: assumptions, not fitted. The minima: a decision takes at least 2
weeks (gathering evidence; the deadline is 6), advice for an assessment 6 weeks (the
statutory deadline for advice), a plan 4 weeks (a draft, its 15-day consultation and
the final), so a pathway without queues issues a plan in about 14 weeks, and nearly
all within 20 (as councils without a backlog did before 2019)."""

STAGE_SOURCE = (
    "assumption: SEN2 publishes neither the work per case nor the stages' minima "
    "(decision at least 2 weeks, deadline 6; advice 6 weeks; draft, 15 days' consultation "
    "and final 4 weeks); only the staff groups' effective capacity is fitted"
)


# --------------------------------------------------------------------------------------
# The fluid approximation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FluidResult:
    """Weekly flows of the fluid pathway (arrays ``[week]``, week 0 starting at ``start``).

    Attributes
    ----------
    start : datetime.date
        First day of week 0.
    requests, decisions, decided_in_6, assessments, plans, within_20 : numpy.ndarray
        Requests received, decisions made (withdrawn, refused or assessed), of them
        within 6 weeks of the request, assessments concluded, plans issued and of
        them within 20 weeks of the request [cases/week] (expected values).
    open_cases : dict of str to numpy.ndarray
        Cases in each stage (queue or fixed minimum) at the end of each week [cases].
    open_age : dict of str to numpy.ndarray
        Their mean weeks since the request [weeks].
    """

    start: date
    requests: np.ndarray
    decisions: np.ndarray
    decided_in_6: np.ndarray
    assessments: np.ndarray
    plans: np.ndarray
    within_20: np.ndarray
    open_cases: dict[str, np.ndarray] = field(default_factory=dict)
    open_age: dict[str, np.ndarray] = field(default_factory=dict)


@njit(cache=True)
def _add_at(buf: np.ndarray, stage: int, at: float, c: float, r1: float, r2: float) -> None:
    """Add a packet (cases, Σ request week, Σ request week²) at fractional week ``at``."""
    lo = math.floor(at)
    frac = at - lo
    n = buf.shape[2]
    if 0 <= lo < n:
        buf[stage, 0, lo] += (1 - frac) * c
        buf[stage, 1, lo] += (1 - frac) * r1
        buf[stage, 2, lo] += (1 - frac) * r2
    if 0 <= lo + 1 < n and frac > 0:
        buf[stage, 0, lo + 1] += frac * c
        buf[stage, 1, lo + 1] += frac * r1
        buf[stage, 2, lo + 1] += frac * r2


@njit(cache=True)
def _locate(levels: np.ndarray, upto: int, level: float, k: int) -> tuple[int, float]:
    """Index ``j <= upto`` and fraction with ``levels[j] + f·(levels[j+1]-levels[j]) = level``.

    ``levels`` is non-decreasing; the search starts at ``k`` (levels only rise).
    """
    while k < upto and levels[k + 1] <= level:
        k += 1
    if k >= upto:
        return upto, 0.0
    gap = levels[k + 1] - levels[k]
    f = (level - levels[k]) / gap if gap > 0 else 0.0
    return k, min(max(f, 0.0), 1.0)


@njit(cache=True)
def _fluid_core(
    a: np.ndarray,
    shares: np.ndarray,
    cap: np.ndarray,
    group: np.ndarray,
    work: np.ndarray,
    delay: np.ndarray,
    backlog: np.ndarray,
    scale: np.ndarray,
    spread: float,
    wait_cv: float,
    within: float,
    decide_within: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The weekly fluid pathway (see :func:`fluid`); stages 0-2, groups ``0..G-1``."""
    n = a.shape[0]
    n_groups = cap.shape[0]
    inflow = np.zeros((3, 3, n + 2))
    for t in range(n):
        r = t + 0.5
        inflow[0, 0, t] += a[t]
        inflow[0, 1, t] += a[t] * r
        inflow[0, 2, t] += a[t] * r * r
    for s in range(3):
        c = backlog[s, 0]
        r = -backlog[s, 1]
        inflow[s, 0, 0] += c
        inflow[s, 1, 0] += c * r
        inflow[s, 2, 0] += c * r * r
    cum = np.zeros((3, 3, n + 1))
    levels = np.zeros((n_groups, n + 1))
    done = np.zeros(n_groups)
    ptr = np.zeros(n_groups, dtype=np.int64)
    prev_k = np.zeros(n_groups, dtype=np.int64)
    prev_f = np.zeros(n_groups)
    moved = np.zeros((3, 3, n))
    flows = np.zeros((4, n + 64))  # decisions in 6 weeks, plans, within 20 weeks, spare
    for t in range(n):
        for s in range(3):
            for m in range(3):
                cum[s, m, t + 1] = cum[s, m, t] + inflow[s, m, t]
        for g in range(n_groups):
            total = 0.0
            for s in range(3):
                if group[s] == g:
                    total += work[s] * cum[s, 0, t + 1]
            levels[g, t + 1] = total
            after = min(total, done[g] + cap[g] * scale[t])
            done[g] = after
            k, f = _locate(levels[g], t + 1, after, ptr[g])
            ptr[g] = k
            k0, f0 = prev_k[g], prev_f[g]
            for s in range(3):
                if group[s] != g:
                    continue
                for m in range(3):
                    lo = cum[s, m, k0] + f0 * (cum[s, m, min(k0 + 1, t + 1)] - cum[s, m, k0])
                    hi = cum[s, m, k] + f * (cum[s, m, min(k + 1, t + 1)] - cum[s, m, k])
                    moved[s, m, t] = hi - lo
            prev_k[g], prev_f[g] = k, f
        for s in range(3):
            c = moved[s, 0, t]
            if c <= 1e-12:
                continue
            r1, r2 = moved[s, 1, t], moved[s, 2, t]
            leave = t + 0.5 + delay[s]
            mean_r = r1 / c
            var_r = max(r2 / c - mean_r * mean_r, 0.0)
            if s == 0:
                keep = (1 - shares[0]) * shares[1]
                _add_at(inflow, 1, leave, c * keep, r1 * keep, r2 * keep)
                excess = max(leave - mean_r - (delay[0] + 0.5), 0.0)
                sd = math.sqrt(0.25 * spread * spread + var_r + (wait_cv * excess) ** 2)
                z = (decide_within - (leave - mean_r)) / sd
                flows[0, t] += c * 0.5 * math.erfc(-z / math.sqrt(2.0))
            elif s == 1:
                q = shares[2]
                _add_at(inflow, 2, leave, c * q, r1 * q, r2 * q)
            else:
                excess = max(leave - mean_r - (delay[0] + delay[1] + delay[2] + 1.5), 0.0)
                sd = math.sqrt(spread * spread + var_r + (wait_cv * excess) ** 2)
                z = (within - (leave - mean_r)) / sd
                share = 0.5 * math.erfc(-z / math.sqrt(2.0))
                lo = math.floor(leave)
                frac = leave - lo
                if lo < n + 64:
                    flows[1, lo] += (1 - frac) * c
                    flows[2, lo] += (1 - frac) * c * share
                if lo + 1 < n + 64:
                    flows[1, lo + 1] += frac * c
                    flows[2, lo + 1] += frac * c * share
    return moved, cum, flows, levels


def fluid(
    requests_per_week: np.ndarray,
    *,
    withdrawn: float,
    assess: float,
    issue: float,
    capacity: Mapping[str, float],
    stages: Mapping[str, Mapping[str, Any]] = STAGE_ASSUMPTIONS,
    days_per_year: Mapping[str, float] | float = DAYS_PER_YEAR,
    backlog: Mapping[str, tuple[float, float]] | None = None,
    start: date = date(2019, 1, 1),
    spread_weeks: float = SPREAD_WEEKS,
    capacity_scale: np.ndarray | None = None,
) -> FluidResult:
    """Deterministic fluid approximation of the pathway engine, in weekly steps.

    Each staff group is one FIFO queue of work [days of one FTE]: the cases of every
    stage it serves join it in order of arrival, and it does ``capacity / 52``
    days of work a week. A case leaves its stage after its wait, its work (taking
    ``work_days × 365 / days_per_year`` calendar days) and the stage's fixed
    minimum, then splits by the outcome shares. A week's cases move together; for
    the shares decided within 6 weeks and issued within 20 weeks their times are
    spread normally with sd ``spread_weeks`` (plus the spread of the request weeks
    leaving together).

    Parameters
    ----------
    requests_per_week : numpy.ndarray
        Requests received each week [requests/week].
    withdrawn, assess, issue : float
        Shares: of requests, withdrawn at the decision; of the rest, decided to
        assess; of assessments, ending in a plan [1].
    capacity : mapping of str to float
        Casework days each staff group gives the pathway a year [days/year].
    stages : mapping
        Per stage ``staff``, ``work_days`` [days], ``min_weeks`` [weeks].
    days_per_year : float or mapping of str to float
        Casework days of one FTE a year, per staff group [days/FTE/year].
    backlog : mapping of str to (cases, mean weeks open), optional
        Open cases in each stage at the start, queued first.
    start : datetime.date
        First day of week 0.
    spread_weeks : float
        sd of a case's time around its week's [weeks].
    capacity_scale : numpy.ndarray, optional
        Multiplier of every group's capacity each week [1] (1 if omitted).

    Returns
    -------
    FluidResult
    """
    a = np.asarray(requests_per_week, dtype=float)
    n = len(a)
    groups = sorted({str(stages[s]["staff"]) for s in STAGES})
    dpy = (
        {g: float(days_per_year) for g in groups}
        if isinstance(days_per_year, int | float)
        else {g: float(days_per_year[g]) for g in groups}
    )
    group = np.array([groups.index(str(stages[s]["staff"])) for s in STAGES], dtype=np.int64)
    work = np.array([float(stages[s]["work_days"]) for s in STAGES])
    elapsed = np.array([work[i] * 365.0 / dpy[groups[group[i]]] / 7.0 for i in range(3)])  # [weeks]
    delay = np.array([float(stages[s]["min_weeks"]) for s in STAGES]) + elapsed
    open0 = np.zeros((3, 2))
    for s, (cases, age) in (backlog or {}).items():
        open0[STAGES.index(s)] = (float(cases), float(age))
    cap = np.array([float(capacity[g]) / 52.0 for g in groups])
    shares = np.array([withdrawn, assess, issue], dtype=float)
    moved, cum, flows, _ = _fluid_core(
        a,
        shares,
        cap,
        group,
        work,
        delay,
        open0,
        np.ones(n) if capacity_scale is None else np.asarray(capacity_scale, dtype=float),
        float(spread_weeks),
        WAIT_CV,
        WITHIN_WEEKS,
        DECISION_WEEKS,
    )
    weeks = np.arange(n, dtype=float)
    open_cases: dict[str, np.ndarray] = {}
    open_age: dict[str, np.ndarray] = {}
    for i, s in enumerate(STAGES):
        left = cum[i][:, 1:] - np.cumsum(moved[i], axis=1)
        open_cases[s] = np.maximum(left[0], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            open_age[s] = np.where(left[0] > 1e-9, (weeks + 1) - left[1] / left[0], 0.0)
    return FluidResult(
        start=start,
        requests=a,
        decisions=moved[0, 0],
        decided_in_6=flows[0, :n],
        assessments=moved[1, 0],
        plans=flows[1, :n],
        within_20=flows[2, :n],
        open_cases=open_cases,
        open_age=open_age,
    )


@lru_cache(maxsize=64)
def _week_years_cached(first_day: int, n: int) -> np.ndarray:
    mid = first_day + 7 * np.arange(n) + 3
    years = np.array([date.fromordinal(int(d)).year for d in mid])
    years.flags.writeable = False
    return years


def _week_years(start: date, n: int) -> np.ndarray:
    """Calendar year of the middle of each week from ``start``."""
    return _week_years_cached(start.toordinal(), n)


def weekly_requests(years: np.ndarray, per_year: np.ndarray, start: date, n: int) -> np.ndarray:
    """Requests each week [requests/week] from yearly totals [requests/year].

    Weeks past the last year given take its rate.
    """
    wy = np.clip(_week_years(start, n), int(years[0]), int(years[-1]))
    lookup = dict(zip(np.asarray(years).tolist(), np.asarray(per_year).tolist(), strict=True))
    counts = {y: 365.25 / 7 for y in lookup}
    return np.array([lookup[y] / counts[y] for y in wy.tolist()])


def fluid_yearly(result: FluidResult, years: np.ndarray) -> dict[str, np.ndarray]:
    """Sum a fluid run's weekly flows into calendar years.

    Returns
    -------
    dict of str to numpy.ndarray
        Per year: ``requests``, ``decisions``, ``assessments``, ``plans_issued``,
        ``within_20_weeks`` [cases] and ``pct_within_20_weeks``,
        ``pct_decided_within_6_weeks`` [%].
    """
    wy = _week_years(result.start, len(result.requests))
    years = np.asarray(years)
    index = np.searchsorted(years, wy)
    inside = (index < len(years)) & (years[np.minimum(index, len(years) - 1)] == wy)
    out: dict[str, np.ndarray] = {}
    for key, values in (
        ("requests", result.requests),
        ("decisions", result.decisions),
        ("decided_within_6_weeks", result.decided_in_6),
        ("assessments", result.assessments),
        ("plans_issued", result.plans),
        ("within_20_weeks", result.within_20),
    ):
        out[key] = np.bincount(index[inside], weights=values[inside], minlength=len(years))[
            : len(years)
        ]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["pct_within_20_weeks"] = 100 * out["within_20_weeks"] / out["plans_issued"]
        out["pct_decided_within_6_weeks"] = 100 * out["decided_within_6_weeks"] / out["decisions"]
    return out


# --------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------

WARM_YEARS = 2
SCALE_WITH_REQUESTS = True
"""Whether the fitted capacities follow the requests received year by year (staffing
kept in step with demand, the capacity fitted being that of the last year), or stay
constant over the years simulated."""
"""Years simulated before the first fit year, from an empty pathway (warm-up)."""
_GROUPS = ("caseworkers", "psychologists")


@dataclass(frozen=True)
class Share:
    """A pooled share with its uncertainty [1]."""

    mean: float
    sd: float
    years: tuple[int, ...]
    how: str


@dataclass(frozen=True)
class PathwayFit:
    """A council's pathway fitted on the years up to ``until`` (see :func:`fit_pathway`).

    Attributes
    ----------
    until : int
        Last calendar year of data used.
    per_year : float
        Requests in ``until`` [requests/year].
    growth, growth_se, growth_sd : float
        Mean yearly log change of requests, its standard error, and the sd of a
        year's change [per year].
    growth_years : tuple of int
        The years whose changes were averaged (each from the year before).
    withdrawn, assess, issue : Share
        Outcome shares.
    capacity, capacity_se : dict of str to float
        Effective capacity of each staff group in ``until`` [days/year] and its
        standard error (from the curvature of the misfit).
    delay_weeks, delay_se : float
        Mean delay of a case in the assessment stage beyond its minimum, and its
        standard error [weeks] (:data:`placeplan.pathway.engine_fit.DELAY_STAGE`).
    fit_years : tuple of int
        Years the capacities were fitted on.
    observed, fitted : dict of str to numpy.ndarray
        Per fit year: ``plans_issued`` and ``pct_within_20_weeks`` (and
        ``pct_decided_within_6_weeks``), published and simulated.
    requests_used : dict of int to float
        Requests each simulated year (published, or filled: see ``filled``).
    filled : tuple of int
        Years whose requests were not published and were filled in.
    backlog : dict of str to tuple of (float, float)
        Estimated open cases and their mean weeks open at the end of ``until``.
    backlog_how : str
        How the backlog was estimated.
    loss : float
        The fit's loss at its optimum.
    evaluations : int
        Engine evaluations the fit made (each :data:`REPLICATIONS` replications).
    seconds : float
        Time the fit took [s].
    discipline : str
        The queues' discipline the engine ran (``pathway.discipline``).
    """

    until: int
    per_year: float
    growth: float
    growth_se: float
    growth_sd: float
    growth_years: tuple[int, ...]
    withdrawn: Share
    assess: Share
    issue: Share
    capacity: dict[str, float]
    capacity_se: dict[str, float]
    delay_weeks: float
    delay_se: float
    fit_years: tuple[int, ...]
    observed: dict[str, np.ndarray]
    fitted: dict[str, np.ndarray]
    requests_used: dict[int, float]
    filled: tuple[int, ...]
    backlog: dict[str, tuple[float, float]]
    backlog_how: str
    loss: float
    evaluations: int
    seconds: float
    discipline: str = "fifo"


def _num(value: Any) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)


def _column(series: pd.DataFrame, column: str, years: Any) -> np.ndarray:
    return np.array([_num(series[column].get(y)) for y in years], dtype=float)


def pooled_share(hits: np.ndarray, totals: np.ndarray, years: np.ndarray, how: str) -> Share | None:
    """The pooled share ``Σ hits / Σ totals`` over the years both are published.

    Its sd combines the binomial standard error of the pooled share with the
    year-to-year spread of the yearly shares (their sd over √years) [1]; ``None``
    if no year has both.
    """
    ok = np.isfinite(hits) & np.isfinite(totals) & (totals > 0)
    if not ok.any():
        return None
    h, n = hits[ok], totals[ok]
    p = float(h.sum() / n.sum())
    var = p * (1 - p) / float(n.sum())
    if ok.sum() >= 2:
        var += float(np.var(h / n, ddof=1)) / int(ok.sum())
    return Share(p, math.sqrt(var), tuple(int(y) for y in years[ok]), how)


def _shares(series: pd.DataFrame, until: int) -> tuple[Share, Share, Share]:
    years = np.array([y for y in series.index if FIRST_YEAR <= y <= until])
    req = _column(series, "requests", years)
    to = _column(series, "decided_to_assess", years)
    refused = _column(series, "decided_not_to_assess", years)
    wd = _column(series, "withdrawn", years)
    issued = _column(series, "assessments_issued", years)
    not_issued = _column(series, "assessments_not_issued", years)
    withdrawn = pooled_share(wd, req, years, "withdrawn / requests received")
    if withdrawn is None:
        withdrawn = Share(0.0, 0.0, (), "not published: none withdrawn (assumption)")
    assess = pooled_share(to, to + refused, years, "decided to assess / decided")
    if assess is None:
        assess = pooled_share(
            req - refused, req, years, "1 − refused / requests (decisions to assess not published)"
        )
    issue = pooled_share(issued, issued + not_issued, years, "plans issued / assessments concluded")
    if assess is None or issue is None:
        raise InputError(
            f"{series.attrs.get('name', 'this area')}: SEN2 publishes no year from "
            f"{FIRST_YEAR} to {until} with both requests and decisions not to assess, or "
            "with both assessments issued and not issued; the pathway cannot be calibrated"
        )
    return withdrawn, assess, issue


def _growth(
    series: pd.DataFrame, until: int, pooled_sd: float | None
) -> tuple[float, float, float, tuple[int, ...]]:
    years = np.arange(max(FIRST_YEAR, until - 5), until + 1)
    req = _column(series, "requests", years)
    with np.errstate(divide="ignore", invalid="ignore"):
        changes = np.diff(np.log(np.where(req > 0, req, np.nan)))
    ok = np.isfinite(changes)
    if not ok.any():
        return 0.0, 0.0, 0.0, ()
    own = float(np.std(changes[ok], ddof=1)) if ok.sum() >= 2 else float("nan")
    pool = pooled_sd if pooled_sd is not None and math.isfinite(pooled_sd) else own
    if not math.isfinite(own):
        sd = pool if math.isfinite(pool) else 0.0
    else:
        sd = math.sqrt(0.5 * own**2 + 0.5 * pool**2)
    k = int(ok.sum())
    return float(np.mean(changes[ok])), sd / math.sqrt(k), sd, tuple(int(y) for y in years[1:][ok])


@lru_cache(maxsize=8)
def _median_growth_sd(sen2_dir: str | None, until: int) -> float:
    """The median council's sd of yearly log changes of requests up to ``until``."""
    panel = pathway_panel(sen2_dir)
    la = panel[panel["level"] == "la"]
    sds = []
    for _, rows in la.groupby("code"):
        rows = rows[(rows["year"] >= max(FIRST_YEAR, until - 5)) & (rows["year"] <= until)]
        req = rows.sort_values("year")["requests"].astype("Float64").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ch = np.diff(np.log(np.where(req > 0, req, np.nan)))
        ch = ch[np.isfinite(ch)]
        if len(ch) >= 2:
            sds.append(float(np.std(ch, ddof=1)))
    return float(np.median(sds)) if sds else float("nan")


def _requests_path(series: pd.DataFrame, years: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """Requests each year, missing years filled log-linearly from the nearest published."""
    req = _column(series, "requests", years)
    known = np.isfinite(req) & (req > 0)
    if known.sum() == 0:
        return req, ()
    filled = tuple(int(y) for y in years[~known])
    if filled:
        req = np.exp(np.interp(years, years[known], np.log(req[known])))
    return req, filled


@lru_cache(maxsize=256)
def _arrivals(years: tuple[int, ...], requests: tuple[float, ...]) -> tuple[np.ndarray, Any]:
    """Weekly requests over whole years, and the capacity's weekly scale."""
    start = date(years[0], 1, 1)
    end = date(years[-1] + 1, 1, 1)
    n = (end.toordinal() - start.toordinal()) // 7 + 1
    a = weekly_requests(np.array(years), np.array(requests), start, n)
    scale = a / a[-1] if SCALE_WITH_REQUESTS else None
    return a, scale


def _simulate(
    years: np.ndarray,
    requests: np.ndarray,
    capacity: Mapping[str, float],
    shares: tuple[float, float, float],
    extra_years: int = 0,
) -> tuple[FluidResult, np.ndarray]:
    start = date(int(years[0]), 1, 1)
    a, scale = _arrivals(tuple(int(y) for y in years), tuple(float(r) for r in requests))
    result = fluid(
        a,
        withdrawn=shares[0],
        assess=shares[1],
        issue=shares[2],
        capacity=capacity,
        start=start,
        capacity_scale=scale,
    )
    return result, years


def _targets(series: pd.DataFrame, years: np.ndarray) -> dict[str, np.ndarray]:
    plans = _column(series, "plans_issued", years)
    pct = _column(series, "pct_within_20_weeks", years)
    in6 = _column(series, "decided_within_6_weeks", years)
    over6 = _column(series, "decided_over_6_weeks", years)
    with np.errstate(divide="ignore", invalid="ignore"):
        d6 = 100 * in6 / (in6 + over6)
    return {"plans_issued": plans, "pct_within_20_weeks": pct, "pct_decided_within_6_weeks": d6}


PLANS_SCALE = 0.15
"""Scale of the misfit of plans issued, on the log scale: SEN2's plans issued in a year
differ from its requests × the pooled shares by this much and more (definitions,
backlogs), and a capacity that binds to close the gap makes the first-come,
first-served queue grow and the share on time collapse; a loose scale lets the
share on time lead [1]."""


def _loss(
    sim: Mapping[str, np.ndarray],
    obs: Mapping[str, np.ndarray],
    use: np.ndarray,
    plans_scale: float = 0.05,
    keys: tuple[str, ...] = ("pct_within_20_weeks", "pct_decided_within_6_weeks"),
) -> float:
    """Squared misfit of the simulated figures to the published ones.

    Plans issued on the log scale (``plans_scale``), the percentages ``keys`` in
    3-point units.
    """
    total = 0.0
    p, q = sim["plans_issued"][use], obs["plans_issued"][use]
    ok = np.isfinite(q) & (q > 0)
    total += float((((np.log(np.maximum(p[ok], 1e-9)) - np.log(q[ok])) / plans_scale) ** 2).sum())
    for key in keys:
        p, q = sim[key][use], obs[key][use]
        ok = np.isfinite(q) & np.isfinite(p)
        total += float((((p[ok] - q[ok]) / 3.0) ** 2).sum())
    return total


def _first_guess(series: pd.DataFrame, fit_years: np.ndarray) -> dict[str, float]:
    """Capacity just enough for the work published in the fit years [days/year]."""
    st = STAGE_ASSUMPTIONS
    req = np.nanmean(_column(series, "requests", fit_years))
    plans = np.nanmean(_column(series, "plans_issued", fit_years))
    concluded = np.nanmean(
        _column(series, "assessments_issued", fit_years)
        + _column(series, "assessments_not_issued", fit_years)
    )
    if not math.isfinite(concluded):
        concluded = plans
    cw = req * st["decision"]["work_days"] + plans * st["plan"]["work_days"]
    ep = concluded * st["assessment"]["work_days"]
    return {"caseworkers": max(float(cw), 1.0), "psychologists": max(float(ep), 1.0)}


def _fit_capacity(
    years: np.ndarray,
    requests: np.ndarray,
    shares: tuple[float, float, float],
    obs: Mapping[str, np.ndarray],
    use: np.ndarray,
    guess: Mapping[str, float],
    factors: tuple[float, ...] = (1.0, 0.8),
) -> tuple[dict[str, float], float, int, dict[str, np.ndarray], FluidResult]:
    """Effective capacities minimising :func:`_loss` (Nelder–Mead on their logs)."""
    calls = 0
    base = np.log([guess[g] for g in _GROUPS])

    def run(x: np.ndarray) -> tuple[dict[str, np.ndarray], FluidResult]:
        cap = {g: float(math.exp(v)) for g, v in zip(_GROUPS, x, strict=True)}
        result, _ = _simulate(years, requests, cap, shares)
        return fluid_yearly(result, years), result

    def objective(x: np.ndarray) -> float:
        nonlocal calls
        calls += 1
        sim, _ = run(x)
        # a weak pull (sd: a factor e) towards just enough capacity: a group that
        # never binds is otherwise not identified
        return _loss(sim, obs, use) + float((((x - base) / 1.0) ** 2).sum()) * 0.01

    starts = [base + np.log(f) for f in factors]
    best = None
    for x0 in starts:
        res = minimize(
            objective,
            x0,
            method="Nelder-Mead",
            options={"xatol": 1e-2, "fatol": 1e-2, "maxiter": 200},
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    sim, result = run(best.x)
    cap = {g: float(math.exp(v)) for g, v in zip(_GROUPS, best.x, strict=True)}
    return cap, _loss(sim, obs, use), calls, sim, result


def _backlog(
    series: pd.DataFrame,
    until: int,
    ends: Mapping[str, tuple[float, float]],
    shares: tuple[float, float, float],
) -> tuple[dict[str, tuple[float, float]], str]:
    """Open cases at the end of ``until`` by stage (cases, mean weeks open).

    The fitted engine's open cases at the end of its run (mean over its
    replications), except the requests awaiting a decision where SEN2 publishes them.
    """
    undecided = _num(series["decision_not_made"].get(until))
    parts = []
    backlog: dict[str, tuple[float, float]] = dict(ends)
    if math.isfinite(undecided):
        backlog["decision"] = (undecided, max(ends["decision"][1], 1.0))
        parts.append(f"decision: the {int(undecided)} requests of {until} undecided at its end")
    else:
        parts.append("decision: the fitted engine's open decisions (undecided not published)")
    parts.append(
        "assessment and plan: the fitted engine's open cases at the end of "
        f"{until} and their mean weeks since request, mean of its replications, a case "
        "whose work in its stage was done counted in the next stage "
        f"({ends['assessment'][0]:.0f} and {ends['plan'][0]:.0f}); SEN2 publishes no open "
        "assessments"
    )
    return backlog, "; ".join(parts)


def _fit_engine(
    run: EngineRun,
    obs: Mapping[str, np.ndarray],
    use: np.ndarray,
    guess: Mapping[str, float],
    fluid_cap: Mapping[str, float],
) -> tuple[
    dict[str, float],
    dict[str, float],
    float,
    float,
    float,
    dict[str, np.ndarray],
    dict[str, tuple[float, float]],
]:
    """The capacities [days/year] and assessment delay [weeks] the engine fits best.

    Minimises :func:`_loss` plus a weak pull of the log capacities towards the
    starting point (a group whose capacity never binds is otherwise not
    identified), by bounded Nelder–Mead on the logs, from the better of two starts:
    the fluid fit's capacities with almost no delay (the queues explain the late
    plans), and capacity for 1.5 × the busiest year's work with the delay that alone explains the
    share on time (:func:`~placeplan.pathway.engine_fit.lognormal_quantile_mean`).
    The decisions within 6 weeks are not a target (the decision stage's own delay is
    not fitted, and a caseworker queue made to slow the decisions would, shared
    with the plans, make the plans late too); they are reported beside the fit.
    Standard errors from the misfit's curvature in each log, as if the misfit were
    −2 × the log-likelihood (its scales: :data:`PLANS_SCALE` of plans, 3 points of a
    share).

    Returns
    -------
    capacity, capacity_se, delay, delay_se, loss, fitted figures, open cases at the end
    """
    pct = obs["pct_within_20_weeks"][use]
    share = float(np.nanmean(pct)) / 100 if np.isfinite(pct).any() else 0.5
    st = STAGE_ASSUMPTIONS
    # capacity for 1.5 × the work the engine's busiest year brings (requests × shares)
    req = float(run.requests.max())
    w, a, i = (float(v) for v in run.spec_shares)
    assessed = req * (1 - w) * a
    ample = {
        "caseworkers": 1.5
        * (req * st["decision"]["work_days"] + assessed * i * st["plan"]["work_days"]),
        "psychologists": 1.5 * assessed * st["assessment"]["work_days"],
    }
    path = sum(st[k]["min_weeks"] + st[k]["work_days"] * 365 / DAYS_PER_YEAR / 7 for k in STAGES)
    starts = [
        np.log([fluid_cap[g] for g in _GROUPS] + [0.5]),
        np.log([ample[g] for g in _GROUPS] + [lognormal_quantile_mean(20 - path, share)]),
    ]
    lower = np.log([0.1 * guess[g] for g in _GROUPS] + [0.05])
    upper = np.log([max(30 * guess[g], 3 * ample[g]) for g in _GROUPS] + [104.0])
    prior = np.zeros(3)

    def evaluate(x: np.ndarray) -> tuple[float, dict[str, np.ndarray], dict]:
        x = np.clip(x, lower, upper)
        cap = {g: float(math.exp(v)) for g, v in zip(_GROUPS, x[:2], strict=True)}
        sim, ends = run.run(cap, float(math.exp(x[2])))
        return _loss(sim, obs, use, PLANS_SCALE, ("pct_within_20_weeks",)), sim, ends

    def objective(x: np.ndarray) -> float:
        return evaluate(x)[0] + 0.01 * float(((x[:2] - prior[:2]) ** 2).sum())

    best = None
    for x0 in starts:
        prior[:] = x0
        simplex = x0 + np.array([[0, 0, 0], [0.3, 0, 0], [0, 0.3, 0], [0, 0, 0.5]])
        res = minimize(
            objective,
            x0,
            method="Nelder-Mead",
            bounds=list(zip(lower, upper, strict=True)),
            options={"xatol": 0.02, "fatol": 0.05, "maxiter": 45, "initial_simplex": simplex},
        )
        x_ = np.clip(res.x, lower, upper)
        found = evaluate(x_)
        if best is None or found[0] < best[1][0]:
            best = (x_, found)
    assert best is not None
    x, (loss, sim, ends) = best
    sd = np.zeros(3)
    h = 0.1
    for j in range(3):
        step = np.zeros(3)
        step[j] = h
        up, down = evaluate(x + step)[0], evaluate(x - step)[0]
        curve = (up + down - 2 * loss) / h**2
        sd[j] = math.sqrt(2 / curve) if curve > 2 / 1.0**2 else 1.0
    sd = np.clip(sd, 0.02, 1.0)
    cap = {g: float(math.exp(v)) for g, v in zip(_GROUPS, x[:2], strict=True)}
    cap_se = {g: cap[g] * float(math.expm1(sd[i])) for i, g in enumerate(_GROUPS)}
    delay = float(math.exp(x[2]))
    return cap, cap_se, delay, delay * float(math.expm1(sd[2])), loss, sim, ends


def fit_pathway(
    series: pd.DataFrame,
    until: int,
    *,
    growth_pool_sd: float | None = None,
    replications: int = REPLICATIONS,
    discipline: str = "fifo",
) -> PathwayFit:
    """Fit the pathway of one area on its SEN2 series up to ``until``.

    Parameters
    ----------
    series : pandas.DataFrame
        :func:`placeplan.pathway.observed.pathway_series` (rows after ``until`` are
        ignored).
    until : int
        Last calendar year of data used.
    growth_pool_sd : float, optional
        The median council's sd of yearly log changes of requests, pooled half and
        half with the area's own [per year].
    replications : int
        Engine replications behind each evaluation (common random numbers).
    discipline : {"fifo", "deadline_first"}
        The queues' discipline the engine runs (``pathway.discipline``).

    Returns
    -------
    PathwayFit

    Raises
    ------
    InputError
        If too little is published: fewer than two of the fit years with plans
        issued and % within 20 weeks, or no requests in the years simulated.
    """
    t0 = time.perf_counter()
    name = series.attrs.get("name") or "this area"
    series = series[series.index <= until]
    withdrawn, assess, issue = _shares(series, until)
    growth, growth_se, growth_sd, growth_years = _growth(series, until, growth_pool_sd)
    fit_years = np.arange(until - FIT_YEARS + 1, until + 1)
    years = np.arange(fit_years[0] - WARM_YEARS, until + 1)
    requests, filled = _requests_path(series, years)
    obs_all = _targets(series, years)
    use = np.isin(years, fit_years)
    enough = np.isfinite(obs_all["plans_issued"][use]) & np.isfinite(
        obs_all["pct_within_20_weeks"][use]
    )
    if not np.isfinite(requests).all() or enough.sum() < 2:
        raise InputError(
            f"{name}: too little SEN2 data to calibrate the pathway up to {until}: it needs "
            f"requests in {years[0]}-{until} (some published) and plans issued with their % "
            f"within 20 weeks in at least two of {fit_years[0]}-{until}; published: "
            f"{int(enough.sum())} such year(s)"
        )
    per_year = float(requests[-1])
    shares = (withdrawn.mean, assess.mean, issue.mean)
    guess = _first_guess(series, fit_years)
    # the fluid fit: a first guess of the capacities only
    fluid_cap, _, _fluid_calls, _, _ = _fit_capacity(
        years, requests, shares, obs_all, use, guess, factors=(1.0,)
    )
    run = prepare(
        years,
        requests,
        shares,
        STAGE_ASSUMPTIONS,
        _GROUPS,
        replications=replications,
        discipline=discipline,
    )
    capacity, capacity_se, delay, delay_se, loss, sim, ends = _fit_engine(
        run, obs_all, use, guess, fluid_cap
    )
    backlog, backlog_how = _backlog(series, until, ends, shares)
    calls = run.evaluations
    return PathwayFit(
        until=until,
        per_year=per_year,
        growth=growth,
        growth_se=growth_se,
        growth_sd=growth_sd,
        growth_years=growth_years,
        withdrawn=withdrawn,
        assess=assess,
        issue=issue,
        capacity=capacity,
        capacity_se=capacity_se,
        delay_weeks=delay,
        delay_se=delay_se,
        fit_years=tuple(int(y) for y in fit_years),
        observed={k_: v[use] for k_, v in obs_all.items()},
        fitted={k_: sim[k_][use] for k_ in obs_all},
        requests_used={int(y): float(r) for y, r in zip(years, requests, strict=True)},
        filled=filled,
        backlog=backlog,
        backlog_how=backlog_how,
        loss=loss,
        evaluations=calls,
        seconds=time.perf_counter() - t0,
        discipline=discipline,
    )


# --------------------------------------------------------------------------------------
# The scenario section
# --------------------------------------------------------------------------------------


def _r(x: float, digits: int = 4) -> float:
    return float(round(x, digits))


def _uncertain(share: Share, what: str, release: str) -> dict[str, Any]:
    years = f"{share.years[0]}-{share.years[-1]}" if share.years else "no year"
    out: dict[str, Any] = {"mean": _r(share.mean)}
    if share.sd > 0:
        out["sd"] = _r(share.sd)
    out["source"] = (
        f"{release}: {what}, {share.how}, pooled over {years}; sd the binomial error and "
        "the years' spread"
        if share.years
        else f"{share.how}"
    )
    return out


def pathway_block(
    fit: PathwayFit,
    *,
    name: str,
    release: str,
    command: str,
    code: str | None = None,
) -> dict[str, Any]:
    """The ``pathway:`` section of a fit, as a plain mapping (see :func:`calibrate_pathway`)."""
    until = fit.until
    filled = (
        f"; requests of {', '.join(map(str, fit.filled))} not published, filled"
        if (fit.filled)
        else ""
    )
    staff: dict[str, Any] = {}
    for g in _GROUPS:
        cap = fit.capacity[g]
        rel = fit.capacity_se[g] / cap if cap > 0 else 0.0
        stages = ", ".join(s for s in STAGES if STAGE_ASSUMPTIONS[s]["staff"] == g)
        staff[g] = {
            "fte": _r(cap / DAYS_PER_YEAR, 1),
            "days_per_year": {
                "mean": DAYS_PER_YEAR,
                "sd": _r(DAYS_PER_YEAR * rel, 1),
                "source": (
                    f"assumption: {DAYS_PER_YEAR:g} casework days of one FTE a year; sd the "
                    "fitted capacity's relative standard error (curvature of the misfit)"
                ),
            },
            "source": (
                f"effective capacity fitted to SEN2 {fit.fit_years[0]}-{until} "
                f"({cap:,.0f} casework days a year for the {stages} stage(s)), shown as FTE at "
                f"{DAYS_PER_YEAR:g} days: SEN2 identifies only FTE × days_per_year. Replace "
                "fte with the council's own and scale days_per_year so their product stays"
            ),
        }
    backlog = {
        s: {"cases": round(c), "mean_weeks_open": _r(max(w, 0.0), 1)}
        for s, (c, w) in fit.backlog.items()
    }
    backlog["source"] = f"estimate at the end of {until}: {fit.backlog_how}"
    diagnostics: dict[str, float | int | str] = {
        "fit_years": f"{fit.fit_years[0]}-{fit.fit_years[-1]}",
        "warm_up_from": int(min(fit.requests_used)),
        "loss": _r(fit.loss, 2),
        "evaluations": fit.evaluations,
        "capacity_caseworkers": _r(fit.capacity["caseworkers"], 1),
        "capacity_caseworkers_se": _r(fit.capacity_se["caseworkers"], 1),
        "capacity_psychologists": _r(fit.capacity["psychologists"], 1),
        "capacity_psychologists_se": _r(fit.capacity_se["psychologists"], 1),
        "delay_weeks": _r(fit.delay_weeks, 2),
        "delay_weeks_se": _r(fit.delay_se, 2),
        "delay_stage": DELAY_STAGE,
        "fit_version": FIT_VERSION,
        "delay_cv": DELAY_CV,
        "replications": REPLICATIONS,
        "plans_scale": PLANS_SCALE,
        "capacity_follows_requests": "true",
        "growth_raw_sd": _r(fit.growth_sd),
        "growth_years": ",".join(map(str, fit.growth_years)),
        "requests_filled": ",".join(map(str, fit.filled)) or "none",
    }
    for key in ("plans_issued", "pct_within_20_weeks", "pct_decided_within_6_weeks"):
        for y, o, f in zip(fit.fit_years, fit.observed[key], fit.fitted[key], strict=True):
            if math.isfinite(o):
                diagnostics[f"{key}_{y}_observed"] = _r(float(o), 1)
            diagnostics[f"{key}_{y}_fitted"] = _r(float(f), 1)
    growth_years = (
        f"{fit.growth_years[0] - 1}-{fit.growth_years[-1]}" if fit.growth_years else "none"
    )
    return {
        "requests": {
            "per_year": _r(fit.per_year, 1),
            "base_year": until,
            "growth": {
                "mean": _r(fit.growth),
                "sd": _r(fit.growth_se),
                "source": (
                    f"{release}: mean yearly log change of requests received, {growth_years}; "
                    "sd its standard error (the changes' sd, half the council's own and half "
                    "the median council's, over the number of changes)"
                ),
            },
            "source": f"{release}, requests.csv: requests received, {name} {until}{filled}",
        },
        "outcomes": {
            "withdrawn": _uncertain(fit.withdrawn, "requests withdrawn", release),
            "assess": _uncertain(fit.assess, "requests decided to assess", release),
            "issue": _uncertain(fit.issue, "assessments ending in a plan", release),
            "source": f"{release}: requests.csv and assessments.csv, {name}",
        },
        "stages": {
            s: {
                "staff": STAGE_ASSUMPTIONS[s]["staff"],
                "work_days": STAGE_ASSUMPTIONS[s]["work_days"],
                "work_cv": STAGE_ASSUMPTIONS[s]["work_cv"],
                "min_weeks": STAGE_ASSUMPTIONS[s]["min_weeks"],
                **(
                    {
                        "delay_weeks": {
                            "mean": _r(fit.delay_weeks, 2),
                            "sd": _r(fit.delay_se, 2),
                            "source": (
                                f"fitted to SEN2 {fit.fit_years[0]}-{until} with the engine: "
                                "the mean time an assessment takes beyond its 6 weeks and its "
                                "caseworkers' and psychologists' queues (health and social "
                                "care advice, permitted exceptions); sd from the curvature of "
                                "the misfit"
                            ),
                        },
                        "delay_cv": DELAY_CV,
                    }
                    if s == DELAY_STAGE
                    else {}
                ),
                "source": STAGE_SOURCE
                + (
                    f"; assumption: a case's delay is log-normal with cv {DELAY_CV:g} (its "
                    "spread is not identifiable from yearly shares)"
                    if s == DELAY_STAGE
                    else ""
                ),
            }
            for s in STAGES
        },
        "staff": staff,
        "backlog": backlog,
        **({} if fit.discipline == "fifo" else {"discipline": fit.discipline}),
        "calibration": {
            "method": (
                "placeplan.pathway.calibrate: shares pooled from SEN2; one effective capacity "
                "per staff group and the assessment's mean delay fitted with the pathway's "
                f"engine ({REPLICATIONS} replications, common random numbers, from empty "
                f"{min(fit.requests_used)}, staff following requests) so that plans issued "
                f"(loosely, scale {PLANS_SCALE:g} on the log) and % within 20 weeks match "
                f"{fit.fit_years[0]}-{until}; the fluid approximation gives a first guess only"
            ),
            "command": command,
            "origin": until,
            "release": release,
            "placeplan_version": __version__,
            "diagnostics": diagnostics,
        },
        "source": (
            f"{name}{f' ({code})' if code else ''}: calibrated on SEN2 up to {until}. "
            "Assumption: SEN2 publishes no staffing, so the staff groups' capacity is an "
            "effective one, fitted (fte × days_per_year), not a count of staff in post, "
            "that followed the requests year by year in the fit (held at the last year's "
            "in this section); the stages' work and minima, the delay's spread and that "
            "it falls in the assessment are assumptions; the delay's level is fitted"
        ),
    }


def calibrate_pathway(
    council: str,
    until: int = 2024,
    *,
    sen2_dir: str | Path | None = None,
    command: str | None = None,
    shipped: bool = True,
    discipline: str = "fifo",
) -> dict[str, Any]:
    """A council's ``pathway:`` section, calibrated on its SEN2 series up to ``until``.

    On the shipped extract, the fit shipped in ``placeplan/data/pathway_fits.csv.gz``
    when its manifest matches (:mod:`placeplan.pathway.fits`: the same ``until``,
    extract and :data:`FIT_VERSION`), which is what a fresh fit gives; else a fresh fit.

    Parameters
    ----------
    council : str
        Council (name, ONS code or DfE LA number), region or England.
    until : int
        Last calendar year of data used (the section's ``requests.base_year``).
    sen2_dir : str or pathlib.Path, optional
        A folder of official SEN2 files; the shipped extract if omitted.
    command : str, optional
        The command to record in ``calibration.command``.
    shipped : bool
        Use the shipped fit when it matches (False: always fit afresh).
    discipline : {"fifo", "deadline_first"}
        The queues' discipline the engine fits with (``pathway.discipline``); the
        shipped fits are first come, first served, so any other fits afresh.

    Returns
    -------
    dict
        The section, valid against :class:`placeplan.scenario.PathwaySpec`
        (``requests``, ``outcomes``, ``stages``, ``staff``, ``backlog``,
        ``calibration``, ``source``).

    Raises
    ------
    InputError
        If no area matches ``council``, or its series is too short to calibrate.
    """
    try:
        series = pathway_series(council, sen2_dir=sen2_dir)
    except KeyError as exc:
        raise InputError(str(exc).strip("\"'")) from None
    if until > max(series.index, default=0) or until < FIRST_YEAR + 1:
        last = max(series.index, default=None)
        raise InputError(
            f"{series.attrs.get('name') or council}: --until {until} is outside the years "
            f"SEN2 publishes requests for ({FIRST_YEAR + 1}-{last}); give a year in that range"
        )
    name = str(series.attrs.get("name") or council)
    command = command or f"placeplan.pathway.calibrate.calibrate_pathway({name!r}, {until})"
    code = series.attrs.get("code")
    if sen2_dir is None and shipped and code and discipline == "fifo":
        from placeplan.pathway.fits import shipped_section

        found = shipped_section(str(code), until, FIT_VERSION)
        if isinstance(found, str):
            raise InputError(found)
        if found is not None:
            found["calibration"]["command"] = command
            return found
    key = None if sen2_dir is None else str(Path(sen2_dir).resolve())
    fit = fit_pathway(
        series, until, growth_pool_sd=_median_growth_sd(key, until), discipline=discipline
    )
    release = str(series.attrs.get("release") or "SEN2")
    return pathway_block(fit, name=name, release=release, command=command, code=code)


def engine_check(
    fit: PathwayFit, section: Mapping[str, Any], *, replications: int = 2, seed: int = 20240101
) -> dict[str, np.ndarray]:
    """Run the fitted section's pathway through the engine over the fit's years.

    The engine (:func:`placeplan.pathway.engine.simulate`) starts empty at the fit's
    warm-up year, with requests growing log-linearly from that year's published
    figure to ``until``'s, and (as the fit assumes) staff following the requests
    (a dated change each January). Its yearly plans issued and % within 20 weeks,
    averaged over ``replications``, are what the fluid fit is an approximation of.

    Returns
    -------
    dict of str to numpy.ndarray
        Per fit year: ``plans_issued`` [plans] and ``pct_within_20_weeks`` [%].
    """
    from placeplan.pathway.engine import simulate, yearly
    from placeplan.scenario import PathwaySpec
    from placeplan.streams import Streams

    years = np.array(sorted(fit.requests_used))
    req = np.array([fit.requests_used[int(y)] for y in years])
    first, last = int(years[0]), int(years[-1])
    growth = float(np.log(req[-1] / req[0]) / max(last - first, 1))
    data = {k: v for k, v in section.items() if k not in {"backlog", "calibration"}}
    data["requests"] = {"per_year": float(req[-1]), "base_year": last, "growth": growth}
    staff = {}
    for g, group in section["staff"].items():
        fte_last = float(group["fte"])
        scale = np.exp(growth * (years - last)) if SCALE_WITH_REQUESTS else np.ones(len(years))
        changes = [
            {"name": f"follows requests {y}", "from": date(int(y), 1, 1), "fte": float(d)}
            for y, d in zip(years[1:], np.diff(fte_last * scale), strict=True)
        ]
        staff[g] = {**group, "fte": float(fte_last * scale[0]), "changes": changes}
    data["staff"] = staff
    spec = PathwaySpec.model_validate(data)
    use = np.isin(years, fit.fit_years)
    out = {"plans_issued": np.zeros(use.sum()), "pct_within_20_weeks": np.zeros(use.sum())}
    for r in range(replications):
        draw = simulate(spec, date(first, 1, 1), date(last + 1, 1, 1), Streams(seed, r))
        y = yearly(draw, years)
        out["plans_issued"] += y["plans_issued"][use] / replications
        out["pct_within_20_weeks"] += y["pct_within_20_weeks"][use] / replications
    return out
