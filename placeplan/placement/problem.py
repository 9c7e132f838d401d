"""What a replication of the placement model is given, and what it gives back.

Both engines — the fast epoch engine and the per-child reference — take a
:class:`PlacementProblem` and decide only *who is offered which place when*
(:class:`Placements`). Everything else is arithmetic on those decisions, done once
here for both: when placed children leave, and the measures at each snapshot
(:func:`placeplan.placement.outputs.measure`). So two engines that place the same
children on the same dates report the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from placeplan.demand.referrals import Referrals
from placeplan.placement import rules
from placeplan.placement.population import Exits, Occupants
from placeplan.placement.schedule import Schedule

__all__ = ["NeedAccount", "PlacementProblem", "Placements", "Pools"]


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

    @cached_property
    def bounds(self) -> tuple[list[int], list[int]]:
        """Youngest and oldest age of each pool as lists (for per-child Python calls) [years]."""
        return [int(a) for a in self.youngest], [int(a) for a in self.oldest]

    @cached_property
    def ages(self) -> list[range]:
        """The ages each pool takes (:func:`~placeplan.placement.rules.age_ranges`) [years]."""
        return rules.age_ranges(self.youngest, self.oldest)

    @classmethod
    def simple(cls, n_designations: int) -> Pools:
        """One pool a designation, in one locality, for every age."""
        d = np.arange(n_designations)
        zeros = np.zeros(n_designations, dtype=np.int64)
        return cls(d, zeros, zeros, zeros + rules.OLDEST_AGE, [[[int(k)] for k in d]])

    def __post_init__(self) -> None:
        n = len(self.designation)
        for name in ("locality", "youngest", "oldest"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Pools.{name} has {len(getattr(self, name))} rows, not {n}")
        for by_designation in self.preference:
            for d, order in enumerate(by_designation):
                bad = [q for q in order if not 0 <= q < n or self.designation[q] != d]
                if bad:
                    raise ValueError(f"preference of designation {d} names pools {bad} not of it")


@dataclass(frozen=True)
class NeedAccount:
    """When each child stops needing a special school place (the one account of need).

    With cohort demand every child of the placement model is one of the projection's
    children needing a place, who stops needing one at a time drawn from the
    projection (:func:`placeplan.demand.need.need_exits`); a pupil leaving a place
    before that (at the school's oldest age) is then placed elsewhere. Children
    placed outside the council's places at the start are followed too.

    Attributes
    ----------
    child_until : numpy.ndarray
        When each referred child stops needing a place [days].
    occupant_until : numpy.ndarray
        When each pupil in a place at the start stops needing one [days].
    elsewhere_designation, elsewhere_locality : numpy.ndarray
        Designation and locality of each child placed elsewhere at the start.
    elsewhere_until : numpy.ndarray
        When each of them stops needing a place [days].
    """

    child_until: np.ndarray
    occupant_until: np.ndarray
    elsewhere_designation: np.ndarray
    elsewhere_locality: np.ndarray
    elsewhere_until: np.ndarray


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
    account : NeedAccount, optional
        When each child stops needing a place (cohort demand); without it a child
        needs a place until they leave the list or their place.
    routes : tuple of tuple of int
        The distinct routes of the children: each the designations whose places a
        child may be offered, in order, its own designation first
        (:func:`~placeplan.placement.rules.designation_route`).
    route : numpy.ndarray, optional
        Index into ``routes`` of each child; if omitted, each child's route is its
        own designation alone.
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
    account: NeedAccount | None = None
    routes: tuple[tuple[int, ...], ...] = ()
    route: np.ndarray | None = None

    def __post_init__(self) -> None:
        n, n_pools = len(self.children), len(self.pools)
        a = self.account
        if a is not None:
            if len(a.child_until) != n or len(a.occupant_until) != len(self.occupants.pool):
                raise ValueError("the need account does not cover every child and pupil")
            if np.isfinite(self.exits.patience).any() or np.isfinite(self.exits.stay).any():
                raise ValueError(
                    "with a need account children leave only when their need ends, by a "
                    "place or out of area (no patience, no mid-year stay)"
                )
            if (a.child_until < self.exits.age_out).any():
                raise ValueError("a child leaves need before leaving by age")
            if (a.occupant_until < self.occupants.exit).any():
                raise ValueError("a pupil leaves need before leaving their place")
        if len(self.exits) != n:
            raise ValueError(f"{len(self.exits)} exits for {n} children")
        occ_pool = np.asarray(self.occupants.pool)
        if len(occ_pool) and (occ_pool.min() < 0 or occ_pool.max() >= n_pools):
            raise ValueError(f"an occupant's pool is not one of the {n_pools} pools")
        if len(self.capacity) != n_pools:
            raise ValueError(f"capacity has {len(self.capacity)} pools, not {n_pools}")
        for name in ("child_locality", "priority_class"):
            values = getattr(self, name)
            if values is not None and len(values) != n:
                raise ValueError(f"{name} has {len(values)} rows for {n} children")
        home = self.child_locality
        if home is not None and len(home) and (home.min() < 0 or home.max() >= self.n_localities):
            raise ValueError(f"a child's locality is not one of {self.n_localities}")
        self._check_routes()

    def _check_routes(self) -> None:
        """Raise ``ValueError`` unless every child has a route starting at its own designation."""
        n, nd, routes = len(self.children), self.n_designations, self.routes
        for k, r in enumerate(routes):
            if not r or len(set(r)) != len(r) or any(not 0 <= d < nd for d in r):
                raise ValueError(
                    f"routes[{k}] = {r}: expected distinct designations in [0, {nd}), at least one"
                )
        if self.route is None:
            return
        route = np.asarray(self.route)
        if len(route) != n:
            raise ValueError(f"route has {len(route)} rows for {n} children")
        if len(route) and (route.min() < 0 or route.max() >= len(routes)):
            raise ValueError(f"a child's route is not one of the {len(routes)} routes")
        own = np.array([r[0] for r in routes], dtype=np.int64)
        if len(route) and (own[route] != self.children.designation).any():
            raise ValueError("a child's route must start at its own designation")

    @cached_property
    def decided(self) -> np.ndarray:
        """When a panel agrees each referral (its arrival, in continuous mode) [days]."""
        if self.continuous:
            return self.children.time
        return self.schedule.decision_times(self.children.time)

    @cached_property
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

    def route_of(self, i: int) -> tuple[int, ...]:
        """The designations whose places child ``i`` may be offered, in order."""
        if self.route is None:
            return (int(self.children.designation[i]),)
        return self.routes[int(self.route[i])]

    @property
    def n_rounds(self) -> int:
        """Rounds of a decision epoch: the longest route (1 without routes)."""
        if self.route is None or not len(self.route):
            return 1
        used = np.bincount(self.route, minlength=len(self.routes)) > 0
        return int(max(len(r) for r, u in zip(self.routes, used, strict=True) if u))

    @cached_property
    def openings_by_instant(self) -> tuple[tuple[float, tuple[tuple[int, int], ...]], ...]:
        """The openings grouped by instant, in time order: ``(when, ((pool, places), ...))``.

        The rule both engines follow: every change of places at an instant counts,
        whole, before any decision at that instant (a panel, a term start, a
        continuous match), so a place closing and another opening at the same
        instant are never matched half-done.
        """
        groups: dict[float, list[tuple[int, int]]] = {}
        for when, pool, places in self.openings:
            groups.setdefault(float(when), []).append((int(pool), int(places)))
        return tuple((when, tuple(items)) for when, items in sorted(groups.items()))

    def capacity_at(self, now: float) -> np.ndarray:
        """Places by pool at ``now`` [places]."""
        cap = self.capacity.astype(np.int64).copy()
        for when, pool, places in self.openings:
            if when <= now:
                cap[pool] += places
        return cap

    @cached_property
    def age_base(self) -> np.ndarray:
        """Each child's SEN2 age less its academic year of referral [years].

        The child's age in academic year ``Y`` is ``age_base + Y``.
        """
        c = self.children
        return c.age.astype(np.int64) - rules.academic_years(c.time)

    def age_at(self, i: int, instant: float) -> int:
        """SEN2 age of child ``i`` in the academic year of ``instant`` [years]."""
        return int(self.age_base[i]) + rules.academic_year_of(instant)

    def take_up(self, offered: float) -> float:
        """When a place offered at a panel at ``offered`` is taken up [days]."""
        return self.schedule.take_up(offered, self.start_places)

    def leaves_place(self, i: int, take_up: float, q: int) -> float:
        """When child ``i``, taking a place of pool ``q`` up at ``take_up``, leaves it [days].

        :func:`placeplan.placement.rules.leaves_place`: the first of leaving by age,
        leaving mid-year, and the end of the academic year in which the child
        reaches the oldest age the school takes.
        """
        if not 0 <= q < len(self.pools):
            raise ValueError(f"child {i} has no pool ({q}) to leave")
        e = self.exits
        out = rules.school_out(int(self.age_base[i]), int(self.pools.oldest[q]))
        return rules.leaves_place(take_up, float(e.stay[i]), float(e.age_out[i]), out)

    def leaves_places(self, placements: Placements) -> np.ndarray:
        """When each child leaves their place (``inf`` if never placed or never leaves) [days]."""
        started = placements.started
        out = np.full(len(started), np.inf)
        placed = np.flatnonzero(np.isfinite(started))
        if len(placed):
            pool = placements.pool[placed]
            if (pool < 0).any() or (pool >= len(self.pools)).any():
                raise ValueError("a child took a place up in no pool")
            out[placed] = rules.leaves_places(
                started[placed],
                self.exits.stay[placed],
                self.exits.age_out[placed],
                rules.school_outs(self.age_base[placed], self.pools.oldest[pool]),
            )
        return out

    def pool_for(
        self, i: int, instant: float, free: list[int], designation: int | None = None
    ) -> int:
        """The pool offered to child ``i`` taking a place up at ``instant``, or ``NO_POOL``.

        :func:`placeplan.placement.rules.first_free_pool` over the child's order of
        preference among the pools of ``designation`` (the child's own if omitted);
        ``free`` holds the free places of each pool.
        """
        pools = self.pools
        d = int(self.children.designation[i]) if designation is None else designation
        order = pools.preference[int(self.localities[i])][d]
        youngest, oldest = pools.bounds
        return rules.first_free_pool(order, free, youngest, oldest, self.age_at(i, instant))


@dataclass(frozen=True)
class Placements:
    """Who was offered a place when, and took it up when (``inf``: never) [days], where.

    ``pool`` is the pool of the place offered, :data:`~placeplan.placement.rules.NO_POOL`
    for a child never offered one (checked: never an index).

    ``area_in_system`` is the integral over the forecast of the number of referred
    children in the system (on the list or in a place) as the engine counted them
    while running [child-days], where the engine keeps such a count (the reference).
    """

    offered: np.ndarray
    started: np.ndarray
    pool: np.ndarray
    area_in_system: float | None = None

    def __post_init__(self) -> None:
        offered = np.isfinite(self.offered)
        if len(self.pool) != len(self.offered) or len(self.started) != len(self.offered):
            raise ValueError("offered, started and pool must have a row for every child")
        if ((self.pool == rules.NO_POOL) != ~offered).any():
            raise ValueError(f"a child has a pool if and only if offered one ({rules.NO_POOL}: no)")
        if (np.isfinite(self.started) & ~offered).any():
            raise ValueError("a child took a place up without an offer")

    def check(self, n_pools: int) -> None:
        """Raise ``ValueError`` unless every pool is one of ``n_pools`` (or ``NO_POOL``)."""
        if (self.pool >= n_pools).any() or (self.pool < rules.NO_POOL).any():
            raise ValueError(f"pools must be in [0, {n_pools}) or {rules.NO_POOL}")
