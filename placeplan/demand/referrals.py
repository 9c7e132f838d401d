"""Drawing one replication's demand: the projected plans and the referrals they imply."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
from numba import njit

from placeplan.calendar import TermCalendar
from placeplan.demand.inputs import CohortInputs
from placeplan.demand.need import NeedPath, need_path
from placeplan.demand.pcg64 import jumps, next_double, poisson, read_state, write_state
from placeplan.demand.projection import new_plans_log_factor, project_plans, share_path
from placeplan.demand.start import own_designations
from placeplan.scenario import NEEDS, CohortDemand, FixedReferrals, PoissonReferrals, Uncertain
from placeplan.sorted_search import ascending

__all__ = [
    "DemandDraw",
    "Referrals",
    "draw_cohort_demand",
    "draw_fixed_demand",
    "draw_poisson_demand",
]


@dataclass(frozen=True)
class Referrals:
    """Children referred for a special school place, one row each, in order of referral.

    Attributes
    ----------
    time : numpy.ndarray
        Referral instant as a day ordinal (``date.toordinal()``; fractions are times
        of day) [days].
    age : numpy.ndarray
        SEN2 age (at 31 August) in the academic year of referral [years].
    need : numpy.ndarray
        Index into :data:`placeplan.scenario.NEEDS`, or -1 if not modelled.
    designation : numpy.ndarray
        Index into the scenario's designations.

    """

    time: np.ndarray
    age: np.ndarray
    need: np.ndarray
    designation: np.ndarray

    def __len__(self) -> int:
        return len(self.time)

    @classmethod
    def concat(cls, parts: list[Referrals]) -> Referrals:
        """Join several sets of referrals and sort them by time (stable).

        Parts already in time order one after another (the list at the start, then
        the referrals of each year) are joined without sorting: a stable sort would
        leave them as they are.
        """
        time = np.concatenate([p.time for p in parts]) if parts else np.zeros(0)
        order = time_order(time)

        def cat(name: str, dtype: type) -> np.ndarray:
            if not parts:
                return np.zeros(0, dtype=dtype)
            out = np.concatenate([getattr(p, name) for p in parts]).astype(dtype)
            return out if order is None else out[order]

        return cls(
            time if order is None else time[order],
            cat("age", np.int16),
            cat("need", np.int16),
            cat("designation", np.int16),
        )


def time_order(times: np.ndarray) -> np.ndarray | None:
    """The stable order that sorts ``times``; None when they never decrease already."""
    times = np.asarray(times, dtype=float)
    return None if ascending(times) else np.argsort(times, kind="stable")


@dataclass(frozen=True)
class DemandDraw:
    """One replication's demand.

    Attributes
    ----------
    januaries : numpy.ndarray
        Day ordinals of 1 January of each projected year.
    ehcp_plans, specialist_demand : numpy.ndarray
        Plans, and children needing a special school place, each January
        [plans], [children]; NaN where demand is not a cohort projection.
    specialist_by_designation : numpy.ndarray
        ``[year, designation]`` children needing a place of each designation [children].
    referrals : Referrals
        Children referred from the start of the forecast to its end.
    path : NeedPath or None
        The cohort projection's children needing a place and the flows behind them
        (:func:`~placeplan.demand.need.need_path`); None without a cohort projection.

    """

    januaries: np.ndarray
    ehcp_plans: np.ndarray
    specialist_demand: np.ndarray
    specialist_by_designation: np.ndarray
    referrals: Referrals
    path: NeedPath | None = None


def _uniform_times(
    rng: np.random.Generator, counts: np.ndarray, lo: float, hi: float
) -> np.ndarray:
    return lo + rng.random(int(counts.sum())) * (hi - lo)


@njit(cache=True)
def _year_referrals(counts, times, september, end):  # pragma: no cover - compiled
    """One year's referrals in time order (stable): their times, SEN2 ages and needs.

    The children of each ``[age, need]`` cell, cells in row-major order, take the
    ``times`` in turn; a child referred before ``september`` is a year younger than
    the age in the next January; referrals from ``end`` on are dropped.
    """
    total = times.shape[0]
    age = np.empty(total, dtype=np.int64)
    need = np.empty(total, dtype=np.int64)
    i = 0
    for a in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            for _ in range(counts[a, j]):
                age[i] = a - 1 if times[i] < september else a
                need[i] = j
                i += 1
    kept = np.flatnonzero(times < end)
    order = kept[_stable_order(times[kept])]
    return times[order], age[order], need[order]


@njit(cache=True)
def _stable_order(values):  # pragma: no cover - compiled
    """``numpy.argsort(values, kind="stable")`` for finite values, in about linear time.

    The positions are first counted into ``n`` equal buckets between the least and
    greatest value (in order of position within a bucket), then an insertion sort
    that moves a position only past strictly greater values finishes the order: ties
    keep their order of position, as a stable sort leaves them. Values spread evenly
    over their range (a year's uniform referral instants) need few moves; if the
    moves pass ``8 n``, the values are clustered and a merge sort finishes instead.
    """
    n = values.shape[0]
    order = np.empty(n, dtype=np.int64)
    if n == 0:
        return order
    lo, hi = values.min(), values.max()
    scale = n / (hi - lo) if hi > lo else 0.0
    bucket = np.empty(n, dtype=np.int64)
    first = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        k = min(np.int64((values[i] - lo) * scale), n - 1)
        bucket[i] = k
        first[k + 1] += 1
    for k in range(n):
        first[k + 1] += first[k]
    for i in range(n):
        order[first[bucket[i]]] = i
        first[bucket[i]] += 1
    budget = 8 * n
    for i in range(1, n):
        moving = order[i]
        v = values[moving]
        j = i - 1
        while j >= 0 and values[order[j]] > v:
            order[j + 1] = order[j]
            j -= 1
            budget -= 1
        order[j + 1] = moving
        if budget < 0:
            return np.argsort(values, kind="mergesort")
    return order


def _draw_referrals(
    rng: np.random.Generator,
    inflow: np.ndarray,
    base: int,
    n_years: int,
    start: date,
    end: date,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each year's referrals, in time order: their instants, SEN2 ages and needs.

    Year ``y`` (from 1 January ``base + y``, or the start) draws
    ``rng.poisson(inflow[y])`` children of each ``[age, need]`` cell, then one
    uniform instant in the year for each (:func:`_uniform_times`,
    :func:`_year_referrals`). With numpy's PCG64 the same numbers are drawn in one
    compiled call that steps the stream itself (:func:`_referrals_stepped`,
    :func:`placeplan.demand.pcg64.poisson`); otherwise, or for a mean numpy would
    refuse (negative or NaN), year by year through the generator.
    """
    years, jans, septembers, nexts = _referral_years(base, n_years, start)
    last = float(end.toordinal())
    means = np.ascontiguousarray(inflow[list(years)], dtype=float)
    state = read_state(rng) if bool((means >= 0).all()) else None
    if state is not None:
        table = jumps(state[2], state[3], 1)
        times, age, need, hi, lo = _referrals_stepped(
            means, jans, septembers, nexts, last, *state[:2], table
        )
        write_state(rng, hi, lo)
        return times, age, need
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for k in range(len(years)):
        counts = rng.poisson(means[k])
        drawn = _year_referrals(
            counts, _uniform_times(rng, counts, jans[k], nexts[k]), septembers[k], last
        )
        for part, values in zip(parts, drawn, strict=True):
            part.append(values)
    if not years:
        return np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return tuple(np.concatenate(p) for p in parts)  # type: ignore[return-value]


@lru_cache(maxsize=64)
def _referral_years(
    base: int, n_years: int, start: date
) -> tuple[tuple[int, ...], np.ndarray, np.ndarray, np.ndarray]:
    """The years with referrals, and each one's first day, 1 September and next 1 January.

    Year ``y`` runs from 1 January ``base + y`` (or the start, if later) to the next
    1 January; a year over before the start has none. Day ordinals [days]; the
    arrays are read-only (kept for every replication).
    """
    years, jans, septembers, nexts = [], [], [], []
    for y in range(n_years):
        jan = max(date(base + y, 1, 1).toordinal(), start.toordinal())
        nxt = date(base + y + 1, 1, 1).toordinal()
        if nxt > jan:
            years.append(y)
            jans.append(float(jan))
            septembers.append(float(date(base + y, 9, 1).toordinal()))
            nexts.append(float(nxt))
    arrays = tuple(np.array(v, dtype=float) for v in (jans, septembers, nexts))
    for a in arrays:
        a.flags.writeable = False
    return (tuple(years), *arrays)


@njit(cache=True)
def _referrals_stepped(means, jans, septembers, nexts, end, hi, lo, table):  # pragma: no cover
    """:func:`_draw_referrals`' years drawn from the PCG64 state itself (compiled).

    Per year: the Poisson count of each cell in row-major order
    (:func:`~placeplan.demand.pcg64.poisson`), then ``jan + u (next - jan)`` for as
    many uniforms ``u``, as ``Generator.poisson`` and ``Generator.random`` draw them.
    Returns the referrals and the state after the last draw.
    """
    n_years, n_ages, n_needs = means.shape
    parts_t, parts_a, parts_n = [], [], []
    total = 0
    for y in range(n_years):
        counts = np.empty((n_ages, n_needs), dtype=np.int64)
        for a in range(n_ages):
            for j in range(n_needs):
                hi, lo, counts[a, j] = poisson(hi, lo, table, means[y, a, j])
        span = nexts[y] - jans[y]
        times = np.empty(counts.sum())
        for i in range(times.shape[0]):
            hi, lo, u = next_double(hi, lo, table)
            times[i] = jans[y] + u * span
        t, age, need = _year_referrals(counts, times, septembers[y], end)
        parts_t.append(t)
        parts_a.append(age)
        parts_n.append(need)
        total += t.shape[0]
    times = np.empty(total)
    ages = np.empty(total, dtype=np.int64)
    needs = np.empty(total, dtype=np.int64)
    at = 0
    for k in range(len(parts_t)):
        m = parts_t[k].shape[0]
        times[at : at + m] = parts_t[k]
        ages[at : at + m] = parts_a[k]
        needs[at : at + m] = parts_n[k]
        at += m
    return times, ages, needs, hi, lo


def _check_size(expected: np.ndarray, growth: float, trend: float) -> None:
    """Refuse a draw that expects more referrals than placeplan follows.

    Validation bounds growth so that numbers stay finite; a draw in the far tail of
    wide parameters can still expect more children than fit in memory. Such a run
    stops here, before any child is drawn, rather than being clipped silently.

    Raises
    ------
    InputError
        If the referrals expected over the forecast exceed
        :data:`placeplan.scenario.MAX_CHILDREN` [children].
    """
    from placeplan.errors import InputError
    from placeplan.scenario import MAX_CHILDREN

    total = float(expected.sum())
    if not np.isfinite(total) or total > MAX_CHILDREN:
        raise InputError(
            f"demand: a replication drew new plans growth {growth:+.3f} and special school "
            f"share trend {trend:+.3f} a year, which expect {total:,.0f} referrals over the "
            f"forecast; placeplan follows at most {MAX_CHILDREN:,} (narrow "
            "demand.new_plans_growth, its sd, the noise, or shorten the years)"
        )


def draw_cohort_demand(
    spec: CohortDemand,
    inputs: CohortInputs,
    designations: tuple[str, ...],
    start: date,
    end: date,
    parameters: np.random.Generator,
    referrals: np.random.Generator,
    values: Mapping[str, float] | None = None,
    start_need: np.ndarray | None = None,
) -> DemandDraw:
    """Project plans and need with parameters drawn for one replication; draw its referrals.

    Parameters
    ----------
    spec : CohortDemand
        The scenario's demand section.
    inputs : CohortInputs
        SEN2-derived arrays (:func:`~placeplan.demand.inputs.cohort_inputs`).
    designations : tuple of str
        The scenario's designations, in order.
    start, end : datetime.date
        The forecast's first day and the first day after it.
    parameters, referrals : numpy.random.Generator
        Streams for the year-to-year noise and for the referral counts and times.
    values : mapping, optional
        This replication's values of the assumptions, by dotted path
        (:meth:`placeplan.model.Model.assumption_values`); their central values if
        omitted.
    start_need : numpy.ndarray, optional
        ``[age, need]`` children needing a special school place at the start: in the
        council's places, placed elsewhere and waiting (:mod:`placeplan.demand.start`)
        [children]; the SEN2 special school children if omitted.

    Returns
    -------
    DemandDraw

    Notes
    -----
    Per replication: the assumptions (growth of new plans, its damping, the trend
    of the share needing a place, the re-recording of needs) are drawn once; the log
    of new plans then steps each year by the (damped) growth plus a normal deviation
    (year-to-year variation, accumulating as a random walk, as in the calibration).
    The share of plans needing a place starts at ``start_need`` over the plans and
    moves by the trend; :func:`~placeplan.demand.need.need_path` turns plans × share
    into the flows of children (leaving need, and newly needing a place). Each
    year's referrals of each age and need are Poisson around that year's inflow, at
    instants uniform over the year from the start.

    """
    values = values or {}

    def value(name: str) -> float:
        given = getattr(spec, name)
        centre = given.centre if isinstance(given, Uncertain) else float(given)
        return float(values.get(f"demand.{name}", centre))

    growth = value("new_plans_growth")
    trend = value("specialist_share_trend")
    damping = value("new_plans_growth_damping")
    recoding = value("need_recoding")
    cease_rate = np.clip(inputs.cease_rate * value("ceasing_scale"), 0.0, 1.0)
    base = inputs.base_year
    n_years = end.year - base + 1
    # New plans of calendar year base + y (y = 0, 1, ...), relative to the latest year
    # published: a random walk in logs whose drift is damped year by year, from the
    # council's fitted level (the anchor), with its own transient noise around it.
    ahead = (base - inputs.new_plans_year) + np.arange(n_years)  # 1 for the base year
    total = int(ahead[-1]) if n_years else 0
    steps = parameters.normal(0.0, spec.new_plans_noise_sd, size=total)
    transient = (
        parameters.normal(0.0, spec.new_plans_transient_sd, size=total)
        if spec.new_plans_transient_sd > 0
        else None
    )
    log_factor = (
        new_plans_log_factor(ahead, growth, damping, steps, transient, spec.new_plans_anchor)
        if n_years
        else np.zeros(0)
    )
    cease_deviation = (
        parameters.normal(0.0, spec.ceasing_noise_sd, size=n_years)
        if spec.ceasing_noise_sd > 0
        else None
    )
    plans_factor, need_factor = _lever_factors(spec, values, base, n_years)
    # need follows plans as they would be without the levers: a lever changes who gets
    # a plan (plans_factor) and, separately, who newly needs a place (need_factor)
    stock, _ = project_plans(inputs, log_factor, cease_rate, recoding, None, cease_deviation)
    plans = (
        stock
        if plans_factor is None
        else project_plans(inputs, log_factor, cease_rate, recoding, plans_factor, cease_deviation)[
            0
        ]
    )
    years = np.arange(n_years + 1)
    first = inputs.special_table if start_need is None else np.asarray(start_need, dtype=float)
    share0 = np.clip(
        np.divide(first, inputs.stock, out=np.zeros_like(first), where=inputs.stock > 0), 0, 1
    )
    target = stock * share_path(stock, share0, trend, years)
    target[0] = first  # the state at the start, whole
    path = need_path(target, cease_rate, spec.referral_ages, need_factor)

    own = own_designations(spec, designations)
    by_desig = np.zeros((n_years + 1, len(designations)))
    for j in range(len(NEEDS)):
        by_desig[:, own[j]] += path.need[:, :, j].sum(axis=1)

    _check_size(path.inflow[:n_years], growth, trend)
    # each year's referrals fall in that year, so sorting year by year sorts them all
    # (as a stable sort of the whole would)
    times, age, need = _draw_referrals(referrals, path.inflow, base, n_years, start, end)
    drawn = Referrals(
        times, age.astype(np.int16), need.astype(np.int16), own[need].astype(np.int16)
    )
    januaries = np.array([date(base + y, 1, 1).toordinal() for y in years], dtype=float)
    return DemandDraw(
        januaries=januaries,
        ehcp_plans=plans.sum(axis=(1, 2)),
        specialist_demand=path.need.sum(axis=(1, 2)),
        specialist_by_designation=by_desig,
        referrals=drawn,
        path=path,
    )


def _lever_factors(
    spec: CohortDemand, values: Mapping[str, float], base: int, n_years: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Yearly multipliers of new plans and of new need from the dated levers (None: none).

    Year ``y`` runs from January ``base + y``; a lever dated within it applies to the
    share of the year after its date.
    """
    levers = getattr(spec, "levers", ())
    if not levers:
        return None, None
    plans = np.ones(n_years)
    need = np.ones(n_years)
    for i, lever in enumerate(levers):
        for field, out in (("new_plans_factor", plans), ("specialist_need_factor", need)):
            given = getattr(lever, field)
            f = float(values.get(f"demand.levers.{i}.{field}", given.centre))
            for y in range(n_years):
                first = date(base + y, 1, 1).toordinal()
                last = date(base + y + 1, 1, 1).toordinal()
                after = min(max((last - lever.from_date.toordinal()) / (last - first), 0.0), 1.0)
                out[y] *= 1.0 + (f - 1.0) * after
    return plans, need


def draw_fixed_demand(
    spec: FixedReferrals,
    calendar: TermCalendar,
    designations: tuple[str, ...],
    start: date,
    end: date,
) -> DemandDraw:
    """Deterministic referrals: ``per_term`` children in each term from the start's term.

    Referrals arrive on the first day of each term (the start itself for the first
    term when the forecast starts mid-term), or spread evenly over the term.
    """
    first = calendar.term_index(start)
    last = calendar.term_index(end)
    parts = []
    for i, k in enumerate(range(first, last + 1)):
        lo = max(calendar.start_of_index(k), start).toordinal()
        hi = min(calendar.start_of_index(k + 1), end).toordinal()
        if hi <= lo:
            continue
        for name, values in spec.per_term.items():
            count = values[min(i, len(values) - 1)]
            if spec.arrival == "term_start":
                times = np.full(count, float(lo))
            else:
                times = lo + (np.arange(count) + 0.5) / max(count, 1) * (hi - lo)
            d = designations.index(name)
            parts.append(
                Referrals(times, np.full(count, spec.age), np.full(count, -1), np.full(count, d))
            )
    return DemandDraw(
        referrals=Referrals.concat(parts), **_no_cohort(start, end, len(designations))
    )


def _no_cohort(start: date, end: date, n_designations: int) -> dict[str, np.ndarray]:
    """Demand series of a model without a cohort projection: Januaries, and NaN."""
    januaries = np.array(
        [date(y, 1, 1).toordinal() for y in range(start.year, end.year + 2)], dtype=float
    )
    nan = np.full(len(januaries), np.nan)
    return {
        "januaries": januaries,
        "ehcp_plans": nan,
        "specialist_demand": nan,
        "specialist_by_designation": np.full((len(januaries), n_designations), np.nan),
    }


def draw_poisson_demand(
    spec: PoissonReferrals,
    designations: tuple[str, ...],
    start: date,
    end: date,
    referrals: np.random.Generator,
) -> DemandDraw:
    """Poisson referrals at a constant rate per designation from the start to the end.

    For each designation in turn: the number of referrals is Poisson with mean
    ``rate × length``; their instants are uniform over the forecast (the order
    statistics of a Poisson process).
    """
    lo, hi = float(start.toordinal()), float(end.toordinal())
    years = (hi - lo) / 365.25
    parts = []
    for name, rate in spec.rate.items():
        count = int(referrals.poisson(rate * years))
        times = np.sort(lo + referrals.random(count) * (hi - lo))
        d = designations.index(name)
        parts.append(
            Referrals(times, np.full(count, spec.age), np.full(count, -1), np.full(count, d))
        )
    return DemandDraw(
        referrals=Referrals.concat(parts), **_no_cohort(start, end, len(designations))
    )
