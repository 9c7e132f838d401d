"""The feed from the pathway to places: referrals from new plans move with time to plan."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from placeplan.demand.referrals import Referrals
from placeplan.model import Model
from placeplan.pathway.engine import PathwayDraw
from placeplan.pathway.feed import new_plan_share, shift_referrals
from placeplan.scenario import load_scenario, scenario_from_dict
from placeplan.streams import Streams

START, END = date(2025, 1, 6), date(2029, 1, 6)


def _draw(weeks_by_year: dict[int, float]) -> PathwayDraw:
    """Plans issued mid-year, each taking the year's time to plan."""
    issued = np.array([date(y, 7, 1).toordinal() for y in weeks_by_year], dtype=float)
    requested = issued - 7 * np.array(list(weeks_by_year.values()))
    n = len(issued)
    nan = np.full(n, np.nan)
    return PathwayDraw(
        requested,
        nan,
        nan,
        np.full(n, 4, np.int8),
        issued,
        np.zeros(n, np.int16),
        np.full(n, -1, np.int8),
    )


def _referrals(n=400, seed=0) -> Referrals:
    rng = np.random.default_rng(seed)
    t = np.sort(START.toordinal() + rng.random(n) * (END.toordinal() - START.toordinal()))
    return Referrals(t, rng.integers(4, 15, n), rng.integers(0, 13, n), np.zeros(n, int))


def test_a_faster_pathway_moves_referrals_earlier_and_keeps_every_child():
    refs = _referrals()
    u = np.random.default_rng(1).random(len(refs))
    share = np.full(26, 0.5)
    same = _draw({2025: 30, 2026: 30, 2027: 30, 2028: 30})
    faster = _draw({2025: 30, 2026: 24, 2027: 18, 2028: 16})
    slower = _draw({2025: 30, 2026: 36, 2027: 44, 2028: 50})
    kept0, _ = shift_referrals(refs, same, share, u, START, END)
    assert np.array_equal(kept0.time, refs.time)  # no change in time to plan: no move
    kept1, r1 = shift_referrals(refs, faster, share, u, START, END)
    kept2, r2 = shift_referrals(refs, slower, share, u, START, END)
    # every referral moves earlier (later): so does each order statistic
    assert np.all(kept1.time <= refs.time) and kept1.time.sum() < refs.time.sum()
    assert np.all(kept2.time >= refs.time[: len(kept2)])
    assert r1.into_earlier_year.sum() > 0 and r1.into_later_year.sum() == 0
    assert r2.into_later_year.sum() > 0 and r2.into_earlier_year.sum() == 0
    for kept, report in ((kept1, r1), (kept2, r2)):
        assert len(kept) + report.past_end == len(refs)  # children conserved
        assert np.all(np.diff(kept.time) >= 0)
    assert r2.past_end > 0
    # only referrals from new plans move: as many as the uniforms below the share
    moved = np.count_nonzero(u < 0.5)
    assert r1.from_new_plans.sum() == moved
    # the shift of a year is its mean time to plan less the first year's
    np.testing.assert_allclose(r1.shift_weeks, [0, -6, -12, -14, -14])


def test_an_age_moves_with_its_referral_across_september():
    t = np.array([float(date(2026, 8, 20).toordinal())])
    refs = Referrals(t, np.array([7]), np.array([0]), np.array([0]))
    later = _draw({2025: 10, 2026: 14, 2027: 14, 2028: 14})  # +4 weeks: into September
    kept, _ = shift_referrals(refs, later, np.ones(26), np.zeros(1), START, END)
    assert kept.time[0] > date(2026, 9, 1).toordinal()
    assert kept.age[0] == 8


def test_new_plan_share_is_new_plans_needing_a_place_over_referrals():
    new_plans = np.zeros((26, 2))
    new_plans[5] = [10, 10]
    special = np.full((26, 2), 0.25)
    inflow = np.zeros((26, 2))
    inflow[5] = [2, 3]
    inflow[9] = [1, 1]
    share = new_plan_share(new_plans, special, inflow)
    assert share[5] == pytest.approx(1.0)  # 5 expected from new plans of 5 referrals
    assert share[9] == 0.0 and share[0] == 0.0
    inflow[5] = [10, 10]
    assert new_plan_share(new_plans, special, inflow)[5] == pytest.approx(0.25)


@pytest.fixture(scope="module")
def herts():
    return load_scenario("scenarios/herts-pathway.yaml")


def _with(scenario, **pathway):
    data = scenario.model_dump(mode="json", by_alias=True)
    data["years"] = 4
    for key, value in pathway.items():
        node = data["pathway"]
        *path, last = key.split(".")
        for k in path:
            node = node[k]
        node[last] = value
    return scenario_from_dict(data, check_data=False)


def test_more_psychologists_bring_place_referrals_forward_on_the_same_draws(herts):
    """Psychologists short (35 FTE against about 45 needed): 30 more from September 2025."""
    base = _with(herts, **{"staff.psychologists.fte": 35})
    more = _with(
        herts,
        **{
            "staff.psychologists.fte": 35,
            "staff.psychologists.changes": [
                {"name": "more", "from": "2025-09-01", "fte": 30, "lead_weeks": 0}
            ],
        },
    )
    a = Model(base).replicate(Streams(3, 0))
    b = Model(more).replicate(Streams(3, 0))
    # the same requests, faster plans
    assert np.array_equal(a.pathway.requested, b.pathway.requested)
    assert np.nanmean(b.pathway.weeks_to_plan) < np.nanmean(a.pathway.weeks_to_plan)
    ra, rb = a.demand.referrals, b.demand.referrals
    assert len(rb) >= len(ra)  # fewer moved past the end
    assert rb.time[: len(ra)].sum() < ra.time.sum()
    assert b.feed.into_earlier_year.sum() > a.feed.into_earlier_year.sum()


def test_the_pathway_without_its_feed_leaves_the_places_as_they_were(herts):
    """Its draws come from their own streams: the place queue is bit-identical."""
    baseline = load_scenario("herts-baseline")
    data = baseline.model_dump(mode="json", by_alias=True)
    data["years"] = 3
    plain = scenario_from_dict(data, check_data=False)
    quiet = _with(herts, **{"feed.shift_referrals": False})
    data = quiet.model_dump(mode="json", by_alias=True)
    data["years"] = 3
    quiet = scenario_from_dict(data, check_data=False)
    a = Model(plain).replicate(Streams(4, 0))
    b = Model(quiet).replicate(Streams(4, 0))
    assert a.pathway is None and b.pathway is not None and b.feed is None
    assert np.array_equal(a.demand.referrals.time, b.demand.referrals.time)
    for name, values in a.outcome.measures.items():
        assert np.array_equal(values, b.outcome.measures[name]), name
