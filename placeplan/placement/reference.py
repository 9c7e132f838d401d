"""The reference engine: one SimPy process per child, the model most people would write.

Each child is a process: referred, it sends its referral to the panel; then it
waits for an offer or until it leaves the list, whichever comes first; offered a
place, it waits to take it up, stays, and leaves, freeing the place. Each pupil in
a place at the start is a process that leaves at its time. Panels, term starts and
build openings are processes too. It follows the same rules as the epoch engine
(:mod:`placeplan.placement.epoch`) with none of its bookkeeping, and must place the
same children in the same places on the same dates — which the tests check.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import numpy as np
import simpy

from placeplan.placement import rules
from placeplan.placement.problem import PlacementProblem, Placements

__all__ = ["simulate_reference"]


class _Model:
    def __init__(self, env: simpy.Environment, p: PlacementProblem):
        self.env = env
        self.p = p
        n = len(p.children)
        self.offered = np.full(n, np.inf)
        self.started = np.full(n, np.inf)
        self.capacity = [int(c) for c in p.capacity]  # by pool (school × designation)
        self.occupied = [0] * len(p.pools)
        self.pool = np.full(n, rules.NO_POOL)
        self.inbox: deque[int] = deque()  # referrals the panel has not yet seen
        self.queue: list[int] = []  # referrals the panel has agreed, still waiting
        self.on_list = np.zeros(n, dtype=bool)
        self.offers: dict[int, simpy.Event] = {}
        self.leaves_list = p.leaves_list
        self.in_system = 0  # referred children on the list or in a place
        self.area = 0.0  # its integral over time [child-days]
        self.since = env.now
        self.requested = -np.inf

    def count(self, change: int) -> None:
        """Add to the number of referred children in the system, integrating it."""
        self.area += self.in_system * (self.env.now - self.since)
        self.since = self.env.now
        self.in_system += change

    # ------------------------------------------------------------- children
    def child(self, i: int) -> Iterator[simpy.Event]:
        env, p = self.env, self.p
        referred = p.children.time[i]
        if referred > env.now:
            yield env.timeout(referred - env.now)
        self.on_list[i] = True
        self.count(+1)
        offer = self.offers[i] = env.event()
        if p.continuous:
            self.queue.append(i)
            self.request_allocation()
        else:
            self.inbox.append(i)
        leave = env.timeout(max(self.leaves_list[i] - env.now, 0.0))
        yield offer | leave
        if not offer.triggered:
            self.on_list[i] = False  # left the list before a place
            self.count(-1)
            return
        take_up = offer.value
        if take_up > env.now:
            yield env.timeout(take_up - env.now)
        stay = p.leaves_place(i, take_up, int(self.pool[i])) - env.now
        if np.isfinite(stay):
            yield env.timeout(stay)
            self.count(-1)
            self.free(int(self.pool[i]))

    def pupil(self, q: int, leaves: float) -> Iterator[simpy.Event]:
        yield self.env.timeout(leaves - self.env.now)
        self.free(q)

    def free(self, q: int) -> None:
        self.occupied[q] -= 1
        if self.p.continuous:
            self.request_allocation()

    # ---------------------------------------------------------------- panels
    def request_allocation(self) -> None:
        """Continuous mode: allocate once at this instant, after everything else due now."""
        now = self.env.now
        if self.requested == now:
            return  # an allocation is already due at this instant, after this event
        self.requested = now
        event = self.env.timeout(0)
        event.callbacks.append(lambda _: self._deferred_allocation(now))

    def _deferred_allocation(self, now: float) -> None:
        self.requested = -np.inf  # later events at this instant may ask again
        self.allocate(rules.take_up(now, (), "immediate"))

    def allocate(self, take_up: float) -> None:
        """Offer free places to the children waiting, in order, step by step.

        In round 0, designation by designation, the children of that designation;
        in round ``r``, the children still waiting whose route names it ``r``-th
        (:func:`~placeplan.placement.rules.offer_steps`). Within a step, children in
        order of priority class, then referral; each, in turn, takes the first free
        place of the designation it can (own locality first, then neighbours, then
        the rest of the county; a school taking its age).
        """
        p = self.p
        free = [c - o for c, o in zip(self.capacity, self.occupied, strict=True)]
        classes = p.classes
        waiting = sorted((i for i in self.queue if self.on_list[i]), key=lambda i: (classes[i], i))
        at: list[list[int]] = []
        for r, d in rules.offer_steps(p.n_rounds, p.n_designations):
            if d == 0:  # a new round: whom each designation's places are offered to in it
                at = [[] for _ in range(p.n_designations)]
                for i in waiting:
                    here = rules.offered_at(p.route_of(i), r)
                    if self.on_list[i] and here is not None:
                        at[here].append(i)
            for i in at[d]:
                if self.leaves_list[i] <= take_up:
                    continue  # will have left the list by the time it could start
                q = p.pool_for(i, take_up, free, d)
                if q == rules.NO_POOL:
                    continue
                free[q] -= 1
                self.occupied[q] += 1
                self.pool[i] = q
                self.on_list[i] = False
                self.offered[i] = self.env.now
                self.started[i] = take_up  # decided now, even if after the horizon
                self.offers[i].succeed(take_up)
        self.queue = [i for i in waiting if self.on_list[i]]

    def hear_referrals(self) -> None:
        """The panel agrees every referral received so far."""
        while self.inbox:
            i = self.inbox.popleft()
            if self.on_list[i]:
                self.queue.append(i)

    def panels(self) -> Iterator[simpy.Event]:
        for when in self.p.schedule.panels:
            yield self.env.timeout(when - self.env.now)
            yield self.env.timeout(0)  # decide after everything else due now (a departure)
            self.hear_referrals()
            self.allocate(self.p.take_up(when))

    def term_starts(self) -> Iterator[simpy.Event]:
        hears = len(self.p.schedule.panels) == 0  # without panels, term starts decide
        for when in self.p.schedule.term_starts:
            yield self.env.timeout(when - self.env.now)
            yield self.env.timeout(0)  # decide after everything else due now (a departure)
            if hears:
                self.hear_referrals()
            self.allocate(rules.take_up(when, (), "immediate"))  # at a term start: at once

    def opening(self, when: float, items: tuple[tuple[int, int], ...]) -> Iterator[simpy.Event]:
        """The changes of places at one instant: all of them count before anything else then.

        Each instant is its own process, started before every other, so its timeout
        is scheduled first and fires first among the events of its instant (SimPy
        runs simultaneous events in the order they were scheduled); the changes of
        that instant all apply before a continuous allocation is asked for
        (:attr:`~placeplan.placement.problem.PlacementProblem.openings_by_instant`).
        """
        yield self.env.timeout(when - self.env.now)
        for q, places in items:
            self.capacity[q] += places
        if self.p.continuous:
            self.request_allocation()


def simulate_reference(problem: PlacementProblem, start: float, end: float) -> Placements:
    """Run one replication with one SimPy process per child.

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
    m = _Model(env, problem)
    # openings first, as in the epoch engine: a change of places at the start counts
    # before the first allocation (which comes after everything else due then)
    for when, items in problem.openings_by_instant:
        env.process(m.opening(when, items))
    occ = problem.occupants
    for q, leaves in zip(occ.pool, occ.exit, strict=True):
        m.occupied[int(q)] += 1
        if np.isfinite(leaves):
            env.process(m.pupil(int(q), float(leaves)))
    for i in range(len(problem.children)):
        env.process(m.child(i))
    if not problem.continuous:
        env.process(m.panels())
        env.process(m.term_starts())
    env.run(until=end)
    m.count(0)  # close the integral at the end
    return Placements(m.offered, m.started, m.pool, m.area)
