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
from placeplan.scenario import InitialWaiting, LeavingSpec

__all__ = ["Occupants", "academic_years", "draw_exits", "initial_list", "initial_occupants"]

_EPOCH = date(1970, 1, 1).toordinal()


def academic_years(times: np.ndarray) -> np.ndarray:
    """Academic year (2024 for 2024/25) of each day ordinal."""
    days = (np.floor(np.asarray(times, dtype=float)) - _EPOCH).astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return years - (months < 9)


def _september_first(years: np.ndarray) -> np.ndarray:
    """Day ordinal of 1 September of each year."""
    months = (np.asarray(years, dtype=np.int64) - 1970) * 12 + 8
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + _EPOCH


def draw_exits(
    rng: np.random.Generator, since: np.ndarray, age: np.ndarray, leaving: LeavingSpec
) -> np.ndarray:
    """When each child leaves: at the end of an academic year, or mid-year.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream to draw from: an ``(n, 27)`` block of uniforms for the end-of-year
        decisions, then ``n`` exponentials for mid-year leaving.
    since : numpy.ndarray
        Day ordinal from which each child is followed [days].
    age : numpy.ndarray
        SEN2 age in the academic year containing ``since`` [years].
    leaving : LeavingSpec
        End-of-year probabilities by age, and the mid-year rate [per year].

    Returns
    -------
    numpy.ndarray
        Exit instants (day ordinals; ``inf`` for never) [days].

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
    end_of_year = np.full(n, np.inf)
    year0 = academic_years(since)
    end_of_year[has] = _september_first(year0[has] + k[has] + 1).astype(float)
    if leaving.mid_year_rate > 0:
        mid = since + rng.exponential(365.25 / leaving.mid_year_rate, size=n)
    else:
        mid = np.full(n, np.inf)
    return np.minimum(end_of_year, mid)


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
        When each leaves (day ordinal; ``inf`` for never) [days].

    """

    designation: np.ndarray
    age: np.ndarray
    exit: np.ndarray


def initial_occupants(
    rng: np.random.Generator,
    places: np.ndarray,
    occupancy: float,
    age_weights: np.ndarray,
    start: date,
    leaving: LeavingSpec,
) -> Occupants:
    """Fill the places at the start and draw when each pupil leaves.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream for the ages and exits.
    places : numpy.ndarray
        Places by designation at the start [places].
    occupancy : float
        Share of places filled [1].
    age_weights : numpy.ndarray
        Relative number of pupils of each SEN2 age 0–25 [1].
    start : datetime.date
        First day of the forecast.
    leaving : LeavingSpec
        Leaving rules.
    """
    counts = np.round(np.asarray(places) * occupancy).astype(np.int64)
    designation = np.repeat(np.arange(len(counts)), counts).astype(np.int16)
    weights = np.asarray(age_weights, dtype=float)
    age = rng.choice(len(weights), size=len(designation), p=weights / weights.sum())
    since = np.full(len(designation), float(start.toordinal()))
    return Occupants(designation, age.astype(np.int16), draw_exits(rng, since, age, leaving))


def initial_list(
    rng: np.random.Generator,
    groups: tuple[InitialWaiting, ...],
    designations: tuple[str, ...],
    start: date,
    leaving: LeavingSpec,
) -> tuple[Referrals, np.ndarray]:
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
        referral) and their exit instants [days].
    """
    times, ages, desigs, exits = [], [], [], []
    start_year = academic_years(np.array([start.toordinal()]))[0]
    for group in groups:
        counts = np.array([group.children.get(d, 0) for d in designations], dtype=np.int64)
        n = int(counts.sum())
        lo = group.referred_from.toordinal()
        hi = min(group.referred_to.toordinal() + 1, start.toordinal())
        time = lo + rng.random(n) * max(hi - lo, 0)
        age_now = rng.integers(group.age[0], group.age[1] + 1, size=n)
        exits.append(draw_exits(rng, np.full(n, float(start.toordinal())), age_now, leaving))
        times.append(time)
        ages.append(age_now - (start_year - academic_years(time)))
        desigs.append(np.repeat(np.arange(len(designations)), counts))
    if not times:
        return Referrals.concat([]), np.zeros(0)
    time = np.concatenate(times)
    order = np.argsort(time, kind="stable")
    referrals = Referrals(
        time[order],
        np.concatenate(ages)[order].astype(np.int16),
        np.full(len(time), -1, dtype=np.int16),
        np.concatenate(desigs)[order].astype(np.int16),
    )
    return referrals, np.concatenate(exits)[order]
