"""Fitting the pathway's engine to a council's published years (common random numbers).

The calibration (:mod:`placeplan.pathway.calibrate`) fits three numbers per council
so that the compiled engine (:func:`placeplan.pathway.engine.run_cases`) — the
engine a run uses, not an approximation of it — issues as many plans, as many of
them within 20 weeks, and decides as many requests within 6 weeks, as SEN2
published: the effective capacity of the caseworkers and of the psychologists
[casework days a year] and the mean delay of a case in the assessment stage
beyond its minimum [weeks] (:data:`DELAY_STAGE`).

The cases of :data:`REPLICATIONS` replications are drawn once (each its own
``Streams(SEED, r)``), from an empty pathway at the start of the warm-up, with the
published requests of each year; every evaluation reruns the engine on those same
cases with the capacities and the delay asked for (the delays scale with their
mean on the same standard normals, :func:`placeplan.pathway.cases.lognormal_delays`),
so the misfit moves smoothly enough for Nelder–Mead. Staff follow requests: each
group's FTE in a year is its fitted capacity (that of the last year) times the
year's requests over the last year's, changed each 1 January.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np

from placeplan.pathway.cases import Cases, Servers, draw_cases, servers_of
from placeplan.pathway.engine import (
    WITHIN_DAYS,
    from_cases,
    run_cases,
    stage_layout,
    time_after_work,
)
from placeplan.scenario import PATHWAY_STAGES, PathwaySpec
from placeplan.streams import Streams

__all__ = [
    "DELAY_CV",
    "DELAY_STAGE",
    "REPLICATIONS",
    "SEED",
    "EngineRun",
    "fit_spec",
    "prepare",
]

DELAY_STAGE = "assessment"
"""The stage whose delay is fitted: health and social care advice and the permitted
exceptions fall in the assessment (SEND Code of Practice 9.42, 9.55)."""
DELAY_CV = 1.0
"""Assumed coefficient of variation of a case's delay (log-normal): its spread is not
identifiable from yearly shares on time, only its level given the spread [1]."""
REPLICATIONS = 8
"""Replications behind each evaluation of the fit (common random numbers)."""
SEED = 20240101
"""Seed of the fit's replications."""
DAYS_PER_YEAR = 180.0


def fit_spec(
    shares: Sequence[float],
    stages: Mapping[str, Mapping[str, Any]],
    groups: Sequence[str],
    per_year: float = 1.0,
    base_year: int = 2024,
    delay_weeks: float = 1.0,
    discipline: str = "fifo",
) -> PathwaySpec:
    """The pathway the fit runs.

    The given shares and stages, a delay of ``delay_weeks`` in :data:`DELAY_STAGE`
    (cv :data:`DELAY_CV`), one FTE in each group, queues under ``discipline``
    (``pathway.discipline``).
    """
    return PathwaySpec.model_validate(
        {
            "discipline": discipline,
            "requests": {"per_year": per_year, "base_year": base_year},
            "outcomes": {"withdrawn": shares[0], "assess": shares[1], "issue": shares[2]},
            "stages": {
                s: {
                    **{k: stages[s][k] for k in ("staff", "work_days", "work_cv", "min_weeks")},
                    "delay_weeks": delay_weeks if s == DELAY_STAGE else 0.0,
                    "delay_cv": DELAY_CV,
                }
                for s in PATHWAY_STAGES
            },
            "staff": {g: {"fte": 1.0, "days_per_year": DAYS_PER_YEAR} for g in groups},
        }
    )


def _concat(parts: list[Cases]) -> Cases:
    cat = lambda name: np.concatenate([getattr(p, name) for p in parts])  # noqa: E731
    delays = [p.delay for p in parts]
    return Cases(
        requested=cat("requested"),
        age=cat("age"),
        enter=cat("enter"),
        first_stage=cat("first_stage"),
        last_stage=cat("last_stage"),
        outcome=cat("outcome"),
        work=np.concatenate([p.work for p in parts]),
        backlog=cat("backlog"),
        delay=None if any(d is None for d in delays) else np.concatenate(delays),  # type: ignore[arg-type]
    )


@dataclass
class EngineRun:
    """The fit's pre-drawn replications and how to run the engine on them.

    Attributes
    ----------
    spec : PathwaySpec
        The pathway run (its stages; staff and delay set per evaluation).
    years : numpy.ndarray
        Calendar years simulated, the warm-up first.
    requests : numpy.ndarray
        Requests each year [requests/year].
    cases : list of Cases
        Each replication's cases, their delays at a mean of one week.
    stage_delay : int
        Index of :data:`DELAY_STAGE`.
    """

    spec: PathwaySpec
    years: np.ndarray
    requests: np.ndarray
    cases: list[Cases]
    stage_delay: int
    evaluations: int = 0

    @property
    def spec_shares(self) -> tuple[float, float, float]:
        """The outcome shares run: withdrawn, assessed, issued [1]."""
        o = self.spec.outcomes
        return (o.withdrawn.centre, o.assess.centre, o.issue.centre)

    @property
    def horizon(self) -> float:
        """First day after the last year [days]."""
        return float(date(int(self.years[-1]) + 1, 1, 1).toordinal())

    def servers(self, capacity: Mapping[str, float]) -> Servers:
        """Servers of capacities [days/year] in the last year, following the requests."""
        scale = self.requests / self.requests[-1]
        staff = {}
        for g in self.spec.staff:
            fte = capacity[g] / DAYS_PER_YEAR * scale
            changes = [
                {"name": f"follows requests {y}", "from": date(int(y), 1, 1), "fte": float(d)}
                for y, d in zip(self.years[1:], np.diff(fte), strict=True)
            ]
            staff[g] = {"fte": float(fte[0]), "days_per_year": DAYS_PER_YEAR, "changes": changes}
        data = self.spec.model_dump(mode="json", by_alias=True)
        data["staff"] = staff
        return servers_of(PathwaySpec.model_validate(data))

    def run(
        self, capacity: Mapping[str, float], delay_weeks: float
    ) -> tuple[dict[str, np.ndarray], dict[str, tuple[float, float]]]:
        """Mean yearly figures over the replications, and the open cases at the end.

        Returns
        -------
        figures : dict of str to numpy.ndarray
            Per year: ``plans_issued`` [plans], ``pct_within_20_weeks`` and
            ``pct_decided_within_6_weeks`` [%] (pooled over the replications).
        open_at_end : dict of str to (float, float)
            Per stage: mean open cases at the end [requests] and their mean weeks
            since request [weeks]. A case whose work in its stage is done, waiting
            out the minimum and its delay, counts in the next stage (the plan stage
            for the plan stage's own): a backlog queues for the work of its stage.
        """
        self.evaluations += 1
        servers = self.servers(capacity)
        horizon = self.horizon
        n_years = len(self.years)
        plans = np.zeros(n_years)
        within = np.zeros(n_years)
        decided = np.zeros(n_years)
        in6 = np.zeros(n_years)
        open_n = np.zeros(3)
        open_age = np.zeros(3)
        bounds = np.array([date(int(v), 1, 1).toordinal() for v in self.years[1:]], dtype=float)
        _, minimum = stage_layout(self.spec)
        for cases in self.cases:
            if cases.delay is not None:
                cases = replace(cases, delay=cases.delay * delay_weeks)
            after = time_after_work(minimum, cases)
            done = run_cases(self.spec, cases, servers, horizon)
            draw = from_cases(cases, done, horizon)
            issued = draw.outcome == 4
            year = np.searchsorted(bounds, draw.issued[issued], side="right")
            on_time = (draw.issued[issued] - draw.requested[issued]) <= WITHIN_DAYS + 1e-9
            plans += np.bincount(year, minlength=n_years)[:n_years]
            within += np.bincount(year, weights=on_time, minlength=n_years)[:n_years]
            made = np.isfinite(draw.decided) & (draw.outcome != 2)
            year = np.searchsorted(bounds, draw.decided[made], side="right")
            fast = (draw.decided[made] - draw.requested[made]) <= 42.0 + 1e-9
            decided += np.bincount(year, minlength=n_years)[:n_years]
            in6 += np.bincount(year, weights=fast, minlength=n_years)[:n_years]
            open_ = draw.outcome == 0
            stage = np.where(np.isnan(draw.decided), 0, np.where(np.isnan(draw.assessed), 1, 2))
            # a case whose work in its stage is done (only its minimum and delay left) is
            # counted in the next stage: open at the start it would otherwise queue for
            # the work again
            rows = np.flatnonzero(open_ & (stage < 2))
            k_ = stage[rows]
            worked = done[rows, k_] - after[rows, k_] <= horizon
            stage[rows[worked]] += 1
            for k in range(3):
                rows = open_ & (stage == k)
                open_n[k] += rows.sum()
                open_age[k] += ((horizon - draw.requested[rows]) / 7.0).sum()
        reps = len(self.cases)
        with np.errstate(divide="ignore", invalid="ignore"):
            figures = {
                "plans_issued": plans / reps,
                "pct_within_20_weeks": 100 * within / plans,
                "pct_decided_within_6_weeks": 100 * in6 / decided,
            }
        ends = {
            s: (float(open_n[k] / reps), float(open_age[k] / open_n[k]) if open_n[k] else 0.0)
            for k, s in enumerate(PATHWAY_STAGES)
        }
        return figures, ends


def prepare(
    years: np.ndarray,
    requests: np.ndarray,
    shares: Sequence[float],
    stages: Mapping[str, Mapping[str, Any]],
    groups: Sequence[str],
    replications: int = REPLICATIONS,
    seed: int = SEED,
    discipline: str = "fifo",
) -> EngineRun:
    """Draw the fit's replications: the published requests of each year, from empty.

    Year ``y``'s requests are Poisson with mean ``requests[y]``, uniform over the year;
    each case's outcome, work and delay (at a mean of one week) as the engine draws
    them (:func:`placeplan.pathway.cases.draw_cases`), year after year from each
    replication's ``"pathway"`` stream. The engine runs them under ``discipline``
    (``pathway.discipline``: the draws do not depend on it).
    """
    years = np.asarray(years, dtype=np.int64)
    requests = np.asarray(requests, dtype=float)
    spec = fit_spec(shares, stages, groups, discipline=discipline)
    cases = []
    for r in range(replications):
        rng = Streams(seed, r).rng("pathway")
        parts = []
        for y, n in zip(years, requests, strict=True):
            spec_y = fit_spec(shares, stages, groups, per_year=float(n), base_year=int(y))
            parts.append(draw_cases(spec_y, date(int(y), 1, 1), date(int(y) + 1, 1, 1), rng))
        cases.append(_concat(parts))
    return EngineRun(
        spec=spec,
        years=years,
        requests=requests,
        cases=cases,
        stage_delay=PATHWAY_STAGES.index(DELAY_STAGE),
    )


def lognormal_quantile_mean(on_time_weeks: float, share: float, cv: float = DELAY_CV) -> float:
    """Mean of the log-normal delay that alone explains a share on time [weeks].

    The delay of coefficient of variation ``cv`` with ``share`` of cases at most
    ``on_time_weeks``.
    """
    from scipy.stats import norm

    sigma = math.sqrt(math.log1p(cv * cv))
    share = min(max(share, 0.02), 0.98)
    mu = math.log(max(on_time_weeks, 0.5)) - sigma * float(norm.ppf(share))
    return math.exp(mu + 0.5 * sigma * sigma)
