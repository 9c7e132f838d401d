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
"""

from __future__ import annotations

from collections import deque

import numpy as np
import simpy

from placeplan.pathway.cases import Cases, Servers
from placeplan.pathway.engine import stage_layout, time_after_work
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


def run_cases_reference(
    spec: PathwaySpec, cases: Cases, servers: Servers, horizon: float
) -> np.ndarray:
    """The reference engine: ``[case, stage]`` instant each stage is done (NaN: not run).

    Same contract as :func:`placeplan.pathway.engine.run_cases`.
    """
    stage_group, minimum = stage_layout(spec)
    after = time_after_work(minimum, cases)
    env = simpy.Environment(initial_time=0.0)
    groups = [
        _Group(
            env, [int(s) for s in np.flatnonzero(servers.group == g)], servers.join, servers.leave
        )
        for g in range(len(spec.staff))
    ]
    n = len(cases)
    done = np.full((n, 3), np.nan)

    def case(i: int):
        yield env.timeout(cases.enter[i])
        for k in range(int(cases.first_stage[i]), int(cases.last_stage[i]) + 1):
            if env.now >= horizon:
                return
            group = groups[stage_group[k]]
            s = yield group.request()
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
