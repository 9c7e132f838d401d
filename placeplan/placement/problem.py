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
from placeplan.placement.population import Exits, Occupants, academic_year_of, september_first
from placeplan.placement.schedule import Schedule

__all__ = [
    "LOCALITY_MEASURES",
    "MEASURES",
    "PlacementProblem",
    "Placements",
    "Pools",
    "academic_year_of",
    "measure",
    "time_in_system",
]

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
    "placed_in_own_locality",
)

LOCALITY_MEASURES: tuple[str, ...] = (
    "capacity",
    "occupied",
    "vacancies",
    "waiting",
    "waiting_over_3_terms",
    "waiting_over_52_weeks",
    "placed",
    "placed_in_own_locality",
    "placed_out_of_area",
    "out_of_area",
)
"""Measures also recorded by locality (of the school for places, of the child otherwise)."""
"""Measures recorded at each snapshot, by designation."""


@dataclass(frozen=True)
class Pools:
    """Places grouped by school (or build project) and designation: the unit of capacity.

    Attributes
    ----------
    designation, locality : numpy.ndarray
        Designation and locality index of each pool.
    youngest, oldest : numpy.ndarray
        SEN2 ages the pool takes [years].
    preference : list of list of list of int
        ``preference[locality][designation]``: the pools offered to a child of that
        locality and designation, in order — own locality, then its neighbours in
        order, then the rest of the county; within each, in the order given.
    """

    designation: np.ndarray
    locality: np.ndarray
    youngest: np.ndarray
    oldest: np.ndarray
    preference: list[list[list[int]]]

    def __len__(self) -> int:
        return len(self.designation)

    @classmethod
    def simple(cls, n_designations: int) -> Pools:
        """One pool a designation, in one locality, for every age."""
        d = np.arange(n_designations)
        zeros = np.zeros(n_designations, dtype=np.int64)
        return cls(d, zeros, zeros, zeros + 25, [[[int(k)] for k in d]])


@dataclass(frozen=True)
class PlacementProblem:
    """Everything one replication of the placement model needs.

    Attributes
    ----------
    n_designations : int
        Number of designations.
    pools : Pools
        Places by school and designation, their localities and age ranges.
    capacity : numpy.ndarray
        Places by pool at the start [places].
    openings : tuple of (float, int, int)
        Changes of places, sorted: instant (day ordinal), pool index, places (negative
        for temporary places closing to new pupils).
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
    child_locality : numpy.ndarray, optional
        Locality index of each child (all 0 if omitted).
    n_localities : int
        Number of localities.
    priority_class : numpy.ndarray, optional
        Priority of each child, 0 first (e.g. out of school); all 0 if omitted.
        Within a class, children are offered places in order of referral.
    """

    n_designations: int
    pools: Pools
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
    child_locality: np.ndarray | None = None
    n_localities: int = 1
    priority_class: np.ndarray | None = None

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

    @property
    def classes(self) -> np.ndarray:
        """Priority class of each child (0 first)."""
        if self.priority_class is None:
            return np.zeros(len(self.children), dtype=np.int64)
        return self.priority_class

    @property
    def localities(self) -> np.ndarray:
        """Locality index of each child."""
        if self.child_locality is None:
            return np.zeros(len(self.children), dtype=np.int64)
        return self.child_locality

    def capacity_at(self, now: float) -> np.ndarray:
        """Places by pool at ``now`` [places]."""
        cap = self.capacity.astype(np.int64).copy()
        for when, pool, places in self.openings:
            if when <= now:
                cap[pool] += places
        return cap

    def leaves_place(self, i: int, take_up: float, q: int) -> float:
        """When child ``i``, taking a place of pool ``q`` up at ``take_up``, leaves it [days].

        The first of: leaving by age, leaving mid-year, and the end of the academic
        year in which the child reaches the oldest age the school takes.
        """
        e = self.exits
        when = min(float(e.age_out[i]), take_up + float(e.stay[i]))
        oldest = int(self.pools.oldest[q])
        if oldest < 25:
            year = academic_year_of(take_up) + oldest - self.age_at(i, take_up) + 1
            when = min(when, september_first(year))
        return when

    def leaves_places(self, placements: Placements) -> np.ndarray:
        """When each child leaves their place (``inf`` if never placed or never leaves) [days]."""
        started = placements.started
        out = self.exits.placed_until(started)
        if placements.pool is None:
            return out
        for i in np.flatnonzero(np.isfinite(started)):
            q = int(placements.pool[i])
            if self.pools.oldest[q] < 25:
                out[i] = self.leaves_place(int(i), float(started[i]), q)
        return out

    def age_at(self, i: int, instant: float) -> int:
        """SEN2 age of child ``i`` in the academic year of ``instant`` [years]."""
        c = self.children
        return int(c.age[i]) + academic_year_of(instant) - academic_year_of(float(c.time[i]))

    def pool_for(self, i: int, instant: float, free: list[int]) -> int:
        """The first pool offered to child ``i`` taking a place up at ``instant``, or -1.

        ``free`` holds the free places of each pool; a pool qualifies if it has one
        and takes the child's age then.
        """
        pools = self.pools
        order = pools.preference[int(self.localities[i])][int(self.children.designation[i])]
        age = None
        for q in order:
            if free[q] > 0:
                if age is None:
                    age = self.age_at(i, instant)
                if pools.youngest[q] <= age <= pools.oldest[q]:
                    return q
        return -1


@dataclass(frozen=True)
class Placements:
    """Who was offered a place when, and took it up when (``inf``: never) [days], where.

    ``area_in_system`` is the integral over the forecast of the number of referred
    children in the system (on the list or in a place) as the engine counted them
    while running [child-days], where the engine keeps such a count (the reference).
    """

    offered: np.ndarray
    started: np.ndarray
    pool: np.ndarray | None = None
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
        np.isfinite(placements.started), problem.leaves_places(placements), problem.leaves_list
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
    leaves_placed = p.leaves_places(placements)
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
    n_loc = p.n_localities
    for m in LOCALITY_MEASURES:
        out[f"{m}_by_locality"] = np.zeros((len(snaps), n_loc), dtype=np.int64)
    pools = p.pools
    home = p.localities
    pool = np.full(len(c), -1) if placements.pool is None else placements.pool.astype(np.int64)
    own = (pool >= 0) & (pools.locality[np.maximum(pool, 0)] == home)
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
        by_pool = p.capacity_at(now)
        capacity = np.bincount(pools.designation, weights=by_pool, minlength=n).astype(np.int64)
        out["capacity"][k] = capacity
        out["occupied"][k] = occupied
        out["vacancies"][k] = np.maximum(capacity - occupied, 0)
        out["placed_in_own_locality"][k] = _count(placed & own, d, n)
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
        local_capacity = np.bincount(pools.locality, weights=by_pool, minlength=n_loc)
        occ_pool = occ.pool if occ.pool is not None else occ.designation
        local_occupied = np.bincount(
            pools.locality[occ_pool[occ.exit > now]], minlength=n_loc
        ) + np.bincount(pools.locality[pool[held]], minlength=n_loc)
        out["capacity_by_locality"][k] = local_capacity.astype(np.int64)
        out["occupied_by_locality"][k] = local_occupied
        out["vacancies_by_locality"][k] = np.maximum(local_capacity - local_occupied, 0)
        for name, mask in (
            ("waiting", waiting),
            ("waiting_over_3_terms", waiting & (terms >= p.long_wait_terms)),
            ("waiting_over_52_weeks", weeks),
            ("placed", placed),
            ("placed_in_own_locality", placed & own),
            ("placed_out_of_area", moved),
            ("out_of_area", moved & (ooa_until > now)),
        ):
            out[f"{name}_by_locality"][k] = np.bincount(home[mask], minlength=n_loc)
    return out
