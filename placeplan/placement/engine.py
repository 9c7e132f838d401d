"""Running the placement model with either engine.

``epoch`` (default) is the fast engine of :mod:`placeplan.placement.epoch`;
``reference`` is the per-child model of :mod:`placeplan.placement.reference`. Both
decide the placements; the measures are computed from those decisions in one place
(:func:`placeplan.placement.outputs.measure`, driven by
:data:`placeplan.measures.MEASURES`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

import numpy as np

from placeplan.placement.epoch import simulate_epochs
from placeplan.placement.outputs import measure
from placeplan.placement.problem import PlacementProblem, Placements
from placeplan.placement.reference import simulate_reference

__all__ = ["ENGINES", "Engine", "PlacementOutcome", "simulate"]

Engine = Literal["epoch", "reference"]

ENGINES: dict[str, Callable[[PlacementProblem, float, float], Placements]] = {
    "epoch": simulate_epochs,
    "reference": simulate_reference,
}
"""The placement engines by name."""


@dataclass(frozen=True)
class PlacementOutcome:
    """What happened to every child, and the measures at each snapshot.

    Attributes
    ----------
    offered, started : numpy.ndarray
        Instant each child was offered a place and took it up (``inf`` never) [days].
    measures : dict of str to numpy.ndarray
        ``[snapshot, designation]`` arrays of the placement measures of
        :data:`placeplan.measures.MEASURES` (and ``NAME_by_locality``
        ``[snapshot, locality]`` arrays where the table says so).
    pool : numpy.ndarray
        Pool of the place offered to each child (``NO_POOL``: none).
    """

    offered: np.ndarray
    started: np.ndarray
    measures: dict[str, np.ndarray]
    pool: np.ndarray

    @property
    def placements(self) -> Placements:
        """The engine's decisions."""
        return Placements(self.offered, self.started, self.pool)


def simulate(
    problem: PlacementProblem,
    start: float,
    end: float,
    engine: Engine = "epoch",
    only: Collection[str] | None = None,
) -> PlacementOutcome:
    """Run one replication of the placement model.

    Parameters
    ----------
    problem : PlacementProblem
        The replication's children, places and schedule.
    start, end : float
        Day ordinals of the forecast's first day and the first day after it.
    engine : {"epoch", "reference"}
        Which engine decides the placements.
    only : collection of str, optional
        The measures to compute (:func:`~placeplan.placement.outputs.measure`); all if
        omitted.

    Returns
    -------
    PlacementOutcome
    """
    placements = ENGINES[engine](problem, start, end)
    return PlacementOutcome(
        placements.offered,
        placements.started,
        measure(problem, placements, only),
        placements.pool,
    )
