"""The pathway's reference engine: one SimPy process per case.

Each case waits until it enters its first stage, then, stage by stage, asks its
staff group for a server, is worked on, and waits out the stage's fixed minimum and
its own delay.
Each staff group keeps one first-come, first-served queue; a server is free to
start a case from its ``join`` instant until its ``leave`` instant. Whenever a case
joins a queue, a server finishes, or a server joins, the group gives the head of
its queue to its lowest free server. The simulation starts at time 0 and every
delay is the same floating-point operation as in the fast engine, so the two give
the same instants to the last bit (tests/test_pathway_engines.py). Slow: for
checking the fast engine, not for runs.

Under ``pathway.discipline: deadline_first`` a group instead chooses among its
waiting cases once all that happens at an instant is done (:class:`_DeadlineGroup`).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import simpy

from placeplan.pathway.cases import Cases, Servers
from placeplan.pathway.engine import due_of, stage_layout, time_after_work
from placeplan.scenario import PathwaySpec

__all__ = ["run_cases_reference"]


class _Group:
    """One staff group: its queue and its servers."""

    def __init__(self, env: simpy.Environment, servers: list[int], join, leave):
        self.env = env
        self.servers = servers
        self.join = join
        self.leave = leave
        self.busy = dict.fromkeys(servers, False)
        self.queue: deque[simpy.Event] = deque()
        for s in servers:
            if np.isfinite(join[s]):
                env.process(self._arrive(s))

    def _working(self, s: int) -> bool:
        now = self.env.now
        return self.join[s] <= now < self.leave[s]

    def _arrive(self, s: int):
        yield self.env.timeout(self.join[s])
        self.dispatch()

    def request(self) -> simpy.Event:
        event = self.env.event()
        self.queue.append(event)
        self.dispatch()
        return event

    def release(self, s: int) -> None:
        self.busy[s] = False
        self.dispatch()

    def dispatch(self) -> None:
        while self.queue:
            free = [s for s in self.servers if not self.busy[s] and self._working(s)]
            if not free:
                return
            s = free[0]
            self.busy[s] = True
            self.queue.popleft().succeed(s)


class _DeadlineGroup(_Group):
    """A staff group under ``deadline_first``: it chooses once everything at an instant is done.

    Whenever a case joins its queue, a server finishes, or a server joins, the group
    schedules one choice at that instant, at a priority below every other event's,
    so it comes after every event of the instant (tasks made ready, servers freed)
    however they were ordered. Then, while it has a free server, it gives the lowest
    one the waiting task of the oldest request still before its ``due`` instant,
    else of the oldest request past it (ties: case, then stage).
    """

    LAST = 2  # below simpy's NORMAL (1) and URGENT (0)

    def __init__(self, env, servers, join, leave, requested, due):
        self.requested = requested
        self.due = due
        self.waiting: list[tuple[int, simpy.Event]] = []
        self.pending = False
        super().__init__(env, servers, join, leave)

    def ask(self, key: int) -> simpy.Event:
        """Queue the task ``key`` (case × 3 + stage); the event gives it its server."""
        event = self.env.event()
        self.waiting.append((key, event))
        self.dispatch()
        return event

    def dispatch(self) -> None:
        if self.pending:
            return
        self.pending = True
        choice = simpy.Event(self.env)
        choice._ok = True
        choice._value = None
        choice.callbacks.append(self._choose)
        self.env.schedule(choice, priority=self.LAST)

    def _rank(self, key: int) -> tuple[bool, float, int]:
        i = key // 3
        return (bool(self.due[i] <= self.env.now), float(self.requested[i]), key)

    def _choose(self, _event) -> None:
        self.pending = False
        for s in self.servers:
            if not self.waiting:
                return
            if self.busy[s] or not self._working(s):
                continue
            best = min(range(len(self.waiting)), key=lambda j: self._rank(self.waiting[j][0]))
            _, event = self.waiting.pop(best)
            self.busy[s] = True
            event.succeed(s)


def run_cases_reference(
    spec: PathwaySpec, cases: Cases, servers: Servers, horizon: float
) -> np.ndarray:
    """The reference engine: ``[case, stage]`` instant each stage is done (NaN: not run).

    Same contract as :func:`placeplan.pathway.engine.run_cases`.
    """
    stage_group, minimum = stage_layout(spec)
    after = time_after_work(minimum, cases)
    env = simpy.Environment(initial_time=0.0)
    deadline = spec.discipline == "deadline_first"
    due = due_of(cases)

    def group_of(g: int) -> _Group:
        members = [int(s) for s in np.flatnonzero(servers.group == g)]
        if deadline:
            return _DeadlineGroup(env, members, servers.join, servers.leave, cases.requested, due)
        return _Group(env, members, servers.join, servers.leave)

    groups = [group_of(g) for g in range(len(spec.staff))]
    n = len(cases)
    done = np.full((n, 3), np.nan)

    def case(i: int):
        yield env.timeout(cases.enter[i])
        for k in range(int(cases.first_stage[i]), int(cases.last_stage[i]) + 1):
            if env.now >= horizon:
                return
            group = groups[stage_group[k]]
            s = yield (group.ask(i * 3 + k) if deadline else group.request())
            yield env.timeout(cases.work[i, k] / servers.rate[s])
            group.release(s)
            yield env.timeout(after[i, k])
            done[i, k] = env.now

    for i in range(n):
        if cases.enter[i] < horizon:
            env.process(case(i))
    # every case ready before the horizon is run to the end of its stage
    env.run()
    return done
