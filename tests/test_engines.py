"""The epoch engine and the per-child reference place the same children on the same dates."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_queue_properties import random_scenarios

import placeplan as pp
from placeplan.model import Model
from placeplan.placement import simulate
from placeplan.streams import Streams


def assert_same_placements(model, streams):
    _, problem, _ = model.problem(streams)
    fast = simulate(problem, model._start, model._end, "epoch")
    slow = simulate(problem, model._start, model._end, "reference")
    np.testing.assert_array_equal(fast.offered, slow.offered)
    np.testing.assert_array_equal(fast.started, slow.started)
    for name, values in fast.measures.items():
        np.testing.assert_array_equal(values, slow.measures[name], err_msg=name)
    return problem, fast


@pytest.mark.parametrize("name", sorted(pp.bundled_scenarios()))
def test_engines_agree_on_bundled_scenarios(name):
    model = Model(pp.load_scenario(name))
    for replicate in range(2):
        _, fast = assert_same_placements(model, Streams(2024, replicate))
        if name == "herts-baseline":
            assert np.isfinite(fast.started).sum() > 1000  # a real test: many placements


@given(random_scenarios(), st.integers(0, 2**32))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_engines_agree_on_random_small_scenarios(scenario, seed):
    assert_same_placements(Model(scenario), Streams(seed, 0))


def test_run_with_the_reference_engine_gives_the_same_dataset():
    import xarray as xr

    a = pp.run("herts-baseline", replications=2, seed=3).dataset
    b = pp.run("herts-baseline", replications=2, seed=3, engine="reference").dataset
    xr.testing.assert_identical(a.drop_attrs(deep=False), b.drop_attrs(deep=False))
