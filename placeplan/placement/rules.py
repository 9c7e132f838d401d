"""The rules of the placement model, written once and shared by both engines.

Pure functions of plain numbers (scalar, for the engines' inner loops) or of arrays
(for whole populations); the epoch engine, the per-child reference, the population
at the start and the measures all call these, so the engines differ only in their
bookkeeping.

- :func:`academic_year_of` / :func:`academic_years`: the academic year of an instant
  (2024 for 1 September 2024 to 31 August 2025).
- :func:`take_up`: when a child offered a place takes it up.
- :func:`preference`, :func:`first_free_pool`: which pool a child is offered.
- :func:`designation_route`, :func:`offer_steps`, :func:`offered_in`: which
  designations' places a child is offered, and in what order a decision epoch
  offers them.
- :func:`school_out`, :func:`leaves_place` (and array forms): when a pupil leaves
  a place.
- :func:`whole_terms_waited`, :func:`waited_over_weeks`: the long-wait thresholds.

All instants are day ordinals (``date.toordinal()``, fractions being times of day).
Misuse raises; nothing falls back silently: :data:`NO_POOL` is never an index.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import date
from typing import Literal

import numpy as np

from placeplan.sorted_search import searchsorted

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "NO_POOL",
    "OLDEST_AGE",
    "academic_year_of",
    "academic_years",
    "age_ranges",
    "designation_route",
    "first_free_pool",
    "leaves_place",
    "leaves_places",
    "leaving_septembers",
    "locality_order",
    "offer_steps",
    "offered_at",
    "offered_in",
    "preference",
    "school_out",
    "school_outs",
    "september_first",
    "september_firsts",
    "take_up",
    "waited_over_weeks",
    "whole_terms_waited",
]

NO_POOL = -1
"""Pool of a child never offered a place (never used as an index)."""

OLDEST_AGE = 25
"""The oldest SEN2 age (EHC plans run to 25) [years]: the oldest age of a pool for every age."""

FIRST_YEAR, LAST_YEAR = 1990, 2400
"""Academic years the calendar supports (as :mod:`placeplan.calendar`)."""

_SEPTEMBER_FIRSTS: list[float] = [
    float(date(y, 9, 1).toordinal()) for y in range(FIRST_YEAR, LAST_YEAR + 2)
]
_SEPTEMBER_ARRAY = np.array(_SEPTEMBER_FIRSTS)


# ------------------------------------------------------------------ academic years
def academic_year_of(instant: float) -> int:
    """Academic year (2024 for 2024/25) of a day ordinal.

    Raises
    ------
    ValueError
        Outside the supported calendar (1990/91 to 2400/01), or not a number.
    """
    k = bisect.bisect_right(_SEPTEMBER_FIRSTS, instant)
    if not 0 < k < len(_SEPTEMBER_FIRSTS):
        raise ValueError(f"instant {instant} is outside academic years {FIRST_YEAR}–{LAST_YEAR}")
    return FIRST_YEAR + k - 1


def academic_years(times: np.ndarray) -> np.ndarray:
    """Academic year of each day ordinal (:func:`academic_year_of` over an array)."""
    times = np.asarray(times, dtype=float)
    k = searchsorted(_SEPTEMBER_ARRAY, times, side="right")
    if k.size and (k.min() <= 0 or k.max() >= len(_SEPTEMBER_ARRAY) or np.isnan(times).any()):
        raise ValueError(f"instants outside the academic years {FIRST_YEAR}–{LAST_YEAR}")
    return (FIRST_YEAR + k - 1).astype(np.int64)


def september_first(year: int) -> float:
    """Day ordinal of 1 September of ``year`` [days].

    Raises
    ------
    ValueError
        Outside the supported years.
    """
    k = year - FIRST_YEAR
    if not 0 <= k < len(_SEPTEMBER_FIRSTS):
        raise ValueError(f"year {year} is outside {FIRST_YEAR}–{LAST_YEAR + 1}")
    return _SEPTEMBER_FIRSTS[k]


def september_firsts(years: np.ndarray) -> np.ndarray:
    """Day ordinal of 1 September of each year (:func:`september_first` over an array)."""
    k = np.asarray(years, dtype=np.int64) - FIRST_YEAR
    if k.size and (k.min() < 0 or k.max() >= len(_SEPTEMBER_FIRSTS)):
        raise ValueError(f"years outside {FIRST_YEAR}–{LAST_YEAR + 1}")
    return _SEPTEMBER_ARRAY[k]


# ----------------------------------------------------------------------- preference
def locality_order(locality: int, neighbours: Sequence[int], n_localities: int) -> list[int]:
    """Localities in the order a child of ``locality`` is offered their schools.

    Its own locality first, then its neighbours in the order given, then the rest of
    the county in index order.
    """
    order = [locality]
    order += [k for k in neighbours if k not in order]
    order += [k for k in range(n_localities) if k not in order]
    return order


def preference(
    pool_designation: Sequence[int],
    pool_locality: Sequence[int],
    neighbours: Sequence[Sequence[int]],
    n_designations: int,
) -> list[list[list[int]]]:
    """``preference[locality][designation]``: the pools offered, in order.

    Pools of the designation, by :func:`locality_order` of the child's locality;
    within a locality, in the order of the pools.

    Parameters
    ----------
    pool_designation, pool_locality : sequence of int
        Designation and locality index of each pool.
    neighbours : sequence of sequence of int
        Neighbours of each locality, in order.
    n_designations : int
        Number of designations.
    """
    out = []
    for home in range(len(neighbours)):
        rank = {k: r for r, k in enumerate(locality_order(home, neighbours[home], len(neighbours)))}
        by_designation = []
        for d in range(n_designations):
            mine = [q for q in range(len(pool_designation)) if pool_designation[q] == d]
            by_designation.append(sorted(mine, key=lambda q: (rank[int(pool_locality[q])], q)))
        out.append(by_designation)
    return out


# ------------------------------------------------------------------------ take-up
def take_up(
    offered: float,
    term_starts: Sequence[float],
    start_places: Literal["next_term", "immediate"],
) -> float:
    """When a place offered at ``offered`` is taken up [days].

    At once (``"immediate"``: term starts, continuous mode, and panels so set), or
    at the first term start strictly after the offer (``"next_term"``).

    Parameters
    ----------
    offered : float
        Instant of the offer [days].
    term_starts : sequence of float
        Term-start instants, sorted, ending with ``inf`` (never) [days].
    start_places : {"next_term", "immediate"}
        The panels' rule.

    Raises
    ------
    ValueError
        For any other rule, or when no term start (not even ``inf``) follows.
    """
    if start_places == "immediate":
        return offered
    if start_places != "next_term":
        raise ValueError(f"start_places must be 'next_term' or 'immediate', not {start_places!r}")
    k = bisect.bisect_right(term_starts, offered)
    if k >= len(term_starts):
        raise ValueError(f"no term start after {offered} (the list must end with inf)")
    return float(term_starts[k])


# ---------------------------------------------------------------------- pool choice
def first_free_pool(
    order: Sequence[int],
    free: Sequence[int],
    youngest: Sequence[int],
    oldest: Sequence[int],
    age: int,
) -> int:
    """The pool a child is offered: the first in its order with a free place for its age.

    Written once for both engines: the reference calls it as Python, the epoch
    engine's compiled matching (:mod:`placeplan.placement.kernel`) compiles this
    same function.

    Parameters
    ----------
    order : sequence of int
        The child's pools in order of preference (own locality, neighbours in
        order, the rest of the county).
    free : sequence of int
        Free places by pool [places].
    youngest, oldest : sequence of int
        Youngest and oldest SEN2 age each pool takes [years].
    age : int
        The child's SEN2 age in the academic year of taking the place up [years].

    Returns
    -------
    int
        The pool, or :data:`NO_POOL` if none qualifies.
    """
    for q in order:
        if free[q] > 0 and youngest[q] <= age <= oldest[q]:
            return q
    return NO_POOL


def designation_route(
    listed: Sequence[int], also_serves: Sequence[Sequence[int]]
) -> tuple[int, ...]:
    """The designations whose places a child may be offered, in order.

    The designations listed for the child's need (the first is the child's own
    designation), then each designation whose places also serve the child's own
    designation, in the scenario's order, without repeats.

    Parameters
    ----------
    listed : sequence of int
        The ranked designations of the child's need; ``(designation,)`` where the
        scenario ranks none.
    also_serves : sequence of sequence of int
        ``also_serves[D]``: the designations whose children places of ``D`` also
        serve (after their own designation's places).

    Raises
    ------
    ValueError
        For an empty list.
    """
    if not listed:
        raise ValueError("a route needs the child's own designation first")
    route = list(dict.fromkeys(int(d) for d in listed))
    own = route[0]
    route += [d for d, serves in enumerate(also_serves) if own in serves and d not in route]
    return tuple(route)


def offer_steps(n_rounds: int, n_designations: int) -> list[tuple[int, int]]:
    """The steps of a decision epoch, in order: ``(round, designation)``.

    In round ``r``, designation by designation, the children still waiting whose
    route's ``r``-th entry is that designation are offered its places, first come
    first served within priority class. So every child is offered its own
    designation's places (round 0) before any child falls back on another's; with
    no route longer than one, an epoch is round 0 alone.
    """
    return [(r, d) for r in range(n_rounds) for d in range(n_designations)]


def offered_at(route: Sequence[int], r: int) -> int | None:
    """The designation whose places a child of this route is offered in round ``r``.

    None once the route is spent (:func:`offer_steps`).
    """
    return int(route[r]) if r < len(route) else None


def offered_in(route: Sequence[int], step: tuple[int, int]) -> bool:
    """Whether a child of this route is offered places at ``step`` (:func:`offer_steps`)."""
    return offered_at(route, step[0]) == step[1]


def age_ranges(youngest: Sequence[int], oldest: Sequence[int]) -> list[range]:
    """The ages each pool takes, from its youngest to its oldest inclusive [years]."""
    return [range(int(y), int(o) + 1) for y, o in zip(youngest, oldest, strict=True)]


# ------------------------------------------------------------------- leaving time
def school_out(age_base: int, oldest: int) -> float:
    """1 September after the academic year in which a pupil reaches a school's oldest age [days].

    Parameters
    ----------
    age_base : int
        The pupil's SEN2 age less the academic year it is the age in: the age in
        academic year ``Y`` is ``age_base + Y`` [years].
    oldest : int
        Oldest age the school takes [years] (:data:`OLDEST_AGE` for every age).
    """
    return float(leaving_septembers(np.array([oldest - age_base + 1]))[0])


def school_outs(age_base: np.ndarray, oldest: np.ndarray | int) -> np.ndarray:
    """:func:`school_out` over arrays [days]."""
    return leaving_septembers(np.asarray(oldest) - np.asarray(age_base) + 1)


def leaving_septembers(years: np.ndarray) -> np.ndarray:
    """1 September of each year someone leaves at the end of the year before [days].

    Like :func:`september_firsts`, except that a year after the supported calendar
    gives ``inf``: every forecast ends by 1 September 2400, so such a leaving never
    happens within one (a child of 0 in a forecast's last year reaches 25 after it).

    Raises
    ------
    ValueError
        For a year before the supported calendar.
    """
    years = np.asarray(years, dtype=np.int64)
    late = years > LAST_YEAR + 1
    out = np.full(years.shape, np.inf)
    out[~late] = september_firsts(years[~late])
    return out


def leaves_place(take_up: float, stay: float, age_out: float, school_out: float) -> float:
    """When a pupil who took a place up at ``take_up`` leaves it [days].

    Written once for both engines (compiled as it is for the epoch engine's matching).

    The first of: leaving mid-year (``take_up + stay``), leaving by age
    (``age_out``), and leaving school at the end of the academic year in which the
    pupil reaches the oldest age the school takes (``school_out``, :func:`school_out`).

    Parameters
    ----------
    take_up : float
        Instant the place was taken up [days].
    stay : float
        Time in the place before leaving it mid-year (``inf`` for never) [days].
    age_out : float
        Leaving by age (``inf`` for never) [days].
    school_out : float
        :func:`school_out` of the pupil and the school [days].
    """
    when = take_up + stay
    if age_out < when:
        when = age_out
    return school_out if school_out < when else when


def leaves_places(
    take_up: np.ndarray, stay: np.ndarray, age_out: np.ndarray, school_out: np.ndarray
) -> np.ndarray:
    """:func:`leaves_place` over arrays [days]."""
    return np.minimum(np.minimum(np.asarray(take_up) + stay, age_out), school_out)


# ------------------------------------------------------------------------ long waits
def whole_terms_waited(referral_term: np.ndarray, snapshot_term: int | np.ndarray) -> np.ndarray:
    """Whole terms passed since the end of the term of referral [terms].

    The terms lying wholly between the term of referral and the term of the
    snapshot (global term indices, :meth:`placeplan.calendar.TermCalendar.term_index`);
    0 within the term of referral and the next.
    """
    return np.maximum(np.asarray(snapshot_term) - np.asarray(referral_term) - 1, 0)


def waited_over_weeks(referred: np.ndarray, now: float, weeks: float) -> np.ndarray:
    """Whether more than ``weeks`` weeks (of 7 days) have passed since referral, by day.

    Days are whole: a child referred on day ``r`` has waited ``floor(now) - floor(r)``
    days at ``now``.
    """
    return np.floor(now) - np.floor(np.asarray(referred)) > 7 * weeks
