"""Each measure against an oracle written from the calendar's definitions (DOMAIN.md).

The oracle (:func:`oracle`) follows one child at a time with dates, the calendar's
:meth:`~placeplan.calendar.TermCalendar.whole_terms_waited` and day counts, and
knows nothing of :func:`placeplan.placement.measure` or the engines. Hand-made
problems pin the boundaries (referral on a term's last day, a snapshot on a term's
first day, exactly 52 weeks); Hypothesis compares random problems and decisions.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from handmade import CAL, START, day, make_problem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placeplan import measures
from placeplan.placement import ENGINES, LOCALITY_MEASURES, MEASURES, Placements, measure
from placeplan.placement.population import Exits
from placeplan.placement.problem import NeedAccount
from placeplan.placement.rules import NO_POOL
from placeplan.results import build_dataset

# ------------------------------------------------------------------------- oracle


def _date(t: float) -> date:
    return date.fromordinal(math.floor(t))


def _leaves_place(p, i: int, take_up: float, q: int) -> float:
    """DOMAIN.md: a pupil leaves mid-year, by age, or at the end of the academic year
    in which they reach the oldest age their school takes."""
    c, e = p.children, p.exits
    year = CAL.academic_year(_date(take_up))
    age = int(c.age[i]) + year - CAL.academic_year(_date(c.time[i]))
    school_out = date(year + int(p.pools.oldest[q]) - age + 1, 9, 1).toordinal()
    return min(take_up + e.stay[i], e.age_out[i], float(school_out))


def oracle(p, placements) -> dict[str, np.ndarray]:
    """Every measure at every snapshot, child by child."""
    c, e, pools = p.children, p.exits, p.pools
    n_s, n_d, n_l = len(p.schedule.snapshots), p.n_designations, p.n_localities
    home = p.localities
    out = {m: np.zeros((n_s, n_d)) for m in MEASURES}
    out |= {f"{m}_by_locality": np.zeros((n_s, n_l)) for m in LOCALITY_MEASURES}

    snaps = zip(p.schedule.snapshots, p.schedule.snapshot_dates, strict=True)
    for k, (now, at) in enumerate(snaps):

        def add(name, d, loc, amount=1.0, k=k):
            out[name][k, d] += amount
            if f"{name}_by_locality" in out:
                out[f"{name}_by_locality"][k, loc] += amount

        places = [int(x) for x in p.capacity]
        for when, q, n in p.openings:
            if when <= now:
                places[q] += n
        for q, n in enumerate(places):
            add("capacity", pools.designation[q], pools.locality[q], n)
        account = p.account
        for j, (q, leaves) in enumerate(zip(p.occupants.pool, p.occupants.exit, strict=True)):
            d_q, loc_q = pools.designation[q], pools.locality[q]
            until = leaves if account is None else account.occupant_until[j]
            if leaves > now:
                add("occupied", d_q, loc_q)
                add("pupils", d_q, loc_q)
            elif until > now:  # left the place (at the school's oldest age) still in need
                add("placed_elsewhere", d_q, loc_q)
            if until > now:
                add("need", d_q, loc_q)
        if account is not None:
            for d, loc, until in zip(
                account.elsewhere_designation,
                account.elsewhere_locality,
                account.elsewhere_until,
                strict=True,
            ):
                if until > now:
                    add("placed_elsewhere", d, loc)
                    add("need", d, loc)
        for i in range(len(c)):
            d, loc, referred = int(c.designation[i]), int(home[i]), float(c.time[i])
            off, started, q = placements.offered[i], placements.started[i], placements.pool[i]
            leaves_list = min(e.age_out[i], referred + e.patience[i], e.out_of_area[i])
            ooa = e.out_of_area[i]
            goes_out = not np.isfinite(off) and np.isfinite(ooa) and ooa == leaves_list
            if np.isfinite(off) and off <= now and _leaves_place(p, i, started, q) > now:
                add("occupied", pools.designation[q], pools.locality[q])  # the place's
            if referred > now:
                continue
            add("referred", d, loc)
            # when the child stops needing a place: the account's, or leaving the system
            if account is not None:
                need_until = account.child_until[i]
            elif np.isfinite(started):
                need_until = _leaves_place(p, i, started, q)
            elif goes_out:
                need_until = min(e.age_out[i], ooa + e.stay[i])
            else:
                need_until = leaves_list
            if need_until > now:
                add("need", d, loc)
            if started <= now:
                add("placed", d, loc)
                if _leaves_place(p, i, started, q) > now:
                    add("pupils", d, loc)
                elif need_until > now:
                    add("placed_elsewhere", d, loc)
                if pools.locality[q] == loc:
                    add("placed_in_own_locality", d, loc)
            elif goes_out and ooa <= now:
                add("placed_out_of_area", d, loc)
                until = min(e.age_out[i], ooa + e.stay[i])
                if until > now:
                    add("out_of_area", d, loc)
                    add("placed_elsewhere", d, loc)
                days = max(0.0, min(until, now) - max(ooa, p.start))
                add("out_of_area_cost", d, loc, p.out_of_area_cost * days / 365.25)
            elif leaves_list <= now:
                add("left_while_waiting", d, loc)
                if e.age_out[i] <= leaves_list:
                    add("aged_out_while_waiting", d, loc)
            else:
                add("waiting", d, loc)
                if CAL.whole_terms_waited(_date(referred), at) >= p.long_wait_terms:
                    add("waiting_over_3_terms", d, loc)
                if (at - _date(referred)).days > 7 * p.long_wait_weeks:
                    add("waiting_over_52_weeks", d, loc)
    out["vacancies"] = np.maximum(out["capacity"] - out["occupied"], 0)
    out["vacancies_by_locality"] = np.maximum(
        out["capacity_by_locality"] - out["occupied_by_locality"], 0
    )
    return out


def assert_matches_oracle(p, placements):
    got, want = measure(p, placements), oracle(p, placements)
    assert set(got) == set(want)
    for name, values in want.items():
        np.testing.assert_allclose(got[name], values, rtol=1e-9, atol=1e-6, err_msg=name)


def no_placements(n: int) -> Placements:
    return Placements(np.full(n, np.inf), np.full(n, np.inf), np.full(n, NO_POOL))


# ------------------------------------------------------------- the table drives it


def test_measure_gives_exactly_the_table():
    p = make_problem([day(START)])
    got = measure(p, no_placements(1))
    want = {m.name for m in measures.MEASURES if m.source == "placement"}
    want |= {f"{m.name}_by_locality" for m in measures.MEASURES if m.by_locality}
    assert set(got) == want


def test_long_names_follow_the_scenarios_thresholds():
    arrays = {"waiting_over_3_terms": np.zeros((1, 1)), "waiting_over_52_weeks": np.zeros((1, 1))}
    ds = build_dataset(
        [date(2026, 1, 15)],
        ["2025/26 spring"],
        ("A",),
        arrays,
        thresholds=measures.Thresholds(1, 26),
    )
    head = ds[measures.HEADLINE]
    assert head.attrs["long_name"] == "Children waiting longer than one term"
    assert head.attrs["threshold_terms"] == 1 and head.attrs["units"] == "children"
    weeks = ds["waiting_over_52_weeks"].attrs
    assert weeks["long_name"] == "Children waiting longer than 26 weeks"
    assert weeks["threshold_weeks"] == 26
    default = build_dataset([date(2026, 1, 15)], ["t"], ("A",), arrays)
    assert default[measures.HEADLINE].attrs["long_name"] == (
        "Children waiting longer than three terms"
    )


def test_a_run_labels_its_headline_from_its_calendar():
    import placeplan as pp
    from placeplan.scenario import scenario_from_dict

    raw = pp.load_scenario("herts-baseline").model_dump()
    raw["calendar"]["long_wait_terms"] = 1
    raw["years"] = 1
    ds = pp.run(scenario_from_dict(raw), replications=1, seed=0).dataset
    assert ds[measures.HEADLINE].attrs["long_name"] == "Children waiting longer than one term"
    assert ds[f"{measures.HEADLINE}_by_locality"].attrs["threshold_terms"] == 1


def test_build_dataset_rejects_an_unknown_variable():
    with pytest.raises(KeyError, match="not a variable"):
        build_dataset([date(2026, 1, 15)], ["t"], ("A",), {"waiting_forever": np.zeros((1, 1))})


# -------------------------------------------------------------------- boundaries

SPRING_2026 = CAL.term_start(2025, 1)  # 5 January 2026
LAST_AUTUMN_DAY = SPRING_2026 - timedelta(days=1)


def test_three_terms_counts_from_the_end_of_the_term_of_referral():
    # one child referred on the last day of the autumn term, one on the first of spring
    spring_2027 = CAL.term_start(2026, 1)
    last_autumn_2026 = spring_2027 - timedelta(days=1)
    p = make_problem(
        [day(LAST_AUTUMN_DAY, 0.5), day(SPRING_2026, 0.5)],
        snapshot_days=[last_autumn_2026, spring_2027, CAL.term_start(2026, 2)],
    )
    m = measure(p, no_placements(2))
    # last day of autumn 2026: 2 whole terms (spring, summer 2026) for the first;
    # first day of spring 2027 (a snapshot on a term's first day): 3 for the first,
    # 2 for the second; first day of summer 2027: 3 for both
    assert m["waiting"][:, 0].tolist() == [2, 2, 2]
    assert m["waiting_over_3_terms"][:, 0].tolist() == [0, 1, 2]
    assert_matches_oracle(p, no_placements(2))


@pytest.mark.parametrize("terms", [1, 2, 4])
def test_the_term_threshold_follows_long_wait_terms(terms):
    referred = day(LAST_AUTUMN_DAY, 0.5)  # term k = autumn 2025
    first_counted = CAL.start_of_index(CAL.term_index(LAST_AUTUMN_DAY) + terms + 1)
    p = make_problem(
        [referred],
        long_wait_terms=terms,
        snapshot_days=[first_counted - timedelta(days=1), first_counted],
    )
    assert measure(p, no_placements(1))["waiting_over_3_terms"][:, 0].tolist() == [0, 1]


@pytest.mark.parametrize("weeks", [52.0, 26.0, 1.0])
def test_more_than_52_weeks_is_more_than_52_times_7_days(weeks):
    referred = date(2025, 10, 1)
    exactly = referred + timedelta(days=int(7 * weeks))
    p = make_problem(
        [day(referred, 0.5)],
        long_wait_weeks=weeks,
        snapshot_days=[exactly - timedelta(days=1), exactly, exactly + timedelta(days=1)],
    )
    # exactly 52 weeks is not more than 52 weeks; the day after is
    assert measure(p, no_placements(1))["waiting_over_52_weeks"][:, 0].tolist() == [0, 0, 1]
    assert_matches_oracle(p, no_placements(1))


def test_a_story_of_every_measure():
    """Six children and two schools in two localities, each fate known."""
    jan = date(2026, 1, 15)  # the spring census
    p = make_problem(
        [day(date(2025, 9, 2), 0.5)] * 6,
        designation=[0, 0, 0, 0, 0, 1],
        locality=[0, 1, 0, 0, 0, 1],
        pools=[(0, 0, 0, 25, 2), (1, 1, 0, 25, 0)],
        occupants=[(0, day(date(2025, 12, 1)))],
        patience=[np.inf, np.inf, 30.0, np.inf, np.inf, np.inf],
        age_out=[np.inf, np.inf, np.inf, day(date(2025, 11, 1)), np.inf, np.inf],
        out_of_area=[np.inf, np.inf, np.inf, np.inf, day(date(2025, 10, 1)), np.inf],
        openings=((day(date(2025, 11, 1)), 1, 3),),
        out_of_area_cost=36525.0,  # 100 a day
        snapshot_days=[jan],
    )
    # child 0: placed in its own locality 15 Sept; child 1 (locality 1) placed in
    # locality 0 on 1 Dec; 2 leaves the list after 30 days; 3 ages out; 4 goes out of
    # area on 1 Oct; 5 (designation 1) waits
    placements = Placements(
        np.array([day(date(2025, 9, 15)), day(date(2025, 12, 1)), *[np.inf] * 4]),
        np.array([day(date(2025, 9, 15)), day(date(2025, 12, 1)), *[np.inf] * 4]),
        np.array([0, 0, NO_POOL, NO_POOL, NO_POOL, NO_POOL]),
    )
    m = {k: v[0] for k, v in measure(p, placements).items()}
    assert m["capacity"].tolist() == [2, 3]
    assert m["occupied"].tolist() == [2, 0]  # the occupant left on 1 December
    assert m["vacancies"].tolist() == [0, 3]
    assert m["referred"].tolist() == [5, 1]
    assert m["placed"].tolist() == [2, 0]
    assert m["placed_in_own_locality"].tolist() == [1, 0]
    assert m["waiting"].tolist() == [0, 1]
    assert m["left_while_waiting"].tolist() == [2, 0]
    assert m["aged_out_while_waiting"].tolist() == [1, 0]
    assert m["placed_out_of_area"].tolist() == [1, 0]
    assert m["out_of_area"].tolist() == [1, 0]
    cost_days = day(jan, 0.99) - day(date(2025, 10, 1))
    assert m["out_of_area_cost"].tolist() == pytest.approx([100 * cost_days, 0])
    # by locality: places by the school's, children by their own
    assert m["capacity_by_locality"].tolist() == [2, 3]
    assert m["occupied_by_locality"].tolist() == [2, 0]
    assert m["placed_by_locality"].tolist() == [1, 1]
    assert m["placed_in_own_locality_by_locality"].tolist() == [1, 0]
    assert m["waiting_by_locality"].tolist() == [0, 1]
    assert_matches_oracle(p, placements)


# ------------------------------------------------------------ random problems


@st.composite
def problems_and_placements(draw):
    n = draw(st.integers(0, 12))
    first, last = day(START) - 400, day(START) + 3 * 365
    referred = sorted(draw(st.lists(st.floats(first, last), min_size=n, max_size=n)))
    times = st.one_of(st.just(np.inf), st.floats(first, last + 200))
    spans = st.one_of(st.just(np.inf), st.floats(0, 900))
    n_pools = draw(st.integers(1, 4))
    pools = []
    for _ in range(n_pools):
        lo = draw(st.integers(0, 18))
        pools.append(
            (
                draw(st.integers(0, 1)),
                draw(st.integers(0, 1)),
                lo,
                draw(st.integers(lo, 25)),
                draw(st.integers(0, 3)),
            )
        )
    designation = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    out_of_area = [max(t, draw(times)) if draw(st.booleans()) else np.inf for t in referred]
    p = make_problem(
        referred,
        age=draw(st.lists(st.integers(2, 18), min_size=n, max_size=n)),
        designation=designation,
        locality=draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
        pools=pools,
        occupants=[
            (draw(st.integers(0, n_pools - 1)), draw(times)) for _ in range(draw(st.integers(0, 4)))
        ],
        age_out=[draw(times) for _ in range(n)],
        stay=[draw(spans) for _ in range(n)],
        patience=[draw(spans) for _ in range(n)],
        out_of_area=out_of_area,
        long_wait_terms=draw(st.integers(1, 4)),
        long_wait_weeks=draw(st.sampled_from([52.0, 26.0, 13.5, 1.0])),
        snapshots=draw(st.sampled_from(["census", 30.5, 91.0])),
        openings=tuple(
            (
                draw(st.floats(day(START), last)),
                draw(st.integers(0, n_pools - 1)),
                draw(st.integers(-1, 3)),
            )
            for _ in range(draw(st.integers(0, 2)))
        ),
        out_of_area_cost=draw(st.sampled_from([0.0, 50_000.0])),
    )
    offered, started, pool = np.full(n, np.inf), np.full(n, np.inf), np.full(n, NO_POOL)
    for i in range(n):
        mine = [q for q in range(n_pools) if pools[q][0] == designation[i]]
        if mine and draw(st.booleans()):
            offered[i] = referred[i] + draw(st.floats(0, 500))
            started[i] = offered[i] + draw(st.sampled_from([0.0, 0.25, 40.0, 120.0]))
            pool[i] = draw(st.sampled_from(mine))
    openings = sorted(p.openings)
    import dataclasses

    p = dataclasses.replace(p, openings=tuple(openings))
    if draw(st.booleans()):  # the one account of need: children leave only by need
        extra = st.one_of(st.just(0.0), st.just(np.inf), st.floats(0, 900))
        never = np.full(n, np.inf)
        exits = Exits(p.exits.age_out, never, never.copy(), p.exits.out_of_area)
        n_else = draw(st.integers(0, 3))
        account = NeedAccount(
            child_until=p.exits.age_out + np.array([draw(extra) for _ in range(n)], dtype=float),
            occupant_until=p.occupants.exit
            + np.array([draw(extra) for _ in range(len(p.occupants.exit))], dtype=float),
            elsewhere_designation=np.array(
                [draw(st.integers(0, p.n_designations - 1)) for _ in range(n_else)],
                dtype=np.int64,
            ),
            elsewhere_locality=np.array(
                [draw(st.integers(0, p.n_localities - 1)) for _ in range(n_else)], dtype=np.int64
            ),
            elsewhere_until=np.array([draw(times) for _ in range(n_else)], dtype=float),
        )
        p = dataclasses.replace(p, exits=exits, account=account)
    return p, Placements(offered, started, pool)


@given(problems_and_placements())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_measure_agrees_with_the_per_child_oracle(case):
    assert_matches_oracle(*case)


def test_engines_placements_measured_as_the_oracle_says():
    """The oracle on real decisions: a hand-made problem run by each engine."""
    referred = [day(START + timedelta(days=20 * k), 0.5) for k in range(15)]
    p = make_problem(
        referred,
        age=[4 + k for k in range(15)],
        locality=[k % 2 for k in range(15)],
        pools=[(0, 0, 4, 11, 2), (0, 1, 9, 18, 2)],
        neighbours=[[1], [0]],
        stay=[200.0 + 30 * k for k in range(15)],
        every_days=28,
    )
    for engine in ENGINES.values():
        placements = engine(p, day(START), day(date(2028, 9, 1)))
        assert np.isfinite(placements.started).sum() >= 6
        assert_matches_oracle(p, placements)


@settings(max_examples=200, deadline=None)
@given(
    snaps=st.lists(
        st.floats(739000, 739400, allow_nan=False).map(lambda x: round(x * 4) / 4),
        max_size=12,
    ),
    when=st.lists(
        st.one_of(
            st.floats(738990, 739410, allow_nan=False),
            st.sampled_from([math.inf, -math.inf, math.nan]),
        ),
        max_size=30,
    ),
)
def test_snapshot_index_is_searchsorted(snaps, when):
    """The table lookup gives numpy's binary search exactly, ties, infinities and NaN too."""
    from placeplan.placement.kernel import day_starts, snapshot_index

    times = np.sort(np.asarray(snaps, dtype=float))
    w = np.asarray(when, dtype=float)
    got = snapshot_index(times, *day_starts(times), w)
    np.testing.assert_array_equal(got, np.searchsorted(times, w, side="left"))
    exact = times[: min(len(times), 3)]  # instants on a snapshot count it as come
    np.testing.assert_array_equal(
        snapshot_index(times, *day_starts(times), exact), np.searchsorted(times, exact, "left")
    )


def test_a_run_of_some_measures_keeps_them_exactly():
    """``measures_only`` computes fewer measures and leaves the ones it keeps unchanged."""
    from placeplan.experiment import run

    full = run("herts-baseline", replications=3, seed=5).dataset
    some = run("herts-baseline", replications=3, seed=5, measures_only=["need"]).dataset
    names = {str(v).removesuffix("_by_designation").removesuffix("_by_locality") for v in some}
    assert names == {"need", measures.HEADLINE}
    for v in some.data_vars:
        np.testing.assert_array_equal(some[v].values, full[v].values)
    vacancies = run("herts-baseline", replications=2, seed=5, measures_only=["vacancies"]).dataset
    np.testing.assert_array_equal(vacancies["vacancies"].values, full["vacancies"].values[:2])
    with pytest.raises(ValueError, match="unknown measures"):
        run("herts-baseline", replications=2, seed=5, measures_only=["queue"])


def test_each_schedule_gets_its_own_clock_kept_for_its_replications():
    """The clock is made once per schedule object (a cached property), each its own."""
    import dataclasses

    base = make_problem([day(START) + 10.0]).schedule
    for k in range(12):
        mine = dataclasses.replace(base, snapshots=base.snapshots[: 1 + k % 7] + k)
        assert mine.clock is mine.clock
        assert np.array_equal(mine.clock.times, mine.snapshots)
    assert not mine.clock.times.flags.writeable
