"""Demand: a cohort projection of EHC plans by age × primary need, and the referrals it implies."""

from placeplan.demand.cohort import (
    cohort_step,
    expected_referrals,
    project,
    specialist_share,
)
from placeplan.demand.inputs import CohortInputs, cohort_inputs, stack

__all__ = [
    "CohortInputs",
    "cohort_inputs",
    "cohort_step",
    "expected_referrals",
    "project",
    "specialist_share",
    "stack",
]
