"""The deterministic FIFO limit of DOMAIN.md, exactly.

With fixed referrals R_k and new places V_k in each term k, FIFO and nobody
leaving, a child referred in term k at queue position p (1-based, over all
referrals so far) waits longer than three terms exactly when the cumulative places
up to term k + 3 are fewer than p. At a census in term t the list holds
max(0, R(t) - V(t)) children, of whom max(0, R(t-4) - V(t)) have waited longer
than three terms (cumulative R and V).
"""

import numpy as np
import pytest

import placeplan as pp
from placeplan.bundled import bundled_scenarios
from placeplan.model import Model
from placeplan.streams import Streams


@pytest.fixture(scope="module")
def fifo():
    scenario = pp.load_scenario(bundled_scenarios()["validation/fifo-deterministic"])
    model = Model(scenario)
    rep = model.replicate(Streams(0, 0))
    terms = len(model.schedule.term_starts)
    per_term = scenario.demand.per_term["ANY"]
    referrals = np.array([per_term[min(k, len(per_term) - 1)] for k in range(terms)])
    places = np.zeros(terms, dtype=int)
    first = model.calendar.term_index(scenario.start)
    for project in scenario.placement.build_programme:
        places[model.calendar.term_index(project.opens) - first] += project.places
    return model, rep, np.cumsum(referrals), np.cumsum(places)


def test_each_child_waits_longer_than_three_terms_exactly_when_the_truth_says(fifo):
    model, rep, _, cum_v = fifo
    first = model.calendar.term_index(model.scenario.start)
    k = model.calendar.term_indices(rep.children.time) - first
    position = np.arange(1, len(k) + 1)
    truth = np.array(
        [cum_v[min(kk + 3, len(cum_v) - 1)] < p for kk, p in zip(k, position, strict=True)]
    )
    end = model.scenario.end.toordinal()
    until = np.minimum(rep.outcome.started, end)
    waited = model.calendar.term_indices(until) - model.calendar.term_indices(rep.children.time) - 1
    observed = waited >= 3
    # Children referred in the last three terms cannot be judged within the horizon.
    judged = k + 3 < len(cum_v)
    assert judged.sum() > 20
    np.testing.assert_array_equal(observed[judged], truth[judged])
    assert truth[judged].sum() == 14  # the scenario was built to have 14 such children


def test_census_counts_match_the_cumulative_formula(fifo):
    model, rep, cum_r, cum_v = fifo
    first = model.calendar.term_index(model.scenario.start)
    t = model.snapshot_terms - first
    waiting = np.maximum(cum_r[t] - cum_v[t], 0)
    over = np.array([max(cum_r[tt - 4] - cum_v[tt], 0) if tt >= 4 else 0 for tt in t])
    np.testing.assert_array_equal(rep.outcome.measures["waiting"][:, 0], waiting)
    np.testing.assert_array_equal(rep.outcome.measures["waiting_over_3_terms"][:, 0], over)
    assert over.max() > 0


def test_fifo_order_is_kept(fifo):
    _, rep, _, _ = fifo
    started = rep.outcome.started[np.isfinite(rep.outcome.started)]
    assert np.all(np.diff(started) >= 0)
