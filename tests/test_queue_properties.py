"""Properties of the placement model on random small scenarios (hypothesis)."""

from datetime import date

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placeplan.calendar import TermCalendar
from placeplan.model import Model
from placeplan.scenario import scenario_from_dict
from placeplan.streams import Streams

CAL = TermCalendar()
START = date(2025, 9, 1)
TERMS = 9  # three years


def term_start(k: int) -> date:
    return CAL.start_of_index(CAL.term_index(START) + k)


def fixed_scenario(
    referrals,
    places,
    *,
    leaving=None,
    panels=None,
    spread=False,
    designations=("A",),
    slippage=None,
    out_of_area=None,
):
    return scenario_from_dict(
        {
            "name": "prop",
            "title": "property test",
            "council": {"code": "E10000015", "name": "Hertfordshire"},
            "start": START,
            "years": 3,
            "demand": {
                "model": "fixed",
                "per_term": {d: list(referrals[i]) for i, d in enumerate(designations)},
                "arrival": "spread" if spread else "term_start",
            },
            "placement": {
                "designations": {d: {"places": 0} for d in designations},
                "panels": panels or {"every_days": None, "start_places": "immediate"},
                "leaving": leaving or {"end_of_year": {}, "mid_year_rate": 0.0},
                "out_of_area": out_of_area or {},
                "build_programme": [
                    {
                        "name": f"{d}{k}",
                        "designation": d,
                        "places": n,
                        "opens": term_start(k),
                        "slippage": slippage or {0: 1.0},
                    }
                    for i, d in enumerate(designations)
                    for k, n in enumerate(places[i])
                    if n > 0
                ],
            },
        }
    )


per_term = st.lists(st.integers(0, 12), min_size=TERMS, max_size=TERMS)


@given(per_term, per_term)
@settings(max_examples=60, deadline=None)
def test_fifo_limit_on_random_sequences(referrals, places):
    model = Model(fixed_scenario([referrals], [places]))
    rep = model.replicate(Streams(0, 0))
    cum_r, cum_v = np.cumsum(referrals), np.cumsum(places)
    t = model.snapshot_terms - CAL.term_index(START)
    m = rep.outcome.measures
    np.testing.assert_array_equal(m["waiting"][:, 0], np.maximum(cum_r[t] - cum_v[t], 0))
    over = [max(cum_r[x - 4] - cum_v[x], 0) if x >= 4 else 0 for x in t]
    np.testing.assert_array_equal(m["waiting_over_3_terms"][:, 0], over)


designations = st.integers(1, 3)


@st.composite
def random_scenarios(draw):
    n = draw(designations)
    names = tuple("ABC"[:n])
    referrals = [draw(per_term) for _ in names]
    places = [draw(per_term) for _ in names]
    leaving = {
        "end_of_year": {draw(st.integers(5, 12)): draw(st.floats(0, 1))},
        "mid_year_rate": draw(st.floats(0, 1.5)),
    }
    every = draw(st.one_of(st.none(), st.integers(1, 60), st.just("continuous")))
    panels = {
        "every_days": every,
        "start_places": draw(st.sampled_from(["next_term", "immediate"])),
    }
    slip = draw(st.floats(0, 1))
    out_of_area = {
        "after_terms": draw(st.one_of(st.none(), st.integers(0, 4))),
        "at_once": draw(st.lists(st.sampled_from(names), max_size=1, unique=True)),
        "yearly_cost_gbp": 50000.0,
    }
    return fixed_scenario(
        referrals,
        places,
        leaving=leaving,
        panels=panels,
        spread=draw(st.booleans()),
        designations=names,
        slippage={0: slip, 2: 1 - slip},
        out_of_area=out_of_area,
    )


@given(random_scenarios(), st.integers(0, 2**32))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_conservation_capacity_and_fifo_within_designation(scenario, seed):
    model = Model(scenario)
    rep = model.replicate(Streams(seed, 0))
    m = rep.outcome.measures
    np.testing.assert_array_equal(
        m["referred"],
        m["placed"] + m["waiting"] + m["left_while_waiting"] + m["placed_out_of_area"],
    )
    assert (m["occupied"] <= m["capacity"]).all()
    assert (m["waiting_over_3_terms"] <= m["waiting"]).all()
    offered, started = rep.outcome.offered, rep.outcome.started
    placed = np.isfinite(started)
    assert (rep.problem.leaves_list[placed] > started[placed]).all()
    assert (offered[placed] >= rep.children.time[placed]).all()
    # first come, first served within a designation: among children agreed by a panel
    # and still there, nobody is passed over by a later referral of the same designation
    for d in range(len(scenario.designations)):
        mine = np.flatnonzero(rep.children.designation == d)
        for i in mine[placed[mine]]:
            earlier = mine[mine < i]
            agreed = rep.problem.decided[earlier] <= offered[i]
            still_there = rep.problem.leaves_list[earlier] > started[i]
            passed_over = agreed & still_there & (offered[earlier] > offered[i])
            assert not passed_over.any()


@given(per_term, per_term, st.integers(1, 5))
@settings(max_examples=40, deadline=None)
def test_more_places_never_lengthen_the_list(referrals, places, extra):
    # with common random numbers (nothing random here) and FIFO, adding places
    # never increases the number waiting at any snapshot
    base = Model(fixed_scenario([referrals], [places])).replicate(Streams(1, 0))
    more = Model(fixed_scenario([referrals], [[p + extra for p in places]])).replicate(
        Streams(1, 0)
    )
    assert (more.outcome.measures["waiting"] <= base.outcome.measures["waiting"]).all()
    assert (
        more.outcome.measures["waiting_over_3_terms"]
        <= base.outcome.measures["waiting_over_3_terms"]
    ).all()


def test_term_start_ordering_referrals_on_the_first_day_can_be_placed_that_day():
    scenario = fixed_scenario([[3] + [0] * 8], [[3] + [0] * 8])
    rep = Model(scenario).replicate(Streams(0, 0))
    assert np.all(np.floor(rep.outcome.started) == START.toordinal())


@given(per_term, per_term, st.integers(0, 4))
@settings(max_examples=40, deadline=None)
def test_out_of_area_after_a_wait_means_nobody_waits_longer(referrals, places, after):
    scenario = fixed_scenario(
        [referrals], [places], out_of_area={"after_terms": after, "yearly_cost_gbp": 36525.0}
    )
    model = Model(scenario)
    rep = model.replicate(Streams(0, 0))
    m = rep.outcome.measures
    # nobody is still waiting once `after` whole terms have passed
    terms_waited = model.snapshot_terms[:, None] - rep.problem.referral_terms[None, :] - 1
    at = model.schedule.snapshots[:, None]
    waiting = (rep.children.time[None, :] <= at) & (rep.outcome.started[None, :] > at)
    waiting &= rep.problem.leaves_list[None, :] > at
    assert not (waiting & (terms_waited >= after)).any()
    if after <= 3:
        assert (m["waiting_over_3_terms"] == 0).all()
    # a child moved out of area stays there (nobody leaves here): cost = 100 GBP a day
    moved = np.isinf(rep.outcome.offered) & np.isfinite(rep.problem.exits.out_of_area)
    moved &= rep.problem.exits.out_of_area <= model.schedule.snapshots[-1]
    assert m["placed_out_of_area"][-1, 0] == moved.sum()
    days = model.schedule.snapshots[-1] - rep.problem.exits.out_of_area[moved]
    np.testing.assert_allclose(m["out_of_area_cost"][-1, 0], 100.0 * days.sum())
