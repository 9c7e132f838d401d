"""A pytest plugin for mutation runs: fewer Hypothesis examples per property.

Loaded by tools/mutation.py (``-p mutation_hypothesis``) so that a surviving mutant,
which runs every test that reaches it, costs seconds rather than minutes. Each
``@given`` test keeps its own settings but runs at most ``MUTATION_EXAMPLES``
examples (default 10), with its ``@example`` cases always.
"""

from __future__ import annotations

import os

from hypothesis import settings


def pytest_collection_modifyitems(items) -> None:
    """Cap ``max_examples`` of every Hypothesis test collected."""
    cap = int(os.environ.get("MUTATION_EXAMPLES", "10"))
    for item in items:
        test = getattr(item, "obj", None)
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        if own is not None and own.max_examples > cap:
            test._hypothesis_internal_use_settings = settings(own, max_examples=cap)
