"""The optimiser from end to end: search, ranking and selection, verification.

:func:`optimise` finds the cheapest capital programme, from a list of candidate
projects, that meets a target with a stated probability, and checks its answer:

1. **Feasibility.** Every candidate opening at its earliest term is evaluated first.
   Under common random numbers more places, sooner, do not lengthen waits, so if
   even that programme clearly fails (the upper bound on its probability is below
   the confidence), no programme meets the target: said at once, no search.
2. **First guess and search** (:mod:`placeplan.optimise.search`), on the search seed.
3. **Ranking and selection** of the finalists on a fresh seed
   (:mod:`placeplan.optimise.select`).
4. **Verification** of the choice on another fresh seed: the answer reports the
   programme as meeting the target only if this re-run says so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from placeplan.errors import InputError
from placeplan.optimise.candidates import CandidateSet, load_candidates
from placeplan.optimise.evaluate import (
    Evaluation,
    EvaluationCache,
    Evaluator,
    Programme,
    describe,
)
from placeplan.optimise.search import FirstGuess, SearchOutcome, first_guess, search
from placeplan.optimise.select import (
    Selection,
    derived_seed,
    finalists,
    min_replications,
    select,
    verify,
)
from placeplan.optimise.target import Target, parse_target
from placeplan.parallel import backend
from placeplan.scenario import Scenario

__all__ = ["DEFAULT_MAX_EVALUATIONS", "OptimiseResult", "StoppedError", "optimise"]

DEFAULT_MAX_EVALUATIONS = 60
"""Most distinct programmes the search simulates, by default [1]."""

MAX_EVALUATIONS = 10_000
"""Most ``max_evaluations`` may be [1]."""

Status = str
"""``verified``, ``not verified``, ``infeasible``, ``none within budget`` or ``none passed``."""


class StoppedError(RuntimeError):
    """Raised when ``stop_after`` evaluations were computed (to test resuming)."""


@dataclass
class OptimiseResult:
    """What :func:`optimise` found, and how sure it is.

    Attributes
    ----------
    status : str
        ``verified`` (the choice met the target in its verification), ``not verified``
        (it did not: it is not reported as meeting it), ``infeasible`` (not even every
        candidate at its earliest term meets it), ``none within budget`` or
        ``none passed`` (no finalist passed the selection).
    message : str
        The answer in one plain paragraph.
    chosen : Evaluation or None
        The chosen programme on the selection seed.
    verification : Evaluation or None
        The chosen programme re-run on the verification seed.
    """

    scenario: Scenario
    scenario_file: Path | None
    candidates: CandidateSet
    target: Target
    confidence: float
    level: float
    budget: float | None
    settings: dict[str, Any]
    feasibility: Evaluation
    guess: FirstGuess
    search: SearchOutcome
    finalists: list[Programme] = field(default_factory=list)
    selection: Selection | None = None
    verification: Evaluation | None = None
    status: Status = ""
    message: str = ""
    wall_s: float = 0.0
    computed: int = 0
    found: int = 0

    @property
    def chosen(self) -> Evaluation | None:
        """The chosen programme on the selection seed, if any."""
        return self.selection.chosen if self.selection is not None else None

    @property
    def verified(self) -> bool:
        """Whether the choice met the target at the stated confidence on fresh seeds."""
        return self.status == "verified"

    def describe(self, programme: Programme) -> str:
        """A programme in words."""
        return describe(self.candidates, programme)


def _gbp(x: float) -> str:
    return f"£{x / 1e6:,.1f}m" if abs(x) >= 1e5 else f"£{x:,.0f}"


def _check(
    confidence: float,
    level: float,
    replications: int,
    final: int,
    verify_n: int,
    count: int,
    max_evaluations: int,
    budget: float | None,
) -> None:
    if not (isinstance(confidence, int | float) and 0 < confidence < 1):
        raise InputError(f"--confidence: expected a probability in (0, 1), got {confidence!r}")
    if not (isinstance(level, int | float) and 0.5 <= level < 1):
        raise InputError(f"--level: expected a probability in [0.5, 1), got {level!r}")
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        raise InputError(f"--budget: expected an amount of at least 0, got {budget!r}")
    if not 1 <= max_evaluations <= MAX_EVALUATIONS:
        raise InputError(f"--max-evaluations: expected 1 to {MAX_EVALUATIONS:,}")
    if not 1 <= count <= 50:
        raise InputError("--finalists: expected 1 to 50")
    for name, n in (
        ("-n", replications),
        ("--final-replications", final),
        ("verification", verify_n),
    ):
        if not 1 <= n <= 100_000:
            raise InputError(f"{name}: expected 1 to 100,000 replications, got {n}")
    need = min_replications(confidence, 1 - (1 - level) / count)
    if final < need:
        raise InputError(
            f"--final-replications {final}: too few to show P(meet) >= {confidence:g} at "
            f"{level:g} with {count} finalists; at least {need} (all meeting the target)"
        )
    need = min_replications(confidence, level)
    if verify_n < need:
        raise InputError(
            f"verification with {verify_n} replications cannot show P(meet) >= "
            f"{confidence:g} at {level:g}; at least {need}"
        )


def optimise(
    scenario: Scenario,
    candidates_file: str | Path,
    target: str,
    *,
    out: str | Path,
    confidence: float = 0.9,
    level: float = 0.95,
    budget: float | None = None,
    replications: int = 100,
    final_replications: int | None = None,
    verify_replications: int | None = None,
    seed: int = 0,
    selection_seed: int | None = None,
    verify_seed: int | None = None,
    max_evaluations: int = DEFAULT_MAX_EVALUATIONS,
    finalist_count: int = 5,
    workers: int = 1,
    dask: str | bool | None = None,
    scenario_file: str | Path | None = None,
    guess: bool = True,
    on_progress: Callable[[str], None] | None = None,
    stop_after: int | None = None,
) -> OptimiseResult:
    """Find the cheapest programme of candidates meeting a target, and verify it.

    Parameters
    ----------
    scenario : Scenario
        The scenario the projects are added to.
    candidates_file : str or pathlib.Path
        The candidates (:mod:`placeplan.optimise.candidates`).
    target : str
        The target (:mod:`placeplan.optimise.target`), e.g. ``"long_waits<=0 by 2028-01"``.
    out : str or pathlib.Path
        The output folder; its ``evaluations/`` let a killed run resume.
    confidence : float
        Probability with which the target must be met [1].
    level : float
        Confidence level of the bounds on that probability [1].
    budget : float, optional
        Most capital the programme may cost [GBP].
    replications : int
        Replications of each programme in the search [1].
    final_replications, verify_replications : int, optional
        Replications of the finalists and of the verification [1] (default
        ``max(4 * replications, 200)``).
    seed : int
        Search seed; the selection and verification seeds are derived from it
        (:func:`~placeplan.optimise.select.derived_seed`) unless given.
    max_evaluations : int
        Most distinct programmes simulated in the search [1].
    finalist_count : int
        Most finalists [1].
    workers : int
        Worker processes evaluating programmes side by side.
    dask : str or bool, optional
        Evaluate on Dask: True for a local cluster, or a scheduler address.
    guess : bool
        Start from the analytic first guess (:mod:`placeplan.capacity`).
    on_progress : callable, optional
        Called with a line of progress.
    stop_after : int, optional
        Raise :class:`StoppedError` once this many evaluations were computed (tests).

    Returns
    -------
    OptimiseResult

    Raises
    ------
    InputError
        Bad candidates, target or options.
    """
    clock = time.perf_counter()
    final = final_replications or max(4 * replications, 200)
    verify_n = verify_replications or final
    _check(
        confidence, level, replications, final, verify_n, finalist_count, max_evaluations, budget
    )
    parsed = parse_target(target, scenario)
    cands = load_candidates(candidates_file, scenario)
    selection_seed = derived_seed(seed, 1) if selection_seed is None else selection_seed
    verify_seed = derived_seed(seed, 2) if verify_seed is None else verify_seed
    if len({seed, selection_seed, verify_seed}) < 3:
        raise InputError("the search, selection and verification seeds must differ")
    say = on_progress or (lambda _: None)
    cache = EvaluationCache(out)
    settings = {
        "replications": replications,
        "final_replications": final,
        "verify_replications": verify_n,
        "seed": seed,
        "selection_seed": selection_seed,
        "verify_seed": verify_seed,
        "max_evaluations": max_evaluations,
        "finalists": finalist_count,
        "workers": workers,
        "backend": "dask" if dask else ("process pool" if workers > 1 else "serial"),
        "space": cands.space_size(),
    }
    m = len(cands)
    everything: Programme = tuple([0] * m)
    nothing: Programme = tuple([-1] * m)

    def done(e: Evaluation) -> None:
        if stop_after is not None and evaluator.computed >= stop_after:
            raise StoppedError(f"stopped after {evaluator.computed} evaluations")

    with backend(workers, dask) as runner:
        evaluator = Evaluator(scenario, cands, parsed, cache, runner, on_done=done)
        say(f"{m} candidates, {cands.space_size():,} programmes; every candidate at its earliest")
        feasibility = evaluator.evaluate([everything], replications, seed)[0]
        result = OptimiseResult(
            scenario,
            Path(scenario_file) if scenario_file else None,
            cands,
            parsed,
            confidence,
            level,
            budget,
            settings,
            feasibility,
            FirstGuess(None, None, ""),
            SearchOutcome(),
        )

        def finish(status: str, message: str) -> OptimiseResult:
            result.status, result.message = status, message
            result.wall_s = time.perf_counter() - clock
            result.computed, result.found = evaluator.computed, evaluator.found
            return result

        what = parsed.describe(scenario)
        if feasibility.upper(level) < confidence:
            label = "every candidate at its earliest term" if m else "the scenario as it is"
            return finish(
                "infeasible",
                f"No programme meets the target ({what}) with probability {confidence:.0%}: "
                f"{'the candidates file lists no projects, and ' if not m else 'even '}"
                f"{label} ({_gbp(feasibility.cost)}) meets it in only {feasibility.met} of "
                f"{feasibility.replications} replications (at most "
                f"{feasibility.upper(level):.1%} at {level:.0%} confidence).",
            )
        result.guess = (
            first_guess(scenario, cands, parsed, replications, seed)
            if guess
            else FirstGuess(None, None, "no analytic first guess (not asked for)")
        )
        say(result.guess.note)
        initial = [p for p in (result.guess.programme, everything, nothing) if p is not None]

        def progress(o: SearchOutcome) -> None:
            best = [e for e in o.evaluations.values() if e.p >= confidence]
            cheapest = min((e.cost for e in best), default=None)
            say(
                f"search: {len(o.evaluations)} evaluated ({evaluator.computed} run, "
                f"{evaluator.found} found); cheapest estimate meeting it: "
                f"{_gbp(cheapest) if cheapest is not None else 'none yet'}"
            )

        result.search = search(
            evaluator,
            cands,
            replications=replications,
            seed=seed,
            max_evaluations=max_evaluations,
            budget=budget,
            initial=initial,
            on_batch=progress,
        )
        pool = dict(result.search.evaluations)
        result.finalists = finalists(pool.values(), confidence, level, budget, finalist_count)
        if not result.finalists:
            if budget is not None and feasibility.cost > budget:
                return finish(
                    "none within budget",
                    f"No programme within the budget of {_gbp(budget)} meets the target "
                    f"({what}) with probability {confidence:.0%} among the "
                    f"{len(pool)} evaluated; every candidate at its earliest term "
                    f"({_gbp(feasibility.cost)}) meets it in {feasibility.met} of "
                    f"{feasibility.replications} replications.",
                )
            return finish(
                "none passed",
                f"No programme the search evaluated ({len(pool)}) came close to meeting the "
                f"target ({what}) with probability {confidence:.0%}.",
            )
        say(f"selection: {len(result.finalists)} finalists × {final} replications")
        result.selection = select(
            evaluator, result.finalists, final, selection_seed, confidence, level
        )
        chosen = result.selection.chosen
        if chosen is None:
            best = max(result.selection.evaluations, key=lambda e: e.p)
            return finish(
                "none passed"
                if budget is None or feasibility.cost <= budget
                else "none within budget",
                f"No programme is shown to meet the target ({what}) with probability "
                f"{confidence:.0%}: none of the {len(result.finalists)} finalists' lower "
                f"bounds reached it in the selection run (best: {describe(cands, best.programme)}, "
                f"{_gbp(best.cost)}, {best.met} of {best.replications} replications).",
            )
        say(f"verification: {verify_n} replications on a fresh seed")
        result.verification, ok = verify(
            evaluator, chosen.programme, verify_n, verify_seed, confidence, level
        )
    v = result.verification
    figures = (
        f"{v.met} of {v.replications} replications met it (seed {verify_seed}; "
        f"P = {v.p:.1%}, lower bound {v.lower(level):.1%} at {level:.0%} confidence)"
    )
    if ok:
        return finish(
            "verified",
            f"The cheapest programme found that meets the target ({what}) with probability "
            f"at least {confidence:.0%} costs {_gbp(chosen.cost)}: "
            f"{describe(cands, chosen.programme)}. Verified on fresh seeds: {figures}.",
        )
    return finish(
        "not verified",
        f"The programme chosen ({describe(cands, chosen.programme)}, {_gbp(chosen.cost)}) "
        f"is NOT shown to meet the target ({what}) with probability {confidence:.0%}: "
        f"in its verification on fresh seeds {figures}. It is not reported as meeting "
        "the target; more replications, or more capital, are needed.",
    )
