"""What a replication of the placement model is given, and what it gives back.

Both engines — the fast epoch engine and the per-child reference — take a
:class:`PlacementProblem` and decide only *who is offered which place when*
(:class:`Placements`). Everything else is arithmetic on those decisions, done once
here for both: when placed children leave, and the measures at each snapshot
(:func:`measure`). So two engines that place the same children on the same dates
report the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from placeplan.demand.referrals import Referrals
from placeplan.placement.population import Exits, Occupants
from placeplan.placement.schedule import Schedule

__all__ = ["MEASURES", "PlacementProblem", "Placements", "measure", "time_in_system"]

MEASURES: tuple[str, ...] = (
    "capacity",
    "occupied",
    "vacancies",
    "referred",
    "placed",
    "waiting",
    "waiting_over_3_terms",
    "waiting_over_52_weeks",
    "left_while_waiting",
    "aged_out_while_waiting",
    "placed_out_of_area",
    "out_of_area",
    "out_of_area_cost",
)
"""Measures recorded at each snapshot, by designation."""


@dataclass(frozen=True)
class PlacementProblem:
    """Everything one replication of the placement model needs.

    Attributes
    ----------
    n_designations : int
        Number of designations.
    capacity : numpy.ndarray
        Places by designation at the start [places].
    openings : tuple of (float, int, int)
        Build openings, sorted: instant (day ordinal), designation index, places.
    occupants : Occupants
        Pupils in places at the start.
    children : Referrals
        Every child referred (the list at the start first), in order of referral.
    exits : Exits
        When each child leaves by age, a place, or the list.
    schedule : Schedule
        Term starts, panels and snapshots.
    continuous : bool
        Whether places are offered the moment a referral arrives or a place frees
        (no panels, no terms), rather than at decision epochs.
    start_places : {"next_term", "immediate"}
        When a child offered a place at a panel takes it up.
    referral_terms, snapshot_terms : numpy.ndarray
        Global term index of each referral and of each snapshot.
    long_wait_terms : int
        Threshold of ``waiting_over_3_terms`` [terms].
    long_wait_weeks : float
        Threshold of ``waiting_over_52_weeks`` [weeks].
    start : float
        Day ordinal of the forecast's first day [days].
    out_of_area_cost : float
        Cost of a year in an out-of-area place [GBP per year].
    """

    n_designations: int
    capacity: np.ndarray
    openings: tuple[tuple[float, int, int], ...]
    occupants: Occupants
    children: Referrals
    exits: Exits
    schedule: Schedule
    continuous: bool
    start_places: Literal["next_term", "immediate"]
    referral_terms: np.ndarray
    snapshot_terms: np.ndarray
    long_wait_terms: int
    long_wait_weeks: float
    start: float = 0.0
    out_of_area_cost: float = 0.0

    @property
    def decided(self) -> np.ndarray:
        """When a panel agrees each referral (its arrival, in continuous mode) [days]."""
        if self.continuous:
            return self.children.time
        return self.schedule.decision_times(self.children.time)

    @property
    def leaves_list(self) -> np.ndarray:
        """When each child leaves the list if never placed [days]."""
        return self.exits.waiting_until(self.children.time)

    def capacity_at(self, now: float) -> np.ndarray:
        """Places by designation at ``now`` [places]."""
        cap = self.capacity.astype(np.int64).copy()
        for when, d, places in self.openings:
            if when <= now:
                cap[d] += places
        return cap


@dataclass(frozen=True)
class Placements:
    """Who was offered a place when, and took it up when (``inf``: never) [days].

    ``area_in_system`` is the integral over the forecast of the number of referred
    children in the system (on the list or in a place) as the engine counted them
    while running [child-days], where the engine keeps such a count (the reference).
    """

    offered: np.ndarray
    started: np.ndarray
    area_in_system: float | None = None


def time_in_system(
    problem: PlacementProblem, placements: Placements, start: float, end: float
) -> np.ndarray:
    """Each referred child's time in the system within ``[start, end]`` [days].

    From referral (or the start) until they leave the list or, if placed, their
    place (or the end). Little's law holds on every run as an identity: the sum of
    these equals the area under the number in the system.
    """
    leaves = np.where(
        np.isfinite(placements.started),
        problem.exits.placed_until(placements.started),
        problem.leaves_list,
    )
    arrive = np.maximum(problem.children.time, start)
    return np.clip(np.minimum(leaves, end) - arrive, 0.0, None)


def _count(mask: np.ndarray, designation: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(designation[mask], minlength=n)


def measure(problem: PlacementProblem, placements: Placements) -> dict[str, np.ndarray]:
    """The measures at each snapshot, by designation.

    Parameters
    ----------
    problem : PlacementProblem
        The replication.
    placements : Placements
        An engine's decisions.

    Returns
    -------
    dict of str to numpy.ndarray
        ``[snapshot, designation]`` arrays of :data:`MEASURES`: places, places
        taken and free [places]; children referred and placed since the start (the
        list at the start included), waiting, waiting longer than the long-wait
        thresholds, who left the list before a place (in all, and because of
        their age), who were placed out of area since the start and are out of area
        now [children]; and the cost of out-of-area places since the start [GBP].
        Children referred = placed + waiting + left while waiting + placed out of
        area, at every snapshot.
    """
    p = problem
    c = p.children
    n = p.n_designations
    d = c.designation
    offered, started = placements.offered, placements.started
    leaves_placed = p.exits.placed_until(started)
    leaves_list = p.leaves_list
    aged_out = p.exits.age_out <= leaves_list
    ooa = p.exits.out_of_area if p.exits.out_of_area is not None else np.full(len(c), np.inf)
    moves = ~np.isfinite(offered) & np.isfinite(ooa) & (ooa == leaves_list)
    ooa_until = np.where(moves, np.minimum(p.exits.age_out, ooa + p.exits.stay), -np.inf)
    ooa_from = np.where(moves, ooa, np.inf)
    occ = p.occupants
    snaps = p.schedule.snapshots
    out = {m: np.zeros((len(snaps), n), dtype=np.int64) for m in MEASURES}
    out["out_of_area_cost"] = np.zeros((len(snaps), n))
    day = np.floor(c.time)
    start = p.start
    for k, now in enumerate(snaps):
        referred = c.time <= now
        placed = started <= now
        moved = ooa_from <= now
        gone = ~placed & ~moved & (leaves_list <= now)
        waiting = referred & ~placed & ~gone & ~moved
        held = (offered <= now) & (leaves_placed > now)
        occupied = _count(occ.exit > now, occ.designation, n) + _count(held, d, n)
        capacity = p.capacity_at(now)
        out["capacity"][k] = capacity
        out["occupied"][k] = occupied
        out["vacancies"][k] = capacity - occupied
        out["referred"][k] = _count(referred, d, n)
        out["placed"][k] = _count(placed, d, n)
        out["waiting"][k] = _count(waiting, d, n)
        terms = p.snapshot_terms[k] - p.referral_terms - 1
        out["waiting_over_3_terms"][k] = _count(waiting & (terms >= p.long_wait_terms), d, n)
        weeks = waiting & (np.floor(now) - day > 7 * p.long_wait_weeks)
        out["waiting_over_52_weeks"][k] = _count(weeks, d, n)
        out["left_while_waiting"][k] = _count(referred & gone, d, n)
        out["aged_out_while_waiting"][k] = _count(referred & gone & aged_out, d, n)
        out["placed_out_of_area"][k] = _count(moved, d, n)
        out["out_of_area"][k] = _count(moved & (ooa_until > now), d, n)
        years = np.clip(np.minimum(ooa_until, now) - np.maximum(ooa_from, start), 0, None)
        out["out_of_area_cost"][k] = (
            p.out_of_area_cost / 365.25 * np.bincount(d[moved], weights=years[moved], minlength=n)
        )
    return out
