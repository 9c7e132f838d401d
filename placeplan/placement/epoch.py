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
  the place is taken up.
- At a term start a child takes the place up at once; at a panel, at the next term
  start or at once (``panels.start_places``); in continuous mode, at once.

Bookkeeping is incremental: per designation, a pointer into the children of that
designation in order of referral (everyone before it has been offered a place or
has left the list for good), and sorted arrays of the instants at which held places
free up, so that an epoch costs little more than the places it fills.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import simpy

from placeplan.placement.problem import PlacementProblem, Placements

__all__ = ["simulate_epochs"]


class _EpochQueue:
    def __init__(self, env: simpy.Environment, p: PlacementProblem):
        self.env = env
        self.p = p
        n = len(p.children)
        self.offered = np.full(n, np.inf)
        self.started = np.full(n, np.inf)
        self.capacity = p.capacity.astype(np.int64).copy()
        self.decided = p.decided
        self.leaves_list = p.leaves_list
        designation = p.children.designation
        self.rows = [np.flatnonzero(designation == d) for d in range(p.n_designations)]
        self.next = [0] * p.n_designations
        occ = p.occupants
        self.occupant_exits = [
            np.sort(occ.exit[occ.designation == d]) for d in range(p.n_designations)
        ]
        self.placed_exits = [np.zeros(0) for _ in range(p.n_designations)]
        self.placed_count = [0] * p.n_designations

    def occupied(self, d: int, now: float) -> int:
        """Places of designation ``d`` taken at ``now`` [places]."""
        occupants = len(self.occupant_exits[d]) - np.searchsorted(
            self.occupant_exits[d], now, side="right"
        )
        placed = self.placed_count[d] - np.searchsorted(self.placed_exits[d], now, side="right")
        return int(occupants + placed)

    def match(self, take_up: float) -> None:
        """Offer the free places of every designation, first come first served."""
        now = self.env.now
        agreed = np.searchsorted(self.decided, now, side="right")
        for d in range(self.p.n_designations):
            free = self.capacity[d] - self.occupied(d, now)
            if free <= 0:
                continue
            rows = self.rows[d]
            start = self.next[d]
            stop = np.searchsorted(rows, agreed)
            if stop <= start:
                continue
            candidates = rows[start:stop]
            still_there = self.leaves_list[candidates] > take_up
            chosen_at = np.flatnonzero(still_there)[:free]
            if len(chosen_at):
                chosen = candidates[chosen_at]
                self.offered[chosen] = now
                self.started[chosen] = take_up
                exits = np.minimum(
                    self.p.exits.age_out[chosen], take_up + self.p.exits.stay[chosen]
                )
                self.placed_exits[d] = np.sort(np.concatenate([self.placed_exits[d], exits]))
                self.placed_count[d] += len(chosen)
                if self.p.continuous:
                    for when in exits:
                        if np.isfinite(when):
                            self.env.process(self._freed(when))
                advance = chosen_at[-1] + 1
            else:
                # those before the first child still there have left the list for good
                advance = len(candidates) if not still_there.any() else int(np.argmax(still_there))
            self.next[d] = start + int(advance)

    # ------------------------------------------------------------ processes
    def openings(self) -> Iterator[simpy.Event]:
        for when, d, places in self.p.openings:
            yield self.env.timeout(when - self.env.now)
            self.capacity[d] += places
            if self.p.continuous:
                self.match(self.env.now)

    def term_starts(self) -> Iterator[simpy.Event]:
        for when in self.p.schedule.term_starts:
            yield self.env.timeout(when - self.env.now)
            self.match(take_up=when)

    def panels(self) -> Iterator[simpy.Event]:
        immediate = self.p.start_places == "immediate"
        for when in self.p.schedule.panels:
            yield self.env.timeout(when - self.env.now)
            self.match(take_up=when if immediate else self.p.schedule.take_up(when))

    def arrivals(self) -> Iterator[simpy.Event]:
        for when in self.p.children.time:
            if when > self.env.now:
                yield self.env.timeout(when - self.env.now)
            self.match(self.env.now)

    def occupant_departures(self) -> Iterator[simpy.Event]:
        for when in np.sort(self.p.occupants.exit):
            if not np.isfinite(when):
                break
            yield self.env.timeout(when - self.env.now)
            self.match(self.env.now)

    def _freed(self, when: float) -> Iterator[simpy.Event]:
        yield self.env.timeout(when - self.env.now)
        self.match(self.env.now)


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
    env.process(q.openings())
    if problem.continuous:
        env.process(q.arrivals())
        env.process(q.occupant_departures())
    else:
        env.process(q.term_starts())
        env.process(q.panels())
    env.run(until=end)
    return Placements(q.offered, q.started)
