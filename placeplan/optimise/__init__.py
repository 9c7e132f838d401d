"""The capital programme optimiser: the cheapest programme meeting a target, verified.

``placeplan optimise SCENARIO --candidates FILE --target "long_waits<=0 by 2028-01"``.
Modules, one job each: :mod:`~placeplan.optimise.candidates` (the candidates file),
:mod:`~placeplan.optimise.target` (the target's grammar),
:mod:`~placeplan.optimise.evaluate` (a programme's run on common random numbers, the
cache that lets a killed run resume, the back ends),
:mod:`~placeplan.optimise.search` (first guess and search),
:mod:`~placeplan.optimise.select` (ranking and selection, verification),
:mod:`~placeplan.optimise.core` (:func:`optimise`, end to end) and
:mod:`~placeplan.optimise.outputs` (programme scenario, frontier, figure, report).
"""

from placeplan.optimise.candidates import CandidateSet, load_candidates
from placeplan.optimise.core import DEFAULT_MAX_EVALUATIONS, OptimiseResult, optimise
from placeplan.optimise.outputs import write_outputs
from placeplan.optimise.target import Target, parse_target

__all__ = [
    "DEFAULT_MAX_EVALUATIONS",
    "CandidateSet",
    "OptimiseResult",
    "Target",
    "load_candidates",
    "optimise",
    "parse_target",
    "write_outputs",
]
