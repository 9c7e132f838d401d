"""Random number streams: one per replication and per source of randomness.

A run has one root :class:`numpy.random.SeedSequence` whose entropy is recorded in
its provenance. Replication ``r`` draws source ``s`` from the sequence with spawn
key ``(r, s)``, so two scenarios run with the same seed share the numbers of every
source they share (common random numbers), and a replication's numbers do not
depend on which worker runs it or on how many replications there are.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

from placeplan.seeding import generator

__all__ = [
    "ASSUMPTIONS",
    "LEVER_FIELDS",
    "SOURCES",
    "STAFF_SLOTS",
    "Streams",
    "assumption_slot",
    "root_entropy",
]

SOURCES: dict[str, int] = {
    "parameters": 0,
    "referrals": 1,
    "exits": 2,
    "initial": 3,
    "slippage": 4,
    "localities": 5,
    "out_of_school": 6,
    "assumptions": 7,
    "need": 8,
    "elsewhere": 9,
    "independent": 10,
    "pathway": 11,
    "pathway_feed": 12,
}
"""Sources of randomness and their fixed spawn-key slot. Append only: never renumber."""

ASSUMPTIONS: dict[str, int] = {
    "demand.new_plans_growth": 0,
    "demand.specialist_share_trend": 1,
    "demand.new_plans_growth_damping": 2,
    "demand.need_recoding": 3,
    "demand.starting_state.list_share_of_educated_elsewhere": 4,
    "demand.starting_state.list_mean_terms_waited": 5,
    "demand.ceasing_scale": 6,
    "placement.out_of_area.rate": 7,
    "pathway.requests.growth": 8,
    "pathway.outcomes.withdrawn": 9,
    "pathway.outcomes.assess": 10,
    "pathway.outcomes.issue": 11,
    "pathway.stages.decision.delay_weeks": 12,
    "pathway.stages.assessment.delay_weeks": 13,
    "pathway.stages.plan.delay_weeks": 14,
}
"""Parameters a scenario may give as a distribution, and the fixed slot of each one's
stream. Each draws one uniform per replication from its own stream, so pinning one
(``placeplan sensitivity``) leaves every other draw unchanged. Append only."""


LEVER_FIELDS: tuple[str, ...] = ("new_plans_factor", "specialist_need_factor")
"""The uncertain fields of a dated demand lever (``demand.levers.<i>.<field>``). Append only."""

_LEVER = re.compile(r"demand\.levers\.(\d+)\.(\w+)")
_STAFF = re.compile(r"pathway\.staff\.([A-Za-z][A-Za-z0-9_]*)\.days_per_year")

STAFF_SLOTS = 1 << 32
"""Slots of the staff groups' ``days_per_year``: ``STAFF_SLOTS + crc32(group name)``."""


def assumption_slot(path: str) -> int:
    """The fixed stream slot of an assumption: :data:`ASSUMPTIONS`, or a lever's field.

    Lever ``i``'s fields take slots ``1000 + 10 i + k`` (``k`` their place in
    :data:`LEVER_FIELDS`), so adding a lever moves no other draw. A pathway staff
    group's working days (``pathway.staff.<group>.days_per_year``) take slot
    ``STAFF_SLOTS + crc32(group)``: fixed by the group's name, so adding, removing
    or reordering groups moves no other group's draw.

    Raises
    ------
    KeyError
        If ``path`` names no assumption.
    """
    if path in ASSUMPTIONS:
        return ASSUMPTIONS[path]
    match = _LEVER.fullmatch(path)
    if match and match[2] in LEVER_FIELDS and int(match[1]) < 100:
        return 1000 + 10 * int(match[1]) + LEVER_FIELDS.index(match[2])
    match = _STAFF.fullmatch(path)
    if match:
        return STAFF_SLOTS + zlib.crc32(match[1].encode())
    raise KeyError(path)


def root_entropy(seed: int | None) -> int:
    """The entropy of a run's root seed sequence: the seed, or fresh entropy if None."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    return int(seed)


@dataclass(frozen=True)
class Streams:
    """The random generators of one replication.

    Parameters
    ----------
    entropy : int
        Root entropy of the run (see :func:`root_entropy`).
    replicate : int
        Replication number, from 0.

    """

    entropy: int
    replicate: int

    def rng(self, source: str) -> np.random.Generator:
        """A fresh generator for one source of randomness of this replication.

        ``default_rng(SeedSequence(entropy, spawn_key=(replicate, slot)))``, seeded by
        the compiled hash (:func:`placeplan.seeding.generator`): the same numbers.
        """
        return generator(self.entropy, (self.replicate, SOURCES[source]))

    def assumption(self, name: str) -> float:
        """The uniform draw in (0, 1) of one assumption (:data:`ASSUMPTIONS`) here."""
        key = (self.replicate, SOURCES["assumptions"], assumption_slot(name))
        return float(generator(self.entropy, key).random())
