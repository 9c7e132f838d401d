"""The placement model: a SimPy discrete-event model of the referral queue.

Placements are decided only at *decision epochs* — term starts and panel meetings —
so the SimPy environment schedules the epochs (build openings, term starts, panels,
snapshots) as processes, while the children live as rows of numpy arrays. At each
epoch every waiting child agreed by a panel is matched, first come first served
within a designation, to the free places of that designation.

Rules
-----
- A place is taken from the moment it is offered until its pupil leaves.
- A child offered a place at a term start takes it up at once; at a panel, at the
  next term start or at once (``panels.start_places``).
- A child is offered a place only if they will still be there to take it up.
- A child who leaves before taking a place up has *left while waiting*.
- Pupils leave at the instant drawn for them (:func:`~placeplan.placement.population.draw_exits`);
  the place is free from then on, and can be offered at the next epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import simpy

from placeplan.demand.referrals import Referrals
from placeplan.placement.population import Occupants
from placeplan.placement.schedule import Schedule

__all__ = ["MEASURES", "PlacementOutcome", "PlacementProblem", "simulate"]

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
        Build openings: instant (day ordinal), designation index, places.
    occupants : Occupants
        Pupils in places at the start.
    children : Referrals
        Every child referred (the list at the start first), in order of referral.
    exits : numpy.ndarray
        When each child leaves, placed or not (day ordinal; ``inf`` never) [days].
    referral_terms : numpy.ndarray
        Global term index of each child's referral.
    schedule : Schedule
        Term starts, panels and snapshots.
    snapshot_terms : numpy.ndarray
        Global term index of each snapshot.
    start_places : {"next_term", "immediate"}
        When a child offered a place at a panel takes it up.
    long_wait_terms : int
        Threshold of ``waiting_over_3_terms`` [terms].
    long_wait_weeks : float
        Threshold of ``waiting_over_52_weeks`` [weeks].

    """

    n_designations: int
    capacity: np.ndarray
    openings: tuple[tuple[float, int, int], ...]
    occupants: Occupants
    children: Referrals
    exits: np.ndarray
    referral_terms: np.ndarray
    schedule: Schedule
    snapshot_terms: np.ndarray
    start_places: Literal["next_term", "immediate"]
    long_wait_terms: int
    long_wait_weeks: float


@dataclass(frozen=True)
class PlacementOutcome:
    """What happened to every child, and the measures at each snapshot.

    Attributes
    ----------
    offered, started : numpy.ndarray
        Instant each child was offered a place and took it up (``inf`` never) [days].
    measures : dict of str to numpy.ndarray
        ``[snapshot, designation]`` arrays for each of :data:`MEASURES`.

    """

    offered: np.ndarray
    started: np.ndarray
    measures: dict[str, np.ndarray]


class _Queue:
    """State of one replication: arrays of children and places, advanced at epochs."""

    def __init__(self, env: simpy.Environment, problem: PlacementProblem):
        self.env = env
        self.p = problem
        n = len(problem.children)
        self.offered = np.full(n, np.inf)
        self.started = np.full(n, np.inf)
        self.capacity = problem.capacity.astype(np.int64).copy()
        self.decided = problem.schedule.decision_times(problem.children.time)
        snaps = len(problem.schedule.snapshots)
        self.measures = {
            m: np.zeros((snaps, problem.n_designations), dtype=np.int64) for m in MEASURES
        }
        self.snapshot = 0

    def _count(self, mask: np.ndarray, designation: np.ndarray) -> np.ndarray:
        return np.bincount(designation[mask], minlength=self.p.n_designations)

    def occupied(self, now: float) -> np.ndarray:
        """Places taken at ``now``, by designation [places]."""
        occ = self.p.occupants
        held = (self.offered <= now) & (self.p.exits > now)
        return self._count(occ.exit > now, occ.designation) + self._count(
            held, self.p.children.designation
        )

    # ----------------------------------------------------------- processes
    def openings(self):
        """Build openings add places."""
        for when, designation, places in self.p.openings:
            yield self.env.timeout(when - self.env.now)
            self.capacity[designation] += places

    def term_starts(self):
        """At each term start, agreed children are matched and start at once."""
        for when in self.p.schedule.term_starts:
            yield self.env.timeout(when - self.env.now)
            self.match(take_up=when)

    def panels(self):
        """At each panel meeting, agreed children are matched."""
        immediate = self.p.start_places == "immediate"
        for when in self.p.schedule.panels:
            yield self.env.timeout(when - self.env.now)
            self.match(take_up=when if immediate else self.p.schedule.take_up(when))

    def snapshots(self):
        """At each snapshot, record the measures."""
        for when in self.p.schedule.snapshots:
            yield self.env.timeout(when - self.env.now)
            self.record(when)

    # -------------------------------------------------------------- events
    def match(self, take_up: float) -> None:
        """Offer free places, first come first served within each designation."""
        now = self.env.now
        free = self.capacity - self.occupied(now)
        if not (free > 0).any():
            return
        eligible = np.isinf(self.offered) & (self.decided <= now) & (self.p.exits > take_up)
        designation = self.p.children.designation
        for d in np.flatnonzero(free > 0):
            chosen = np.flatnonzero(eligible & (designation == d))[: free[d]]
            self.offered[chosen] = now
            self.started[chosen] = take_up

    def record(self, now: float) -> None:
        """Record the measures at a snapshot instant."""
        p, k = self.p, self.snapshot
        c = p.children
        referred = c.time <= now
        placed = self.started <= now
        gone = p.exits <= now
        waiting = referred & ~placed & ~gone
        terms_waited = p.snapshot_terms[k] - p.referral_terms - 1
        days_waited = np.floor(now) - np.floor(c.time)
        m = self.measures
        occupied = self.occupied(now)
        m["capacity"][k] = self.capacity
        m["occupied"][k] = occupied
        m["vacancies"][k] = self.capacity - occupied
        m["referred"][k] = self._count(referred, c.designation)
        m["placed"][k] = self._count(placed, c.designation)
        m["waiting"][k] = self._count(waiting, c.designation)
        m["waiting_over_3_terms"][k] = self._count(
            waiting & (terms_waited >= p.long_wait_terms), c.designation
        )
        m["waiting_over_52_weeks"][k] = self._count(
            waiting & (days_waited > 7 * p.long_wait_weeks), c.designation
        )
        m["left_while_waiting"][k] = self._count(referred & gone & ~placed, c.designation)
        self.snapshot += 1


def simulate(problem: PlacementProblem, start: float, end: float) -> PlacementOutcome:
    """Run one replication of the placement model.

    Parameters
    ----------
    problem : PlacementProblem
        The replication's children, places and schedule.
    start, end : float
        Day ordinals of the forecast's first day and the first day after it.

    Returns
    -------
    PlacementOutcome

    """
    env = simpy.Environment(initial_time=start)
    queue = _Queue(env, problem)
    for process in (queue.openings, queue.term_starts, queue.panels, queue.snapshots):
        env.process(process())
    env.run(until=end)
    return PlacementOutcome(queue.offered, queue.started, queue.measures)
