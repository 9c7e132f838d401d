"""Placement: the discrete-event model of the referral queue for special school places."""

from placeplan.placement.engine import MEASURES, PlacementOutcome, PlacementProblem, simulate
from placeplan.placement.population import Occupants, draw_exits, initial_list, initial_occupants
from placeplan.placement.schedule import Schedule, make_schedule

__all__ = [
    "MEASURES",
    "Occupants",
    "PlacementOutcome",
    "PlacementProblem",
    "Schedule",
    "draw_exits",
    "initial_list",
    "initial_occupants",
    "make_schedule",
    "simulate",
]
