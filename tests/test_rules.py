"""The placement rules (placement/rules.py), alone and as both engines apply them.

Each test here fails when its rule is changed: the locality preference reversed,
an age range's bound made strict, take-up moved to a different term start, a pupil
kept a year longer, the academic year moved by a day.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from handmade import CAL, START, day, make_problem
from hypothesis import example, given
from hypothesis import strategies as st

from placeplan.placement import ENGINES, Placements, kernel, time_in_system
from placeplan.placement import rules as R  # noqa: N812
from placeplan.placement.schedule import AT_PANEL, AT_TERM_START

END = day(date(2028, 9, 1))


def run_both(p):
    """Both engines' placements, checked identical."""
    fast = ENGINES["epoch"](p, p.start, END)
    slow = ENGINES["reference"](p, p.start, END)
    np.testing.assert_array_equal(fast.offered, slow.offered)
    np.testing.assert_array_equal(fast.started, slow.started)
    np.testing.assert_array_equal(fast.pool, slow.pool)
    return fast


# ------------------------------------------------------------------ academic year


@given(st.dates(date(1990, 9, 1), date(2400, 8, 31)), st.floats(0, 0.999))
@example(date(2025, 8, 31), 0.99)
@example(date(2025, 9, 1), 0.0)
def test_academic_year_is_the_calendars(d, at):
    year = CAL.academic_year(d)
    assert R.academic_year_of(day(d, at)) == year
    assert R.academic_years(np.array([day(d, at)])).tolist() == [year]
    assert R.september_first(year) <= day(d, at) < R.september_first(year + 1)


@pytest.mark.parametrize("bad", [day(date(1990, 8, 31)), day(date(2401, 9, 1)), np.nan])
def test_academic_year_outside_the_calendar_raises(bad):
    with pytest.raises(ValueError, match="outside"):
        R.academic_year_of(bad)
    with pytest.raises(ValueError, match="outside"):
        R.academic_years(np.array([bad]))


def test_september_first_outside_the_calendar_raises():
    assert R.september_first(2025) == day(date(2025, 9, 1))
    for year in (1989, 2402):
        with pytest.raises(ValueError, match="outside"):
            R.september_first(year)


# ------------------------------------------------------------------------ take-up


def test_take_up_next_term_is_the_first_term_start_strictly_after():
    starts = [10.25, 20.25, np.inf]
    assert R.take_up(5.5, starts, "next_term") == 10.25
    assert R.take_up(10.25, starts, "next_term") == 20.25  # strictly after
    assert R.take_up(25.0, starts, "next_term") == np.inf  # never within the calendar
    assert R.take_up(5.5, starts, "immediate") == 5.5
    with pytest.raises(ValueError, match="start_places"):
        R.take_up(5.5, starts, "someday")
    with pytest.raises(ValueError, match="no term start"):
        R.take_up(5.5, [1.0], "next_term")


@pytest.mark.parametrize("start_places", ["next_term", "immediate"])
def test_engines_take_places_up_at_the_next_term_start_or_at_once(start_places):
    # referred 10 September; the fortnightly panel of 15 September offers the place
    p = make_problem([day(date(2025, 9, 10), 0.5)], every_days=14, start_places=start_places)
    placed = run_both(p)
    panel = day(date(2025, 9, 15), AT_PANEL)
    assert placed.offered[0] == panel
    spring = day(CAL.term_start(2025, 1), AT_TERM_START)
    assert placed.started[0] == (spring if start_places == "next_term" else panel)


def test_without_panels_term_starts_decide_and_places_are_taken_up_at_once():
    p = make_problem([day(date(2025, 10, 1), 0.5)], every_days=None)
    placed = run_both(p)
    spring = day(CAL.term_start(2025, 1), AT_TERM_START)
    assert placed.offered[0] == spring and placed.started[0] == spring


def test_continuous_mode_places_at_referral():
    p = make_problem([day(date(2025, 10, 1), 0.5)], every_days="continuous")
    placed = run_both(p)
    assert placed.offered[0] == placed.started[0] == day(date(2025, 10, 1), 0.5)


# ------------------------------------------------------------------- preference


def test_locality_order_is_own_then_neighbours_in_order_then_the_rest():
    assert R.locality_order(0, [2, 1], 4) == [0, 2, 1, 3]
    assert R.locality_order(2, [], 4) == [2, 0, 1, 3]
    assert R.locality_order(1, [1, 3], 4) == [1, 3, 0, 2]  # oneself as a neighbour: first


def test_preference_orders_pools_by_locality_then_pool():
    # pools (designation, locality): 0:(0,1) 1:(0,2) 2:(0,0) 3:(1,0) 4:(0,0)
    pref = R.preference([0, 0, 0, 1, 0], [1, 2, 0, 0, 0], [[2, 1], [], [0]], 2)
    assert pref[0] == [[2, 4, 1, 0], [3]]
    assert pref[1] == [[0, 2, 4, 1], [3]]
    assert pref[2] == [[1, 2, 4, 0], [3]]


def test_engines_offer_own_locality_then_neighbours_in_order_then_the_rest():
    # four children of locality 0 (neighbours 2 then 1), one place in each locality;
    # the pools listed so that neither their order nor its reverse is the rule's
    p = make_problem(
        [day(date(2025, 9, 10), 0.5 + k / 100) for k in range(4)],
        locality=[0, 0, 0, 0],
        pools=[(0, 1, 0, 25, 1), (0, 3, 0, 25, 1), (0, 0, 0, 25, 1), (0, 2, 0, 25, 1)],
        neighbours=[[2, 1], [], [], []],
        every_days="continuous",
    )
    placed = run_both(p)
    assert placed.pool.tolist() == [2, 3, 0, 1]


@given(st.lists(st.integers(0, 3), min_size=4, max_size=4))
def test_first_free_pool_is_the_first_in_order_with_a_place_for_the_age(free):
    order, youngest, oldest = [3, 1, 0, 2], [4, 4, 12, 12], [11, 11, 16, 16]
    ages = R.age_ranges(youngest, oldest)
    compiled = kernel._first_free_pool  # the same rule, compiled for the epoch engine
    arrays = [np.array(x, dtype=np.int64) for x in (order, free, youngest, oldest)]
    for age in (3, 4, 11, 12, 16, 17):
        want = next((q for q in order if free[q] > 0 and age in ages[q]), R.NO_POOL)
        assert R.first_free_pool(order, free, youngest, oldest, age) == want
        assert compiled(*arrays, age) == want


@pytest.mark.parametrize(
    ("age", "pool"), [(3, R.NO_POOL), (4, 0), (11, 0), (12, 1), (16, 1), (17, R.NO_POOL)]
)
def test_engines_respect_the_age_ranges_of_schools(age, pool):
    # a 4-11 school and a 12-16 school, one place each, and one child
    p = make_problem(
        [day(date(2025, 10, 1), 0.5)],
        age=[age],
        pools=[(0, 0, 4, 11, 1), (0, 0, 12, 16, 1)],
        every_days="continuous",
    )
    assert run_both(p).pool.tolist() == [pool]


def test_age_at_take_up_counts_academic_years_since_referral():
    # aged 11 when referred in July 2026; takes the place up in the autumn, aged 12
    p = make_problem(
        [day(date(2026, 7, 1), 0.5)],
        age=[11],
        pools=[(0, 0, 4, 11, 1), (0, 0, 12, 16, 1)],
        every_days=None,
    )
    placed = run_both(p)
    assert placed.pool.tolist() == [1]
    assert placed.started[0] == day(date(2026, 9, 1), AT_TERM_START)


# ----------------------------------------------------------------------- leaving


def test_school_out_is_the_end_of_the_year_of_the_schools_oldest_age():
    # aged 10 in 2025/26 (age_base 10 - 2025) at a school taking children to 10:
    # leaves school on 1 September 2026; aged 9, a year later
    assert R.school_out(10 - 2025, 10) == day(date(2026, 9, 1))
    assert R.school_out(9 - 2025, 10) == day(date(2027, 9, 1))
    assert R.school_out(10 - 2025, R.OLDEST_AGE) == day(date(2041, 9, 1))
    bases = np.array([10 - 2025, 9 - 2025])
    np.testing.assert_array_equal(
        R.school_outs(bases, 10), [day(date(2026, 9, 1)), day(date(2027, 9, 1))]
    )


def test_leaves_place_is_the_first_of_mid_year_by_age_and_school_out():
    take_up, inf = day(date(2025, 10, 1)), np.inf
    out = day(date(2026, 9, 1))
    assert R.leaves_place(take_up, inf, inf, out) == out
    assert R.leaves_place(take_up, 30.0, inf, out) == take_up + 30  # mid-year
    assert R.leaves_place(take_up, inf, day(date(2026, 1, 1)), out) == day(date(2026, 1, 1))
    assert R.leaves_place(take_up, inf, inf, inf) == inf


@given(
    st.lists(
        st.tuples(
            st.floats(day(date(2000, 1, 1)), day(date(2040, 1, 1))),
            st.one_of(st.just(np.inf), st.floats(0, 5000)),
            st.one_of(st.just(np.inf), st.floats(day(date(2000, 1, 1)), day(date(2060, 1, 1)))),
            st.integers(-2040, -1990),
            st.integers(0, 25),
        ),
        min_size=1,
        max_size=20,
    )
)
@example([(730120.0, np.inf, np.inf, -1989, 0)])  # leaves school before taking the place up
def test_leaves_places_over_arrays_is_leaves_place(rows):
    take_up, stay, age_out, age_base, oldest = (np.array(c) for c in zip(*rows, strict=True))
    out = R.school_outs(age_base, oldest)
    assert out.tolist() == [
        R.school_out(int(a), int(o)) for a, o in zip(age_base, oldest, strict=True)
    ]
    many = R.leaves_places(take_up, stay, age_out, out)
    one = [R.leaves_place(*r) for r in zip(take_up, stay, age_out, out, strict=True)]
    np.testing.assert_array_equal(many, one)


def test_engines_free_the_place_when_the_pupil_passes_the_schools_oldest_age():
    # two children for one place in a school to age 10: the first, aged 10, leaves on
    # 1 September 2026, when the second takes the place up at the term start
    p = make_problem(
        [day(date(2025, 9, 10), 0.5), day(date(2025, 9, 11), 0.5)],
        age=[10, 5],
        pools=[(0, 0, 4, 10, 1)],
        every_days=None,
    )
    placed = run_both(p)
    assert placed.started[0] == day(date(2026, 1, 5), AT_TERM_START)
    assert placed.started[1] == day(date(2026, 9, 1), AT_TERM_START)
    assert p.leaves_places(placed)[0] == day(date(2026, 9, 1))


def test_pupils_at_the_start_leave_by_the_same_rule():
    from placeplan.placement import initial_occupants
    from placeplan.scenario import LeavingSpec

    occ = initial_occupants(
        np.random.default_rng(0),
        np.array([5]),
        1.0,
        np.ones(26),
        START,
        LeavingSpec(),
        np.array([0]),
        np.array([4]),
        np.array([10]),
    )
    want = [day(date(2025 + 10 - int(a) + 1, 9, 1)) for a in occ.age]
    np.testing.assert_array_equal(occ.exit, want)


# ------------------------------------------------------------ no silent fallbacks


def test_a_placement_without_a_pool_is_refused():
    with pytest.raises(ValueError, match="pool if and only if"):
        Placements(np.array([1.0]), np.array([2.0]), np.array([R.NO_POOL]))
    with pytest.raises(ValueError, match="pool if and only if"):
        Placements(np.array([np.inf]), np.array([np.inf]), np.array([0]))
    with pytest.raises(ValueError, match="without an offer"):
        Placements(np.array([np.inf]), np.array([2.0]), np.array([R.NO_POOL]))
    with pytest.raises(ValueError, match="pools must be in"):
        Placements(np.array([1.0]), np.array([2.0]), np.array([5])).check(2)


def test_leaving_a_place_of_no_pool_is_refused():
    p = make_problem([day(date(2025, 10, 1), 0.5)])
    with pytest.raises(ValueError, match="no pool"):
        p.leaves_place(0, day(date(2025, 10, 2)), R.NO_POOL)


def test_a_pool_outside_the_table_is_refused():
    with pytest.raises(ValueError, match="occupant's pool"):
        make_problem([day(date(2025, 10, 1))], occupants=[(3, np.inf)])
    with pytest.raises(ValueError, match="preference"):
        from placeplan.placement.problem import Pools

        Pools(np.array([0]), np.array([0]), np.array([0]), np.array([25]), [[[0, 1]]])


def test_exits_without_out_of_area_never_go_out_of_area():
    from placeplan.placement import Exits

    e = Exits(np.array([5.0]), np.array([np.inf]), np.array([np.inf]))
    assert e.out_of_area.tolist() == [np.inf]
    assert Exits.concat([e, e]).out_of_area.tolist() == [np.inf, np.inf]
    with pytest.raises(ValueError, match="rows"):
        Exits(np.array([5.0]), np.array([1.0, 2.0]), np.array([np.inf]))


def test_one_list_of_needs():
    from placeplan import calibration, scenario, sen2

    assert (*scenario.NEEDS, "UNKNOWN") == sen2.NEEDS
    # needs new to SEN2 (DS) may be left to demand.new_needs, which places them as another
    default = set(calibration.DEFAULT_NEED_DESIGNATION)
    assert default <= set(scenario.NEEDS)
    assert set(scenario.NEEDS) - default <= set(scenario.DEFAULT_NEW_NEEDS)


def test_pools_for_every_age_take_ages_0_to_25_only():
    # a child past 25 is not placed, though a pool for every age is free (the epoch
    # engine once skipped the age check for such pools)
    p = make_problem([day(date(2025, 10, 1), 0.5)] * 2, age=[25, 26], every_days="continuous")
    p = type(p)(**{**p.__dict__, "capacity": np.array([2])})
    assert run_both(p).pool.tolist() == [0, R.NO_POOL]


def test_leaving_after_the_calendar_is_never_and_before_it_an_error():
    # every forecast ends by 1 September 2400: a leaving year past the table is never
    years = np.array([2025, 2400, 2401, 2402, 2424])
    out = R.leaving_septembers(years)
    assert out[:3].tolist() == [day(date(y, 9, 1)) for y in (2025, 2400, 2401)]
    assert np.isinf(out[3:]).all()
    assert R.school_out(age_base=0 - 2399, oldest=25) == np.inf  # aged 0 in 2399/2400
    assert R.school_out(age_base=25 - 2399, oldest=25) == day(date(2400, 9, 1))
    with pytest.raises(ValueError, match=r"^years outside 1990–2401$"):
        R.leaving_septembers(np.array([1989]))
    with pytest.raises(ValueError, match=r"^years outside 1990–2401$"):
        R.september_firsts(np.array([2402]))


def test_time_in_system_from_referral_or_start_to_leaving_or_end():
    s, e = day(START), day(START) + 1000.0
    p = make_problem(
        [s - 50.0, s + 10.0, s + 20.0, s + 30.0, e + 5.0],
        pools=[(0, 0, 0, 25, 5)],
        stay=[np.inf, 100.0, np.inf, np.inf, np.inf],
        patience=[np.inf, np.inf, 40.0, np.inf, np.inf],
    )
    inf = np.inf
    placed = Placements(
        np.array([s + 1.0, s + 12.0, inf, inf, inf]),
        np.array([s + 2.0, s + 12.0, inf, inf, inf]),
        np.array([0, 0, -1, -1, -1]),
    )
    got = time_in_system(p, placed, s, e)
    # 0: waiting from before the start, placed, never leaves: the whole forecast
    # 1: referred at +10, takes a place at +12, leaves 100 days later: 102
    # 2: referred at +20, leaves the list 40 days later: 40
    # 3: referred at +30, still waiting at the end: 970
    # 4: referred after the end: nothing
    assert got.tolist() == [1000.0, 102.0, 40.0, 970.0, 0.0]


def test_the_first_and_last_academic_years_of_the_calendar_are_supported():
    first, last = day(date(1990, 9, 1)), day(date(2401, 8, 31))
    assert R.academic_years(np.array([first, first + 200.5])).tolist() == [1990, 1990]
    assert R.academic_years(np.array([last])).tolist() == [2400]
    assert R.academic_year_of(first) == 1990 and R.academic_year_of(last) == 2400
    with pytest.raises(ValueError, match=r"^year 2402 is outside 1990–2401$"):
        R.september_first(2402)
