"""Flexible designations: a child may be offered places of other designations, in order.

A child's route names the designations whose places it may be offered, its own
first: its need's ranked list (``demand.need_designation``), then each designation
whose places ``also_serve`` its own. At a decision epoch places are offered in
rounds (``rules.offer_steps``): in round ``r``, designation by designation, to the
children still waiting whose route names that designation ``r``-th, first come
first served within priority class. So every child is offered its own
designation's places before any child falls back on them. Each test here fails
when that rule is broken: the rounds swapped, a fallback child served before the
designation's own children, fallback children served by designation rather than
by referral, a place given outside a child's route.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest
from handmade import START, day, make_problem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_queue_properties import fixed_scenario
from test_validation import _line, _rejected, _write

import placeplan as pp
from placeplan.bundled import bundled_scenarios
from placeplan.model import Model
from placeplan.placement import ENGINES, simulate
from placeplan.placement import rules as R  # noqa: N812
from placeplan.placement.schedule import AT_TERM_START
from placeplan.scenario import NEEDS, CohortDemand, scenario_from_dict
from placeplan.streams import Streams

END = day(date(2028, 9, 1))
SPRING = day(date(2026, 1, 5), AT_TERM_START)  # the default rules' term starts
SUMMER = day(date(2026, 4, 13), AT_TERM_START)
INF = np.inf


def run_both(p, end=END):
    """Both engines' placements, checked identical (offers, take-ups and pools)."""
    fast = ENGINES["epoch"](p, p.start, end)
    slow = ENGINES["reference"](p, p.start, end)
    np.testing.assert_array_equal(fast.offered, slow.offered)
    np.testing.assert_array_equal(fast.started, slow.started)
    np.testing.assert_array_equal(fast.pool, slow.pool)
    return fast


def with_routes(p, routes, route, priority=None):
    """The problem with each child's route (and priority class) given."""
    return dataclasses.replace(
        p,
        routes=tuple(tuple(r) for r in routes),
        route=np.asarray(route, dtype=np.int64),
        priority_class=None if priority is None else np.asarray(priority, dtype=np.int64),
    )


# --------------------------------------------------------------------------- the rule
def test_routes_are_the_needs_list_then_the_designations_that_also_serve_it():
    also_serves = [[], [0, 2], [], [0]]  # 1 serves 0 and 2; 3 serves 0
    assert R.designation_route([0], also_serves) == (0, 1, 3)
    assert R.designation_route([0, 3], also_serves) == (0, 3, 1)  # listed first, no repeat
    assert R.designation_route([2], also_serves) == (2, 1)
    assert R.designation_route([1, 1, 2], also_serves) == (1, 2)
    assert R.designation_route([3], [[], [], [], []]) == (3,)
    with pytest.raises(ValueError, match="own designation"):
        R.designation_route([], also_serves)


def test_an_epoch_offers_every_designation_in_round_0_before_any_fallback():
    assert R.offer_steps(1, 3) == [(0, 0), (0, 1), (0, 2)]
    assert R.offer_steps(2, 2) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert R.offered_in((2, 0), (0, 2)) and R.offered_in((2, 0), (1, 0))
    assert not R.offered_in((2, 0), (0, 0)) and not R.offered_in((2, 0), (2, 0))
    assert R.offered_at((2, 0), 1) == 0 and R.offered_at((2, 0), 2) is None


@pytest.mark.parametrize(
    ("routes", "route", "message"),
    [
        ([(1, 0)], [0, 0], "start at its own designation"),
        ([(0, 0)], [0, 0], "distinct designations"),
        ([(0, 5)], [0, 0], "distinct designations"),
        ([()], [0, 0], "at least one"),
        ([(0, 1)], [0], "1 rows for 2 children"),
        ([(0, 1)], [0, 1], "not one of the 1 routes"),
    ],
)
def test_a_problem_refuses_routes_that_do_not_fit_its_children(routes, route, message):
    p = make_problem([day(START) + 1, day(START) + 2], designation=[0, 0],
                     pools=[(0, 0, 0, 25, 1), (1, 0, 0, 25, 1)])  # fmt: skip
    with pytest.raises(ValueError, match=message):
        with_routes(p, routes, route)


# ------------------------------------------------------------ a hand-worked example
MLD, SLD = 0, 1


def mld_and_sld(every_days=None):
    """No MLD places; one SLD place, and two more from 1 March 2026.

    Children: c0 MLD (may take SLD), c1 SLD, c2 MLD (may take SLD), c3 SLD referred
    after the spring term start, c4 MLD (MLD places only).
    """
    referred = [day(date(2025, 9, 10)), day(date(2025, 9, 20)), day(date(2025, 10, 1)),
                day(date(2026, 2, 1)), day(date(2026, 2, 10))]  # fmt: skip
    p = make_problem(
        referred,
        designation=[MLD, SLD, MLD, SLD, MLD],
        pools=[(MLD, 0, 0, 25, 0), (SLD, 0, 0, 25, 1)],
        openings=((day(date(2026, 3, 1)), 1, 2),),
        every_days=every_days,
        start_places="immediate",
    )
    return with_routes(p, [(MLD, SLD), (SLD,), (MLD,)], [0, 1, 0, 1, 2])


def test_an_mld_child_takes_an_empty_sld_place_only_after_sld_children():
    out = run_both(mld_and_sld())
    # spring term start: the one SLD place goes to the SLD child c1, though the MLD
    # child c0 was referred first
    assert out.started[1] == SPRING and out.pool[1] == 1
    # summer term start: two SLD places; the SLD child c3 (referred in February) is
    # offered one first, then the MLD child c0, first come first served
    assert out.started[3] == SUMMER and out.pool[3] == 1
    assert out.started[0] == SUMMER and out.pool[0] == 1
    # no place left for c2; c4 may not take SLD places at all
    assert out.started[2] == INF and out.started[4] == INF
    assert list(out.pool[[2, 4]]) == [R.NO_POOL, R.NO_POOL]


def test_without_routes_the_mld_children_wait_and_the_sld_places_stand_empty():
    p = dataclasses.replace(mld_and_sld(), routes=(), route=None)
    out = run_both(p)
    assert list(out.started) == [INF, SPRING, INF, SUMMER, INF]


def test_in_continuous_mode_a_fallback_waits_for_own_children_at_the_same_instant():
    t = day(START) + 10
    p = make_problem([t, t, t + 5], designation=[MLD, SLD, MLD],
                     pools=[(MLD, 0, 0, 25, 0), (SLD, 0, 0, 25, 1)],
                     openings=((t + 3, 1, 1),), every_days="continuous",
                     start_places="immediate")  # fmt: skip
    out = run_both(with_routes(p, [(MLD, SLD), (SLD,)], [0, 1, 0]))
    assert out.started[1] == t  # the SLD child, referred at the same instant as c0
    assert out.started[0] == t + 3  # the MLD child: the place that opens next
    assert out.started[2] == INF


def test_a_child_takes_its_own_designations_place_before_another_it_may_take():
    # A = 0, B = 1, one free place each; the B child may also take A places. It is
    # offered its own designation first, so the later A child still finds its place.
    t = day(START) + 10
    p = make_problem([t, t + 1], designation=[1, 0],
                     pools=[(0, 0, 0, 25, 1), (1, 0, 0, 25, 1)])  # fmt: skip
    out = run_both(with_routes(p, [(1, 0), (0,)], [0, 1]))
    assert list(out.pool) == [1, 0]
    assert list(out.started) == [SPRING, SPRING]


@pytest.mark.parametrize(("priority", "placed"), [(None, 0), ([1, 0, 0], 1)])
def test_fallback_children_are_offered_places_in_referral_order_within_priority(priority, placed):
    # A = 0 and B = 1 have no places; C = 2 has one. The B child b0 was referred
    # first, the A child a1 second: first come first served across designations
    # (unless a1 is out of school and served first).
    t = day(START) + 10
    p = make_problem([t, t + 1, t + 2], designation=[1, 0, 2],
                     pools=[(0, 0, 0, 25, 0), (1, 0, 0, 25, 0), (2, 0, 0, 25, 1)],
                     occupants=[(2, SUMMER)])  # fmt: skip
    out = run_both(with_routes(p, [(1, 2), (0, 2), (2,)], [0, 1, 2], priority))
    # the C child c2 is offered the C place first, when its pupil leaves; nobody
    # else gets one before
    assert out.started[2] == SUMMER and out.pool[2] == 2
    assert np.isfinite(out.started).sum() == 1
    # with two more C places, the first fallback in order takes the second
    two = dataclasses.replace(p, capacity=np.array([0, 0, 3]))
    out = run_both(with_routes(two, [(1, 2), (0, 2), (2,)], [0, 1, 2], priority))
    assert out.started[2] == SPRING  # own designation first
    assert out.started[placed] == SPRING and out.pool[placed] == 2
    assert out.started[1 - placed] == SUMMER  # the occupant's place, when it frees


def test_a_fallback_place_is_in_the_childs_locality_order():
    # two SLD schools, one in each locality; the MLD child of locality 1 is offered
    # the SLD school of its own locality first
    t = day(START) + 10
    p = make_problem([t], designation=[MLD], locality=[1],
                     pools=[(MLD, 0, 0, 25, 0), (SLD, 0, 0, 25, 1), (SLD, 1, 0, 25, 1)],
                     neighbours=[[1], [0]])  # fmt: skip
    out = run_both(with_routes(p, [(MLD, SLD)], [0]))
    assert out.pool[0] == 2


# ------------------------------------------------------------- random small problems
@st.composite
def routed_problems(draw):
    """Random small problems: pools of up to three designations in two localities, of
    random ages and places; children of random designation, locality, age, stay and
    patience; random routes (several for one designation), priority, openings and
    panels (none, fortnightly, monthly, continuous)."""
    nd = draw(st.integers(1, 3))
    n_loc = draw(st.integers(1, 2))
    pools = []
    for _ in range(draw(st.integers(1, 5))):
        lo = draw(st.integers(3, 12))
        pools.append((draw(st.integers(0, nd - 1)), draw(st.integers(0, n_loc - 1)), lo,
                      draw(st.integers(lo, 16)), draw(st.integers(0, 3))))  # fmt: skip
    pools += [(d, 0, 0, 25, 0) for d in range(nd)]  # every designation has a pool
    n = draw(st.integers(1, 40))
    span = 2 * 365.0
    times = sorted(draw(st.lists(st.floats(0, span), min_size=n, max_size=n)))
    referred = [day(START) - 30 + t for t in times]
    never = st.just(INF)
    p = make_problem(
        referred,
        age=draw(st.lists(st.integers(3, 14), min_size=n, max_size=n)),
        designation=(own := draw(st.lists(st.integers(0, nd - 1), min_size=n, max_size=n))),
        locality=draw(st.lists(st.integers(0, n_loc - 1), min_size=n, max_size=n)),
        pools=pools,
        neighbours=[[1], [0]][:n_loc] if n_loc == 2 else None,
        stay=draw(st.lists(st.one_of(never, st.floats(1, 400)), min_size=n, max_size=n)),
        patience=draw(st.lists(st.one_of(never, st.floats(1, 400)), min_size=n, max_size=n)),
        openings=tuple(
            sorted(
                (day(START) + draw(st.floats(0, span)), q, draw(st.integers(-1, 3)))
                for q in draw(st.lists(st.integers(0, len(pools) - 1), max_size=3))
            )
        ),
        every_days=draw(st.sampled_from([None, 14, 30, "continuous"])),
        start_places=draw(st.sampled_from(["next_term", "immediate"])),
        years=2,
    )
    routes = []
    for d in range(nd):
        for _ in range(draw(st.integers(1, 2))):
            others = draw(st.permutations([x for x in range(nd) if x != d]))
            routes.append((d, *others[: draw(st.integers(0, len(others)))]))
    of = [[k for k, r in enumerate(routes) if r[0] == d] for d in range(nd)]
    route = [draw(st.sampled_from(of[d])) for d in own]
    priority = draw(st.one_of(st.none(), st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    return with_routes(p, routes, route, priority)


@given(routed_problems())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_engines_agree_on_random_problems_with_routes(p):
    end = p.start + 2 * 365
    out = run_both(p, end)
    placed = np.flatnonzero(out.pool != R.NO_POOL)
    for i in placed:  # never a place of a designation not in the child's route
        assert p.pools.designation[out.pool[i]] in p.route_of(int(i))
    # the measures agree too (they are computed once from the placements)
    fast = simulate(p, p.start, end, "epoch").measures
    slow = simulate(p, p.start, end, "reference").measures
    for name, values in fast.items():
        np.testing.assert_array_equal(values, slow[name], err_msg=name)


def test_a_child_never_gets_a_place_outside_its_route():
    # free places of every designation but one: a child whose route lacks it waits
    t = day(START) + 10
    p = make_problem([t, t], designation=[0, 0],
                     pools=[(0, 0, 0, 25, 0), (1, 0, 0, 25, 5), (2, 0, 0, 25, 5)])  # fmt: skip
    out = run_both(with_routes(p, [(0, 2), (0,)], [0, 1]))
    assert out.pool[0] == 2 and out.pool[1] == R.NO_POOL


# -------------------------------------------------------------------- the scenario
def served(also_serves, per_term_a=(2, 2, 0), per_term_b=(1, 0), places_b=(3,)):
    """A fixed-referral scenario: designation A without places, B with some."""
    base = fixed_scenario([list(per_term_a), list(per_term_b)], [[0], list(places_b)],
                          designations=("A", "B"))  # fmt: skip
    data = base.model_dump()
    data["placement"]["designations"]["B"]["also_serves"] = list(also_serves)
    return scenario_from_dict(data)


def test_also_serves_offers_places_to_the_other_designations_children_after_its_own():
    model = Model(served(["A"]))
    routes, route = model.child_routes(model.problem(Streams(0, 0))[1].children)
    rep = model.replicate(Streams(0, 0))
    p, out = rep.problem, rep.outcome
    np.testing.assert_array_equal(run_both(p, model._end).pool, out.pool)
    a = p.children.designation == 0
    assert [routes[k] for k in route[a]] == [(0, 1)] * int(a.sum())
    assert [routes[k] for k in route[~a]] == [(1,)] * int((~a).sum())
    # the 3 B places: the B child first, then the first two A children, in order
    assert np.isfinite(out.started[~a]).all()
    assert (p.pools.designation[out.pool[np.isfinite(out.started)]] == 1).all()
    assert np.flatnonzero(a & np.isfinite(out.started)).tolist() == np.flatnonzero(a)[:2].tolist()
    # counted under their own designation: A children placed, in B's places
    assert out.measures["placed"][-1].tolist() == [2, 1]
    # without also_serves, nobody of A is placed
    plain = Model(served([])).replicate(Streams(0, 0)).outcome
    assert plain.measures["placed"][-1].tolist() == [0, 1]


def test_the_designations_of_a_need_are_offered_in_their_order():
    data = pp.load_scenario("herts-baseline").model_dump()
    data["demand"]["need_designation"]["MLD"] = ["MLD", "SLD"]
    data["demand"]["need_designation"]["SLCN"] = ["MLD", "ASD"]
    data["placement"]["designations"]["SEMH"]["also_serves"] = ["MLD"]
    model = Model(scenario_from_dict(data))
    names = model.scenario.designations
    asd, mld, sld, semh = (names.index(x) for x in ("ASD", "MLD", "SLD", "SEMH"))
    _, p, _ = model.problem(Streams(1, 0))
    need = p.children.need
    routes = {
        NEEDS[k]: {p.routes[r] for r in p.route[need == k]} for k in np.unique(need[need >= 0])
    }
    assert routes["MLD"] == {(mld, sld, semh)}
    assert routes["SLCN"] == {(mld, asd, semh)}
    assert routes["ASD"] == {(asd,)}
    assert routes["SPLD"] == {(mld, semh)}  # SpLD maps to MLD: SEMH places serve it too
    out = run_both(p, model._end)
    placed = out.pool != R.NO_POOL
    in_sld = placed & (p.pools.designation[np.maximum(out.pool, 0)] == sld)
    assert (in_sld & (need == NEEDS.index("MLD"))).sum() > 0  # MLD children in SLD places
    # SLD places hold SLD children (of SLD or PMLD need, or from the list at the start,
    # whose need is not modelled) and MLD children, nobody else
    own = p.children.designation[in_sld] == sld
    assert set(need[in_sld][own].tolist()) <= {-1, NEEDS.index("SLD"), NEEDS.index("PMLD")}
    assert set(need[in_sld][~own].tolist()) <= {NEEDS.index("MLD"), NEEDS.index("PD")}
    assert (need[in_sld][~own] == NEEDS.index("MLD")).any()  # PD → [PSI, SLD] in the baseline
    # the list at the start has needs too (the one account of need): its MLD children
    # follow the MLD ranking like everyone else's
    initial = p.children.time < model._start
    assert initial.any() and (need >= 0).all()
    mld_list = initial & (need == NEEDS.index("MLD"))
    assert {p.routes[r] for r in p.route[mld_list]} == {(mld, sld, semh)}


def test_bundled_scenarios_without_fallbacks_place_as_without_routes():
    for name in sorted(bundled_scenarios()):
        scenario = pp.load_scenario(name)
        if isinstance(scenario.demand, CohortDemand):  # cut every ranked list to its first
            own = {
                n: v if isinstance(v, str) else v[0]
                for n, v in scenario.demand.need_designation.items()
            }
            scenario = scenario.model_copy(
                update={"demand": scenario.demand.model_copy(update={"need_designation": own})}
            )
        model = Model(scenario)
        _, p, _ = model.problem(Streams(2024, 0))
        assert p.n_rounds == 1, name
        plain = dataclasses.replace(p, routes=(), route=None)
        a = ENGINES["epoch"](p, model._start, model._end)
        b = ENGINES["epoch"](plain, model._start, model._end)
        np.testing.assert_array_equal(a.started, b.started, err_msg=name)
        np.testing.assert_array_equal(a.pool, b.pool, err_msg=name)


def test_occupied_counts_a_place_under_the_designation_of_its_school():
    p = mld_and_sld(every_days=None)
    p = dataclasses.replace(p, schedule=dataclasses.replace(
        p.schedule, snapshots=np.array([SUMMER + 1]), snapshot_dates=[date(2026, 4, 14)]),
        snapshot_terms=np.array([0]))  # fmt: skip
    m = simulate(p, p.start, END, "epoch").measures
    assert m["occupied"][0].tolist() == [0, 3]  # c0 (MLD) sits in an SLD place
    assert m["vacancies"][0].tolist() == [0, 0]


# ------------------------------------------------------------------- validation
def test_a_need_may_name_a_ranked_list_and_a_plain_name_still_works(tmp_path):
    path = _write(tmp_path, "extends: herts-baseline\nname: ranked\n"
                  "demand:\n  need_designation: {MLD: [MLD, SLD], SLCN: [MLD, ASD]}\n"
                  "  need_designation_source: 'assumption: for a test'\n")  # fmt: skip
    s = pp.load_scenario(path)
    assert s.demand.designation_routes["MLD"] == ("MLD", "SLD")
    assert s.demand.designation_routes["ASD"] == ("ASD",)  # a plain name, inherited
    assert s.demand.own_designation["SLCN"] == "MLD"
    assert s.demand.need_designation_source == "assumption: for a test"
    assert "assumption" in pp.load_scenario("herts-baseline").demand.need_designation_source


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ("[MLD, XLD]", "demand.need_designation.MLD.1", "unknown designation 'XLD'"),
        ("[MLD, SLD, MLD]", "demand.need_designation.MLD.2", "named twice (first as MLD[0])"),
        ("XLD", "demand.need_designation.MLD", "unknown designation 'XLD'"),
    ],
)
def test_a_needs_list_names_each_known_designation_once(tmp_path, entry, field, message):
    text = (
        f"extends: herts-baseline\nname: ranked\ndemand:\n  need_designation:\n    MLD: {entry}\n"
    )
    _rejected(_write(tmp_path, text), field, message, _line(text, "MLD:"))


def test_a_needs_list_is_not_empty(tmp_path):
    text = "extends: herts-baseline\nname: ranked\ndemand:\n  need_designation:\n    MLD: []\n"
    _rejected(_write(tmp_path, text), "demand.need_designation.MLD", "at least 1", 5)


SERVING = """\
name: serving
title: Serving
council: {code: E10000015, name: Hertfordshire}
start: 2025-09-01
years: 2
demand:
  model: poisson
  rate: {A: 20.0, B: 5.0}
placement:
  designations:
    A: {places: 0}
    B:
      places: 10
      also_serves: %s
  leaving: {end_of_year: {15: 1.0}, mid_year_rate: 0.5}
"""


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ("[C]", "placement.designations.B.also_serves.0", "unknown designation 'C'"),
        ("[A, A]", "placement.designations.B.also_serves.1", "named twice"),
        ("[A, B]", "placement.designations.B.also_serves.1", "this designation itself"),
    ],
)
def test_also_serves_names_other_known_designations_once(tmp_path, entry, field, message):
    text = SERVING % entry
    _rejected(_write(tmp_path, text), field, message, _line(text, "also_serves"))


def test_places_that_serve_another_designation_are_not_warned_unused(tmp_path):
    text = (SERVING % "[A]").replace("rate: {A: 20.0, B: 5.0}", "rate: {A: 20.0}")
    assert not [w for w in pp.load_scenario(_write(tmp_path, text)).warnings if "B" in w.path]
    text = (SERVING % "[]").replace("rate: {A: 20.0, B: 5.0}", "rate: {A: 20.0}")
    warnings = pp.load_scenario(_write(tmp_path, text)).warnings
    assert any(w.path == "placement.designations.B" for w in warnings)
