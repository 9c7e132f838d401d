"""One scenario made runnable: the parts fixed for every replication, and one replication.

:class:`Model` prepares what does not change between replications (the calendar,
the schedule of epochs, the SEN2-derived cohort inputs); :meth:`Model.replicate`
draws one replication's demand and runs the placement model on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from placeplan.demand.inputs import AGES, CohortInputs, cohort_inputs
from placeplan.demand.referrals import (
    DemandDraw,
    Referrals,
    draw_cohort_demand,
    draw_fixed_demand,
)
from placeplan.errors import InputError
from placeplan.placement import (
    PlacementOutcome,
    PlacementProblem,
    initial_list,
    initial_occupants,
    make_schedule,
    simulate,
)
from placeplan.placement.schedule import AT_OPENING
from placeplan.scenario import CohortDemand, Scenario
from placeplan.streams import Streams

__all__ = ["Model", "Replication"]


@dataclass(frozen=True)
class Replication:
    """One replication: its demand, its children and what happened to them."""

    demand: DemandDraw
    children: Referrals
    initial: np.ndarray
    exits: np.ndarray
    outcome: PlacementOutcome


class Model:
    """A scenario prepared for running replications.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.

    """

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.calendar = scenario.calendar.build()
        self.schedule = make_schedule(
            self.calendar, scenario.placement.panels, scenario.start, scenario.end
        )
        start = scenario.start.toordinal()
        for project in scenario.placement.build_programme:
            if project.opens < scenario.start:
                raise InputError(
                    f"build project {project.name!r} opens on {project.opens}, before the "
                    f"forecast starts ({scenario.start}); count its places in "
                    "placement.designations instead"
                )
        designations = scenario.designations
        self.openings = tuple(
            sorted(
                (p.opens.toordinal() + AT_OPENING, designations.index(p.designation), p.places)
                for p in scenario.placement.build_programme
            )
        )
        self.capacity = np.array(
            [spec.places for spec in scenario.placement.designations.values()], dtype=np.int64
        )
        self.snapshot_terms = self.calendar.term_indices(self.schedule.snapshots)
        self._start = float(start)
        self._end = float(scenario.end.toordinal())

    @cached_property
    def cohort(self) -> CohortInputs | None:
        """SEN2-derived inputs of the cohort projection (None for fixed demand)."""
        demand = self.scenario.demand
        if not isinstance(demand, CohortDemand):
            return None
        area = demand.sen2_area or self.scenario.council.code
        try:
            return cohort_inputs(area, demand.base_year)
        except KeyError as exc:
            reason = exc.args[0] if exc.args else exc
            raise InputError(f"demand.sen2_area: no SEN2 figures for {area!r}: {reason}") from None
        except ValueError as exc:
            raise InputError(f"demand: cannot calibrate on SEN2 for {area!r}: {exc}") from None

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
            )
        return draw_fixed_demand(s.demand, self.calendar, s.designations, s.start, s.end)

    def replicate(self, streams: Streams) -> Replication:
        """Run one replication.

        Parameters
        ----------
        streams : Streams
            The replication's random streams.

        Returns
        -------
        Replication

        """
        from placeplan.placement.population import draw_exits

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
        )
        waiting, waiting_exits = initial_list(
            initial_rng, placement.initial_waiting, s.designations, s.start, placement.leaving
        )
        new = demand.referrals
        new_exits = draw_exits(streams.rng("exits"), new.time, new.age, placement.leaving)
        children = Referrals.concat([waiting, new])
        # concat sorts by time stably; the list at the start all precedes new referrals.
        exits = np.concatenate([waiting_exits, new_exits])
        initial = np.arange(len(children)) < len(waiting)
        problem = PlacementProblem(
            n_designations=len(s.designations),
            capacity=self.capacity,
            openings=self.openings,
            occupants=occupants,
            children=children,
            exits=exits,
            referral_terms=self.calendar.term_indices(children.time),
            schedule=self.schedule,
            snapshot_terms=self.snapshot_terms,
            start_places=placement.panels.start_places,
            long_wait_terms=s.calendar.long_wait_terms,
            long_wait_weeks=s.calendar.long_wait_weeks,
        )
        outcome = simulate(problem, self._start, self._end)
        return Replication(demand, children, initial, exits, outcome)
