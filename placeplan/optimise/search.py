"""The search: the analytic first guess, then programmes over subsets and opening terms.

The first guess takes the extra places by designation from the analytic capacity
guides (:func:`placeplan.capacity.guides`, Kingman's and Little's formulas) and
covers them at least cost with the candidates, each opening at its earliest term:
a small covering problem solved exactly with :func:`scipy.optimize.milp`.

The search then evaluates programmes on one seed (common random numbers):

- every programme, when there are no more than ``max_evaluations`` of them (the
  search is then exhaustive, and its optimum exact on that seed);
- otherwise programmes proposed by optuna's multi-objective TPE sampler (capital cost
  down, estimated probability of meeting the target up; over-budget programmes are
  told to it as infeasible through its constraints, and are never simulated). The
  first guess, every candidate at its earliest term and the empty programme are
  proposed first.

Why optuna's ask-and-tell without its storage: a killed run resumes by replaying
the seeded sampler against the evaluations already written in the output folder
(:class:`~placeplan.optimise.evaluate.EvaluationCache`), so the resumed search
proposes exactly the programmes the uninterrupted one would have, and simulates only
those missing. optuna's sqlite storage keeps the trials but not the sampler's random
state, so a resumed study would wander off another way.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from placeplan.optimise.candidates import CandidateSet
from placeplan.optimise.evaluate import Evaluation, Evaluator, Programme, programme_cost
from placeplan.optimise.target import Target
from placeplan.scenario import Scenario

__all__ = ["BATCH", "FirstGuess", "SearchOutcome", "cover", "first_guess", "search"]

BATCH = 4
"""Programmes proposed at a time [1]: fixed, so that the search does not depend on
the number of workers (the same seed gives the same programmes however many)."""

TRIALS_PER_EVALUATION = 20
"""Most proposals per distinct evaluation before the search stops [1] (a sampler that
keeps proposing programmes already evaluated, or over budget, has little left)."""


@dataclass(frozen=True)
class FirstGuess:
    """The analytic first guess.

    Attributes
    ----------
    programme : Programme or None
        The cheapest cover of the extra places; None when there is no guide.
    table : pandas.DataFrame or None
        The capacity guides' table.
    note : str
        How it was found, or why there is none.
    """

    programme: Programme | None
    table: Any
    note: str


def cover(candidates: CandidateSet, extra: Mapping[str, float]) -> Programme:
    """The cheapest set of candidates giving at least ``extra`` places by designation.

    Each candidate opens at its earliest term. A designation whose candidates offer
    fewer places than it needs takes them all. Solved exactly as a 0–1 covering
    problem (:func:`scipy.optimize.milp`).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    m = len(candidates)
    need = {d: float(v) for d, v in extra.items() if v and v > 0}
    rows, lows = [], []
    for designation, places in need.items():
        row = np.array(
            [c.places if c.designation == designation else 0 for c in candidates.candidates],
            dtype=float,
        )
        if row.sum() > 0:
            rows.append(row)
            lows.append(min(places, row.sum()))
    if m == 0 or not rows:
        return tuple([-1] * m)
    cost = np.array([c.cost_gbp for c in candidates.candidates], dtype=float)
    # a tiny price per place breaks ties towards fewer places
    places = np.array([c.places for c in candidates.candidates], dtype=float)
    result = milp(
        cost + 1e-6 * places,
        constraints=LinearConstraint(np.array(rows), lb=np.array(lows), ub=np.inf),
        integrality=np.ones(m),
        bounds=Bounds(0, 1),
    )
    if result.x is None:  # pragma: no cover - always feasible (lows within reach)
        return tuple([0] * m)
    return tuple(0 if x > 0.5 else -1 for x in result.x)


def first_guess(
    scenario: Scenario, candidates: CandidateSet, target: Target, replications: int, seed: int
) -> FirstGuess:
    """The analytic guides' extra places, covered at least cost (module docstring).

    :mod:`placeplan.capacity` is imported here, lazily: without it (or when it
    refuses the scenario) the search starts without a first guess and says so.
    """
    from placeplan.errors import InputError

    try:
        from placeplan.capacity import guides
    except ImportError:
        return FirstGuess(None, None, "no analytic first guess: placeplan.capacity is missing")
    try:
        g = guides(
            scenario,
            target_wait_terms=float(scenario.calendar.long_wait_terms),
            clear_by=target.dates[0],
            replications=replications,
            seed=seed,
        )
    except InputError as exc:
        return FirstGuess(None, None, f"no analytic first guess: {exc}")
    table = g.table
    extra = {
        str(d): float(v) for d, v in zip(table["designation"], table["extra_places"], strict=True)
    }
    programme = cover(candidates, extra)
    wanted = ", ".join(f"{d} {v:,.0f}" for d, v in extra.items() if v > 0) or "none"
    return FirstGuess(
        programme,
        table,
        f"extra places by designation from the capacity guides (clear by "
        f"{target.dates[0]:%B %Y}): {wanted}; covered at least cost, each at its earliest term",
    )


@dataclass
class SearchOutcome:
    """What the search evaluated.

    Attributes
    ----------
    evaluations : dict
        Programme → its evaluation on the search seed (within the budget, plus the
        programme of every candidate at its earliest term).
    method : str
        "exhaustive" or "optuna TPE".
    proposals : int
        Programmes proposed (with repeats and those over budget) [1].
    """

    evaluations: dict[Programme, Evaluation] = field(default_factory=dict)
    method: str = ""
    proposals: int = 0


def _all_programmes(candidates: CandidateSet) -> list[Programme]:
    import itertools

    ranges = [range(-1, len(o)) for o in candidates.options]
    return [tuple(p) for p in itertools.product(*ranges)]


def search(
    evaluator: Evaluator,
    candidates: CandidateSet,
    *,
    replications: int,
    seed: int,
    max_evaluations: int,
    budget: float | None,
    initial: list[Programme],
    on_batch: Callable[[SearchOutcome], None] | None = None,
) -> SearchOutcome:
    """Evaluate programmes on the search seed (module docstring).

    Parameters
    ----------
    evaluator : Evaluator
    candidates : CandidateSet
    replications : int
        Replications of each evaluation [1].
    seed : int
        The search seed, common to every programme.
    max_evaluations : int
        Most distinct programmes simulated [1].
    budget : float, optional
        Programmes costing more are not simulated [GBP].
    initial : list of Programme
        Proposed first, in order.
    on_batch : callable, optional
        Called after each batch (progress).
    """
    outcome = SearchOutcome()

    def affordable(p: Programme) -> bool:
        return budget is None or programme_cost(candidates, p) <= budget + 1e-6

    if candidates.space_size() <= max_evaluations:
        outcome.method = "exhaustive"
        todo = [p for p in dict.fromkeys([*initial, *_all_programmes(candidates)]) if affordable(p)]
        outcome.proposals = len(todo)
        for start in range(0, len(todo), BATCH * 4):
            part = todo[start : start + BATCH * 4]
            for e in evaluator.evaluate(part, replications, seed):
                outcome.evaluations[e.programme] = e
            if on_batch is not None:
                on_batch(outcome)
        return outcome
    outcome.method = "optuna TPE (multi-objective)"
    _optuna_search(
        evaluator,
        candidates,
        outcome,
        replications,
        seed,
        max_evaluations,
        budget,
        initial,
        affordable,
        on_batch,
    )
    return outcome


def _optuna_search(
    evaluator: Evaluator,
    candidates: CandidateSet,
    outcome: SearchOutcome,
    replications: int,
    seed: int,
    max_evaluations: int,
    budget: float | None,
    initial: list[Programme],
    affordable: Callable[[Programme], bool],
    on_batch: Callable[[SearchOutcome], None] | None,
) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    names = [f"c{i}" for i in range(len(candidates))]
    choices = [["skip", *(d.isoformat() for d in opens)] for opens in candidates.opens]
    distributions = {
        n: optuna.distributions.CategoricalDistribution(c)
        for n, c in zip(names, choices, strict=True)
    }

    def constraints(trial: optuna.trial.FrozenTrial) -> list[float]:
        return list(trial.user_attrs.get("constraints", [0.0]))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optuna's ExperimentalWarning for these options
        sampler = optuna.samplers.TPESampler(
            seed=seed,
            multivariate=True,
            constant_liar=True,
            n_startup_trials=max(4, min(10, max_evaluations // 4)),
            constraints_func=constraints if budget is not None else None,
        )
        study = optuna.create_study(directions=["minimize", "maximize"], sampler=sampler)
    for p in dict.fromkeys(initial):
        study.enqueue_trial(
            {n: choices[i][o + 1] for i, (n, o) in enumerate(zip(names, p, strict=True))}
        )
    most = TRIALS_PER_EVALUATION * max_evaluations
    while len(outcome.evaluations) < max_evaluations and outcome.proposals < most:
        k = min(BATCH, max_evaluations - len(outcome.evaluations))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trials = [study.ask(distributions) for _ in range(k)]
        programmes = [
            tuple(choices[i].index(t.params[n]) - 1 for i, n in enumerate(names)) for t in trials
        ]
        fresh = [p for p in programmes if affordable(p) and p not in outcome.evaluations]
        for e in evaluator.evaluate(fresh, replications, seed):
            outcome.evaluations[e.programme] = e
        for t, p in zip(trials, programmes, strict=True):
            cost = programme_cost(candidates, p)
            if budget is not None:
                t.set_user_attr("constraints", [cost - budget])
            e = outcome.evaluations.get(p)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                study.tell(t, [cost, e.p if e is not None else 0.0])
            outcome.proposals += 1
        if on_batch is not None:
            on_batch(outcome)
