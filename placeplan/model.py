"""One scenario made runnable: the parts fixed for every replication, and one replication.

:class:`Model` prepares what does not change between replications (the calendar,
the schedule of epochs, the SEN2-derived cohort inputs); :meth:`Model.replicate`
draws one replication's demand and runs the placement model on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from placeplan.demand.inputs import AGES, CohortInputs
from placeplan.demand.referrals import (
    DemandDraw,
    Referrals,
    draw_cohort_demand,
    draw_fixed_demand,
    draw_poisson_demand,
)
from placeplan.placement import (
    Engine,
    Exits,
    PlacementOutcome,
    PlacementProblem,
    draw_exits,
    initial_list,
    initial_occupants,
    make_schedule,
    rules,
    simulate,
)
from placeplan.placement.problem import Pools
from placeplan.placement.schedule import AT_OPENING
from placeplan.scenario import NEEDS, CohortDemand, FixedReferrals, Scenario
from placeplan.streams import ASSUMPTIONS, Streams
from placeplan.validation import cohort_inputs_for

__all__ = ["ASSUMPTION_BOUNDS", "Model", "Replication"]

ASSUMPTION_BOUNDS: dict[str, tuple[float, float]] = {
    "demand.new_plans_growth": (-1.0, 1.0),
    "demand.specialist_share_trend": (-1.0, 1.0),
    "demand.new_plans_growth_damping": (1e-6, 1.0),
    "demand.need_recoding": (0.0, 1.0),
    "demand.starting_state.list_share_of_educated_elsewhere": (0.0, 20.0),
    "demand.starting_state.list_mean_terms_waited": (0.0, 30.0),
}
"""Bounds of each assumption's draws (a normal's tails are clipped to them)."""


@dataclass(frozen=True)
class Replication:
    """One replication: its demand, its children and what happened to them."""

    demand: DemandDraw
    problem: PlacementProblem
    initial: np.ndarray
    outcome: PlacementOutcome

    @property
    def children(self) -> Referrals:
        """Every child referred, in order of referral."""
        return self.problem.children

    @property
    def exits(self) -> Exits:
        """When each child leaves by age, a place or the list."""
        return self.problem.exits


class Model:
    """A scenario prepared for running replications.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario (:func:`placeplan.validation.check` has passed it:
        nothing here checks it again).
    pins : mapping, optional
        Assumptions held at a quantile in every replication, by dotted path
        (:data:`placeplan.streams.ASSUMPTIONS`) → probability in (0, 1); the others
        are drawn as usual (``placeplan sensitivity`` pins one at a time).

    """

    def __init__(self, scenario: Scenario, pins: Mapping[str, float] | None = None):
        self.scenario = scenario
        unknown = set(pins or {}) - set(ASSUMPTIONS)
        if unknown:
            raise ValueError(f"no such assumption: {', '.join(sorted(unknown))}")
        self.pins = dict(pins or {})
        self.calendar = scenario.calendar.build()
        self.schedule = make_schedule(
            self.calendar,
            scenario.placement.panels,
            scenario.start,
            scenario.end,
            scenario.calendar.snapshots,
        )
        start = scenario.start.toordinal()
        self._build_pools()
        self.snapshot_terms = self.calendar.term_indices(self.schedule.snapshots)
        self._start = float(start)
        self._end = float(scenario.end.toordinal())

    def _build_pools(self) -> None:
        """Lay out the pools of places and the order children are offered them.

        Pools: each school × designation (or each designation, without schools),
        then each build project; with their localities and age ranges.
        """
        s = self.scenario
        placement = s.placement
        designations = s.designations
        localities = list(placement.localities)
        self.localities = tuple(localities)
        pool_d, pool_l, young, old, capacity = [], [], [], [], []
        names: list[str] = []
        self.closures: list[tuple[float, int, int]] = []
        if placement.schools:
            for school in placement.schools:
                for name, places in school.places.items():
                    pool_d.append(designations.index(name))
                    pool_l.append(localities.index(school.locality))
                    young.append(school.ages[0])
                    old.append(school.ages[1])
                    capacity.append(places)
                    names.append(f"{school.name} ({name})")
                    if school.temporary_until is not None and places:
                        when = float(school.temporary_until.toordinal()) + AT_OPENING
                        self.closures.append((when, len(capacity) - 1, -places))
        else:
            for d, spec in enumerate(placement.designations.values()):
                pool_d.append(d)
                pool_l.append(0)
                young.append(0)
                old.append(25)
                capacity.append(spec.places)
                names.append(f"{designations[d]} places at the start")
        self._projects = []
        for p in placement.build_programme:
            pool_d.append(designations.index(p.designation))
            pool_l.append(localities.index(p.locality) if p.locality else 0)
            young.append(p.ages[0])
            old.append(p.ages[1])
            capacity.append(0)
            names.append(p.name)
            self._projects.append(
                (
                    self.calendar.term_index(p.opens),
                    p.opens.toordinal() + AT_OPENING,
                    len(capacity) - 1,
                    p.places,
                    np.array(sorted(p.slippage), dtype=np.int64),
                    np.array([p.slippage[k] for k in sorted(p.slippage)]),
                )
            )
        pool_d_arr, pool_l_arr = np.array(pool_d, dtype=np.int64), np.array(pool_l, dtype=np.int64)
        neighbours = [
            [localities.index(n) for n in placement.localities[name].neighbours]
            for name in localities
        ]
        preference = rules.preference(pool_d, pool_l, neighbours, len(designations))
        self.pools = Pools(pool_d_arr, pool_l_arr, np.array(young), np.array(old), preference)
        self.capacity = np.array(capacity, dtype=np.int64)
        self.pool_names = tuple(names)
        shares = np.array([placement.localities[n].share for n in localities], dtype=float)
        self._locality_shares = shares / shares.sum()

    def priority_classes(self, streams: Streams, children: Referrals) -> np.ndarray | None:
        """Priority class of each child: 0 out of school, 1 in school (drawn by share).

        None (everyone equal) under first come, first served.
        """
        placement = self.scenario.placement
        if placement.priority == "first_come_first_served":
            return None
        share = np.array([placement.out_of_school.get(d, 0.0) for d in self.scenario.designations])
        u = streams.rng("out_of_school").random(len(children))
        return np.where(u < share[children.designation], 0, 1).astype(np.int64)

    def child_routes(self, children: Referrals) -> tuple[tuple[tuple[int, ...], ...], np.ndarray]:
        """The designations whose places each child may be offered, in order.

        A child of a modelled need (cohort demand) is offered the designations its
        need names (``demand.need_designation``), any other child its own
        designation; then each designation whose places also serve the child's own
        (``also_serves``), in the scenario's order
        (:func:`~placeplan.placement.rules.designation_route`).

        Returns
        -------
        routes, route
            The distinct routes (designation indices), and the index of each child's.

        Raises
        ------
        ValueError
            If a child of a modelled need is not of the designation its need names first.
        """
        s = self.scenario
        names = s.designations
        also = [[names.index(x) for x in d.also_serves] for d in s.placement.designations.values()]
        by_need: dict[int, tuple[int, ...]] = {}
        if isinstance(s.demand, CohortDemand):
            ranked = s.demand.designation_routes
            by_need = {k: tuple(map(names.index, ranked[need])) for k, need in enumerate(NEEDS)}
        nd = len(names)
        key = (np.asarray(children.need, dtype=np.int64) + 1) * nd + children.designation
        table = np.full((len(NEEDS) + 1) * nd, -1, dtype=np.int64)  # route of each kind
        routes: dict[tuple[int, ...], int] = {}
        for k in np.flatnonzero(np.bincount(key, minlength=len(table))).tolist():
            need, own = k // nd - 1, k % nd
            listed = by_need.get(need, (own,))
            if listed[0] != own:
                raise ValueError(
                    f"a child of need {NEEDS[need]} is of designation {names[own]}, not "
                    f"{names[listed[0]]} as demand.need_designation says"
                )
            table[k] = routes.setdefault(rules.designation_route(listed, also), len(routes))
        route = table[key]
        return tuple(routes), route

    def localities_of(self, streams: Streams, n: int) -> np.ndarray:
        """Locality of each of ``n`` children, drawn from the localities' shares."""
        if len(self._locality_shares) == 1:
            return np.zeros(n, dtype=np.int64)
        rng = streams.rng("localities")
        return rng.choice(len(self._locality_shares), size=n, p=self._locality_shares)

    @cached_property
    def cohort(self) -> CohortInputs | None:
        """SEN2-derived inputs of the cohort projection (None for fixed demand)."""
        demand = self.scenario.demand
        if not isinstance(demand, CohortDemand):
            return None
        return cohort_inputs_for(demand.sen2_area or self.scenario.council.code, demand.base_year)

    @cached_property
    def occupant_age_weights(self) -> np.ndarray:
        """Relative number of pupils at each age among those in places at the start."""
        lo, hi = self.scenario.placement.occupant_ages
        inside = (lo <= AGES) & (hi >= AGES)
        if self.cohort is None:
            return inside.astype(float)
        special = (self.cohort.stock * self.cohort.special_share).sum(axis=1)
        weights = np.where(inside, special, 0.0)
        return weights if weights.sum() > 0 else inside.astype(float)

    def openings(self, streams: Streams) -> tuple[tuple[float, int, int], ...]:
        """Build openings of one replication, slippage drawn (sorted by instant).

        One uniform per project, in the order of the build programme, from the
        ``slippage`` stream; a project late by ``k`` terms opens on the first day of
        the ``k``-th term after the one it was planned for.
        """
        u = streams.rng("slippage").random(len(self._projects))
        out = []
        for (term, planned, d, places, lates, probs), x in zip(self._projects, u, strict=True):
            late = int(
                lates[min(np.searchsorted(np.cumsum(probs), x, side="right"), len(lates) - 1)]
            )
            when = (
                planned
                if late == 0
                else (self.calendar.start_of_index(term + late).toordinal() + AT_OPENING)
            )
            out.append((float(when), d, places))
        return tuple(sorted(out + self.closures))

    def assumption_values(self, streams: Streams) -> dict[str, float]:
        """The value of every assumption in one replication, by dotted path.

        Each is the quantile of its distribution at the replication's own uniform draw
        for it (or at its pin), clipped to the parameter's bounds.
        """
        out = {}
        for path, dist in self.scenario.assumptions().items():
            u = self.pins[path] if path in self.pins else streams.assumption(path)
            out[path] = dist.ppf(u, *ASSUMPTION_BOUNDS[path])
        return out

    def demand(self, streams: Streams) -> DemandDraw:
        """Draw one replication's demand."""
        s = self.scenario
        if isinstance(s.demand, CohortDemand):
            assert self.cohort is not None
            return draw_cohort_demand(
                s.demand,
                self.cohort,
                s.designations,
                s.start,
                s.end,
                streams.rng("parameters"),
                streams.rng("referrals"),
                self.assumption_values(streams),
            )
        if isinstance(s.demand, FixedReferrals):
            return draw_fixed_demand(s.demand, self.calendar, s.designations, s.start, s.end)
        return draw_poisson_demand(
            s.demand, s.designations, s.start, s.end, streams.rng("referrals")
        )

    def problem(self, streams: Streams) -> tuple[DemandDraw, PlacementProblem, np.ndarray]:
        """Draw one replication's demand, children, exits and openings.

        Returns
        -------
        demand, problem, initial
            The demand draw, the placement problem, and which children were on the
            list at the start.
        """
        s = self.scenario
        placement = s.placement
        demand = self.demand(streams)
        initial_rng = streams.rng("initial")
        occupants = initial_occupants(
            initial_rng,
            self.capacity,
            placement.initial_occupancy,
            self.occupant_age_weights,
            s.start,
            placement.leaving,
            self.pools.designation,
            self.pools.youngest,
            self.pools.oldest,
        )
        waiting, waiting_exits = initial_list(
            initial_rng, placement.initial_waiting, s.designations, s.start, placement.leaving
        )
        new = demand.referrals
        new_exits = draw_exits(streams.rng("exits"), new.time, new.age, placement.leaving)
        # the list at the start was referred before the start, so it stays first
        children = Referrals.concat([waiting, new])
        referral_terms = self.calendar.term_indices(children.time)
        routes, route = self.child_routes(children)
        exits = Exits.concat([waiting_exits, new_exits]).with_out_of_area(
            self._out_of_area(children, referral_terms)
        )
        problem = PlacementProblem(
            n_designations=len(s.designations),
            pools=self.pools,
            capacity=self.capacity,
            openings=self.openings(streams),
            occupants=occupants,
            children=children,
            exits=exits,
            schedule=self.schedule,
            continuous=placement.panels.every_days == "continuous",
            start_places=placement.panels.start_places,
            referral_terms=referral_terms,
            snapshot_terms=self.snapshot_terms,
            long_wait_terms=s.calendar.long_wait_terms,
            long_wait_weeks=s.calendar.long_wait_weeks,
            start=self._start,
            out_of_area_cost=placement.out_of_area.yearly_cost_gbp,
            child_locality=self.localities_of(streams, len(children)),
            n_localities=len(self.localities),
            priority_class=self.priority_classes(streams, children),
            routes=routes,
            route=route,
        )
        initial = np.arange(len(children)) < len(waiting)
        return demand, problem, initial

    def _out_of_area(self, children: Referrals, referral_terms: np.ndarray) -> np.ndarray:
        """When each child still waiting would be placed out of area [days] (``inf``: never).

        After ``after_terms`` whole terms beyond the term of referral: on the first day
        of the next term (not before the start); at referral for ``at_once``
        designations.
        """
        policy = self.scenario.placement.out_of_area
        when = np.full(len(children), np.inf)
        if policy.after_terms is not None and len(children):
            terms = referral_terms + policy.after_terms + 1
            starts = np.array(
                [self.calendar.start_of_index(int(k)).toordinal() for k in np.unique(terms)],
                dtype=float,
            )
            when = starts[np.searchsorted(np.unique(terms), terms)] + AT_OPENING
            when = np.maximum(when, self._start)
        if policy.at_once:
            at_once = [self.scenario.designations.index(d) for d in policy.at_once]
            now = np.isin(children.designation, at_once)
            when[now] = np.maximum(children.time[now], self._start)
        return when

    def replicate(self, streams: Streams, engine: Engine = "epoch") -> Replication:
        """Run one replication.

        Parameters
        ----------
        streams : Streams
            The replication's random streams.
        engine : {"epoch", "reference"}
            The placement engine.

        Returns
        -------
        Replication
        """
        demand, problem, initial = self.problem(streams)
        outcome = simulate(problem, self._start, self._end, engine)
        return Replication(demand, problem, initial, outcome)
