"""Quick analytic capacity guides, per designation: the NHS-R waiting-list formulas for places.

The NHS-R community's waiting-list tools (``NHSRwaitinglist``, after Fong et al.
2022) give four quick guides to one queue: its *load* (demand ÷ capacity), the
*target list* at a target wait (Little's law), the *target capacity* that keeps
the mean wait at target (Kingman's formula) and the *relief capacity* that clears
a backlog by a date. Their queues are served by appointments, whose "capacity" is
a rate; a special school's is a stock of places, each held for years. This module
states each formula for places:

- **load** ρ = λ / (c μ) = λ × stay / c: referrals a year λ [children/year] times the
  mean stay in a place 1/μ [years] is the offered load a [places], over the places c.
- **target list** L = λ × W (Little's law) at a target *mean* wait W [years]. As
  in NHS-R, a target that is a maximum ("nobody waits longer than three terms") is
  turned into a mean by dividing by ``factor`` (4 by default: with exponential
  waits, P(wait > 4 × mean) = e⁻⁴ ≈ 2%); ``factor=1`` takes the target as the mean.
  Terms become years at three terms a year.
- **target capacity** (Kingman): NHS-R's ``calc_target_capacity`` is the G/G/1
  heavy-traffic form, service rate = λ + (c_a² + c_s²)/2 / W. For c places the
  multi-server form of Kingman's approximation (Allen–Cunneen) is used:
  W_q(c) ≈ C(c, a) / (c μ − λ) × (c_a² + c_s²)/2, with C(c, a) Erlang C's probability
  of waiting; the target is the fewest places with W_q(c) ≤ W. With c_a = c_s = 1
  this *is* Erlang C (M/M/c), exact. NHS-R's own single-server formula with the
  places' service rate c μ in its capacity's stead is also given
  (``nhsr_places`` = stay × (λ + (c_a² + c_s²)/2 / W)); it takes C(c, a) = 1, so it
  never asks for fewer places and is the more cautious.
- **relief capacity** (NHS-R ``calc_relief_capacity``): the rate of service that
  brings the list L₀ down to the target L* in a time T is λ + (L₀ − L*)/T. For places
  it is adapted: x places added at the start of the relief take x children off the
  list at once (appointments have no such stock), then the c + x places turn over at
  (c + x) μ a year. The list after T years is L₀ − x + (λ − (c + x) μ) T; setting it
  to L* gives x = (L₀ − L* + (λ − c μ) T) / (1 + μ T), which is NHS-R's
  (stay × relief rate − c) times T / (T + stay): the same when stays are short
  beside T, far fewer places when they are long.

Demand is not typed in: :func:`guides` estimates λ and the mean stay from a short
run of the scenario itself (:func:`estimate_demand`), so the guides follow its
cohort projection, its starting list and its build programme.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from placeplan.errors import InputError
from placeplan.scenario import Scenario

__all__ = [
    "DAYS_PER_YEAR",
    "NHSR_FACTOR",
    "TERMS_PER_YEAR",
    "CapacityGuides",
    "DemandEstimate",
    "erlang_c",
    "estimate_demand",
    "guides",
    "kingman_places",
    "little_list",
    "load",
    "mean_wait",
    "nhsr_relief_capacity",
    "nhsr_target_capacity",
    "relief_places",
]

DAYS_PER_YEAR = 365.25
"""Days in a year [days]."""

TERMS_PER_YEAR = 3
"""School terms in a year [terms]: a wait in terms is a third of a year each."""

NHSR_FACTOR = 4.0
"""NHS-R's divisor from a target (maximum) wait to the target mean wait [1]."""

MAX_PLACES = 10_000_000
"""Most places :func:`kingman_places` searches before giving up [places]."""


# --------------------------------------------------------------------------- formulas
def load(referrals_per_year: float, mean_stay_years: float, places: float) -> float:
    """Load ρ = λ × stay / c: demand for places over places [1].

    Parameters
    ----------
    referrals_per_year : float
        λ, children newly needing a place [children/year].
    mean_stay_years : float
        1/μ, mean time a child holds a place [years].
    places : float
        c, places [places].

    Returns
    -------
    float
        The load [1]: above 1 the list grows without end; ``inf`` with demand and no
        places, ``nan`` with neither.
    """
    offered = referrals_per_year * mean_stay_years
    if places <= 0:
        return math.inf if offered > 0 else math.nan
    return offered / places


def little_list(referrals_per_year: float, wait_years: float) -> float:
    """Little's law: the mean list L = λ × W when the mean wait is W [children].

    Parameters
    ----------
    referrals_per_year : float
        λ [children/year].
    wait_years : float
        W, mean wait [years].
    """
    return referrals_per_year * wait_years


def erlang_c(places: int, offered: float) -> float:
    """Erlang C: the probability that a child referred has to wait, M/M/c [1].

    Computed through Erlang B's recursion B(k) = a B(k−1) / (k + a B(k−1)), stable for
    thousands of places: C = c B / (c − a (1 − B)).

    Parameters
    ----------
    places : int
        c [places].
    offered : float
        a = λ / μ, offered load [places].

    Returns
    -------
    float
        C(c, a) in [0, 1]; 1 when a ≥ c (everyone waits, the list grows).
    """
    if offered <= 0:
        return 0.0
    if places <= offered:
        return 1.0
    b = 1.0
    for k in range(1, int(places) + 1):
        b = offered * b / (k + offered * b)
    return places * b / (places - offered * (1.0 - b))


def mean_wait(
    referrals_per_year: float,
    mean_stay_years: float,
    places: int,
    cv_arrivals: float = 1.0,
    cv_stay: float = 1.0,
) -> float:
    """Mean wait for a place, Kingman's multi-server (Allen–Cunneen) approximation [years].

    W_q ≈ C(c, a) / (c μ − λ) × (c_a² + c_s²) / 2, exact (Erlang C) for Poisson
    referrals and exponential stays (c_a = c_s = 1).

    Parameters
    ----------
    referrals_per_year : float
        λ [children/year].
    mean_stay_years : float
        1/μ [years].
    places : int
        c [places].
    cv_arrivals, cv_stay : float
        Coefficients of variation of the time between referrals and of the stay [1].

    Returns
    -------
    float
        The mean wait [years]; ``inf`` when the load is 1 or more.
    """
    if referrals_per_year <= 0:
        return 0.0
    mu = 1.0 / mean_stay_years
    offered = referrals_per_year * mean_stay_years
    if places <= offered:
        return math.inf
    variability = (cv_arrivals**2 + cv_stay**2) / 2.0
    # c μ − λ written as (c − a) μ: with c just above a, the former can round to 0
    return erlang_c(places, offered) / ((places - offered) * mu) * variability


def kingman_places(
    referrals_per_year: float,
    mean_stay_years: float,
    target_mean_wait_years: float,
    cv_arrivals: float = 1.0,
    cv_stay: float = 1.0,
) -> int:
    """Target capacity: the fewest places whose mean wait is at most the target [places].

    The smallest c with :func:`mean_wait` (Kingman / Allen–Cunneen) ≤ W; found by
    walking up from the offered load with Erlang B's recursion (each step O(1)).

    Parameters
    ----------
    referrals_per_year : float
        λ [children/year].
    mean_stay_years : float
        1/μ [years].
    target_mean_wait_years : float
        W, target mean wait [years], > 0.
    cv_arrivals, cv_stay : float
        Coefficients of variation of the time between referrals and of the stay [1].

    Raises
    ------
    ValueError
        If the target is not positive, or no number of places up to
        :data:`MAX_PLACES` meets it.
    """
    if not target_mean_wait_years > 0:
        raise ValueError(f"target mean wait must be positive, got {target_mean_wait_years!r}")
    if referrals_per_year <= 0:
        return 0
    mu = 1.0 / mean_stay_years
    offered = referrals_per_year * mean_stay_years
    variability = (cv_arrivals**2 + cv_stay**2) / 2.0
    if variability == 0:  # deterministic referrals and stays: no wait once c > a
        return math.floor(offered) + 1
    b = 1.0
    for c in range(1, MAX_PLACES + 1):
        b = offered * b / (c + offered * b)
        if c <= offered:
            continue
        wait = c * b / (c - offered * (1.0 - b)) / ((c - offered) * mu) * variability
        if wait <= target_mean_wait_years:
            return c
    raise ValueError(f"no number of places up to {MAX_PLACES:,} meets the target")


def nhsr_target_capacity(
    demand: float,
    target_wait: float,
    factor: float = NHSR_FACTOR,
    cv_demand: float = 1.0,
    cv_capacity: float = 1.0,
) -> float:
    """NHS-R ``calc_target_capacity``, as published: λ + (c_a² + c_s²)/2 × factor / target.

    The service rate (in ``demand``'s units) whose mean wait is ``target_wait / factor``
    by Kingman's G/G/1 heavy-traffic formula. ``calc_target_capacity(4, 52) = 4.0769``.
    """
    return demand + (cv_demand**2 + cv_capacity**2) / 2.0 * (factor / target_wait)


def nhsr_relief_capacity(
    demand: float, queue_size: float, target_queue_size: float, time_to_target: float
) -> float:
    """NHS-R ``calc_relief_capacity``, as published: λ + (L₀ − L*) / T.

    The service rate that brings the list from ``queue_size`` to
    ``target_queue_size`` in ``time_to_target`` (units of ``demand``'s time).
    ``calc_relief_capacity(30, 1200, 390, 26) = 61.15``.
    """
    return demand + (queue_size - target_queue_size) / time_to_target


def relief_places(
    referrals_per_year: float,
    mean_stay_years: float,
    places: float,
    list_now: float,
    target_list: float,
    years: float,
) -> float:
    """Places needed from now so that the list is down to target in ``years`` [places].

    c + x with x = (L₀ − L* + (λ − c μ) T) / (1 + μ T): the x new places each take a
    child off the list at once, then the c + x places, full, free (c + x) μ places a
    year against λ referrals. NHS-R's relief rate turned into places, with the
    first fill of the new places counted (see the module's notes).

    Parameters
    ----------
    referrals_per_year : float
        λ [children/year].
    mean_stay_years : float
        1/μ [years].
    places : float
        c, places now [places].
    list_now, target_list : float
        L₀ and L* [children].
    years : float
        T, time to clear [years], > 0.

    Returns
    -------
    float
        c + x [places], never below 0 (below c when the list would reach its target
        anyway).
    """
    if not years > 0:
        raise ValueError(f"time to clear must be positive, got {years!r}")
    mu = 1.0 / mean_stay_years
    extra = (list_now - target_list + (referrals_per_year - places * mu) * years) / (1 + mu * years)
    return max(places + extra, 0.0)


# --------------------------------------------------------------------------- demand
@dataclass(frozen=True)
class DemandEstimate:
    """Demand for places by designation over one year of a run (means over replications).

    Attributes
    ----------
    designations : tuple of str
        The scenario's designations.
    start, end : datetime.date
        The snapshots the year runs between.
    years : float
        Its length [years].
    referrals_per_year : numpy.ndarray
        λ, children referred in the year, per year [children/year].
    departures_per_year : numpy.ndarray
        Children leaving the council's places in the year, per year [children/year].
    pupils : numpy.ndarray
        Children in the council's places, averaged over the year [children].
    mean_stay_years : numpy.ndarray
        Pupils ÷ departures (Little's law on the places) [years]; a designation with
        no pupils or no departures takes the pooled stay of all designations.
    pooled_stay : tuple of str
        Designations that took the pooled stay.
    places_now, places : numpy.ndarray
        Places at ``start`` and at ``end`` (the build programme's openings in the
        year included) [places].
    list_now : numpy.ndarray
        Children waiting at ``start`` [children].
    replications : int
        Replications averaged [1].
    """

    designations: tuple[str, ...]
    start: datetime.date
    end: datetime.date
    years: float
    referrals_per_year: np.ndarray
    departures_per_year: np.ndarray
    pupils: np.ndarray
    mean_stay_years: np.ndarray
    pooled_stay: tuple[str, ...]
    places_now: np.ndarray
    places: np.ndarray
    list_now: np.ndarray
    replications: int


def _dates(dataset) -> list[datetime.date]:
    return [pd.Timestamp(t).date() for t in dataset["time"].to_numpy()]


def _window(dates: list[datetime.date], at: datetime.date) -> tuple[int, int]:
    """Snapshots k0 (the one nearest ``at``) and k1 (the first at least 0.95 years later)."""
    k0 = min(range(len(dates)), key=lambda k: abs((dates[k] - at).days))
    later = [k for k in range(k0 + 1, len(dates)) if (dates[k] - dates[k0]).days >= 347]
    if not later:
        raise InputError(
            f"at {at}: capacity guides measure demand over a year from the snapshot "
            f"{dates[k0]}, and the forecast has no snapshot a year after it (last "
            f"{dates[-1]}); pick an earlier --at"
        )
    return k0, later[0]


def estimate_demand(results, at: datetime.date | None = None) -> DemandEstimate:
    """λ, the mean stay, places and the list by designation, from a run's Dataset.

    Over the year from the snapshot nearest ``at`` (the first snapshot by default)
    to the first snapshot at least 0.95 years later (a January census to the next):

    - λ = (referred at the end − referred at the start) / years, by the child's
      designation (``referred_by_designation`` counts children referred since the
      start, so its difference is the year's referrals, the list at the start not
      included);
    - departures from places = placed in the year − the change in pupils;
    - mean stay = pupils (time-averaged over the year's snapshots, trapezoid) ÷
      departures a year: Little's law on the places, free of the censoring a mean of
      finished stays would suffer over a ten-year horizon.

    Each is pooled over replications (ratios of means).

    Parameters
    ----------
    results : placeplan.results.Results
        A run of the scenario.
    at : datetime.date, optional
        Start of the year measured.

    Raises
    ------
    InputError
        If the forecast has no snapshot a year after ``at``, or nobody left a place
        in the year (the stay cannot be estimated).
    """
    ds = results.dataset
    dates = _dates(ds)
    k0, k1 = _window(dates, at or dates[0])
    mean = ds.mean("replicate")

    def var(name: str) -> np.ndarray:
        return np.asarray(mean[f"{name}_by_designation"].values, dtype=float)

    days = np.array([(d - dates[0]).days for d in dates], dtype=float)
    years = (days[k1] - days[k0]) / DAYS_PER_YEAR
    referred, placed, pupils = var("referred"), var("placed"), var("pupils")
    lam = (referred[k1] - referred[k0]) / years
    departures = (placed[k1] - placed[k0] - (pupils[k1] - pupils[k0])) / years
    span = slice(k0, k1 + 1)
    width = np.diff(days[span])[:, None]
    average = (((pupils[span][1:] + pupils[span][:-1]) / 2) * width).sum(0) / width.sum()
    designations = tuple(str(d) for d in ds["designation"].to_numpy())
    ok = (average > 0) & (departures > 0)
    if departures.sum() <= 0 or average.sum() <= 0:
        raise InputError(
            f"{results.scenario.name}: no child left a council place between {dates[k0]} "
            f"and {dates[k1]}, so the mean stay cannot be estimated (Little's law needs "
            "departures); pick another --at"
        )
    pooled = average.sum() / departures.sum()
    stay = np.where(ok, average / np.where(ok, departures, 1.0), pooled)
    capacity, waiting = var("capacity"), var("waiting")
    return DemandEstimate(
        designations=designations,
        start=dates[k0],
        end=dates[k1],
        years=float(years),
        referrals_per_year=lam,
        departures_per_year=departures,
        pupils=average,
        mean_stay_years=stay,
        pooled_stay=tuple(d for d, good in zip(designations, ok, strict=True) if not good),
        places_now=capacity[k0],
        places=capacity[k1],
        list_now=waiting[k0],
        replications=int(ds.sizes["replicate"]),
    )


# --------------------------------------------------------------------------- guides
@dataclass(frozen=True)
class CapacityGuides:
    """The analytic guides of a scenario, one row per designation.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns: ``designation``; ``places_now`` and ``places`` (at the start and the
        end of the year measured) [places]; ``referrals_per_year`` λ
        [children/year]; ``mean_stay_years`` 1/μ [years]; ``demand_places`` λ × stay,
        the offered load [places]; ``load`` demand ÷ places [1]; ``list_now``
        [children]; ``target_mean_wait_terms`` [terms]; ``target_list`` (Little's law)
        [children]; ``mean_wait_terms``, the analytic mean wait at ``places`` [terms]
        (``inf`` at a load of 1 or more); ``kingman_places`` (target capacity)
        [places]; ``nhsr_places`` (NHS-R's single-server formula) [places];
        ``relief_places`` [places]; ``extra_places``, the places to add to meet the
        target, int ≥ 0 [places].
    assumptions : list of str
        Each formula's assumptions, and where the demand figures came from.
    demand : DemandEstimate
        The demand figures and the year they were measured over.
    pooled : pandas.DataFrame
        The same formulas on all designations pooled (one row, ``designation`` "all
        (pooled)"), as if any place could take any child: a lower bound of the
        places a programme needs when children may be offered other designations.
    """

    table: pd.DataFrame
    assumptions: list[str]
    demand: DemandEstimate | None = None
    pooled: pd.DataFrame | None = None

    def display_table(self, pooled: bool = True) -> pd.DataFrame:
        """The table for reading: rounded, units in the column names, the pooled row last."""
        t = self.table
        if pooled and self.pooled is not None:
            t = pd.concat([t, self.pooled], ignore_index=True)
        return pd.DataFrame(
            {
                "designation": t["designation"],
                "places": t["places"].round(0).astype(int),
                "referrals /yr": t["referrals_per_year"].round(1),
                "stay (yr)": t["mean_stay_years"].round(2),
                "demand (places)": t["demand_places"].round(0),
                "load": t["load"].round(2),
                "list now": t["list_now"].round(0),
                "target list": t["target_list"].round(0),
                "mean wait (terms)": t["mean_wait_terms"].round(2),
                "Kingman places": t["kingman_places"],
                "NHS-R places": t["nhsr_places"].round(0),
                "relief places": t["relief_places"].round(0),
                "extra places": t["extra_places"],
            }
        )


def _check_number(name: str, value: object, low: float, *, strict: bool) -> float:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float | np.integer | np.floating)
        and math.isfinite(float(value))
        and (float(value) > low if strict else float(value) >= low)
    )
    if not ok:
        bound = f"greater than {low:g}" if strict else f"at least {low:g}"
        raise InputError(f"{name}: expected a finite number {bound}, got {value!r}")
    return float(value)


def _as_date(name: str, value: object) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{name}: expected a date YYYY-MM-DD, got {value!r}")


def guides(
    scenario: Scenario,
    *,
    target_wait_terms: float = 3.0,
    clear_by: datetime.date | None = None,
    replications: int = 100,
    seed: int = 0,
    at: datetime.date | None = None,
    factor: float = NHSR_FACTOR,
    cv_arrivals: float = 1.0,
    cv_stay: float = 1.0,
) -> CapacityGuides:
    """Load, target list, target capacity and relief capacity of each designation.

    Demand comes from the scenario itself: a short run (``replications``,
    ``seed``) measured over the year from ``at`` (:func:`estimate_demand`). The
    cohort projection alone gives plans needing a place, not referrals to the list
    nor stays in places, and these depend on the starting state and ages the model
    draws; a run gives both on the model's own terms.

    Parameters
    ----------
    scenario : Scenario
        The scenario (a bundled name or file: load it first).
    target_wait_terms : float
        The target wait [terms], a maximum in the sense of NHS-R: the target *mean*
        wait is ``target_wait_terms / factor`` (three terms a year).
    clear_by : datetime.date, optional
        When the list should be down to the target list [date]; by default a year
        after the start of the year measured.
    replications : int
        Replications of the short run [1].
    seed : int
        Its seed.
    at : datetime.date, optional
        Start of the year demand is measured over (the snapshot nearest it); by
        default the first snapshot.
    factor : float
        Target wait ÷ target mean wait (NHS-R: 4) [1], ≥ 1.
    cv_arrivals, cv_stay : float
        Coefficients of variation of the time between referrals and of stays [1];
        1 and 1 (Poisson referrals, exponential stays) as NHS-R's defaults.

    Returns
    -------
    CapacityGuides

    Raises
    ------
    InputError
        On a bad target, factor, coefficient, date or replication count.

    Examples
    --------
    >>> import placeplan as pp
    >>> from placeplan.capacity import guides
    >>> g = guides(pp.load_scenario("herts-baseline"), replications=20)  # doctest: +SKIP
    >>> g.table[["designation", "load", "extra_places"]]  # doctest: +SKIP
    """
    from placeplan.experiment import run

    target_wait_terms = _check_number("target_wait_terms", target_wait_terms, 0, strict=True)
    factor = _check_number("factor", factor, 1, strict=False)
    cv_arrivals = _check_number("cv_arrivals", cv_arrivals, 0, strict=False)
    cv_stay = _check_number("cv_stay", cv_stay, 0, strict=False)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed: expected a whole number ≥ 0, got {seed!r}")
    if at is not None:
        at = _as_date("at", at)
        if not scenario.start <= at <= scenario.end:
            raise InputError(f"at {at}: outside the forecast ({scenario.start} to {scenario.end})")
    if clear_by is not None:
        clear_by = _as_date("clear_by", clear_by)
    results = run(scenario, replications, seed)
    demand = estimate_demand(results, at)
    if clear_by is None:
        clear_years = 1.0
    else:
        clear_years = (clear_by - demand.start).days / DAYS_PER_YEAR
        if clear_years <= 0:
            raise InputError(
                f"clear_by {clear_by}: must be after {demand.start}, the start of the "
                "year the guides are measured over"
            )
    wait_years = target_wait_terms / TERMS_PER_YEAR / factor
    options = (wait_years, target_wait_terms, factor, cv_arrivals, cv_stay, clear_years)
    rows = [
        _row(
            name,
            float(demand.referrals_per_year[d]),
            float(demand.mean_stay_years[d]),
            float(demand.places_now[d]),
            float(demand.places[d]),
            float(demand.list_now[d]),
            *options,
        )
        for d, name in enumerate(demand.designations)
    ]
    lam_all = float(demand.referrals_per_year.sum())
    departures = float(demand.departures_per_year.sum())
    pooled = _row(
        "all (pooled)",
        lam_all,
        float(demand.pupils.sum()) / departures,
        float(demand.places_now.sum()),
        float(demand.places.sum()),
        float(demand.list_now.sum()),
        *options,
    )
    table = pd.DataFrame(rows)
    clear_date = clear_by or (demand.start + datetime.timedelta(days=round(DAYS_PER_YEAR)))
    return CapacityGuides(
        table=table,
        assumptions=_assumptions(
            scenario, demand, target_wait_terms, factor, cv_arrivals, cv_stay, clear_date, seed
        ),
        demand=demand,
        pooled=pd.DataFrame([pooled]),
    )


def _row(
    name: str,
    lam: float,
    stay: float,
    places_now: float,
    places: float,
    list_now: float,
    wait_years: float,
    target_wait_terms: float,
    factor: float,
    cv_arrivals: float,
    cv_stay: float,
    clear_years: float,
) -> dict[str, object]:
    """One row of the guides: the formulas at one designation's figures."""
    target_list = little_list(lam, wait_years)
    king = kingman_places(lam, stay, wait_years, cv_arrivals, cv_stay)
    rate = nhsr_target_capacity(
        lam, target_wait_terms / TERMS_PER_YEAR, factor, cv_arrivals, cv_stay
    )
    nhsr = stay * rate if lam > 0 else 0.0
    relief = relief_places(lam, stay, places, list_now, target_list, clear_years)
    extra = max(king - places, relief - places, 0.0)
    return {
        "designation": name,
        "places_now": places_now,
        "places": places,
        "referrals_per_year": lam,
        "mean_stay_years": stay,
        "demand_places": lam * stay,
        "load": load(lam, stay, places),
        "list_now": list_now,
        "target_mean_wait_terms": wait_years * TERMS_PER_YEAR,
        "target_list": target_list,
        "mean_wait_terms": mean_wait(lam, stay, round(places), cv_arrivals, cv_stay)
        * TERMS_PER_YEAR,
        "kingman_places": king,
        "nhsr_places": nhsr,
        "relief_places": relief,
        "extra_places": math.ceil(extra - 1e-9),
    }


def _assumptions(
    scenario: Scenario,
    demand: DemandEstimate,
    target_wait_terms: float,
    factor: float,
    cv_arrivals: float,
    cv_stay: float,
    clear_by: datetime.date,
    seed: int,
) -> list[str]:
    wait = target_wait_terms / factor
    pooled = (
        f" {', '.join(demand.pooled_stay)} had no pupils or no departures in that year and "
        "take the mean stay of all designations pooled."
        if demand.pooled_stay
        else ""
    )
    return [
        f"Demand: measured on {demand.replications} replications of {scenario.name} "
        f"(seed {seed}) over the year {demand.start} to {demand.end}: referrals a year λ "
        "from children referred in it (the list at the start not counted), by the child's "
        "designation; the mean stay 1/μ by Little's law on the places, pupils averaged "
        "over the year ÷ children leaving places a year." + pooled,
        "Places: the scenario's places at the end of that year (its build programme's "
        "openings within the year included), mean over replications; the list now is the "
        f"mean list at {demand.start}.",
        "Steady state: every formula describes a queue in equilibrium at that year's "
        "demand; demand that keeps growing needs more (measure a later year with --at). "
        "Each designation is a queue of its own: children offered another designation's "
        "places (demand.need_designation routes, also_serves) and children leaving the "
        "list (out of area, ageing out) are not modelled, and placements only at panels "
        "and term starts add to every wait.",
        "Load = λ × stay ÷ places: the share of places the demand would fill; at 1 or more "
        "the list grows without end.",
        f"Target list (Little's law): L = λ × W at the target mean wait W = "
        f"{target_wait_terms:g} terms ÷ {factor:g} = {wait:.3g} terms (three terms a "
        "year); NHS-R's factor turns a maximum wait into a mean (with exponential waits, "
        f"P(wait > {factor:g} × mean) = e^-{factor:g}).",
        "Target capacity (Kingman, multi-server; Allen–Cunneen): the fewest places c with "
        "mean wait C(c, a) / (c μ − λ) × (ca² + cs²)/2 ≤ W, C being Erlang C's probability "
        f"of waiting, a = λ × stay; ca = {cv_arrivals:g} (coefficient of variation of the "
        f"time between referrals) and cs = {cv_stay:g} (of stays). With ca = cs = 1 "
        "(Poisson referrals, exponential stays) this is Erlang C, exact; stays in special "
        "schools are more regular than exponential (cs < 1), so the default errs towards "
        "more places.",
        "NHS-R places: NHS-R's calc_target_capacity, λ + (ca² + cs²)/2 × factor ÷ target, "
        "read as the places' service rate c μ, times the stay: a single fast server, "
        "never fewer places than Kingman's multi-server figure.",
        f"Relief places: the places needed from {demand.start} for the list to fall to the "
        f"target list by {clear_by}: NHS-R's relief capacity λ + (L0 − L*)/T, adapted to "
        "places: x new places take x children off the list at once, then c + x full "
        "places free (c + x) μ places a year; x = (L0 − L* + (λ − c μ) T) / (1 + μ T).",
        "Extra places: the larger of Kingman places and relief places, less the places, "
        "rounded up, never below 0 — a first guess for the optimiser, not a plan.",
    ]
