"""Evaluating programmes: the scenario with a programme, its run, the cache, the back ends.

A *programme* is one opening option per candidate, ``-1`` for a candidate not built
(:class:`Programme`). It is evaluated by adding its projects to the scenario's
``placement.build_programme`` and running the scenario with :func:`placeplan.run`
on a given seed: every programme of a stage shares that seed, so they share every
random number of the sources they share (common random numbers,
:mod:`placeplan.compare`), and differences between them come from the programmes.

Each evaluation keeps, per replication, the target measure at the target's
censuses, and is written to ``evaluations/KEY.json`` in the output folder
(atomically, :mod:`placeplan.io`): a run that is killed and started again finds
what was done. The key is the SHA-256 of the programme's whole scenario, the
replications, the seed, the measure and the censuses.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from placeplan.io import atomic_write_text
from placeplan.optimise.candidates import CandidateSet
from placeplan.optimise.target import Target
from placeplan.scenario import Scenario, scenario_from_dict

__all__ = [
    "Evaluation",
    "EvaluationCache",
    "Programme",
    "describe",
    "lower_bound",
    "programme_cost",
    "programme_scenario",
    "simulate",
    "two_sided",
    "upper_bound",
]

Programme = tuple[int, ...]
"""For each candidate, the index of its opening term among its options, or -1 (not built)."""


def programme_cost(candidates: CandidateSet, programme: Programme) -> float:
    """Capital cost of a programme [GBP]."""
    return float(
        sum(c.cost_gbp for c, o in zip(candidates.candidates, programme, strict=True) if o >= 0)
    )


def describe(candidates: CandidateSet, programme: Programme) -> str:
    """A programme in words: each project built and its opening term, or 'nothing'."""
    parts = [
        f"{c.name} ({candidates.opens[i][o]:%Y-%m})"
        for i, (c, o) in enumerate(zip(candidates.candidates, programme, strict=True))
        if o >= 0
    ]
    return "; ".join(parts) if parts else "nothing"


def programme_scenario(
    base: Scenario, candidates: CandidateSet, programme: Programme, name: str | None = None
) -> Scenario:
    """The base scenario with the programme's projects added to its build programme."""
    data = base.model_dump(mode="json")
    added = [
        candidates.project(i, o).model_dump(mode="json") for i, o in enumerate(programme) if o >= 0
    ]
    data["placement"]["build_programme"] = [*data["placement"]["build_programme"], *added]
    if name is not None:
        data["name"] = name
    return scenario_from_dict(data, source=f"{base.name} with a programme", check_data=False)


def simulate(
    scenario: Scenario, replications: int, seed: int, variable: str, dates: Sequence[date]
) -> np.ndarray:
    """The measure at the censuses in each replication of a run [children].

    Returns
    -------
    numpy.ndarray
        ``replications`` × ``len(dates)``.
    """
    from placeplan.experiment import run

    results = run(scenario, replications=replications, seed=seed, measures_only=(variable,))
    da = results.dataset[variable]
    times = [np.datetime64(d, "ns") for d in dates]
    return np.asarray(da.sel(time=times).transpose("replicate", "time").to_numpy(), dtype=float)


def _simulate_task(task: tuple) -> tuple[str, np.ndarray, float]:
    key, scenario, replications, seed, variable, dates = task
    clock = time.perf_counter()
    values = simulate(scenario, replications, seed, variable, dates)
    return key, values, time.perf_counter() - clock


def lower_bound(met: int, n: int, level: float) -> float:
    """One-sided Clopper–Pearson lower confidence bound on a probability [1].

    With probability at least ``level``, the true probability is at least this
    (exact: from the binomial distribution, conservative).
    """
    from scipy.stats import binomtest

    if n == 0:
        return 0.0
    return float(binomtest(met, n, alternative="greater").proportion_ci(level).low)


def upper_bound(met: int, n: int, level: float) -> float:
    """One-sided Clopper–Pearson upper confidence bound on a probability [1]."""
    from scipy.stats import binomtest

    if n == 0:
        return 1.0
    return float(binomtest(met, n, alternative="less").proportion_ci(level).high)


def two_sided(met: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper–Pearson interval of a probability [1]."""
    from scipy.stats import binomtest

    if n == 0:
        return 0.0, 1.0
    ci = binomtest(met, n).proportion_ci(level, method="exact")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class Evaluation:
    """One programme run on one seed.

    Attributes
    ----------
    programme : Programme
    cost : float
        Capital cost [GBP].
    seed : int
    values : numpy.ndarray
        Replications × censuses: the target measure [children].
    count : int
        Most children the target allows [children].
    computed : bool
        Computed by this process (False: read from the cache).
    wall_s : float
        Time the simulation took when it was computed [s].
    """

    programme: Programme
    cost: float
    seed: int
    values: np.ndarray
    count: int
    computed: bool
    wall_s: float

    @property
    def replications(self) -> int:
        """Replications run [1]."""
        return int(self.values.shape[0])

    @property
    def met(self) -> int:
        """Replications in which the target is met at every census [1]."""
        return int((self.values <= self.count).all(axis=1).sum())

    @property
    def p(self) -> float:
        """Share of replications meeting the target [1]."""
        return self.met / self.replications

    def lower(self, level: float) -> float:
        """One-sided lower bound on P(meet) at ``level`` (Clopper–Pearson) [1]."""
        return lower_bound(self.met, self.replications, level)

    def upper(self, level: float) -> float:
        """One-sided upper bound on P(meet) at ``level`` (Clopper–Pearson) [1]."""
        return upper_bound(self.met, self.replications, level)


class EvaluationCache:
    """Evaluations kept in ``FOLDER/evaluations/KEY.json``, each written atomically."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder) / "evaluations"

    @staticmethod
    def key(scenario: Scenario, replications: int, seed: int, target: Target) -> str:
        """The key of an evaluation (changes with anything that changes the numbers)."""
        payload = {
            "scenario": scenario.digest(),
            "replications": replications,
            "seed": seed,
            "variable": target.variable,
            "dates": [d.isoformat() for d in target.dates],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]

    def get(self, key: str) -> dict[str, Any] | None:
        """The record of a key, or None (also for a file that cannot be read back)."""
        path = self.folder / f"{key}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Write a record atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.folder / f"{key}.json", json.dumps(record, sort_keys=True))

    def __len__(self) -> int:
        return len(list(self.folder.glob("*.json"))) if self.folder.is_dir() else 0


class Evaluator:
    """Evaluates programmes of one base scenario and candidate set, through the cache.

    Parameters
    ----------
    base : Scenario
    candidates : CandidateSet
    target : Target
    cache : EvaluationCache
    runner : object
        A back end from :func:`placeplan.parallel.backend`.
    on_done : callable, optional
        Called with each evaluation as it is computed or found.
    """

    def __init__(
        self,
        base: Scenario,
        candidates: CandidateSet,
        target: Target,
        cache: EvaluationCache,
        runner: Any,
        on_done: Callable[[Evaluation], None] | None = None,
    ) -> None:
        self.base = base
        self.candidates = candidates
        self.target = target
        self.cache = cache
        self.runner = runner
        self.on_done = on_done
        self.computed = 0
        self.found = 0
        self.memo: dict[tuple[Programme, int, int], Evaluation] = {}

    def _record(self, e: Evaluation, key: str) -> dict[str, Any]:
        c = self.candidates
        return {
            "key": key,
            "programme": {
                c.candidates[i].name: c.opens[i][o].isoformat()
                for i, o in enumerate(e.programme)
                if o >= 0
            },
            "options": list(e.programme),
            "cost_gbp": e.cost,
            "seed": e.seed,
            "replications": e.replications,
            "variable": self.target.variable,
            "dates": [d.isoformat() for d in self.target.dates],
            "values": e.values.tolist(),
            "wall_s": round(e.wall_s, 3),
        }

    def evaluate(
        self, programmes: Sequence[Programme], replications: int, seed: int
    ) -> list[Evaluation]:
        """Evaluations of the programmes (in their order), computing only those missing."""
        out: dict[Programme, Evaluation] = {}
        tasks = []
        keys: dict[str, Programme] = {}
        for p in dict.fromkeys(programmes):
            memo = self.memo.get((p, replications, seed))
            if memo is not None:
                out[p] = memo
                continue
            scenario = programme_scenario(self.base, self.candidates, p)
            key = EvaluationCache.key(scenario, replications, seed, self.target)
            record = self.cache.get(key)
            if record is not None and len(record.get("values", [])) == replications:
                e = Evaluation(
                    p,
                    programme_cost(self.candidates, p),
                    seed,
                    np.asarray(record["values"], dtype=float).reshape(replications, -1),
                    self.target.count,
                    False,
                    float(record.get("wall_s", 0.0)),
                )
                self.found += 1
                out[p] = e
                self.memo[(p, replications, seed)] = e
                if self.on_done is not None:
                    self.on_done(e)
                continue
            keys[key] = p
            tasks.append(
                (key, scenario, replications, seed, self.target.variable, self.target.dates)
            )
        for key, values, wall in self.runner.map_unordered(_simulate_task, tasks):
            p = keys[key]
            e = Evaluation(
                p,
                programme_cost(self.candidates, p),
                seed,
                values,
                self.target.count,
                True,
                wall,
            )
            self.cache.put(key, self._record(e, key))
            self.computed += 1
            out[p] = e
            self.memo[(p, replications, seed)] = e
            if self.on_done is not None:
                self.on_done(e)
        return [out[p] for p in programmes]
