"""The feed from the pathway to places: when referrals from new plans arrive.

A cohort projection counts the children newly needing a special school place each
year; some of them need the place because a new EHC plan names one. Those
projected counts come from SEN2 years in which plans took as long as they did: they
already embed the pathway's historical time to plan. What the pathway model adds
is the *change* in that time. So, in each replication:

1. the mean time to plan of the plans issued in each calendar year of the forecast,
   ``m(y)`` [weeks], and the baseline ``m0``: ``pathway.feed.baseline_weeks_to_plan``,
   or ``m`` of the forecast's first calendar year;
2. ``Δ(t)``: ``m(y) − m0``, linear in time between the middles of the years
   (constant before the first middle and after the last) [weeks];
3. each referral for a place is from a new plan with the probability of its SEN2
   age ``a``: ``min(1, Σ_need new plans[a] × share needing a place[a] / Σ_need
   referrals expected[a])`` — the council's SEN2 new plans of the latest year times
   the share of plans of that age needing a place, over the projection's referrals
   of its first year (new plans are taken to need a place as often as other plans
   of their age); one uniform per referral from the ``"pathway_feed"`` stream;
4. a referral from a new plan moves from ``t`` to ``t + Δ(t)`` (its SEN2 age moves
   with it across 1 September); one moved before the start stays at the start, one
   moved past the end leaves the forecast (counted, not lost: :class:`FeedReport`).

A faster pathway (shorter time to plan than the baseline) moves referrals earlier;
a slower one, later. Children are conserved: every referral is kept, at the start,
or counted as moved past the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from placeplan.demand.referrals import Referrals
from placeplan.pathway.engine import PathwayDraw, _year_of, yearly

__all__ = ["FeedReport", "new_plan_share", "shift_by_year", "shift_referrals"]


@dataclass(frozen=True)
class FeedReport:
    """What the pathway did to one replication's referrals for places.

    Attributes
    ----------
    years : numpy.ndarray
        Calendar years of the forecast.
    shift_weeks : numpy.ndarray
        ``Δ`` of each year (mean time to plan less the baseline) [weeks].
    from_new_plans : numpy.ndarray
        Referrals of each year (by their original instant) from new plans [children].
    into_earlier_year, into_later_year : numpy.ndarray
        Of those, how many moved into an earlier or a later calendar year [children].
    past_end : int
        Referrals moved past the end of the forecast [children].
    at_start : int
        Referrals moved before the start, kept at the start [children].
    """

    years: np.ndarray
    shift_weeks: np.ndarray
    from_new_plans: np.ndarray
    into_earlier_year: np.ndarray
    into_later_year: np.ndarray
    past_end: int
    at_start: int


def new_plan_share(
    new_plans: np.ndarray, special_share: np.ndarray, inflow: np.ndarray
) -> np.ndarray:
    """Probability that a referral of each SEN2 age comes from a new plan [1].

    Parameters
    ----------
    new_plans, special_share : numpy.ndarray
        ``[age, need]`` the council's new plans of a year [plans] and the share of
        plans needing a special school place [1] (:class:`~placeplan.demand.inputs.
        CohortInputs`).
    inflow : numpy.ndarray
        ``[age, need]`` referrals the projection expects in its first year [children].
    """
    expected = (np.asarray(new_plans) * np.asarray(special_share)).sum(axis=1)
    referred = np.asarray(inflow).sum(axis=1)
    out = np.divide(expected, referred, out=np.zeros_like(expected), where=referred > 0)
    return np.clip(out, 0.0, 1.0)


def shift_by_year(
    draw: PathwayDraw, years: np.ndarray, baseline_weeks: float | None = None
) -> np.ndarray:
    """``Δ`` of each year: mean weeks to plan of its plans less the baseline [weeks].

    A year with no plan issued takes the nearest year's; with no plan at all, 0.
    """
    mean = yearly(draw, years)["weeks_to_plan_mean"]
    ok = np.isfinite(mean)
    if not ok.any():
        return np.zeros(len(years))
    idx = np.arange(len(years))
    mean = np.interp(idx, idx[ok], mean[ok])
    base = mean[0] if baseline_weeks is None else float(baseline_weeks)
    return mean - base


def shift_referrals(
    referrals: Referrals,
    draw: PathwayDraw,
    share_by_age: np.ndarray,
    u: np.ndarray,
    start: date,
    end: date,
    baseline_weeks: float | None = None,
) -> tuple[Referrals, FeedReport]:
    """Move the referrals from new plans by the change in the pathway's time to plan.

    Parameters
    ----------
    referrals : Referrals
        The replication's new referrals for places (not the list at the start).
    draw : PathwayDraw
        The replication's pathway.
    share_by_age : numpy.ndarray
        ``[age]`` probability a referral is from a new plan (:func:`new_plan_share`).
    u : numpy.ndarray
        One uniform per referral.
    start, end : datetime.date
        The forecast's first day and the first day after it.
    baseline_weeks : float, optional
        Time to plan the projection embeds [weeks]; the first year's if None.

    Returns
    -------
    Referrals, FeedReport
        The referrals kept, in order of their (new) instants, and what moved.
    """
    from placeplan.placement import rules

    years = np.arange(start.year, end.year + 1)
    shift = shift_by_year(draw, years, baseline_weeks)
    middles = np.array([date(y, 7, 2).toordinal() for y in years], dtype=float)
    time = np.asarray(referrals.time, dtype=float)
    ages = np.clip(np.asarray(referrals.age, dtype=np.int64), 0, len(share_by_age) - 1)
    moving = np.asarray(u) < share_by_age[ages]
    delta = np.where(moving, np.interp(time, middles, shift) * 7.0, 0.0)
    lo, hi = float(start.toordinal()), float(end.toordinal())
    new_time = time + delta
    at_start = moving & (new_time < lo)
    new_time = np.where(at_start, lo, new_time)
    past = new_time >= hi
    old_year, new_year = _year_of(time), _year_of(np.where(past, np.nan, new_time))
    count = lambda mask: np.array(  # noqa: E731
        [np.count_nonzero(mask & (old_year == y)) for y in years], dtype=np.int64
    )
    report = FeedReport(
        years=years,
        shift_weeks=shift,
        from_new_plans=count(moving),
        into_earlier_year=count(moving & ~past & (new_year < old_year)),
        into_later_year=count(moving & (past | (new_year > old_year))),
        past_end=int(np.count_nonzero(past)),
        at_start=int(np.count_nonzero(at_start)),
    )
    keep = ~past
    age = np.asarray(referrals.age, dtype=np.int64) + (
        rules.academic_years(new_time) - rules.academic_years(time)
    )
    moved = Referrals(
        new_time[keep],
        age[keep],
        np.asarray(referrals.need)[keep],
        np.asarray(referrals.designation)[keep],
    )
    return Referrals.concat([moved]), report
