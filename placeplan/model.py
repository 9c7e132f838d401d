"""One scenario made runnable: the parts fixed for every replication, and one replication.

:class:`Model` prepares what does not change between replications (the calendar,
the schedule of epochs, the SEN2-derived cohort inputs); :meth:`Model.replicate`
draws one replication's demand and runs the placement model on it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np

from placeplan.demand.inputs import AGES, CohortInputs
from placeplan.demand.need import need_exits
from placeplan.demand.referrals import (
    DemandDraw,
    Referrals,
    draw_cohort_demand,
    draw_fixed_demand,
    draw_poisson_demand,
    time_order,
)
from placeplan.demand.start import (
    CellDraw,
    StartingFigures,
    own_designations,
    starting_figures,
    waited_since,
    waiting_table,
)
from placeplan.pathway.engine import PathwayDraw
from placeplan.pathway.feed import FeedReport
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
from placeplan.placement.population import Occupants
from placeplan.placement.problem import NeedAccount, Pools
from placeplan.placement.schedule import AT_OPENING
from placeplan.scenario import NEEDS, CohortDemand, FixedReferrals, Scenario, Uncertain
from placeplan.sorted_search import searchsorted
from placeplan.streams import Streams, assumption_slot
from placeplan.validation import cohort_inputs_for

__all__ = ["ASSUMPTION_BOUNDS", "Model", "Replication", "bounds_of"]

ASSUMPTION_BOUNDS: dict[str, tuple[float, float]] = {
    "demand.new_plans_growth": (-1.0, 1.0),
    "demand.specialist_share_trend": (-1.0, 1.0),
    "demand.new_plans_growth_damping": (1e-6, 1.0),
    "demand.need_recoding": (0.0, 1.0),
    "demand.starting_state.list_share_of_educated_elsewhere": (0.0, 20.0),
    "demand.starting_state.list_mean_terms_waited": (0.0, 30.0),
    "demand.ceasing_scale": (0.0, 5.0),
    "placement.out_of_area.rate": (0.0, 10.0),
    "pathway.requests.growth": (-1.0, 1.0),
    "pathway.outcomes.withdrawn": (0.0, 1.0),
    "pathway.outcomes.assess": (0.0, 1.0),
    "pathway.outcomes.issue": (0.0, 1.0),
    "pathway.stages.decision.delay_weeks": (0.0, 260.0),
    "pathway.stages.assessment.delay_weeks": (0.0, 260.0),
    "pathway.stages.plan.delay_weeks": (0.0, 260.0),
}
"""Bounds of each assumption's draws (a normal's tails are clipped to them)."""


def bounds_of(path: str) -> tuple[float, float]:
    """Bounds of an assumption's draws.

    Those of :data:`ASSUMPTION_BOUNDS`, a pathway staff group's working days (1–366),
    or a lever's (0–5).
    """
    if path.startswith("pathway.staff."):
        return (1.0, 366.0)
    return ASSUMPTION_BOUNDS.get(path, (0.0, 5.0))


def _is_assumption(path: str) -> bool:
    try:
        assumption_slot(path)
    except KeyError:
        return False
    return True


@dataclass(frozen=True)
class Replication:
    """One replication: its demand, its children and what happened to them.

    ``pathway`` and ``feed`` hold the EHC pathway's replication and what it did to
    the referrals for places (None without a ``pathway:`` section, or without cohort
    demand for ``feed``).
    """

    demand: DemandDraw
    problem: PlacementProblem
    initial: np.ndarray
    outcome: PlacementOutcome
    pathway: PathwayDraw | None = None
    feed: FeedReport | None = None

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
        unknown = {p for p in pins or {} if not _is_assumption(p)}
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
        nd = len(self.scenario.designations)
        key = (np.asarray(children.need, dtype=np.int64) + 1) * nd + children.designation
        table = np.full((len(NEEDS) + 1) * nd, -1, dtype=np.int64)  # route of each kind
        routes: dict[tuple[int, ...], int] = {}
        for k in np.flatnonzero(np.bincount(key, minlength=len(table))).tolist():
            kind = self._kind_routes[k]
            if isinstance(kind, str):
                raise ValueError(kind)
            table[k] = routes.setdefault(kind, len(routes))
        route = table[key]
        return tuple(routes), route

    @cached_property
    def _kind_routes(self) -> list[tuple[int, ...] | str]:
        """The route of each kind of child, ``(need + 1) × designations + designation``.

        A kind whose need names another designation first holds the error to raise.
        """
        s = self.scenario
        names = s.designations
        also = [[names.index(x) for x in d.also_serves] for d in s.placement.designations.values()]
        by_need: dict[int, tuple[int, ...]] = {}
        if isinstance(s.demand, CohortDemand):
            ranked = s.demand.designation_routes
            by_need = {k: tuple(map(names.index, ranked[need])) for k, need in enumerate(NEEDS)}
        nd = len(names)
        out: list[tuple[int, ...] | str] = []
        for k in range((len(NEEDS) + 1) * nd):
            need, own = k // nd - 1, k % nd
            listed = by_need.get(need, (own,))
            if not listed or listed[0] != own:
                first = names[listed[0]] if listed else "none"
                out.append(
                    f"a child of need {NEEDS[need]} is of designation {names[own]}, not "
                    f"{first} as demand.need_designation says"
                )
            else:
                out.append(rules.designation_route(listed, also))
        return out

    def localities_of(self, streams: Streams, n: int, source: str = "localities") -> np.ndarray:
        """Locality of each of ``n`` children, drawn from the localities' shares."""
        if len(self._locality_shares) == 1:
            return np.zeros(n, dtype=np.int64)
        rng = streams.rng(source)
        return rng.choice(len(self._locality_shares), size=n, p=self._locality_shares)

    @cached_property
    def cohort(self) -> CohortInputs | None:
        """SEN2-derived inputs of the cohort projection (None for fixed demand)."""
        demand = self.scenario.demand
        if not isinstance(demand, CohortDemand):
            return None
        area = demand.sen2_area or self.scenario.council.code
        return cohort_inputs_for(area, demand.base_year, demand.sen2_dir)

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
        if not self._projects:  # nothing to slip: the stream is not drawn from
            return tuple(sorted(self.closures))
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

    @cached_property
    def _assumptions(self) -> dict[str, Uncertain]:
        """The scenario's assumptions by dotted path (:meth:`Scenario.assumptions`)."""
        return self.scenario.assumptions()

    def assumption_values(self, streams: Streams) -> Mapping[str, float]:
        """The value of every assumption in one replication, by dotted path.

        Each is the quantile of its distribution at the replication's own uniform draw
        for it (or at its pin), clipped to the parameter's bounds. Each is worked out
        when first read: every assumption has a stream of its own, so the values do not
        depend on which are read, or in what order (a replication that does not run the
        EHC pathway never draws its staff's days).
        """
        return _Values(self._assumptions, self.pins, streams)

    def demand(self, streams: Streams) -> DemandDraw:
        """Draw one replication's demand."""
        s = self.scenario
        if isinstance(s.demand, CohortDemand):
            return self._draw_cohort(streams, self.assumption_values(streams))
        if isinstance(s.demand, FixedReferrals):
            return draw_fixed_demand(s.demand, self.calendar, s.designations, s.start, s.end)
        return draw_poisson_demand(
            s.demand, s.designations, s.start, s.end, streams.rng("referrals")
        )

    # ------------------------------------------------------------ one account of need
    @cached_property
    def start_figures(self) -> StartingFigures | None:
        """The starting state's fixed figures and their derivations (None without a cohort)."""
        if self.cohort is None:
            return None
        return starting_figures(self.scenario, self.cohort, int(self._occupant_counts.sum()))

    @cached_property
    def _occupant_counts(self) -> np.ndarray:
        """Pupils in each pool's places at the start [children]."""
        occupancy = self.scenario.placement.initial_occupancy
        return np.round(self.capacity * occupancy).astype(np.int64)

    @cached_property
    def _own(self) -> np.ndarray:
        """The designation of each primary need (its first, for ranked lists)."""
        return own_designations(self.scenario.demand, self.scenario.designations)

    @cached_property
    def _occupant_weights(self) -> list[np.ndarray | None]:
        """``[age, need]`` weights of the pupils of each pool at the start (None: empty).

        As the council's special school children are, within the pool's age range and
        ``occupant_ages``, of the needs whose designation is the pool's (all needs if
        none is).
        """
        assert self.cohort is not None
        special = self.cohort.special_table
        ages = np.arange(special.shape[0])
        lo, hi = self.scenario.placement.occupant_ages
        out: list[np.ndarray | None] = []
        for q, count in enumerate(self._occupant_counts):
            if count == 0:
                out.append(None)
                continue
            young, old = max(self.pools.youngest[q], lo), min(self.pools.oldest[q], hi)
            inside = ((ages >= young) & (ages <= old)).astype(float)
            mine = (self._own == self.pools.designation[q]).astype(float)
            for w in (
                special * inside[:, None] * mine[None, :],
                special * inside[:, None],
                inside[:, None] * np.ones(special.shape[1]),
                np.ones_like(special),
            ):
                if w.sum() > 0:
                    out.append(w / w.sum())
                    break
        return out

    @cached_property
    def _start_draws(self) -> tuple[list[CellDraw | None], CellDraw, CellDraw]:
        """The start's ``[age, need]`` tables prepared once for drawing from.

        Each pool's pupils (:attr:`_occupant_weights`), then the children placed
        elsewhere and the list (:attr:`_start_tables`), as
        :class:`~placeplan.demand.start.CellDraw`.
        """
        _, elsewhere, listed = self._start_tables
        pools = [None if w is None else CellDraw.of(w) for w in self._occupant_weights]
        return pools, CellDraw.of(elsewhere), CellDraw.of(listed)

    @cached_property
    def _start_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Expected ``[age, need]`` tables at the start: pupils, placed elsewhere, list mix."""
        assert self.cohort is not None and self.start_figures is not None
        pupils = sum(
            (
                c * w
                for c, w in zip(self._occupant_counts, self._occupant_weights, strict=True)
                if w is not None
            ),
            np.zeros_like(self.cohort.stock),
        )
        special = self.cohort.special_table
        mix = (
            special / special.sum()
            if special.sum() > 0
            else np.full_like(special, 1 / special.size)
        )
        elsewhere = self.start_figures.placed_elsewhere * mix
        listed = waiting_table(self.cohort, self.scenario.demand.referral_ages)
        return pupils, elsewhere, listed

    def _list_size(self, values: Mapping[str, float]) -> int:
        """Children on the list at the start in one replication [children]."""
        figures = self.start_figures
        assert figures is not None
        if figures.list_size is not None:
            return figures.list_size
        share = values["demand.starting_state.list_share_of_educated_elsewhere"]
        return round(figures.educated_elsewhere * share)

    def _cohort_problem(
        self, streams: Streams, kept: dict | None = None
    ) -> tuple[DemandDraw, PlacementProblem, np.ndarray]:
        """One replication of a cohort scenario: the children of the queue are those in need.

        With a pathway, its replication and feed are put in ``kept`` (``draw``,
        ``feed``; ``kept["engine"]`` names the pathway engine).
        """
        s = self.scenario
        placement = s.placement
        assert self.cohort is not None
        base = self.cohort.base_year
        values = self.assumption_values(streams)
        rng = streams.rng("need")
        pupils_table, elsewhere_table, list_mix = self._start_tables
        # the list at the start: typed groups, or SEN2 educated elsewhere × a drawn share
        if placement.initial_waiting:
            waiting, _ = initial_list(
                streams.rng("initial"),
                placement.initial_waiting,
                s.designations,
                s.start,
                placement.leaving,
            )
            need = self._needs_of(rng, waiting.designation, list_mix)
            age_now = waiting.age + (
                rules.academic_year_of(self._start) - rules.academic_years(waiting.time)
            )
            waiting = Referrals(
                waiting.time, waiting.age, need.astype(np.int16), waiting.designation
            )
        else:
            n_list = self._list_size(values)
            age_now, need = self._start_draws[2].draw(rng, n_list)
            mean_terms = values["demand.starting_state.list_mean_terms_waited"]
            times = np.sort(waited_since(rng, n_list, mean_terms, s.start))
            age_ref = age_now - (rules.academic_year_of(self._start) - rules.academic_years(times))
            waiting = Referrals(times, age_ref, need, self._own[need])
        start_need = pupils_table + elsewhere_table + len(waiting) * list_mix
        demand = self._draw_cohort(streams, values, start_need)
        # the pathway, and its feed to the referrals: run when asked for (``kept``) or
        # when it moves place referrals, never for nothing
        if s.pathway is not None and (kept is not None or s.pathway.feed.shift_referrals):
            kept = {} if kept is None else kept
            kept["draw"], kept["feed"], demand = self._pathway_feed(
                streams, values, demand, kept.get("engine", "fast")
            )
        path = demand.path
        assert path is not None
        list_until = need_exits(rng, np.zeros(len(waiting)), age_now, waiting.need, path.stay, base)
        # pupils in the council's places, and children placed elsewhere, at the start
        pool_parts, age_parts, need_parts = [], [], []
        for q, (count, w) in enumerate(
            zip(self._occupant_counts, self._start_draws[0], strict=True)
        ):
            if w is None:
                continue
            a, n = w.draw(rng, int(count))
            pool_parts.append(np.full(int(count), q))
            age_parts.append(a)
            need_parts.append(n)
        pool = np.concatenate(pool_parts) if pool_parts else np.zeros(0, dtype=np.int64)
        age = np.concatenate(age_parts) if age_parts else np.zeros(0, dtype=np.int64)
        occ_need = np.concatenate(need_parts) if need_parts else np.zeros(0, dtype=np.int64)
        occ_until = need_exits(rng, np.zeros(len(pool)), age, occ_need, path.stay, base)
        since = np.full(len(pool), self._start)
        outs = rules.school_outs(age - rules.academic_years(since), self.pools.oldest[pool])
        occupants = Occupants(
            self.pools.designation[pool].astype(np.int16),
            age.astype(np.int16),
            np.minimum(occ_until, outs),
            pool,
        )
        n_elsewhere = self.start_figures.placed_elsewhere if self.start_figures else 0
        e_age, e_need = self._start_draws[1].draw(rng, n_elsewhere)
        e_until = need_exits(rng, np.zeros(n_elsewhere), e_age, e_need, path.stay, base)
        e_locality = self.localities_of(streams, n_elsewhere, "elsewhere")
        # children newly needing a place: first counted the January after referral
        new = demand.referrals
        years = _calendar_years(new.time)
        first_january = years - base + 1
        age_january = new.age + (new.time < _septembers(years))
        new_until = need_exits(rng, first_january, age_january, new.need, path.stay, base)
        children = Referrals.concat([waiting, new])
        order = time_order(np.concatenate([waiting.time, new.time]))
        until = np.concatenate([list_until, new_until])
        until = until if order is None else until[order]
        referral_terms = self.calendar.term_indices(children.time)
        never = np.full(len(children), np.inf)
        exits = Exits(until, never, never.copy()).with_out_of_area(
            self._out_of_area(children, referral_terms, streams, values)
        )
        account = NeedAccount(
            child_until=until,
            occupant_until=occ_until,
            elsewhere_designation=self._own[e_need],
            elsewhere_locality=e_locality,
            elsewhere_until=e_until,
        )
        problem = self._problem(streams, occupants, children, exits, referral_terms, account)
        initial = np.arange(len(children)) < len(waiting)
        return demand, problem, initial

    def _needs_of(
        self, rng: np.random.Generator, designation: np.ndarray, mix: np.ndarray
    ) -> np.ndarray:
        """A primary need for each child of a typed list, given their designation."""
        by_need = mix.sum(axis=0)
        out = np.zeros(len(designation), dtype=np.int64)
        for d in np.unique(designation):
            w = by_need * (self._own == d)
            if w.sum() <= 0:
                w = (self._own == d).astype(float) if (self._own == d).any() else by_need
            rows = designation == d
            out[rows] = rng.choice(len(w), size=int(rows.sum()), p=w / w.sum())
        return out

    def _draw_cohort(
        self,
        streams: Streams,
        values: Mapping[str, float],
        start_need: np.ndarray | None = None,
    ) -> DemandDraw:
        s = self.scenario
        assert isinstance(s.demand, CohortDemand) and self.cohort is not None
        return draw_cohort_demand(
            s.demand,
            self.cohort,
            s.designations,
            s.start,
            s.end,
            streams.rng("parameters"),
            streams.rng("referrals"),
            values,
            start_need,
        )

    def _problem(
        self,
        streams: Streams,
        occupants: Occupants,
        children: Referrals,
        exits: Exits,
        referral_terms: np.ndarray,
        account: NeedAccount | None = None,
    ) -> PlacementProblem:
        s = self.scenario
        placement = s.placement
        routes, route = self.child_routes(children)
        return PlacementProblem(
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
            account=account,
            routes=routes,
            route=route,
        )

    @cached_property
    def pathway_ages(self) -> np.ndarray | None:
        """Relative requests for an assessment at each SEN2 age 0–25 (None: no pathway)."""
        from placeplan.pathway.cases import age_weights

        spec = self.scenario.pathway
        if spec is None:
            return None
        return age_weights(spec, self.cohort.new_plans if self.cohort is not None else None)

    def pathway(self, streams: Streams, engine: str = "fast") -> PathwayDraw | None:
        """One replication of the EHC pathway (None without a ``pathway:`` section)."""
        from placeplan.pathway.engine import simulate

        s = self.scenario
        if s.pathway is None:
            return None
        return simulate(
            s.pathway,
            s.start,
            s.end,
            streams,
            self.assumption_values(streams),
            engine,  # type: ignore[arg-type]
            self.pathway_ages,
        )

    def _pathway_feed(
        self,
        streams: Streams,
        values: Mapping[str, float],
        demand: DemandDraw,
        engine: str = "fast",
    ) -> tuple[PathwayDraw, FeedReport | None, DemandDraw]:
        """The pathway of one replication and the cohort referrals it moves.

        See :mod:`placeplan.pathway.feed`.
        """
        import dataclasses

        from placeplan.pathway.feed import new_plan_share, shift_referrals

        s = self.scenario
        spec = s.pathway
        assert spec is not None and self.cohort is not None and demand.path is not None
        draw = self.pathway(streams, engine)
        assert draw is not None
        if not spec.feed.shift_referrals:
            return draw, None, demand
        share = new_plan_share(
            self.cohort.new_plans, self.cohort.special_share, demand.path.inflow[0]
        )
        new = demand.referrals
        u = streams.rng("pathway_feed").random(len(new))
        moved, report = shift_referrals(
            new, draw, share, u, s.start, s.end, spec.feed.baseline_weeks_to_plan
        )
        return draw, report, dataclasses.replace(demand, referrals=moved)

    def problem(
        self, streams: Streams, kept: dict | None = None
    ) -> tuple[DemandDraw, PlacementProblem, np.ndarray]:
        """Draw one replication's demand, children, exits and openings.

        Returns
        -------
        demand, problem, initial
            The demand draw, the placement problem, and which children were on the
            list at the start.
        """
        if self.cohort is not None:
            return self._cohort_problem(streams, kept)
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
        exits = Exits.concat([waiting_exits, new_exits]).with_out_of_area(
            self._out_of_area(children, referral_terms, streams)
        )
        problem = self._problem(streams, occupants, children, exits, referral_terms)
        initial = np.arange(len(children)) < len(waiting)
        return demand, problem, initial

    def _out_of_area(
        self,
        children: Referrals,
        referral_terms: np.ndarray,
        streams: Streams | None = None,
        values: Mapping[str, float] | None = None,
    ) -> np.ndarray:
        """When each child still waiting would be placed out of area [days] (``inf``: never).

        After ``after_terms`` whole terms beyond the term of referral: on the first day
        of the next term (not before the start); at referral for ``at_once``
        designations; and, at ``rate`` a year, after an exponential time from referral
        (or the start, for the list at the start), drawn from the ``independent``
        stream — whichever comes first.
        """
        policy = self.scenario.placement.out_of_area
        when = np.full(len(children), np.inf)
        if policy.after_terms is not None and len(children):
            terms = referral_terms + policy.after_terms + 1
            distinct = np.unique(terms)
            starts = np.array([self._term_start(int(k)) for k in distinct], dtype=float)
            when = starts[searchsorted(distinct, terms)] + AT_OPENING
            when = np.maximum(when, self._start)
        if policy.at_once:
            at_once = [self.scenario.designations.index(d) for d in policy.at_once]
            now = np.isin(children.designation, at_once)
            when[now] = np.maximum(children.time[now], self._start)
        if streams is not None:
            values = self.assumption_values(streams) if values is None else values
            rate = values.get("placement.out_of_area.rate", 0.0)
            if rate > 0 and len(children):
                waited = streams.rng("independent").exponential(365.25 / rate, len(children))
                when = np.minimum(when, np.maximum(children.time, self._start) + waited)
        return when

    @cached_property
    def _term_starts(self) -> dict[int, int]:
        """Day ordinals of the first days of the global terms looked up so far [days]."""
        return {}

    def _term_start(self, term: int) -> int:
        """Day ordinal of the first day of global term ``term`` (remembered) [days]."""
        if term not in self._term_starts:
            self._term_starts[term] = self.calendar.start_of_index(term).toordinal()
        return self._term_starts[term]

    def replicate(
        self, streams: Streams, engine: Engine = "epoch", only: Collection[str] | None = None
    ) -> Replication:
        """Run one replication.

        Parameters
        ----------
        streams : Streams
            The replication's random streams.
        engine : {"epoch", "reference"}
            The placement engine.
        only : collection of str, optional
            The placement measures to compute; all if omitted. When given, the EHC
            pathway is run only if it moves place referrals (``feed.shift_referrals``).

        Returns
        -------
        Replication
        """
        s = self.scenario
        feeds = s.pathway is not None and s.pathway.feed.shift_referrals
        if s.pathway is None or (only is not None and not feeds):
            # without a pathway, or when only measures of places are wanted and the
            # pathway does not move place referrals: the places alone
            demand, problem, initial = self.problem(streams)
            outcome = simulate(problem, self._start, self._end, engine, only)
            return Replication(demand, problem, initial, outcome)
        pathway_engine = "reference" if engine == "reference" else "fast"
        kept: dict = {"engine": pathway_engine}
        demand, problem, initial = self.problem(streams, kept)
        outcome = simulate(problem, self._start, self._end, engine, only)
        if "draw" not in kept:  # no cohort demand: the pathway runs beside the places
            kept["draw"], kept["feed"] = self.pathway(streams, pathway_engine), None
        return Replication(demand, problem, initial, outcome, kept["draw"], kept["feed"])


class _Values(Mapping[str, float]):
    """One replication's assumption values, each drawn when first read.

    See :meth:`Model.assumption_values`.
    """

    def __init__(
        self, dists: dict[str, Uncertain], pins: Mapping[str, float], streams: Streams
    ) -> None:
        self._dists, self._pins, self._streams = dists, pins, streams
        self._drawn: dict[str, float] = {}

    def __getitem__(self, path: str) -> float:
        if path not in self._drawn:
            dist = self._dists[path]
            if path in self._pins:
                u = self._pins[path]
            elif dist.fixed:  # one value at every quantile: no draw to make
                u = 0.5
            else:
                u = self._streams.assumption(path)
            self._drawn[path] = dist.ppf(u, *bounds_of(path))
        return self._drawn[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dists)

    def __len__(self) -> int:
        return len(self._dists)


def _calendar_years(times: np.ndarray) -> np.ndarray:
    """Calendar year of each day ordinal (fractions of a day count as their day)."""
    t = np.asarray(times, dtype=float)
    if t.size == 0:
        return np.zeros(0, dtype=np.int64)
    first = date.fromordinal(int(np.floor(t.min()))).year
    last = date.fromordinal(int(np.floor(t.max()))).year
    # the 1 Januaries after the first year's: a time's year is the first year plus
    # those it has reached (whole days: floor(t) >= 1 January exactly when t >= it)
    januaries = [date(y, 1, 1).toordinal() for y in range(first + 1, last + 1)]
    return first + searchsorted(np.array(januaries, dtype=float), t, side="right")


def _septembers(years: np.ndarray) -> np.ndarray:
    """Day ordinal of 1 September of each calendar year [days]."""
    years = np.asarray(years, dtype=np.int64)
    if years.size == 0:
        return np.zeros(0, dtype=np.int64)
    first, last = int(years.min()), int(years.max())
    table = np.array([date(y, 9, 1).toordinal() for y in range(first, last + 1)], dtype=np.int64)
    return table[years - first]
