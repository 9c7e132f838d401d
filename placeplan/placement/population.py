"""Who is in the placement model, and when each child leaves.

Pupils in places at the start, children on the list at the start, and the instant
at which every child leaves a place or the list.

All times are day ordinals (``date.toordinal()``, fractions being times of day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from placeplan.demand.referrals import Referrals
from placeplan.placement.rules import (
    academic_year_of,
    academic_years,
    leaves_places,
    leaving_septembers,
    school_outs,
    september_first,
)
from placeplan.scenario import InitialWaiting, LeavingSpec

__all__ = [
    "Exits",
    "Occupants",
    "academic_year_of",
    "academic_years",
    "draw_exits",
    "initial_list",
    "initial_occupants",
    "september_first",
]


@dataclass(frozen=True)
class Exits:
    """When each child leaves, drawn before the placement model runs.

    Attributes
    ----------
    age_out : numpy.ndarray
        End of the academic year in which the child leaves by age (placed or
        waiting): a day ordinal, ``inf`` for never [days].
    stay : numpy.ndarray
        Time in a place before leaving it mid-year, counted from taking it up
        [days] (``inf`` for never).
    patience : numpy.ndarray
        Time on the referral list before leaving it (moving away, other
        provision), counted from referral [days] (``inf`` for never).
    out_of_area : numpy.ndarray, optional
        When a child still waiting is placed out of area (``inf`` for never) [days];
        ``inf`` for everyone if omitted.
    """

    age_out: np.ndarray
    stay: np.ndarray
    patience: np.ndarray
    out_of_area: np.ndarray = None  # type: ignore[assignment]  # filled in below

    def __post_init__(self) -> None:
        n = len(self.age_out)
        if self.out_of_area is None:
            object.__setattr__(self, "out_of_area", np.full(n, np.inf))
        for name in ("stay", "patience", "out_of_area"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Exits.{name} has {len(getattr(self, name))} rows, not {n}")

    def __len__(self) -> int:
        return len(self.age_out)

    def waiting_until(self, referred: np.ndarray) -> np.ndarray:
        """When each child leaves the list if never placed in the county [days]."""
        return np.minimum(np.minimum(self.age_out, referred + self.patience), self.out_of_area)

    def with_out_of_area(self, when: np.ndarray) -> Exits:
        """The same exits, with the instants at which children go out of area [days]."""
        return Exits(self.age_out, self.stay, self.patience, when)

    def placed_until(self, started: np.ndarray) -> np.ndarray:
        """When each child leaves a place taken up at ``started``, school ages aside [days]."""
        return np.minimum(self.age_out, started + self.stay)

    @classmethod
    def concat(cls, parts: list[Exits]) -> Exits:
        """Join several sets of exits, in order."""
        return cls(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("age_out", "stay", "patience", "out_of_area")
            )
        )


def _durations(rng: np.random.Generator, rate: float, n: int) -> np.ndarray:
    if rate > 0:
        return rng.exponential(365.25 / rate, size=n)
    return np.full(n, np.inf)


def draw_exits(
    rng: np.random.Generator, since: np.ndarray, age: np.ndarray, leaving: LeavingSpec
) -> Exits:
    """When each child leaves: by age at the end of a year, from a place, from the list.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream to draw from: an ``(n, 27)`` block of uniforms for the end-of-year
        decisions, then ``n`` exponentials for leaving a place mid-year, then ``n``
        for leaving the list.
    since : numpy.ndarray
        Day ordinal from which each child is followed [days].
    age : numpy.ndarray
        SEN2 age in the academic year containing ``since`` [years].
    leaving : LeavingSpec
        End-of-year probabilities by age, and the mid-year rates [per year].

    Returns
    -------
    Exits
    """
    since = np.asarray(since, dtype=float)
    age = np.asarray(age, dtype=np.int64)
    n = len(since)
    steps = 27
    prob = np.zeros(26 + steps)
    for a, p in leaving.end_of_year.items():
        prob[a] = p
    u = rng.random((n, steps))
    ages = np.clip(age[:, None] + np.arange(steps)[None, :], 0, len(prob) - 1)
    leaves = u < prob[ages]
    has = leaves.any(axis=1)
    k = np.argmax(leaves, axis=1)
    age_out = np.full(n, np.inf)
    year0 = academic_years(since)
    age_out[has] = leaving_septembers(year0[has] + k[has] + 1)
    stay = _durations(rng, leaving.mid_year_rate, n)
    list_rate = leaving.mid_year_rate if leaving.list_rate is None else leaving.list_rate
    return Exits(age_out, stay, _durations(rng, list_rate, n))


@dataclass(frozen=True)
class Occupants:
    """Pupils in special school places at the start of the forecast.

    Attributes
    ----------
    designation : numpy.ndarray
        Index of the designation of each pupil's place.
    age : numpy.ndarray
        SEN2 age in the academic year of the start [years].
    exit : numpy.ndarray
        When each leaves their place (day ordinal; ``inf`` for never) [days].
    pool : numpy.ndarray
        Pool (school and designation) of each pupil's place.

    """

    designation: np.ndarray
    age: np.ndarray
    exit: np.ndarray
    pool: np.ndarray


def initial_occupants(
    rng: np.random.Generator,
    places: np.ndarray,
    occupancy: float,
    age_weights: np.ndarray,
    start: date,
    leaving: LeavingSpec,
    pool_designation: np.ndarray | None = None,
    youngest: np.ndarray | None = None,
    oldest: np.ndarray | None = None,
) -> Occupants:
    """Fill the places at the start and draw when each pupil leaves.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream for the ages and exits.
    places : numpy.ndarray
        Places by pool at the start [places].
    occupancy : float
        Share of places filled [1].
    age_weights : numpy.ndarray
        Relative number of pupils of each SEN2 age 0–25 [1], restricted to each
        pool's age range.
    start : datetime.date
        First day of the forecast.
    leaving : LeavingSpec
        Leaving rules.
    pool_designation, youngest, oldest : numpy.ndarray, optional
        Designation and age range of each pool (one pool a designation, every age,
        if omitted).
    """
    counts = np.round(np.asarray(places) * occupancy).astype(np.int64)
    n_pools = len(counts)
    pool_designation = np.arange(n_pools) if pool_designation is None else pool_designation
    youngest = np.zeros(n_pools, dtype=np.int64) if youngest is None else youngest
    oldest = np.full(n_pools, 25) if oldest is None else oldest
    pool = np.repeat(np.arange(n_pools), counts)
    weights = np.asarray(age_weights, dtype=float)
    ages = np.arange(len(weights))
    age = np.zeros(len(pool), dtype=np.int64)
    for q in range(n_pools):
        if counts[q] == 0:
            continue
        w = np.where((ages >= youngest[q]) & (ages <= oldest[q]), weights, 0.0)
        if w.sum() == 0:
            w = ((ages >= youngest[q]) & (ages <= oldest[q])).astype(float)
        age[pool == q] = rng.choice(len(w), size=int(counts[q]), p=w / w.sum())
    since = np.full(len(pool), float(start.toordinal()))
    exits = draw_exits(rng, since, age, leaving)
    designation = np.asarray(pool_designation)[pool].astype(np.int16)
    # pupils leave at the end of the year they reach the oldest age their school takes
    age_base = age - academic_years(since)
    leaves = leaves_places(
        since, exits.stay, exits.age_out, school_outs(age_base, np.asarray(oldest)[pool])
    )
    return Occupants(designation, age.astype(np.int16), leaves, pool)


def initial_list(
    rng: np.random.Generator,
    groups: tuple[InitialWaiting, ...],
    designations: tuple[str, ...],
    start: date,
    leaving: LeavingSpec,
) -> tuple[Referrals, Exits]:
    """Children on the referral list at the start, and when each leaves it.

    In each group, referral instants are uniform over ``[referred_from,
    referred_to]`` (the day before the start at the latest), ages at the start
    uniform over the group's range; the list is followed from the start, so nobody
    on it has left before then.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream for the referral instants, ages and exits.
    groups : tuple of InitialWaiting
        The scenario's groups of children waiting at the start.
    designations : tuple of str
        The scenario's designations, in order.
    start : datetime.date
        First day of the forecast.
    leaving : LeavingSpec
        Leaving rules.

    Returns
    -------
    referrals, exits
        The children in order of referral (ages in their academic year of
        referral) and when they leave (:class:`Exits`; time on the list counted
        from referral, so that nobody leaves the list before the start).
    """
    times, ages, desigs, exits = [], [], [], []
    first = float(start.toordinal())
    start_year = academic_years(np.array([start.toordinal()]))[0]
    for group in groups:
        counts = np.array([group.children.get(d, 0) for d in designations], dtype=np.int64)
        n = int(counts.sum())
        lo = group.referred_from.toordinal()
        hi = min(group.referred_to.toordinal() + 1, start.toordinal())
        time = lo + rng.random(n) * max(hi - lo, 0)
        age_now = rng.integers(group.age[0], group.age[1] + 1, size=n)
        drawn = draw_exits(rng, np.full(n, first), age_now, leaving)
        # followed from the start: time on the list counts from then (memoryless)
        exits.append(Exits(drawn.age_out, drawn.stay, drawn.patience + (first - time)))
        times.append(time)
        ages.append(age_now - (start_year - academic_years(time)))
        desigs.append(np.repeat(np.arange(len(designations)), counts))
    if not times:
        empty = np.zeros(0)
        return Referrals.concat([]), Exits(empty, empty, empty)
    time = np.concatenate(times)
    order = np.argsort(time, kind="stable")
    referrals = Referrals(
        time[order],
        np.concatenate(ages)[order].astype(np.int16),
        np.full(len(time), -1, dtype=np.int16),
        np.concatenate(desigs)[order].astype(np.int16),
    )
    joined = Exits.concat(exits)
    return referrals, Exits(joined.age_out[order], joined.stay[order], joined.patience[order])
