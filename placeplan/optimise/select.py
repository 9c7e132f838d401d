"""Ranking and selection of the finalists, and the verification of the choice.

**Finalists.** Of the programmes the search evaluated within the budget, those not
clearly failing (their one-sided Clopper–Pearson *upper* bound on P(meet target) at
``level`` reaches ``confidence``), cheapest first; among equal costs, the later
openings first (capital spent later), then the higher estimate. At most
``count`` of them.

**Selection.** The finalists are run again, all on one fresh seed (common random
numbers between them; independent of the search) with more replications. Each gets
a one-sided Clopper–Pearson lower bound on its probability of meeting the target at
the Bonferroni-adjusted level ``1 - (1 - level) / F`` (F finalists). The choice is
the first finalist, in the order above, whose lower bound reaches ``confidence``.
Guarantee: the finalists are fixed before this stage's numbers are drawn, so the
probability that the choice's true probability of meeting the target is below
``confidence`` is at most ``1 - level`` (a fixed-sample, Bonferroni form of the
feasibility check of ranking-and-selection, e.g. Batur & Kim, "Finding feasible
systems in the presence of constraints on multiple performance measures", ACM
TOMACS 2010). It is the cheapest *finalist* that passes: the search is a heuristic,
and a cheaper programme it never evaluated may exist.

**Verification.** The choice is run once more on another fresh seed, and meets the
target only if its lower bound at ``level`` (no adjustment: one test) reaches
``confidence``. A choice that fails is reported as failing, never as meeting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from placeplan.optimise.evaluate import Evaluation, Evaluator, Programme

__all__ = [
    "Selection",
    "derived_seed",
    "finalists",
    "min_replications",
    "order_key",
    "select",
    "verify",
]


def derived_seed(seed: int, stage: int) -> int:
    """A seed for a later stage, independent of the search seed ``seed`` [1]."""
    return int(np.random.SeedSequence([seed, 0x0F71, stage]).generate_state(1)[0])


def min_replications(confidence: float, level: float) -> int:
    """Fewest replications in which a programme meeting the target every time passes.

    All ``n`` replications meeting it give the lower bound ``(1 - level) ** (1 / n)``,
    which reaches ``confidence`` from ``n = log(1 - level) / log(confidence)`` [1].
    """
    import math

    if confidence <= 0:
        return 1
    return math.ceil(math.log(1 - level) / math.log(confidence) - 1e-12)


def order_key(e: Evaluation) -> tuple[float, int, float]:
    """Cheapest first; then later openings (more capital deferred); then higher estimate."""
    deferral = sum(o for o in e.programme if o >= 0)
    return (round(e.cost, 2), -deferral, -e.p)


def finalists(
    evaluations: Iterable[Evaluation],
    confidence: float,
    level: float,
    budget: float | None,
    count: int,
) -> list[Programme]:
    """The finalists (module docstring)."""
    plausible = [
        e
        for e in evaluations
        if (budget is None or e.cost <= budget + 1e-6) and e.upper(level) >= confidence
    ]
    return [e.programme for e in sorted(plausible, key=order_key)[:count]]


@dataclass(frozen=True)
class Selection:
    """The selection stage.

    Attributes
    ----------
    evaluations : list of Evaluation
        The finalists on the selection seed, in the order tried.
    level : float
        The Bonferroni-adjusted level of each lower bound [1].
    chosen : Evaluation or None
        The first finalist whose lower bound reaches the confidence.
    """

    evaluations: list[Evaluation]
    level: float
    chosen: Evaluation | None


def select(
    evaluator: Evaluator,
    programmes: list[Programme],
    replications: int,
    seed: int,
    confidence: float,
    level: float,
) -> Selection:
    """Run the finalists on ``seed`` and choose (module docstring)."""
    if not programmes:
        return Selection([], level, None)
    evaluations = sorted(evaluator.evaluate(programmes, replications, seed), key=order_key)
    adjusted = 1 - (1 - level) / len(programmes)
    chosen = next((e for e in evaluations if e.lower(adjusted) >= confidence), None)
    return Selection(evaluations, adjusted, chosen)


def verify(
    evaluator: Evaluator,
    programme: Programme,
    replications: int,
    seed: int,
    confidence: float,
    level: float,
) -> tuple[Evaluation, bool]:
    """The programme on a fresh seed, and whether it meets the target at ``level``."""
    e = evaluator.evaluate([programme], replications, seed)[0]
    return e, e.lower(level) >= confidence
