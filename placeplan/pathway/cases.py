"""The pre-drawn numbers of one replication of the pathway: its cases and their staff.

Both engines (:mod:`placeplan.pathway.engine`, :mod:`placeplan.pathway.reference`)
consume exactly these numbers, so they agree exactly on the same draws. Every
random number comes from the replication's ``"pathway"`` stream, in a fixed order:
the requests of each calendar year (a Poisson count, then uniform instants), their
ages, three uniforms per case for its outcome, three work draws per case, then the
backlog stage by stage (times since request, ages, outcomes, work), and last, for
each stage whose mean delay is above 0 and whose ``delay_cv`` is above 0, one
standard normal per case (backlog first, then requests) for its delay. A pathway
without delays draws no more numbers than before delays existed. A case open at the
start has no delay in the stage it is open in (it has spent it there already: its
age counts from its request); it still waits for staff, is worked on and waits out
the stage's minimum.

Staff are servers: a group of ``F`` FTE is ``floor(F)`` full-time servers and, for
the fraction left, one part-time server working at that fraction of the speed
(a 0.5 FTE caseworker takes twice as long over a case). Capacity is therefore
exactly ``F × days_per_year`` casework days a year, however the FTE is split; what
a fraction changes is only that a part-time person is one server, not a share of
every server's time. Appointments add servers from their effective date (``from``
plus ``lead_weeks``); leavers remove the most recently added servers still working
from theirs (a fraction of a server leaves by that server leaving and a slower one
joining in its place): a leaver finishes the case in hand, and takes no other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from placeplan.scenario import PATHWAY_STAGES, PathwaySpec, StaffGroup

__all__ = [
    "DAYS_A_YEAR",
    "DEFAULT_AGES",
    "OUTCOMES",
    "Cases",
    "Servers",
    "draw_cases",
    "draw_delays",
    "lognormal_delays",
    "servers_of",
    "spec_values",
]

DAYS_A_YEAR = 365.25
"""Calendar days in a year [days]."""

MIN_WORK = 1e-6
"""Least work on a case in a stage [days of one FTE] (a tenth of a second)."""

OUTCOMES: tuple[str, ...] = (
    "open",
    "refused",
    "withdrawn",
    "not issued after assessment",
    "plan issued",
)
"""How a case ends, by its code in :attr:`PathwayDraw.outcome`."""

DEFAULT_AGES: dict[int, float] = {
    2: 203,
    3: 2134,
    4: 13245,
    5: 13207,
    6: 7686,
    7: 6865,
    8: 6431,
    9: 6434,
    10: 7594,
    11: 8126,
    12: 5259,
    13: 4663,
    14: 5071,
    15: 4474,
    16: 3468,
    17: 1656,
    18: 664,
    19: 291,
    20: 276,
}
"""Ages of requests when a scenario gives none and has no cohort demand: England's new
EHC plans of calendar year 2024 by SEN2 age (DfE, 'Education, health and care plans',
reporting year 2025, new plans by age; 'age 2 and under' as 2, '20 and over' as 20)."""


def spec_values(spec: PathwaySpec, values: Mapping[str, float] | None) -> dict[str, float]:
    """The pathway's uncertain parameters in one replication: ``values`` or the centres.

    Keys are the assumption paths (``pathway.requests.growth``, ...,
    ``pathway.stages.<stage>.delay_weeks``, ``pathway.staff.<group>.days_per_year``).
    """
    values = values or {}
    out = {
        "pathway.requests.growth": spec.requests.growth.centre,
        "pathway.outcomes.withdrawn": spec.outcomes.withdrawn.centre,
        "pathway.outcomes.assess": spec.outcomes.assess.centre,
        "pathway.outcomes.issue": spec.outcomes.issue.centre,
    }
    for name in PATHWAY_STAGES:
        out[f"pathway.stages.{name}.delay_weeks"] = getattr(spec.stages, name).delay_weeks.centre
    for name, group in spec.staff.items():
        out[f"pathway.staff.{name}.days_per_year"] = group.days_per_year.centre
    return {k: float(values.get(k, v)) for k, v in out.items()}


@dataclass(frozen=True)
class Servers:
    """The servers of the staff groups: when each works, and how fast.

    Attributes
    ----------
    group : numpy.ndarray
        Staff group of each server (index into the spec's ``staff``).
    join, leave : numpy.ndarray
        First instant the server may start a case, and the instant from which it
        starts none [days] (``-inf`` / ``inf``: always).
    rate : numpy.ndarray
        Casework the server does per calendar day: its FTE fraction × the group's
        ``days_per_year`` / 365.25 [days of work per day].
    """

    group: np.ndarray
    join: np.ndarray
    leave: np.ndarray
    rate: np.ndarray


def _group_servers(group: StaffGroup) -> tuple[list[float], list[float], list[float]]:
    """Join instants, leave instants and FTE of one group's servers."""
    join: list[float] = []
    leave: list[float] = []
    fte: list[float] = []

    def add(amount: float, when: float) -> None:
        whole = math.floor(amount + 1e-9)
        for _ in range(whole):
            join.append(when)
            leave.append(math.inf)
            fte.append(1.0)
        part = amount - whole
        if part > 1e-9:
            join.append(when)
            leave.append(math.inf)
            fte.append(part)

    add(group.fte, -math.inf)
    changes = sorted(enumerate(group.changes), key=lambda ic: (ic[1].effective, ic[0]))
    for _, change in changes:
        when = float(change.effective.toordinal())
        if change.fte >= 0:
            add(change.fte, when)
            continue
        left = -change.fte
        for k in range(len(join) - 1, -1, -1):
            if left <= 1e-9:
                break
            if not (join[k] <= when < leave[k]):
                continue
            leave[k] = when
            if fte[k] <= left + 1e-9:
                left -= fte[k]
            else:  # part of this server leaves: it leaves, a slower one takes its place
                join.append(when)
                leave.append(math.inf)
                fte.append(fte[k] - left)
                left = 0.0
    return join, leave, fte


def servers_of(spec: PathwaySpec, values: Mapping[str, float] | None = None) -> Servers:
    """Every staff group's servers, group by group, in the spec's order.

    ``values`` gives each group's ``days_per_year`` in this replication
    (:func:`spec_values`).
    """
    v = spec_values(spec, values)
    group, join, leave, rate = [], [], [], []
    for g, (name, staff) in enumerate(spec.staff.items()):
        j, lv, f = _group_servers(staff)
        days = v[f"pathway.staff.{name}.days_per_year"]
        group += [g] * len(j)
        join += j
        leave += lv
        rate += [x * days / DAYS_A_YEAR for x in f]
    return Servers(
        np.array(group, dtype=np.int64),
        np.array(join, dtype=float),
        np.array(leave, dtype=float),
        np.array(rate, dtype=float),
    )


@dataclass(frozen=True)
class Cases:
    """One replication's cases (requests), the backlog at the start first.

    Attributes
    ----------
    requested : numpy.ndarray
        Day of the request [days].
    age : numpy.ndarray
        SEN2 age at the request [years].
    enter : numpy.ndarray
        Instant the case joins the queue of its first stage [days]: the request, or
        the start for the backlog.
    first_stage, last_stage : numpy.ndarray
        Stage (0 decision, 1 assessment, 2 plan) the case starts in and ends after.
    outcome : numpy.ndarray
        Code (:data:`OUTCOMES`) of how the case ends once its last stage is done.
    work : numpy.ndarray
        ``[case, stage]`` casework the case needs in each stage [days of one FTE].
    backlog : numpy.ndarray
        True for the cases open at the start.
    delay : numpy.ndarray or None
        ``[case, stage]`` time the case spends in each stage beyond its work and the
        stage's minimum [days]; None for none.
    """

    requested: np.ndarray
    age: np.ndarray
    enter: np.ndarray
    first_stage: np.ndarray
    last_stage: np.ndarray
    outcome: np.ndarray
    work: np.ndarray
    backlog: np.ndarray
    delay: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.requested)


def _work(rng: np.random.Generator, n: int, spec: PathwaySpec) -> np.ndarray:
    """``[n, 3]`` casework of each case in each stage: gamma, mean ``work_days`` [days]."""
    out = np.empty((n, 3))
    for k, name in enumerate(PATHWAY_STAGES):
        stage = getattr(spec.stages, name)
        if stage.work_cv == 0:
            out[:, k] = stage.work_days
        else:
            shape = 1.0 / stage.work_cv**2
            out[:, k] = rng.gamma(shape, stage.work_days / shape, n)
    # at least MIN_WORK: a gamma of cv 2 draws works of 1e-11 days, which end at the
    # instant they start at day-ordinal precision (about 1e-10 days), a tie the two
    # engines would order differently
    return np.maximum(out, MIN_WORK)


def lognormal_delays(z: np.ndarray, mean_weeks: float, cv: float) -> np.ndarray:
    """Delays [days] from standard normals ``z``: log-normal, mean ``mean_weeks``, cv ``cv``.

    ``exp(mu + sigma z)`` with ``sigma² = log(1 + cv²)`` and ``mu = log(mean) − sigma²/2``,
    so a case's delay moves smoothly with the mean and the cv on the same draws (what
    the calibration's common random numbers need).
    """
    sigma2 = math.log1p(cv * cv)
    mu = math.log(mean_weeks * 7.0) - 0.5 * sigma2
    return np.exp(mu + math.sqrt(sigma2) * z)


def draw_delays(
    spec: PathwaySpec, n: int, rng: np.random.Generator, v: Mapping[str, float]
) -> np.ndarray | None:
    """``[n, 3]`` delay of each case in each stage [days]; None if no stage has one.

    A stage with mean delay 0 draws nothing; with ``delay_cv`` 0 every case gets the
    mean; else one standard normal per case (:func:`lognormal_delays`).
    """
    out = None
    for k, name in enumerate(PATHWAY_STAGES):
        mean = v[f"pathway.stages.{name}.delay_weeks"]
        if mean <= 0:
            continue
        if out is None:
            out = np.zeros((n, 3))
        cv = getattr(spec.stages, name).delay_cv
        if cv == 0:
            out[:, k] = mean * 7.0
        else:
            out[:, k] = lognormal_delays(rng.standard_normal(n), mean, cv)
    return out


def _outcomes(u: np.ndarray, first: np.ndarray, v: Mapping[str, float]) -> tuple:
    """Last stage and outcome of each case from its three uniforms."""
    withdrawn = (u[:, 0] < v["pathway.outcomes.withdrawn"]) & (first == 0)
    refused = ~withdrawn & (u[:, 1] >= v["pathway.outcomes.assess"]) & (first == 0)
    not_issued = ~withdrawn & ~refused & (u[:, 2] >= v["pathway.outcomes.issue"]) & (first <= 1)
    last = np.full(len(u), 2, dtype=np.int8)
    outcome = np.full(len(u), 4, dtype=np.int8)
    last[withdrawn | refused] = 0
    outcome[withdrawn] = 2
    outcome[refused] = 1
    last[not_issued] = 1
    outcome[not_issued] = 3
    return last, outcome


def _ages(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(w), size=n, p=w / w.sum()).astype(np.int16)


def age_weights(spec: PathwaySpec, cohort_new_plans: np.ndarray | None = None) -> np.ndarray:
    """Relative requests at each SEN2 age 0–25.

    The spec's ``requests.ages``; else the council's new plans by age; else England's
    (:data:`DEFAULT_AGES`).

    Parameters
    ----------
    cohort_new_plans : numpy.ndarray, optional
        The council's SEN2 new plans by age (and need) of the cohort projection
        (:attr:`placeplan.demand.inputs.CohortInputs.new_plans`) [plans].
    """
    out = np.zeros(26)
    if spec.requests.ages is not None:
        for a, w in spec.requests.ages.items():
            out[a] = w
        return out
    if cohort_new_plans is not None:
        by_age = np.asarray(cohort_new_plans, dtype=float)
        by_age = by_age.sum(axis=1) if by_age.ndim == 2 else by_age
        if by_age.sum() > 0:
            out[: len(by_age)] = by_age[:26]
            return out
    for a, w in DEFAULT_AGES.items():
        out[a] = w
    return out


def draw_cases(
    spec: PathwaySpec,
    start: date,
    end: date,
    rng: np.random.Generator,
    values: Mapping[str, float] | None = None,
    ages: np.ndarray | None = None,
) -> Cases:
    """Draw one replication's cases: the backlog at the start, then the new requests.

    Requests of calendar year ``y`` are Poisson with mean ``per_year × exp(growth ×
    (y − base_year))`` × the part of the year inside the forecast, at instants uniform
    over that part. The backlog of each stage enters its queue at the start in order
    of request; each one's time since request is exponential with the stage's
    ``mean_weeks_open``.

    Parameters
    ----------
    ages : numpy.ndarray, optional
        Relative requests at each SEN2 age 0–25 (:func:`age_weights`); the spec's or
        England's if omitted.
    """
    v = spec_values(spec, values)
    weights = age_weights(spec) if ages is None else ages
    lo, hi = float(start.toordinal()), float(end.toordinal())
    growth = v["pathway.requests.growth"]
    times = []
    for year in range(start.year, end.year + 1):
        a = max(float(date(year, 1, 1).toordinal()), lo)
        b = min(float(date(year + 1, 1, 1).toordinal()), hi)
        if b <= a:
            continue
        rate = spec.requests.per_year * math.exp(growth * (year - spec.requests.base_year))
        mean = rate * (b - a) / (date(year + 1, 1, 1).toordinal() - date(year, 1, 1).toordinal())
        count = int(rng.poisson(mean))
        times.append(np.sort(a + rng.random(count) * (b - a)))
    requested = np.concatenate(times) if times else np.zeros(0)
    n = len(requested)
    age = _ages(rng, n, weights)
    first = np.zeros(n, dtype=np.int8)
    last, outcome = _outcomes(rng.random((n, 3)), first, v)
    work = _work(rng, n, spec)
    # the backlog, stage by stage, then sorted by request (the queue's order at the start)
    parts = []
    for k, name in enumerate(PATHWAY_STAGES):
        stage = getattr(spec.backlog, name)
        m = stage.cases
        since = rng.exponential(stage.mean_weeks_open * 7.0, m) if m else np.zeros(0)
        b_age = _ages(rng, m, weights)
        b_first = np.full(m, k, dtype=np.int8)
        b_last, b_outcome = _outcomes(rng.random((m, 3)), b_first, v)
        parts.append((lo - since, b_age, b_first, b_last, b_outcome, _work(rng, m, spec)))
    b_req = np.concatenate([p[0] for p in parts])
    order = np.argsort(b_req, kind="stable")

    def cat(i: int, new: np.ndarray) -> np.ndarray:
        return np.concatenate([np.concatenate([p[i] for p in parts])[order], new])

    nb = len(b_req)
    delay = draw_delays(spec, nb + n, rng, v)
    if delay is not None and nb:
        # a case open at the start has spent its delay in the stage it is open in
        b_stage = np.concatenate([p[2] for p in parts])[order].astype(np.int64)
        delay[np.arange(nb), b_stage] = 0.0
    return Cases(
        requested=cat(0, requested),
        age=cat(1, age).astype(np.int16),
        enter=np.concatenate([np.full(nb, lo), requested]),
        first_stage=cat(2, first).astype(np.int8),
        last_stage=cat(3, last).astype(np.int8),
        outcome=cat(4, outcome).astype(np.int8),
        work=np.concatenate([np.concatenate([p[5] for p in parts])[order], work]),
        backlog=np.arange(nb + n) < nb,
        delay=delay,
    )
