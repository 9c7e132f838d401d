"""The default engine: SimPy schedules decision epochs; children are rows of arrays.

Placements happen only at decision epochs — build openings, term starts, panel
meetings (or, in continuous mode, each referral and each place freed) — so the
SimPy environment runs one process per kind of epoch, and each epoch matches the
waiting children of each designation to its free places in one vectorised step.

Rules (shared with :mod:`placeplan.placement.reference`)
-----------------------------------------------------------
- A place is held from the moment it is offered until its pupil leaves it.
- Children are offered places first come, first served within a designation,
  among those a panel has agreed, and only if they will still be on the list when
  the place is taken up. An epoch offers places in rounds
  (:func:`~placeplan.placement.rules.offer_steps`): each designation's places to
  its own children first, then, round by round, to the children still waiting
  whose route of designations names it next.
- At a term start a child takes the place up at once; at a panel, at the next term
  start or at once (``panels.start_places``); in continuous mode, at once
  (:func:`~placeplan.placement.rules.take_up`).
- Each child takes the first pool in its order with a free place for its age
  (:func:`~placeplan.placement.rules.first_free_pool`) and leaves it at
  :func:`~placeplan.placement.rules.leaves_place`.

Bookkeeping is incremental: per step (round × designation) and priority class, a
pointer into its children in order of referral (everyone before it has been offered
a place or has left the list for good); per pool of places (a school's places of one
designation), a count of the places held and a heap of the instants at which they
free up — so an epoch at which no place has freed costs a comparison per pool, and
filling a place costs a few list operations.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache

import numpy as np
import simpy

from placeplan.placement import rules
from placeplan.placement.kernel import match_epoch, match_epochs
from placeplan.placement.problem import PlacementProblem, Placements

__all__ = ["simulate_epochs"]


class _EpochQueue:
    def __init__(self, env: simpy.Environment, p: PlacementProblem):
        self.env = env
        self.p = p
        n, nd, npools = len(p.children), p.n_designations, len(p.pools)
        self.offered = np.full(n, np.inf)
        self.started = np.full(n, np.inf)
        self.pool = np.full(n, rules.NO_POOL, dtype=np.int64)
        self.capacity = np.asarray(p.capacity, dtype=np.int64).copy()
        self.decided = np.asarray(p.decided, dtype=float)
        self.leaves = np.asarray(p.leaves_list, dtype=float)
        self.age_out = np.asarray(p.exits.age_out, dtype=float)
        self.stay = np.asarray(p.exits.stay, dtype=float)
        self.age_base = np.asarray(p.age_base, dtype=np.int64)
        self.locality = np.asarray(p.localities, dtype=np.int64)
        classes = p.classes
        # the waiting lists: by step of an epoch (round, designation: rules.offer_steps),
        # the children offered places at it, each split by priority class, in order,
        # with a pointer into each (all before it are placed or gone); the steps of
        # later rounds no child takes part in are left out
        route = p.route if p.route is not None else np.zeros(n, dtype=np.int64)
        routes = p.routes if p.route is not None else ((),)
        own = p.children.designation
        step_designation, step_first, step_last, starts, ends, rows = [], [], [], [], [], []
        at = 0
        kinds = np.zeros(1, dtype=np.int64) if p.priority_class is None else np.unique(classes)
        for step in rules.offer_steps(p.n_rounds, nd):
            # without routes, round 0 alone: each child's own designation
            taking = own == step[1] if p.route is None else _offered(routes, step)[route]
            if step[0] > 0 and not taking.any():
                continue
            step_designation.append(step[1])
            step_first.append(len(starts))
            for k in kinds:
                members = np.flatnonzero(taking if len(kinds) == 1 else taking & (classes == k))
                starts.append(at)
                at += len(members)
                ends.append(at)
                rows.append(members)
            step_last.append(len(starts))
        self.step_designation = np.array(step_designation, dtype=np.int64)
        self.step_first = np.array(step_first, dtype=np.int64)
        self.step_last = np.array(step_last, dtype=np.int64)
        self.list_start = np.array(starts, dtype=np.int64)
        self.list_end = np.array(ends, dtype=np.int64)
        self.rows = np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, np.int64)
        self.pointers = self.list_start.copy()
        self.totals = np.zeros(nd, dtype=np.int64)  # free places of each designation
        pools = p.pools
        self.pool_designation = np.asarray(pools.designation, dtype=np.int64)
        self.youngest = np.asarray(pools.youngest, dtype=np.int64)
        self.oldest = np.asarray(pools.oldest, dtype=np.int64)
        # when each child would leave school at each pool's oldest age [days]
        distinct = sorted({int(o) for o in pools.oldest})
        self.school_out = np.array(
            [rules.school_outs(p.age_base, o) for o in distinct], dtype=float
        ).reshape(len(distinct), n)
        self.school_out_row = np.array(
            [distinct.index(int(o)) for o in pools.oldest], dtype=np.int64
        )
        n_localities = len(pools.preference)
        self.pref_start = np.zeros((n_localities, nd), dtype=np.int64)
        self.pref_len = np.zeros((n_localities, nd), dtype=np.int64)
        flat: list[int] = []
        for loc, by_designation in enumerate(pools.preference):
            for d, order in enumerate(by_designation):
                self.pref_start[loc, d] = len(flat)
                self.pref_len[loc, d] = len(order)
                flat.extend(order)
        self.pref_flat = np.array(flat, dtype=np.int64)
        occ = p.occupants
        order = np.lexsort((occ.pool, occ.exit))  # by instant (ties: by pool)
        self.occ_time = np.asarray(occ.exit, dtype=float)[order]
        self.occ_pool = np.asarray(occ.pool, dtype=np.int64)[order]
        self.occ_next = np.zeros(1, dtype=np.int64)
        self.held = np.bincount(self.occ_pool, minlength=npools).astype(np.int64)
        self.free = np.zeros(npools, dtype=np.int64)
        self.heap_time = np.empty(n, dtype=float)  # places taken up during the run
        self.heap_pool = np.empty(n, dtype=np.int64)
        self.heap_size = np.zeros(1, dtype=np.int64)
        self.frees = np.empty(n, dtype=float)
        self._requested = -math.inf

    def request_match(self) -> None:
        """Continuous mode: match once at this instant, after everything else due now.

        A zero-delay event goes to the back of the events already scheduled for this
        instant, so every arrival, departure and opening at the same instant counts,
        whatever order they come in.
        """
        now = self.env.now
        if self._requested == now:
            return  # a match is already due at this instant, after this event
        self._requested = now
        event = self.env.timeout(0)
        event.callbacks.append(lambda _: self._deferred_match(now))

    def _deferred_match(self, now: float) -> None:
        self._requested = -math.inf  # later events at this instant may ask again
        self.match(rules.take_up(now, (), "immediate"))

    def _state(self) -> tuple:
        """The arrays the compiled matching reads and changes, in its argument order."""
        return (
            self.decided,
            self.leaves,
            self.offered,
            self.started,
            self.pool,
            self.age_base,
            self.locality,
            self.stay,
            self.age_out,
            self.school_out,
            self.school_out_row,
            self.capacity,
            self.held,
            self.free,
            self.youngest,
            self.oldest,
            self.pool_designation,
            self.pref_flat,
            self.pref_start,
            self.pref_len,
            self.occ_time,
            self.occ_pool,
            self.occ_next,
            self.heap_time,
            self.heap_pool,
            self.heap_size,
            self.step_designation,
            self.step_first,
            self.step_last,
            self.list_start,
            self.list_end,
            self.rows,
            self.pointers,
            self.totals,
            self.frees,
        )

    def match(self, take_up: float) -> None:
        """Offer the free places of every designation, first come first served.

        Step by step (:func:`~placeplan.placement.rules.offer_steps`): in round 0
        each designation's places go to its own children; in round ``r`` to the
        children still waiting whose route names it ``r``-th. Compiled:
        :func:`placeplan.placement.kernel.match_epoch`.
        """
        now = self.env.now
        year = rules.academic_year_of(take_up)
        frees = match_epoch(float(now), float(take_up), year, *self._state())
        if self.p.continuous:
            for when in self.frees[:frees].tolist():
                self.env.process(self._freed(when))

    # ------------------------------------------------------------ processes
    def opening(self, when: float, items: tuple[tuple[int, int], ...]) -> Iterator[simpy.Event]:
        """The changes of places at one instant, all before any decision then.

        One process per instant, started before every other, so its timeout fires
        first among the events of its instant
        (:attr:`~placeplan.placement.problem.PlacementProblem.openings_by_instant`).
        """
        yield self.env.timeout(when - self.env.now)
        for q, places in items:
            self.capacity[q] += places
        if self.p.continuous:
            self.request_match()

    def decisions(self, end: float) -> Iterator[simpy.Event]:
        """Term starts (take-up at once) and panel meetings before ``end``, in order of time.

        Between two changes of places nothing but decisions happens, so the epochs up
        to the next opening are matched in one compiled call
        (:func:`placeplan.placement.kernel.match_epochs`), in order, each at its own
        instant. The process waits for the first of them; an opening at an epoch's
        instant has fired by then (its process was started first).
        """
        # run(until=end) stops before anything at end
        times, take_ups = self.p.schedule.epochs(self.p.start_places, end)
        years = rules.academic_years(take_ups)
        openings = np.array(sorted(when for when, _ in self.p.openings_by_instant), dtype=float)
        state = self._state()
        first = 0
        while first < len(times):
            yield self.env.timeout(times[first] - self.env.now)
            k = np.searchsorted(openings, times[first], side="right")
            upto = openings[k] if k < len(openings) else math.inf
            last = max(int(np.searchsorted(times, upto, side="left")), first + 1)
            match_epochs(times, take_ups, years, first, last, *state)
            first = last

    def arrivals(self) -> Iterator[simpy.Event]:
        for when in self.p.children.time:
            if when > self.env.now:
                yield self.env.timeout(when - self.env.now)
            self.request_match()

    def occupant_departures(self) -> Iterator[simpy.Event]:
        for when in np.sort(self.p.occupants.exit):
            if not np.isfinite(when):
                break
            yield self.env.timeout(when - self.env.now)
            self.request_match()

    def _freed(self, when: float) -> Iterator[simpy.Event]:
        yield self.env.timeout(when - self.env.now)
        self.request_match()


@lru_cache(maxsize=256)
def _offered(routes: tuple[tuple[int, ...], ...], step: tuple[int, int]) -> np.ndarray:
    """Which routes are offered places at ``step`` (read-only; the same each replication)."""
    out = np.array([rules.offered_in(r, step) for r in routes], dtype=bool)
    out.flags.writeable = False
    return out


def simulate_epochs(problem: PlacementProblem, start: float, end: float) -> Placements:
    """Run one replication with the epoch engine.

    Parameters
    ----------
    problem : PlacementProblem
        The replication.
    start, end : float
        Day ordinals of the forecast's first day and the first day after it.

    Returns
    -------
    Placements
    """
    env = simpy.Environment(initial_time=start)
    q = _EpochQueue(env, problem)
    for when, items in problem.openings_by_instant:
        env.process(q.opening(when, items))
    if problem.continuous:
        env.process(q.arrivals())
        env.process(q.occupant_departures())
    else:
        env.process(q.decisions(end))
    env.run(until=end)
    return Placements(q.offered, q.started, q.pool)
