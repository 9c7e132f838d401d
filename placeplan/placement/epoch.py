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

import bisect
import heapq
import math
from collections.abc import Iterator

import numpy as np
import simpy

from placeplan.placement import rules
from placeplan.placement.problem import PlacementProblem, Placements

__all__ = ["simulate_epochs"]


class _EpochQueue:
    def __init__(self, env: simpy.Environment, p: PlacementProblem):
        self.env = env
        self.p = p
        n, nd, npools = len(p.children), p.n_designations, len(p.pools)
        self.offered = [math.inf] * n
        self.started = [math.inf] * n
        self.pool = [rules.NO_POOL] * n
        self.capacity = [int(c) for c in p.capacity]
        self.decided = p.decided.tolist()
        self.leaves = p.leaves_list.tolist()
        self.age_out = p.exits.age_out.tolist()
        self.stay = p.exits.stay.tolist()
        classes = p.classes
        # the waiting lists: by step of an epoch (round, designation: rules.offer_steps),
        # the children offered places at it, each split by priority class, in order,
        # with a pointer into each (all before it are placed or gone); the steps of
        # later rounds no child takes part in are left out
        route = p.route if p.route is not None else np.zeros(n, dtype=np.int64)
        routes = p.routes if p.route is not None else ((),)
        own = p.children.designation
        self.steps: list[tuple[int, list[list[int]], list[int]]] = []
        for step in rules.offer_steps(p.n_rounds, nd):
            if p.route is None:
                at = own == step[1]  # round 0 alone: each child's own designation
            else:
                offered = np.array([rules.offered_in(r, step) for r in routes], dtype=bool)
                at = offered[route]
            if step[0] > 0 and not at.any():
                continue
            lists = [np.flatnonzero(at & (classes == k)).tolist() for k in np.unique(classes)]
            self.steps.append((step[1], lists, [0] * len(lists)))
        self.totals = [0] * nd  # free places of each designation in this epoch [places]
        pools = p.pools
        self.pools_of = [np.flatnonzero(pools.designation == d).tolist() for d in range(nd)]
        self.ages = pools.ages
        self.oldest = pools.oldest.tolist()
        self.age_base = p.age_base.tolist()
        # when each child would leave school at each pool's oldest age [days]
        outs = {o: rules.school_outs(p.age_base, o).tolist() for o in set(self.oldest)}
        self.school_out = [outs[o] for o in self.oldest]  # by pool, then child
        self.locality = p.localities.tolist()
        occ = p.occupants
        self.occupant_exits = [np.sort(occ.exit[occ.pool == q]).tolist() for q in range(npools)]
        self.occupant_next = [0] * npools
        self.placed_exits: list[list[float]] = [[] for _ in range(npools)]  # heaps
        self.held = [len(e) for e in self.occupant_exits]
        self.release_at = [self._next_release(q) for q in range(npools)]
        self.free = [0] * npools
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

    def _next_release(self, q: int) -> float:
        """The first instant at which a held place of pool ``q`` frees up."""
        occ, k = self.occupant_exits[q], self.occupant_next[q]
        first = occ[k] if k < len(occ) else math.inf
        heap = self.placed_exits[q]
        return min(first, heap[0]) if heap else first

    def _release(self, q: int, now: float) -> None:
        """Free the places of pool ``q`` whose pupils have left by ``now``."""
        occ, k = self.occupant_exits[q], self.occupant_next[q]
        while k < len(occ) and occ[k] <= now:
            k += 1
            self.held[q] -= 1
        self.occupant_next[q] = k
        heap = self.placed_exits[q]
        while heap and heap[0] <= now:
            heapq.heappop(heap)
            self.held[q] -= 1
        self.release_at[q] = self._next_release(q)

    def match(self, take_up: float) -> None:
        """Offer the free places of every designation, first come first served.

        Step by step (:func:`~placeplan.placement.rules.offer_steps`): in round 0
        each designation's places go to its own children; in round ``r`` to the
        children still waiting whose route names it ``r``-th.
        """
        now = self.env.now
        agreed = bisect.bisect_right(self.decided, now)
        leaves, offered, started, where = self.leaves, self.offered, self.started, self.pool
        age_out, stay, continuous = self.age_out, self.stay, self.p.continuous
        capacity, held, free = self.capacity, self.held, self.free
        push = heapq.heappush
        first_free_pool, leaves_place, no_pool = (
            rules.first_free_pool,
            rules.leaves_place,
            rules.NO_POOL,
        )
        ages, age_base = self.ages, self.age_base
        school_out = self.school_out
        locality = self.locality
        year = rules.academic_year_of(take_up)
        totals = self.totals
        for d, qs in enumerate(self.pools_of):
            total = 0
            for q in qs:
                if now >= self.release_at[q]:
                    self._release(q, now)
                free[q] = capacity[q] - held[q]
                if free[q] > 0:
                    total += free[q]
            totals[d] = total
        preference = self.p.pools.preference
        for d, lists, pointers in self.steps:
            total = totals[d]
            if total <= 0:
                continue
            for k, rows in enumerate(lists):
                if total <= 0:
                    break
                j = pointers[k]
                end = len(rows)
                first_waiting = -1
                while total > 0 and j < end:
                    i = rows[j]
                    if i >= agreed:
                        break
                    j += 1
                    if offered[i] < math.inf or leaves[i] <= take_up:
                        continue  # placed, or will have left the list: never offered again
                    age = age_base[i] + year
                    order = preference[locality[i]][d]
                    q = first_free_pool(order, free, ages, age)
                    if q == no_pool:
                        if first_waiting < 0:
                            first_waiting = j - 1
                        continue  # no free place this child can take: waits on
                    offered[i] = now
                    started[i] = take_up
                    where[i] = q
                    frees = leaves_place(take_up, stay[i], age_out[i], school_out[q][i])
                    push(self.placed_exits[q], frees)
                    held[q] += 1
                    free[q] -= 1
                    total -= 1
                    if frees < self.release_at[q]:
                        self.release_at[q] = frees
                    if continuous and frees < math.inf:
                        self.env.process(self._freed(frees))
                pointers[k] = first_waiting if first_waiting >= 0 else j
            totals[d] = total

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

    def decisions(self) -> Iterator[simpy.Event]:
        """Term starts (take-up at once) and panel meetings, in order of time."""
        schedule = self.p.schedule
        epochs = sorted(
            [
                *((t, rules.take_up(t, (), "immediate")) for t in schedule.term_starts.tolist()),
                *((t, self.p.take_up(t)) for t in schedule.panels.tolist()),
            ]
        )
        timeout, match = self.env.timeout, self.match
        for when, take_up in epochs:
            yield timeout(when - self.env.now)
            match(take_up)

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
        env.process(q.decisions())
    env.run(until=end)
    return Placements(np.array(q.offered), np.array(q.started), np.array(q.pool, dtype=np.int64))
