"""The queueing truths of DOMAIN.md, each with its scenario in scenarios/validation/."""

import math

import numpy as np
import pytest
from scipy import stats

import placeplan as pp
from placeplan.model import Model
from placeplan.placement import ENGINES, measure, time_in_system
from placeplan.streams import Streams

YEAR = 365.25


def erlang_c_wait(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue of M/M/c: C(c, a) / (c mu - lam), a = lam / mu."""
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    bottom = sum(a**k / math.factorial(k) for k in range(c)) + top
    return top / bottom / (c * mu - lam)


def test_erlang_c_formula():
    assert erlang_c_wait(10, 9.0, 1.0) == pytest.approx(0.66873, abs=5e-6)


def test_erlang_c_mean_wait():
    """The 99% confidence interval of the simulated mean wait contains 0.66873 years."""
    model = Model(pp.load_scenario("validation/erlang-c"))
    s = model.scenario
    assert s.placement.designations["ANY"].places == 10 and s.demand.rate["ANY"] == 9.0
    # a heavily loaded queue (rho = 0.9) forgets its start slowly (over decades), and
    # waits have an exponential tail of rate c mu - lam = 1 a year: judge children
    # referred after 50 years and more than 15 years before the end (all served)
    warm, cool = model._start + 50 * YEAR, model._end - 15 * YEAR
    means = []
    for r in range(400):
        rep = model.replicate(Streams(20251123, r))
        t, started = rep.children.time, rep.outcome.started
        window = (t >= warm) & (t < cool)
        assert np.isfinite(started[window]).all()  # everyone in the window was served
        means.append(np.mean(started[window] - t[window]) / YEAR)
    means = np.array(means)
    half = stats.t.ppf(0.995, len(means) - 1) * means.std(ddof=1) / np.sqrt(len(means))
    assert means.mean() - half <= 0.66873 <= means.mean() + half, (means.mean(), half)
    assert half < 0.1  # and the interval is tight enough to mean something


EXACT = {5: 13.419, 10: 19.791, 15: 17.790, 20: 16.779, 25: 12.199, 30: 10.595}


def test_growing_capacity_mean_number_in_system():
    """E[N(t)] matches the exact values of the forward Kolmogorov equations."""
    model = Model(pp.load_scenario("validation/growing-capacity"))
    years = np.round((model.schedule.snapshots - model._start) / YEAR, 6)
    assert list(years) == [5, 10, 15, 20, 25, 30]
    n = np.array(
        [
            (m := model.replicate(Streams(7, r)).outcome.measures)["waiting"][:, 0]
            + m["occupied"][:, 0]
            for r in range(1000)
        ]
    )
    mean, se = n.mean(axis=0), n.std(axis=0, ddof=1) / np.sqrt(len(n))
    exact = np.array([EXACT[int(y)] for y in years])
    z = (mean - exact) / se
    assert np.all(np.abs(z) < 3.5), list(zip(mean.round(3), exact, z.round(2), strict=True))
    # the capacity steps are the scenario's own
    assert list(m["capacity"][:, 0]) == [8, 10, 10, 12, 12, 12]


@pytest.mark.parametrize("name", sorted(pp.bundled_scenarios()))
def test_littles_identity_on_every_run(name):
    """Area under the number in the system = sum of each child's time in it, to rounding."""
    model = Model(pp.load_scenario(name))
    for r in range(2):
        _, problem, _ = model.problem(Streams(99, r))
        placements = ENGINES["reference"](problem, model._start, model._end)
        total = time_in_system(problem, placements, model._start, model._end).sum()
        assert placements.area_in_system == pytest.approx(total, rel=1e-9, abs=1e-6)
        # and the epoch engine's decisions give the same time in the system
        fast = ENGINES["epoch"](problem, model._start, model._end)
        assert time_in_system(problem, fast, model._start, model._end).sum() == pytest.approx(
            total, rel=1e-12
        )
        # the measures count the same children in the system at each snapshot: those
        # waiting, plus the places held, less the pupils there at the start and the
        # children offered a place they have not yet taken up (counted as both)
        m = measure(problem, placements)
        t = problem.children.time
        leaves = np.where(
            np.isfinite(placements.started),
            problem.leaves_places(placements),
            problem.leaves_list,
        )
        for k, now in enumerate(problem.schedule.snapshots):
            in_system = ((t <= now) & (now < leaves)).sum()
            pupils = (problem.occupants.exit > now).sum()
            offered = ((placements.offered <= now) & (now < placements.started)).sum()
            counted = m["waiting"][k].sum() + m["occupied"][k].sum() - pupils - offered
            assert counted == in_system, (name, r, k)
