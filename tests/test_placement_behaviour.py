"""The placement rules and the measures, each pinned by a small hand-built case.

Written against the public API (``PlacementProblem``, ``simulate``, ``measure``,
``TermCalendar``, ``measures``) from the rules of DOMAIN.md, so that they hold
whichever module implements a rule. Each test fails when its rule is changed: the
cases sit on the boundaries (the day a threshold is reached, the oldest age a
school takes, an opening at the instant of a snapshot). benchmarks/MUTATION.md
lists the mutants of the rules these tests were written to kill.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from placeplan import measures
from placeplan.calendar import Term, TermCalendar
from placeplan.demand.referrals import Referrals
from placeplan.placement import (
    Exits,
    Occupants,
    PlacementProblem,
    Placements,
    Schedule,
    measure,
    simulate,
)
from placeplan.placement.problem import Pools

CAL = TermCalendar()
START = date(2025, 9, 1)  # a Monday, the first day of the autumn term of 2025/26
S = float(START.toordinal())
END = S + 3 * 365
ENGINES = ("epoch", "reference")
INF = np.inf


def day(d: date, at: float = 0.0) -> float:
    return d.toordinal() + at


def make(
    times,
    *,
    ages=None,
    designations=None,
    localities=None,
    pools=None,
    capacity=(1,),
    openings=(),
    occupants=None,
    age_out=None,
    stay=None,
    patience=None,
    out_of_area=None,
    snapshots=(),
    long_wait_terms=3,
    long_wait_weeks=52.0,
    n_designations=1,
    n_localities=1,
    out_of_area_cost=0.0,
    priority=None,
):
    """A continuous-mode problem (places offered the moment one is free)."""
    t = np.asarray(times, dtype=float)
    n = len(t)
    full = lambda v, fill: np.full(n, fill, dtype=float) if v is None else np.asarray(v, float)  # noqa: E731
    children = Referrals(
        t,
        np.asarray(ages if ages is not None else [10] * n, dtype=np.int16),
        np.full(n, -1, dtype=np.int16),
        np.asarray(designations if designations is not None else [0] * n, dtype=np.int16),
    )
    exits = Exits(full(age_out, INF), full(stay, INF), full(patience, INF))
    if out_of_area is not None:
        exits = exits.with_out_of_area(np.asarray(out_of_area, dtype=float))
    snaps = np.asarray(snapshots, dtype=float)
    if occupants is None:
        empty = np.zeros(0, dtype=np.int64)
        occupants = Occupants(empty, empty, np.zeros(0), empty)
    return PlacementProblem(
        n_designations=n_designations,
        pools=pools or Pools.simple(n_designations),
        capacity=np.asarray(capacity, dtype=np.int64),
        openings=tuple(openings),
        occupants=occupants,
        children=children,
        exits=exits,
        schedule=Schedule(
            term_starts=np.zeros(0),
            panels=np.zeros(0),
            snapshots=snaps,
            snapshot_dates=[date.fromordinal(int(s)) for s in snaps],
            next_term_start=np.array([INF]),
        ),
        continuous=True,
        start_places="immediate",
        referral_terms=CAL.term_indices(t),
        snapshot_terms=CAL.term_indices(snaps),
        long_wait_terms=long_wait_terms,
        long_wait_weeks=long_wait_weeks,
        start=S,
        out_of_area_cost=out_of_area_cost,
        child_locality=None if localities is None else np.asarray(localities, dtype=np.int64),
        n_localities=n_localities,
        priority_class=None if priority is None else np.asarray(priority, dtype=np.int64),
    )


def two_localities(oldest=(25, 25), youngest=(0, 0)):
    """Two schools of one designation, one in each locality; each locality prefers its own."""
    return Pools(
        designation=np.array([0, 0]),
        locality=np.array([0, 1]),
        youngest=np.array(youngest),
        oldest=np.array(oldest),
        preference=[[[0, 1]], [[1, 0]]],
    )


# ------------------------------------------------------------------ pool choice
@pytest.mark.parametrize("engine", ENGINES)
def test_a_child_is_placed_in_their_own_locality_first(engine):
    p = make([S + 1, S + 2], localities=[1, 0], pools=two_localities(), capacity=(1, 1),
             n_localities=2, snapshots=[S + 10])  # fmt: skip
    out = simulate(p, S, END, engine)
    assert list(out.pool) == [1, 0]
    m = out.measures
    assert m["placed_in_own_locality"][0, 0] == 2
    assert list(m["placed_in_own_locality_by_locality"][0]) == [1, 1]
    assert list(m["occupied_by_locality"][0]) == [1, 1]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_full_own_school_sends_the_child_to_the_next_in_order(engine):
    p = make([S + 1, S + 2], localities=[1, 1], pools=two_localities(), capacity=(1, 1),
             n_localities=2, snapshots=[S + 10])  # fmt: skip
    out = simulate(p, S, END, engine)
    assert list(out.pool) == [1, 0]
    m = out.measures
    assert m["placed_in_own_locality"][0, 0] == 1
    assert list(m["placed_by_locality"][0]) == [0, 2]  # by the child's locality
    assert list(m["occupied_by_locality"][0]) == [1, 1]  # by the school's
    assert list(m["vacancies_by_locality"][0]) == [0, 0]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("age", "pool"), [(4, -1), (5, 0), (11, 0), (12, 1), (16, 1), (17, -1)])
def test_a_school_takes_the_ages_of_its_range_both_ends_included(engine, age, pool):
    pools = two_localities(youngest=(5, 12), oldest=(11, 16))
    p = make([S + 1], ages=[age], pools=pools, capacity=(1, 1), n_localities=2,
             snapshots=[S + 10])  # fmt: skip
    out = simulate(p, S, END, engine)
    assert int(out.pool[0]) == pool
    assert out.measures["placed"][0, 0] == (pool >= 0)
    assert out.measures["waiting"][0, 0] == (pool < 0)


@pytest.mark.parametrize("engine", ENGINES)
def test_age_is_taken_in_the_academic_year_of_take_up(engine):
    # referred aged 11 in 2025/26, waiting for a place that opens in 2026/27, when they are 12
    sept = day(date(2026, 9, 1))
    pools = two_localities(youngest=(5, 12), oldest=(11, 16))
    p = make([S + 1], ages=[11], pools=pools, capacity=(0, 0), n_localities=2,
             openings=[(sept, 0, 1), (sept, 1, 1)], snapshots=[sept + 1])  # fmt: skip
    out = simulate(p, S, END, engine)
    assert int(out.pool[0]) == 1
    assert out.started[0] == sept


# ------------------------------------------------------------------- capacity
def test_capacity_counts_openings_from_their_instant_and_closings():
    p = make([], capacity=(2, 3), pools=two_localities(), n_localities=2,
             openings=[(S + 5, 0, 4), (S + 9, 1, -2)])  # fmt: skip
    assert list(p.capacity_at(S + 4.99)) == [2, 3]
    assert list(p.capacity_at(S + 5)) == [6, 3]  # an opening counts at its own instant
    assert list(p.capacity_at(S + 9)) == [6, 1]
    assert list(p.capacity) == [2, 3]  # and the problem is left as it was


@pytest.mark.parametrize("engine", ENGINES)
def test_closing_places_below_occupancy_leaves_no_negative_vacancies(engine):
    # two children in two temporary places; one place closes to new pupils
    p = make([S + 1, S + 2], capacity=(2,), openings=[(S + 5, 0, -1)],
             stay=[20, INF], snapshots=[S + 3, S + 6, S + 30])  # fmt: skip
    m = simulate(p, S, END, engine).measures
    assert list(m["capacity"][:, 0]) == [2, 1, 1]
    assert list(m["occupied"][:, 0]) == [2, 2, 1]
    assert list(m["vacancies"][:, 0]) == [0, 0, 0]
    assert list(m["vacancies_by_locality"][:, 0]) == [0, 0, 0]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_place_freed_is_offered_to_the_next_child_the_same_instant(engine):
    p = make([S + 1, S + 2], capacity=(1,), stay=[10, INF], snapshots=[S + 5, S + 12])
    out = simulate(p, S, END, engine)
    assert out.started[1] == S + 11
    m = out.measures
    assert list(m["placed"][:, 0]) == [1, 2]
    assert list(m["waiting"][:, 0]) == [1, 0]
    assert list(m["occupied"][:, 0]) == [1, 1]
    assert list(m["vacancies"][:, 0]) == [0, 0]


# ------------------------------------------------------------------- leaving
def test_a_pupil_leaves_at_the_end_of_the_year_they_reach_the_oldest_age():
    pools = two_localities(oldest=(11, 25))
    p = make([S + 1], ages=[9], pools=pools, capacity=(1, 1), n_localities=2)
    take_up = S + 1
    # aged 9 in 2025/26, 11 in 2027/28: leaves on 1 September 2028
    assert p.leaves_place(0, take_up, 0) == day(date(2028, 9, 1))
    # a school to 25 keeps them to the end of the year they are 25 (2041/42), as it
    # does the pupils there at the start
    assert p.leaves_place(0, take_up, 1) == day(date(2042, 9, 1))
    on_the_last_day = day(date(2026, 8, 31), 0.5)  # still 9, one more year to go
    assert p.leaves_place(0, on_the_last_day, 0) == day(date(2028, 9, 1))
    next_year = day(date(2026, 9, 1), 0.25)  # aged 10 now: the same end
    assert p.leaves_place(0, next_year, 0) == day(date(2028, 9, 1))


def test_a_pupil_leaves_at_the_first_of_age_out_stay_and_the_schools_end():
    pools = two_localities(oldest=(11, 25))
    school_end = day(date(2028, 9, 1))
    for age_out, stay, expected in [
        (INF, INF, school_end),
        (day(date(2027, 9, 1)), INF, day(date(2027, 9, 1))),
        (INF, 100.0, S + 1 + 100.0),
        (INF, 5000.0, school_end),
    ]:
        p = make([S + 1], ages=[9], pools=pools, capacity=(1, 1), n_localities=2,
                 age_out=[age_out], stay=[stay])  # fmt: skip
        assert p.leaves_place(0, S + 1, 0) == expected
        placements = Placements(np.array([S + 1]), np.array([S + 1]), np.array([0]))
        assert p.leaves_places(placements)[0] == expected
        in_big = Placements(np.array([S + 1]), np.array([S + 1]), np.array([1]))
        # a school to 25: the end of the year they are 25 (2041/42) at the latest
        assert p.leaves_places(in_big)[0] == min(age_out, S + 1 + stay, day(date(2042, 9, 1)))


@pytest.mark.parametrize("engine", ENGINES)
def test_the_place_of_a_leaver_goes_to_the_next_child(engine):
    pools = two_localities(oldest=(11, 11))
    pools = Pools(pools.designation[:1], pools.locality[:1], pools.youngest[:1],
                  pools.oldest[:1], [[[0]]])  # fmt: skip
    # the first pupil is 11: leaves on 1 September 2026; the second takes the place then
    p = make([S + 1, S + 2], ages=[11, 6], pools=pools, capacity=(1,),
             snapshots=[day(date(2026, 8, 31), 0.99), day(date(2026, 9, 1), 0.99)])  # fmt: skip
    out = simulate(p, S, END, engine)
    assert out.started[1] == day(date(2026, 9, 1))
    assert list(out.measures["waiting"][:, 0]) == [1, 0]


# -------------------------------------------------------------- the measures
def waiting_from(referred: date, snapshot: date, **kw):
    t = day(referred, 0.5)
    p = make([t], capacity=(0,), snapshots=[day(snapshot, 0.99)], **kw)
    return simulate(p, S, END, "epoch").measures


@pytest.mark.parametrize(
    ("snapshot", "weeks_over"),
    [(date(2026, 9, 9), False), (date(2026, 9, 10), True)],  # 364 and 365 days
)
def test_waiting_over_52_weeks_counts_from_more_than_52_weeks(snapshot, weeks_over):
    m = waiting_from(date(2025, 9, 10), snapshot)
    assert m["waiting"][0, 0] == 1
    assert m["waiting_over_52_weeks"][0, 0] == weeks_over
    assert m["waiting_over_52_weeks_by_locality"][0, 0] == weeks_over


def test_the_weeks_threshold_follows_the_scenario():
    m = waiting_from(date(2025, 9, 10), date(2025, 9, 18), long_wait_weeks=1)  # 8 days
    assert m["waiting_over_52_weeks"][0, 0] == 1
    m = waiting_from(date(2025, 9, 10), date(2025, 9, 17), long_wait_weeks=1)  # 7 days
    assert m["waiting_over_52_weeks"][0, 0] == 0


@pytest.mark.parametrize("terms", [1, 3])
def test_waiting_over_n_terms_from_the_first_day_of_term_k_plus_n_plus_1(terms):
    referred = date(2025, 10, 1)  # autumn 2025
    k = CAL.term_index(referred)
    first = CAL.start_of_index(k + terms + 1)
    before = waiting_from(referred, CAL.end_of_index(k + terms), long_wait_terms=terms)
    on = waiting_from(referred, first, long_wait_terms=terms)
    assert before["waiting_over_3_terms"][0, 0] == 0
    assert on["waiting_over_3_terms"][0, 0] == 1
    assert on["waiting_over_3_terms_by_locality"][0, 0] == 1
    assert CAL.waiting_longer_than(referred, first, terms)
    assert not CAL.waiting_longer_than(referred, CAL.end_of_index(k + terms), terms)


@pytest.mark.parametrize("engine", ENGINES)
def test_leaving_the_list_by_age_and_otherwise(engine):
    sept = day(date(2026, 9, 1))
    p = make([S + 1, S + 2, S + 3], capacity=(0,), age_out=[sept, INF, sept],
             patience=[INF, 30.0, 300.0], snapshots=[S + 31.99, S + 33, sept + 1])  # fmt: skip
    m = simulate(p, S, END, engine).measures
    assert list(m["left_while_waiting"][:, 0]) == [0, 1, 3]
    # the third child leaves at S + 303, before the end of the year (S + 365): not by age
    assert list(m["aged_out_while_waiting"][:, 0]) == [0, 0, 1]
    assert list(m["waiting"][:, 0]) == [3, 2, 0]
    assert list(m["referred"][:, 0]) == [3, 3, 3]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_offer_holds_a_place_and_a_leaver_frees_it(engine):
    p = make([S + 1], capacity=(1,), stay=[10.0], snapshots=[S + 1, S + 10.99, S + 11])
    m = simulate(p, S, END, engine).measures
    assert list(m["occupied"][:, 0]) == [1, 1, 0]
    assert list(m["vacancies"][:, 0]) == [0, 0, 1]
    assert list(m["placed"][:, 0]) == [1, 1, 1]  # placed since the start


def test_occupants_fill_their_places_until_they_leave():
    occ = Occupants(np.array([0, 0]), np.array([9, 9]), np.array([S + 5, INF]), np.array([0, 1]))
    p = make([], capacity=(1, 1), pools=two_localities(), n_localities=2, occupants=occ,
             snapshots=[S + 4.99, S + 5])  # fmt: skip
    m = measure(p, Placements(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)))
    assert list(m["occupied"][:, 0]) == [2, 1]
    assert list(m["vacancies"][:, 0]) == [0, 1]
    assert m["occupied_by_locality"].tolist() == [[1, 1], [0, 1]]
    assert m["capacity_by_locality"].tolist() == [[1, 1], [1, 1]]
    assert m["vacancies_by_locality"].tolist() == [[0, 0], [1, 0]]


@pytest.mark.parametrize("engine", ENGINES)
def test_out_of_area_placements_their_stay_and_cost(engine):
    ooa = S + 100.0
    p = make([S + 1, S + 2], capacity=(0,), out_of_area=[ooa, INF], stay=[365.25, INF],
             patience=[INF, 50.0], out_of_area_cost=365.25 * 1000,
             snapshots=[ooa - 0.01, ooa, ooa + 200, ooa + 400])  # fmt: skip
    m = simulate(p, S, END, engine).measures
    assert list(m["placed_out_of_area"][:, 0]) == [0, 1, 1, 1]
    assert list(m["out_of_area"][:, 0]) == [0, 1, 1, 0]  # back after a year's stay
    assert list(m["left_while_waiting"][:, 0]) == [1, 1, 1, 1]  # the second, after 50 days
    assert list(m["waiting"][:, 0]) == [1, 0, 0, 0]
    np.testing.assert_allclose(m["out_of_area_cost"][:, 0], [0, 0, 200_000, 365_250])
    assert list(m["placed_out_of_area_by_locality"][:, 0]) == [0, 1, 1, 1]
    assert list(m["out_of_area_by_locality"][:, 0]) == [0, 1, 1, 0]


def test_out_of_area_cost_counts_only_from_the_start():
    ooa = S - 10.0  # a child on the list at the start, already out of area before it
    p = make([S - 100], capacity=(0,), out_of_area=[ooa], out_of_area_cost=365.25,
             snapshots=[S + 20])  # fmt: skip
    m = measure(p, Placements(np.array([INF]), np.array([INF]), np.array([-1])))
    np.testing.assert_allclose(m["out_of_area_cost"][0, 0], 20.0)


def test_a_child_placed_before_going_out_of_area_never_goes():
    p = make([S + 1], capacity=(1,), out_of_area=[S + 50], snapshots=[S + 60])
    out = simulate(p, S, END, "epoch")
    assert out.measures["placed_out_of_area"][0, 0] == 0
    assert out.measures["placed"][0, 0] == 1


def test_measures_by_designation_and_locality_add_up_to_the_children():
    pools = Pools(np.array([0, 1]), np.array([0, 1]), np.array([0, 0]), np.array([25, 25]),
                  [[[0], [1]], [[0], [1]]])  # fmt: skip
    p = make([S + 1, S + 2, S + 3, S + 4], designations=[0, 1, 1, 1], localities=[1, 0, 1, 1],
             pools=pools, capacity=(1, 1), n_designations=2, n_localities=2,
             snapshots=[S + 10])  # fmt: skip
    m = simulate(p, S, END, "reference").measures
    assert m["placed"][0].tolist() == [1, 1]
    assert m["waiting"][0].tolist() == [0, 2]
    assert m["waiting_by_locality"][0].tolist() == [0, 2]
    assert m["placed_by_locality"][0].tolist() == [1, 1]
    assert m["placed_in_own_locality"][0].tolist() == [0, 0]
    assert m["capacity"][0].tolist() == [1, 1]
    assert m["referred"][0].tolist() == [1, 3]


def test_the_list_is_served_in_priority_then_referral_order():
    p = make([S + 1, S + 2, S + 3], capacity=(0,), priority=[1, 0, 1],
             openings=[(S + 10, 0, 1), (S + 20, 0, 1)], snapshots=[S + 30])  # fmt: skip
    for engine in ENGINES:
        out = simulate(p, S, END, engine)
        assert out.started.tolist() == [S + 20, S + 10, INF]


# ---------------------------------------------------------- the measures' table
def test_labels_follow_the_thresholds():
    t = measures.Thresholds(terms=1, weeks=26.5)
    assert (
        measures.get("waiting_over_3_terms").long_name(t) == "Children waiting longer than one term"
    )
    assert measures.get("waiting_over_52_weeks_by_locality").long_name(t) == (
        "Children waiting longer than 26.5 weeks"
    )
    assert measures.get(measures.HEADLINE).long_name() == "Children waiting longer than three terms"
    attrs = measures.get("waiting_over_3_terms").attrs(t)
    assert attrs == {"units": "children", "long_name": "Children waiting longer than one term",
                     "threshold_terms": 1}  # fmt: skip
    assert measures.get("waiting_over_52_weeks").attrs()["threshold_weeks"] == 52.0
    assert "threshold_terms" not in measures.get("waiting").attrs(t)
    assert [measures.spell_terms(n) for n in (0, 2, 12, 13)] == [
        "no terms", "two terms", "twelve terms", "13 terms"
    ]  # fmt: skip
    assert [measures.spell_weeks(w) for w in (1, 52)] == ["1 week", "52 weeks"]
    with pytest.raises(KeyError, match="no measure 'queue'"):
        measures.get("queue")


def test_the_table_agrees_with_the_engines_outputs():
    from placeplan.placement import LOCALITY_MEASURES, MEASURES

    assert measures.placement_measures() == MEASURES
    assert set(measures.by_locality()) == set(LOCALITY_MEASURES)
    names = [v for v, _, _ in measures.variables(2)]
    assert "waiting_by_locality" in names and "ehcp_plans_by_designation" not in names
    assert len(names) == len(set(names))


# --------------------------------------------------------------- the calendar
def test_term_dates_by_the_default_rules():
    assert CAL.term_start(2025, Term.AUTUMN) == date(2025, 9, 1)
    assert CAL.term_start(2025, Term.SPRING) == date(2026, 1, 5)  # 4 January 2026 is a Sunday
    assert CAL.term_start(2026, Term.SPRING) == date(2027, 1, 4)  # a Monday
    assert CAL.term_start(2020, Term.SPRING) == date(2021, 1, 4)
    assert CAL.term_start(2025, Term.SUMMER) == date(2026, 4, 13)  # Easter Sunday 5 April 2026
    assert [CAL.census_day(2025, t) for t in Term] == [
        date(2025, 10, 2), date(2026, 1, 15), date(2026, 5, 21)
    ]  # fmt: skip


def test_term_indices_and_their_boundaries():
    k = CAL.term_index(date(2025, 9, 1))
    assert k == 3 * 2025
    assert CAL.term_index(date(2025, 8, 31)) == k - 1
    assert CAL.term_index(date(2026, 1, 4)) == k  # Christmas belongs to the autumn term
    assert CAL.term_index(date(2026, 1, 5)) == k + 1
    assert CAL.term_of(date(2026, 4, 13)) == (2025, Term.SUMMER)
    assert CAL.end_of_index(k) == date(2026, 1, 4)
    days = np.array([date(2025, 8, 31).toordinal(), date(2026, 1, 5).toordinal() + 0.7])
    assert CAL.term_indices(days).tolist() == [k - 1, k + 1]
    assert CAL.term_starts_between(date(2025, 9, 1), date(2026, 4, 13)) == [
        date(2025, 9, 1), date(2026, 1, 5)
    ]  # fmt: skip
    assert CAL.census_days(date(2025, 10, 2), date(2026, 1, 15)) == [date(2025, 10, 2)]
    assert not TermCalendar.waiting_over_weeks(date(2025, 1, 1), date(2025, 12, 31))  # 364 days
    assert TermCalendar.waiting_over_weeks(date(2025, 1, 1), date(2026, 1, 1))  # 365 days
    assert TermCalendar.waiting_over_weeks(date(2025, 1, 1), date(2025, 1, 8), 1) is False
    assert TermCalendar.waiting_over_weeks(date(2025, 1, 1), date(2025, 1, 9), 1) is True


def test_the_calendar_refuses_dates_outside_its_range():
    with pytest.raises(ValueError, match="outside the supported calendar"):
        CAL.term_index(date(1990, 8, 31))
    with pytest.raises(ValueError, match="outside the supported calendar"):
        CAL.term_indices(np.array([date(1990, 8, 31).toordinal()]))
    assert CAL.term_index(date(1990, 9, 1)) == 3 * 1990
    with pytest.raises(ValueError, match="before referral"):
        CAL.whole_terms_waited(date(2025, 9, 2), date(2025, 9, 1))


# ---------------------------------------------------------------- the schedule
def test_referrals_are_decided_at_the_first_meeting_at_or_after_them():
    from placeplan.placement import make_schedule
    from placeplan.scenario import PanelSpec

    sched = make_schedule(CAL, PanelSpec(every_days=14, first=date(2025, 8, 25)), START,
                          date(2026, 9, 1))  # fmt: skip
    # meetings every 14 days from 25 August: the first within the forecast is 8 September
    assert sched.panels[0] == day(date(2025, 9, 8), 0.5)
    assert np.all(np.diff(sched.panels) == 14)
    assert sched.panels[-1] < day(date(2026, 9, 1))
    meet = sched.panels[0]
    decided = sched.decision_times(np.array([meet - 0.1, meet, meet + 0.1, sched.panels[-1] + 1]))
    assert decided.tolist() == [meet, meet, meet + 14, INF]
    # a place offered at a panel is taken up at the next term start after it
    assert sched.take_up(meet) == day(date(2026, 1, 5), 0.25)
    assert sched.take_up(day(date(2026, 1, 5), 0.25)) == day(date(2026, 4, 13), 0.25)
    assert sched.term_starts.tolist() == [
        day(date(2025, 9, 1), 0.25), day(date(2026, 1, 5), 0.25), day(date(2026, 4, 13), 0.25)
    ]  # fmt: skip
    assert sched.snapshot_dates == CAL.census_days(START, date(2026, 9, 1))
    assert sched.snapshots.tolist() == [day(d, 0.99) for d in sched.snapshot_dates]


def test_without_panels_term_starts_decide_and_continuous_has_neither():
    from placeplan.placement import make_schedule
    from placeplan.scenario import PanelSpec

    terms = make_schedule(CAL, PanelSpec(every_days=None), START, date(2026, 9, 1))
    assert len(terms.panels) == 0
    first = day(START, 0.25)
    assert terms.decision_times(np.array([S, first, first + 0.1])).tolist() == [
        first, first, day(date(2026, 1, 5), 0.25)
    ]  # fmt: skip
    cont = make_schedule(CAL, PanelSpec(every_days="continuous"), START, date(2026, 9, 1))
    assert len(cont.panels) == 0 and len(cont.term_starts) == 0
    # the first meeting defaults to the start, and a meeting on the last day is in
    first_day = make_schedule(CAL, PanelSpec(every_days=7), START, START.replace(day=16))
    assert first_day.panels.tolist() == [S + 0.5, S + 7.5, S + 14.5]


def test_snapshots_every_so_many_days():
    from placeplan.placement import make_schedule
    from placeplan.scenario import PanelSpec

    sched = make_schedule(CAL, PanelSpec(), START, START.replace(day=11), snapshots=3.0)
    assert sched.snapshots.tolist() == [S + 3, S + 6, S + 9]
    assert sched.snapshot_dates == [date(2025, 9, 4), date(2025, 9, 7), date(2025, 9, 10)]
    sched = make_schedule(CAL, PanelSpec(), START, START.replace(day=10), snapshots=3.0)
    assert sched.snapshots.tolist() == [S + 3, S + 6]  # the end is not in the forecast


# ----------------------------------------------------------- who leaves when
def test_academic_years_turn_on_the_first_of_september():
    from placeplan.placement.population import academic_year_of, academic_years, september_first

    days = np.array(
        [day(date(2025, 8, 31), 0.99), S, day(date(2026, 1, 1)), day(date(2026, 8, 31))]
    )
    assert academic_years(days).tolist() == [2024, 2025, 2025, 2025]
    assert [academic_year_of(float(t)) for t in days] == [2024, 2025, 2025, 2025]
    assert september_first(2025) == S
    assert september_first(1990) == day(date(1990, 9, 1))


def test_exits_by_age_from_the_end_of_year_probabilities():
    from placeplan.placement import draw_exits
    from placeplan.scenario import LeavingSpec

    rng = np.random.default_rng(1)
    since = np.array([S + 10, S + 10, day(date(2025, 8, 1))])
    exits = draw_exits(rng, since, np.array([14, 16, 14]), LeavingSpec(end_of_year={16: 1.0}))
    # aged 14 in 2025/26: 16 in 2027/28, leaving at its end; aged 16 now: this year's end
    assert exits.age_out.tolist() == [
        day(date(2028, 9, 1)), day(date(2026, 9, 1)), day(date(2027, 9, 1))
    ]  # fmt: skip
    assert np.isinf(exits.stay).all() and np.isinf(exits.patience).all()
    never = draw_exits(rng, since, np.array([14, 17, 3]), LeavingSpec(end_of_year={16: 1.0}))
    assert np.isinf(never.age_out[1]) and np.isfinite(never.age_out[[0, 2]]).all()
    assert never.age_out[2] == day(date(2038, 9, 1))  # aged 3 in 2024/25: 16 in 2037/38


def test_leaving_rates_give_stays_and_patience_of_the_right_mean():
    from placeplan.placement import draw_exits
    from placeplan.scenario import LeavingSpec

    n = 20000
    rng = np.random.default_rng(2)
    exits = draw_exits(rng, np.full(n, S), np.full(n, 5), LeavingSpec(mid_year_rate=2.0))
    assert abs(exits.stay.mean() / (365.25 / 2) - 1) < 0.03
    assert abs(exits.patience.mean() / (365.25 / 2) - 1) < 0.03  # the list rate defaults to it
    own = draw_exits(rng, np.full(n, S), np.full(n, 5), LeavingSpec(mid_year_rate=2, list_rate=0))
    assert np.isinf(own.patience).all() and np.isfinite(own.stay).all()


def test_the_first_exit_ends_a_wait_or_a_stay():
    exits = Exits(np.array([S + 50, INF, INF]), np.array([10.0, 20.0, INF]),
                  np.array([100.0, 5.0, INF]))  # fmt: skip
    assert exits.waiting_until(np.array([S, S, S])).tolist() == [S + 50, S + 5, INF]
    assert exits.placed_until(np.array([S + 45, S, S])).tolist() == [S + 50, S + 20, INF]
    ooa = exits.with_out_of_area(np.array([S + 40, S + 1, INF]))
    assert ooa.waiting_until(np.array([S, S, S])).tolist() == [S + 40, S + 1, INF]
    both = Exits.concat([exits, ooa])
    assert len(both) == 6 and both.patience.tolist()[3:] == [100.0, 5.0, INF]


def test_pupils_at_the_start_fill_the_share_of_places_in_their_schools_ages():
    from placeplan.placement import initial_occupants
    from placeplan.scenario import LeavingSpec

    rng = np.random.default_rng(3)
    occ = initial_occupants(rng, np.array([10, 4, 0]), 0.5, np.ones(26), START, LeavingSpec(),
                            pool_designation=np.array([0, 1, 1]), youngest=np.array([5, 11, 0]),
                            oldest=np.array([10, 16, 25]))  # fmt: skip
    assert occ.pool.tolist() == [0] * 5 + [1] * 2
    assert occ.designation.tolist() == [0] * 5 + [1] * 2
    assert ((occ.age[:5] >= 5) & (occ.age[:5] <= 10)).all()
    assert ((occ.age[5:] >= 11) & (occ.age[5:] <= 16)).all()
    # with no other leaving, each leaves at the end of the year they reach the oldest age
    expected = [
        day(date(2025 + int(o - a) + 1, 9, 1))
        for o, a in zip([10] * 5 + [16] * 2, occ.age, strict=True)
    ]
    assert occ.exit.tolist() == expected
    # ages outside a pool's weights fall back to its whole range
    weights = np.r_[np.zeros(20), np.ones(6)]
    only_old = initial_occupants(
        rng, np.array([3]), 1.0, weights, START, LeavingSpec(), youngest=np.array([5]),
        oldest=np.array([10])
    )  # fmt: skip
    assert ((only_old.age >= 5) & (only_old.age <= 10)).all() and len(only_old.age) == 3


def test_the_list_at_the_start_is_followed_from_the_start():
    from placeplan.placement import initial_list
    from placeplan.scenario import InitialWaiting, LeavingSpec

    group = InitialWaiting(children={"A": 30, "B": 20}, referred_from=date(2024, 11, 1),
                           referred_to=date(2025, 12, 1), age=(6, 6))  # fmt: skip
    rng = np.random.default_rng(4)
    refs, exits = initial_list(rng, (group,), ("A", "B"), START, LeavingSpec(list_rate=1.0))
    assert len(refs) == 50 and np.bincount(refs.designation).tolist() == [30, 20]
    assert (np.diff(refs.time) >= 0).all()
    assert (refs.time >= day(date(2024, 11, 1))).all() and (refs.time < S).all()
    # ages are those of the year of referral: 6 now, 5 if referred last year
    last_year = refs.time < day(date(2025, 9, 1))
    assert (refs.age[last_year] == 5).all() and (refs.age[~last_year] == 6).all()
    # nobody leaves the list before the start
    assert (refs.time + exits.patience > S).all()
    assert (refs.need == -1).all()
    empty, none = initial_list(rng, (), ("A",), START, LeavingSpec())
    assert len(empty) == 0 and len(none) == 0


def test_thresholds_of_a_scenario():
    import placeplan as pp

    s = pp.load_scenario("herts-baseline")
    t = measures.Thresholds.of(s)
    assert t == measures.Thresholds(s.calendar.long_wait_terms, s.calendar.long_wait_weeks)
    assert measures.Thresholds.of(s.calendar) == t
    assert isinstance(t.terms, int) and isinstance(t.weeks, float)


# ------------------------------------- written for mutants that survived (MUTATION.md)
def test_placements_without_a_pool_are_refused_not_indexed():
    # no silent fallback: a pool of -1 must never index the last pool
    with pytest.raises(ValueError, match="pool if and only if offered"):
        Placements(np.array([S + 1]), np.array([S + 1]), np.array([-1]))
    with pytest.raises(ValueError, match="pool if and only if offered"):
        Placements(np.array([np.inf]), np.array([np.inf]), np.array([0]))
    with pytest.raises(ValueError, match="pools must be in"):
        Placements(np.array([S + 1]), np.array([S + 1]), np.array([2])).check(2)
    p = make([S + 1], capacity=(2,), snapshots=[S + 2, S + 6])
    m = measure(p, Placements(np.array([S + 1]), np.array([S + 1]), np.array([0])))
    assert list(m["placed"][:, 0]) == [1, 1]
    assert list(m["placed_in_own_locality"][:, 0]) == [1, 1]


def test_counts_are_whole_numbers():
    m = waiting_from(date(2025, 9, 10), date(2026, 9, 10))
    for name, values in m.items():
        assert values.dtype.kind == ("f" if name == "out_of_area_cost" else "i"), name


def test_term_indices_at_both_ends_of_the_calendar():
    first = date(1990, 9, 1).toordinal()
    assert CAL.term_indices(np.array([first])).tolist() == [3 * 1990]
    last = CAL.term_start(2400, Term.SUMMER).toordinal() + 399
    assert CAL.term_indices(np.array([last])).tolist() == [3 * 2400 + 2]
    with pytest.raises(ValueError, match=r"^date outside the supported calendar$"):
        CAL.term_indices(np.array([last + 1]))


def test_snapshots_more_often_than_daily():
    from placeplan.placement import make_schedule
    from placeplan.scenario import PanelSpec

    sched = make_schedule(CAL, PanelSpec(), START, START.replace(day=3), snapshots=0.5)
    assert sched.snapshots.tolist() == [S + 0.5, S + 1, S + 1.5]


def test_academic_years_are_whole_numbers():
    from placeplan.placement.population import academic_years

    assert academic_years(np.array([S, S + 200.5])).dtype.kind == "i"


def test_the_table_names_each_variables_measure_and_dimension():
    assert measures.get("waiting_by_designation") is measures.get("waiting")
    assert measures.get("capacity_by_locality").name == "capacity"
    found = {v: dim for v, _, dim in measures.variables(2)}
    assert found["waiting"] is None
    assert found["waiting_by_designation"] == "designation"
    assert found["waiting_by_locality"] == "locality"


def test_a_designation_without_places_has_none():
    pools = Pools(np.array([0]), np.array([0]), np.array([0]), np.array([25]), [[[0], []]])
    p = make([S + 1, S + 2], designations=[0, 1], pools=pools, capacity=(3,), n_designations=2,
             snapshots=[S + 5])  # fmt: skip
    m = simulate(p, S, END, "epoch").measures
    assert m["capacity"][0].tolist() == [3, 0]
    assert m["waiting"][0].tolist() == [0, 1]


def test_an_out_of_area_stay_over_before_the_start_costs_nothing():
    p = make([S - 200], capacity=(0,), out_of_area=[S - 100], stay=[10.0], out_of_area_cost=365.25,
             snapshots=[S + 20])  # fmt: skip
    m = measure(p, Placements(np.array([INF]), np.array([INF]), np.array([-1])))
    assert m["placed_out_of_area"][0, 0] == 1 and m["out_of_area"][0, 0] == 0
    assert m["out_of_area_cost"][0, 0] == 0.0
