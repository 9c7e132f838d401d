"""Placement: the discrete-event model of the referral queue for special school places."""

from placeplan.placement.engine import ENGINES, Engine, PlacementOutcome, simulate
from placeplan.placement.population import (
    Exits,
    Occupants,
    draw_exits,
    initial_list,
    initial_occupants,
)
from placeplan.placement.problem import (
    LOCALITY_MEASURES,
    MEASURES,
    PlacementProblem,
    Placements,
    measure,
    time_in_system,
)
from placeplan.placement.schedule import Schedule, make_schedule

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
