"""Placement: the discrete-event model of the referral queue for special school places."""

from placeplan import measures as _measures
from placeplan.placement.engine import ENGINES, Engine, PlacementOutcome, simulate
from placeplan.placement.outputs import measure, time_in_system
from placeplan.placement.population import (
    Exits,
    Occupants,
    draw_exits,
    initial_list,
    initial_occupants,
)
from placeplan.placement.problem import PlacementProblem, Placements
from placeplan.placement.schedule import Schedule, make_schedule

MEASURES: tuple[str, ...] = _measures.placement_measures()
"""Names of the measures :func:`measure` records by designation (from :mod:`placeplan.measures`)."""

LOCALITY_MEASURES: tuple[str, ...] = tuple(m for m in _measures.by_locality() if m in MEASURES)
"""Names of the measures :func:`measure` also records by locality (from the table)."""

__all__ = [
    "ENGINES",
    "LOCALITY_MEASURES",
    "MEASURES",
    "Engine",
    "Exits",
    "Occupants",
    "PlacementOutcome",
    "PlacementProblem",
    "Placements",
    "Schedule",
    "draw_exits",
    "initial_list",
    "initial_occupants",
    "make_schedule",
    "measure",
    "simulate",
    "time_in_system",
]
