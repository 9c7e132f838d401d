"""The pathway's fast engine, its outputs, and the one entry point, :func:`simulate`.

Each stage is a queue served by its staff group's servers
(:mod:`placeplan.pathway.cases`), then the stage's minimum and the case's own delay
beyond it; stages with the same group share its servers. By default (``fifo``) a
group serves its cases in the order they became ready: the fast engine keeps every
case's next task in one heap ordered by the instant it becomes ready (ties: the
case's place, then its stage) and gives each task, as it leaves the heap, to the
server of its group that can start it first (ties: the lowest server) — a server
that has joined and not left, at the later of the task's readiness and the server's
last finish. A task that leaves the heap in this order never finds a server taken by
a later one, so this is the queue's first-come, first-served discipline exactly (the
Kiefer–Wolfowitz recursion, with servers that join and leave). Compiled with numba.

Under ``pathway.discipline: deadline_first`` (:func:`_kernel_deadline`) a group
instead takes, whenever a server is free, the waiting task of the oldest request
still under 20 weeks old at that instant, else the oldest request of the late ones
(the council works to the statutory deadline; non-preemptive); the engine then
runs event by event, all that happens at an instant before any choice at it. Under
lasting overload the late cases can wait without end: with the caseworkers shared
by decisions (all fresh) and plans (mostly late), the plans stop.

The reference engine (:mod:`placeplan.pathway.reference`) runs the same cases one
SimPy process each; both give the same days to the last bit on the same draws
(tests/test_pathway_engines.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
from numba import njit

from placeplan.pathway.cases import Cases, Servers, draw_cases, servers_of
from placeplan.scenario import PATHWAY_STAGES, PathwaySpec
from placeplan.streams import Streams

__all__ = [
    "WITHIN_DAYS",
    "YEARLY",
    "PathwayDraw",
    "backlog_at",
    "due_of",
    "from_cases",
    "run_cases",
    "simulate",
    "time_after_work",
    "yearly",
]

WITHIN_DAYS = 140.0
"""20 weeks [days]: a plan issued at most this long after the request is on time (SEN2)."""

YEARLY: tuple[str, ...] = (
    "requests",
    "decisions",
    "decided_to_assess",
    "assessments",
    "plans_issued",
    "within_20_weeks",
    "pct_within_20_weeks",
    "weeks_to_plan_mean",
    "weeks_to_plan_median",
    "weeks_to_plan_p90",
)
"""The figures :func:`yearly` gives for each calendar year."""


@dataclass(frozen=True)
class PathwayDraw:
    """One replication of the pathway, one row per case (request), the backlog first.

    Attributes
    ----------
    requested : numpy.ndarray
        Day of the request [days].
    decided : numpy.ndarray
        Day the decision stage ended (the decision, or the withdrawal); NaN while
        open at the end, and for the backlog past the decision at the start [days].
    assessed : numpy.ndarray
        Day the assessment ended (NaN if not reached by the end) [days].
    outcome : numpy.ndarray
        int8 code (:data:`placeplan.pathway.cases.OUTCOMES`): 0 open at the end,
        1 refused, 2 withdrawn, 3 not issued after assessment, 4 plan issued.
    issued : numpy.ndarray
        Day the plan was issued (NaN otherwise) [days].
    age : numpy.ndarray
        SEN2 age at the request [years].
    first_stage : numpy.ndarray
        Stage the case was in at the start (0 decision, 1 assessment, 2 plan), or
        -1 for a request made during the forecast.
    """

    requested: np.ndarray
    decided: np.ndarray
    assessed: np.ndarray
    outcome: np.ndarray
    issued: np.ndarray
    age: np.ndarray
    first_stage: np.ndarray

    def __len__(self) -> int:
        return len(self.requested)

    @property
    def weeks_to_plan(self) -> np.ndarray:
        """Time from request to plan of each plan issued (NaN otherwise) [weeks]."""
        return (self.issued - self.requested) / 7.0


@njit(cache=True)
def _less(t1, k1, t2, k2):  # pragma: no cover - compiled
    return t1 < t2 or (t1 == t2 and k1 < k2)


@njit(cache=True)
def _kernel(
    enter, first, last, work, stage_group, after, lo, hi, join, leave, rate, horizon
):  # pragma: no cover - compiled
    """``[case, stage]`` instant each stage is done (after its minimum); NaN if never run.

    ``after[i, k]``: time from the end of case ``i``'s work in stage ``k`` to the
    stage's end (minimum and delay) [days].
    ``lo[g]:hi[g]`` are the servers of group ``g``. Tasks ready at or after the
    horizon are not run.
    """
    n = enter.shape[0]
    done = np.full((n, 3), np.nan)
    free = np.full(join.shape[0], -np.inf)
    heap_t = np.empty(n)
    heap_k = np.empty(n, dtype=np.int64)
    size = 0
    for i in range(n):
        if enter[i] >= horizon:
            continue
        size = _push(heap_t, heap_k, 0, size, enter[i], i * 3 + first[i])
    while size > 0:
        t, key = heap_t[0], heap_k[0]
        size = _pop(heap_t, heap_k, 0, size)
        i, k = key // 3, key % 3
        g = stage_group[k]
        best, server = np.inf, -1
        for s in range(lo[g], hi[g]):
            begin = max(t, free[s], join[s])
            if begin < leave[s] and begin < best:
                best, server = begin, s
        if server < 0:  # nobody left to do it: the case stays open
            continue
        finish = best + work[i, k] / rate[server]
        free[server] = finish
        ready = finish + after[i, k]
        done[i, k] = ready
        if k < last[i] and ready < horizon:
            size = _push(heap_t, heap_k, 0, size, ready, key + 1)
    return done


@njit(cache=True)
def _push(heap_t, heap_k, base, size, t, key):  # pragma: no cover - compiled
    """Push ``(t, key)`` on the heap at ``heap_*[base:base + size]``; its new size."""
    j = size
    while j > 0:
        p = (j - 1) // 2
        if _less(t, key, heap_t[base + p], heap_k[base + p]):
            heap_t[base + j], heap_k[base + j] = heap_t[base + p], heap_k[base + p]
            j = p
        else:
            break
    heap_t[base + j], heap_k[base + j] = t, key
    return size + 1


@njit(cache=True)
def _pop(heap_t, heap_k, base, size):  # pragma: no cover - compiled
    """Remove the root of the heap at ``heap_*[base:base + size]``; its new size."""
    size -= 1
    lt, lk = heap_t[base + size], heap_k[base + size]
    j = 0
    while True:
        c = 2 * j + 1
        if c >= size:
            break
        if c + 1 < size and _less(
            heap_t[base + c + 1], heap_k[base + c + 1], heap_t[base + c], heap_k[base + c]
        ):
            c += 1
        if _less(heap_t[base + c], heap_k[base + c], lt, lk):
            heap_t[base + j], heap_k[base + j] = heap_t[base + c], heap_k[base + c]
            j = c
        else:
            break
    if size > 0:
        heap_t[base + j], heap_k[base + j] = lt, lk
    return size


@njit(cache=True)
def _kernel_deadline(
    enter,
    requested,
    due,
    first,
    last,
    work,
    stage_group,
    after,
    lo,
    hi,
    server_group,
    join,
    leave,
    rate,
    horizon,
):  # pragma: no cover - compiled
    """:func:`_kernel` under the ``deadline_first`` discipline, event by event.

    At each instant something happens (a task becomes ready, a server finishes, a
    server joins), all of it is done first; then each group touched gives its free
    servers (lowest first) the waiting task of the oldest request still before its
    ``due`` instant, else the oldest request past it (ties: case, then stage).
    Each group keeps its waiting tasks in two heaps by request: ``fresh`` (before
    ``due`` at the last look) and ``late``; a group moves the fresh tasks now due
    to ``late`` before it chooses.
    """
    n = enter.shape[0]
    n_groups = lo.shape[0]
    done = np.full((n, 3), np.nan)
    free = np.full(join.shape[0], -np.inf)
    ready_t = np.empty(3 * n + 1)  # tasks not yet ready, by the instant they are
    ready_k = np.empty(3 * n + 1, dtype=np.int64)
    n_ready = 0
    for i in range(n):
        if enter[i] < horizon:
            n_ready = _push(ready_t, ready_k, 0, n_ready, enter[i], i * 3 + first[i])
    fin_t = np.empty(join.shape[0] + 1)  # busy servers, by the instant they finish
    fin_s = np.empty(join.shape[0] + 1, dtype=np.int64)
    n_fin = 0
    joins = np.sort(join[np.isfinite(join)])
    join_group = server_group[np.isfinite(join)][np.argsort(join[np.isfinite(join)])]
    jp = 0
    fresh_t = np.empty(n_groups * n + 1)  # group g's heaps at [g * n, g * n + size)
    fresh_k = np.empty(n_groups * n + 1, dtype=np.int64)
    late_t = np.empty(n_groups * n + 1)
    late_k = np.empty(n_groups * n + 1, dtype=np.int64)
    n_fresh = np.zeros(n_groups, dtype=np.int64)
    n_late = np.zeros(n_groups, dtype=np.int64)
    touched = np.zeros(n_groups, dtype=np.bool_)
    while True:
        now = np.inf
        if n_ready > 0:
            now = ready_t[0]
        if n_fin > 0 and fin_t[0] < now:
            now = fin_t[0]
        if jp < joins.shape[0] and joins[jp] < now:
            now = joins[jp]
        if now == np.inf:
            break
        while n_ready > 0 and ready_t[0] == now:
            key = ready_k[0]
            n_ready = _pop(ready_t, ready_k, 0, n_ready)
            g = stage_group[key % 3]
            n_fresh[g] = _push(fresh_t, fresh_k, g * n, n_fresh[g], requested[key // 3], key)
            touched[g] = True
        while n_fin > 0 and fin_t[0] == now:
            touched[server_group[fin_s[0]]] = True
            n_fin = _pop(fin_t, fin_s, 0, n_fin)
        while jp < joins.shape[0] and joins[jp] == now:
            touched[join_group[jp]] = True
            jp += 1
        for g in range(n_groups):
            if not touched[g]:
                continue
            touched[g] = False
            base = g * n
            while n_fresh[g] > 0 and due[fresh_k[base] // 3] <= now:
                t, key = fresh_t[base], fresh_k[base]
                n_fresh[g] = _pop(fresh_t, fresh_k, base, n_fresh[g])
                n_late[g] = _push(late_t, late_k, base, n_late[g], t, key)
            s = lo[g]
            while n_fresh[g] + n_late[g] > 0:
                while s < hi[g] and not (free[s] <= now and join[s] <= now < leave[s]):
                    s += 1
                if s == hi[g]:
                    break
                if n_fresh[g] > 0:
                    key = fresh_k[base]
                    n_fresh[g] = _pop(fresh_t, fresh_k, base, n_fresh[g])
                else:
                    key = late_k[base]
                    n_late[g] = _pop(late_t, late_k, base, n_late[g])
                i, k = key // 3, key % 3
                finish = now + work[i, k] / rate[s]
                free[s] = finish
                n_fin = _push(fin_t, fin_s, 0, n_fin, finish, s)
                ready = finish + after[i, k]
                done[i, k] = ready
                if k < last[i] and ready < horizon:
                    n_ready = _push(ready_t, ready_k, 0, n_ready, ready, key + 1)
                s += 1
    return done


def stage_layout(spec: PathwaySpec) -> tuple[np.ndarray, np.ndarray]:
    """Staff group (index into ``spec.staff``) and fixed minimum [days] of each stage."""
    names = list(spec.staff)
    stages = [getattr(spec.stages, s) for s in PATHWAY_STAGES]
    group = np.array([names.index(s.staff) for s in stages], dtype=np.int64)
    minimum = np.array([s.min_weeks * 7.0 for s in stages], dtype=float)
    return group, minimum


def time_after_work(minimum: np.ndarray, cases: Cases) -> np.ndarray:
    """``[case, stage]`` time from the end of the work to the end of the stage [days].

    The stage's fixed minimum plus the case's delay (:attr:`Cases.delay`); both
    engines add this same array, so they agree exactly (with no delay it is the
    minimum itself, to the bit).
    """
    after = np.broadcast_to(minimum, (len(cases), 3))
    if cases.delay is not None:
        after = after + cases.delay
    return np.ascontiguousarray(after, dtype=float)


def due_of(cases: Cases) -> np.ndarray:
    """Instant each case's request turns 20 weeks old: ``requested + 140`` [days].

    Under ``deadline_first`` a waiting task is late from this instant on; both
    engines compare against this same array, so they agree exactly.
    """
    return np.asarray(cases.requested, dtype=float) + WITHIN_DAYS


def run_cases(spec: PathwaySpec, cases: Cases, servers: Servers, horizon: float) -> np.ndarray:
    """The fast engine: ``[case, stage]`` instant each stage is done [days] (NaN: not run).

    Under ``spec.discipline``: first come, first served (:func:`_kernel`), or
    ``deadline_first`` (:func:`_kernel_deadline`).
    """
    group, minimum = stage_layout(spec)
    n_groups = len(spec.staff)
    lo = np.searchsorted(servers.group, np.arange(n_groups), side="left").astype(np.int64)
    hi = np.searchsorted(servers.group, np.arange(n_groups), side="right").astype(np.int64)
    if spec.discipline == "deadline_first":
        return _kernel_deadline(
            np.asarray(cases.enter, dtype=float),
            np.asarray(cases.requested, dtype=float),
            due_of(cases),
            cases.first_stage.astype(np.int64),
            cases.last_stage.astype(np.int64),
            np.ascontiguousarray(cases.work, dtype=float),
            group,
            time_after_work(minimum, cases),
            lo,
            hi,
            np.asarray(servers.group, dtype=np.int64),
            np.asarray(servers.join, dtype=float),
            np.asarray(servers.leave, dtype=float),
            np.asarray(servers.rate, dtype=float),
            float(horizon),
        )
    return _kernel(
        cases.enter,
        cases.first_stage.astype(np.int64),
        cases.last_stage.astype(np.int64),
        np.ascontiguousarray(cases.work),
        group,
        time_after_work(minimum, cases),
        lo,
        hi,
        servers.join,
        servers.leave,
        servers.rate,
        float(horizon),
    )


def from_cases(cases: Cases, done: np.ndarray, horizon: float) -> PathwayDraw:
    """The replication's rows from its cases and the instants their stages were done.

    A stage done after the horizon is not done: the case is open at the end.
    """
    done = np.where(done <= horizon, done, np.nan)
    rows = np.arange(len(cases))
    final = done[rows, cases.last_stage.astype(np.int64)] if len(cases) else np.zeros(0)
    outcome = np.where(np.isnan(final), 0, cases.outcome).astype(np.int8)
    first = np.where(cases.backlog, cases.first_stage, -1).astype(np.int8)
    decided = np.where(cases.first_stage == 0, done[:, 0], np.nan)
    assessed = np.where(cases.first_stage <= 1, done[:, 1], np.nan)
    issued = np.where(outcome == 4, done[:, 2], np.nan)
    return PathwayDraw(
        requested=cases.requested.astype(float),
        decided=decided,
        assessed=assessed,
        outcome=outcome,
        issued=issued,
        age=cases.age.astype(np.int16),
        first_stage=first,
    )


def simulate(
    spec: PathwaySpec,
    start: date,
    end: date,
    streams: Streams,
    values: Mapping[str, float] | None = None,
    engine: Literal["fast", "reference"] = "fast",
    ages: np.ndarray | None = None,
) -> PathwayDraw:
    """Simulate one replication of the pathway from ``start`` to ``end``.

    Parameters
    ----------
    spec : PathwaySpec
        The scenario's ``pathway:`` section.
    start, end : datetime.date
        First day of the forecast and the first day after it.
    streams : Streams
        The replication's streams: every draw comes from its ``"pathway"`` source.
    values : mapping, optional
        The replication's values of the pathway's assumptions by dotted path
        (:meth:`placeplan.model.Model.assumption_values`); their centres if omitted.
    engine : {"fast", "reference"}
        The compiled engine, or the per-case SimPy reference (same result, slower).
    ages : numpy.ndarray, optional
        Relative requests at each SEN2 age 0–25
        (:func:`placeplan.pathway.cases.age_weights`).

    Returns
    -------
    PathwayDraw
    """
    cases = draw_cases(spec, start, end, streams.rng("pathway"), values, ages)
    servers = servers_of(spec, values)
    horizon = float(end.toordinal())
    if engine == "fast":
        done = run_cases(spec, cases, servers, horizon)
    elif engine == "reference":
        from placeplan.pathway.reference import run_cases_reference

        done = run_cases_reference(spec, cases, servers, horizon)
    else:
        raise ValueError(f"engine: {engine!r} is not 'fast' or 'reference'")
    return from_cases(cases, done, horizon)


def _year_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day ordinal (NaN → -1)."""
    out = np.full(len(days), -1, dtype=np.int64)
    ok = np.isfinite(days)
    if ok.any():
        epoch = date(1970, 1, 1).toordinal()
        d = (np.floor(days[ok]).astype(np.int64) - epoch).astype("datetime64[D]")
        out[ok] = d.astype("datetime64[Y]").astype(np.int64) + 1970
    return out


def yearly(draw: PathwayDraw, years: np.ndarray) -> dict[str, np.ndarray]:
    """The pathway's figures for each calendar year, as SEN2 counts them.

    Requests and decisions count those made during the forecast (not the backlog
    at the start); assessments, plans issued and timeliness count every case that
    reached them in the year, the backlog's too (SEN2 counts plans issued in the
    year, whenever requested). A year only partly inside the forecast counts its
    part.

    Returns
    -------
    dict of str to numpy.ndarray
        For each name of :data:`YEARLY`, one value per year: counts [requests],
        [plans]; ``pct_within_20_weeks`` [%] (NaN with no plan issued); time to plan
        of the plans issued in the year, mean, median and 90th percentile [weeks].
    """
    years = np.asarray(years, dtype=np.int64)
    new = draw.first_stage < 0
    # a decision is made when the decision stage ends without a withdrawal
    decided = np.isfinite(draw.decided) & (draw.outcome != 2)
    to_assess = decided & (draw.outcome != 1)
    y_req, y_dec = _year_of(draw.requested), _year_of(draw.decided)
    y_ass, y_iss = _year_of(draw.assessed), _year_of(draw.issued)
    weeks = draw.weeks_to_plan
    out = {name: np.full(len(years), np.nan) for name in YEARLY}
    for j, y in enumerate(years):
        out["requests"][j] = np.count_nonzero(new & (y_req == y))
        out["decisions"][j] = np.count_nonzero(decided & (y_dec == y))
        out["decided_to_assess"][j] = np.count_nonzero(to_assess & (y_dec == y))
        out["assessments"][j] = np.count_nonzero(y_ass == y)
        issued = y_iss == y
        n = np.count_nonzero(issued)
        out["plans_issued"][j] = n
        w = weeks[issued]
        within = np.count_nonzero(w <= WITHIN_DAYS / 7.0 + 1e-9)
        out["within_20_weeks"][j] = within
        if n:
            out["pct_within_20_weeks"][j] = 100.0 * within / n
            out["weeks_to_plan_mean"][j] = w.mean()
            out["weeks_to_plan_median"][j] = np.median(w)
            out["weeks_to_plan_p90"][j] = np.quantile(w, 0.9)
    return out


def backlog_at(draw: PathwayDraw, days: np.ndarray, over_weeks: float = 20) -> np.ndarray:
    """Cases open at each instant whose request is older than ``over_weeks`` [requests].

    A case is open at ``t`` from its request until its outcome (refusal,
    withdrawal, not issuing, or the plan); one still open at the end stays open.
    Instants are day ordinals; a case requested at ``t`` counts from ``t``.
    """
    days = np.asarray(days, dtype=float)
    ended = np.full(len(draw), np.inf)
    ends = {1: draw.decided, 2: draw.decided, 3: draw.assessed, 4: draw.issued}
    for code, when in ends.items():
        rows = draw.outcome == code
        ended[rows] = when[rows]
    old = draw.requested + over_weeks * 7.0
    return np.array(
        [np.count_nonzero((old < t) & (draw.requested <= t) & (ended > t)) for t in days],
        dtype=np.int64,
    )
