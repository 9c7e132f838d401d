"""The pathway's queue discipline: ``fifo`` (the default) and ``deadline_first``."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from test_pathway_engines import END, FIELDS, START, _spec

from placeplan.pathway.cases import Cases, servers_of
from placeplan.pathway.engine import run_cases, simulate, yearly
from placeplan.pathway.reference import run_cases_reference
from placeplan.scenario import PathwaySpec
from placeplan.streams import Streams


def _with(spec: PathwaySpec, discipline: str) -> PathwaySpec:
    return spec.model_copy(update={"discipline": discipline})


def test_the_default_is_fifo_and_other_values_are_refused():
    spec = _spec()
    assert spec.discipline == "fifo"
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["discipline"] = "deadline_first"
    assert PathwaySpec.model_validate(data).discipline == "deadline_first"
    data["discipline"] = "lifo"
    with pytest.raises(ValueError, match="discipline"):
        PathwaySpec.model_validate(data)


def test_deadline_first_orders_by_hand():
    """One caseworker doing a day of work a calendar day, five decisions of a day's
    work, all ready at t0, each followed by a 2-week minimum. Requests (days before
    t0): A 200, B 139.5, C 100, D 10, E 139.8.

    FIFO takes them in case order: A, B, C, D, E, ending at t0 + 1 ... 5.
    Deadline first: at t0 the requests under 140 days old are B, C, D, E (A is late);
    the oldest is E -> [0, 1]. At t0 + 1, B has turned 140 days old (at t0 + 0.5),
    so the fresh are C, D: C -> [1, 2], D -> [2, 3]; then the late by request, A ->
    [3, 4], B -> [4, 5].
    """
    spec = _spec(fte=(1, 1), days=(365.25, 365.25), cv=0.0, mins=(2, 0, 0), backlog=(0, 0, 0))
    t0 = 10000.0
    ago = np.array([200.0, 139.5, 100.0, 10.0, 139.8])
    n = len(ago)
    cases = Cases(
        requested=t0 - ago,
        age=np.full(n, 5, dtype=np.int16),
        enter=np.full(n, t0),
        first_stage=np.zeros(n, dtype=np.int8),
        last_stage=np.zeros(n, dtype=np.int8),
        outcome=np.ones(n, dtype=np.int8),
        work=np.ones((n, 3)),
        backlog=np.ones(n, dtype=bool),
    )
    servers = servers_of(spec)
    fifo = t0 + 14 + np.array([1.0, 2, 3, 4, 5])
    deadline = t0 + 14 + np.array([4.0, 5, 2, 3, 1])
    for run in (run_cases, run_cases_reference):
        np.testing.assert_array_equal(
            run(_with(spec, "fifo"), cases, servers, t0 + 100)[:, 0], fifo
        )
        np.testing.assert_array_equal(
            run(_with(spec, "deadline_first"), cases, servers, t0 + 100)[:, 0], deadline
        )


def test_with_ample_staff_the_disciplines_agree_to_the_bit():
    """Nobody waits, so the order of the queue never matters."""
    spec = _spec(per_year=400, fte=(200, 200), days=(365.25, 365.25), delays=(0.5, 3.0, 1.0))
    a = simulate(spec, START, END, Streams(4, 0))
    b = simulate(_with(spec, "deadline_first"), START, END, Streams(4, 0))
    assert np.count_nonzero(np.isfinite(a.issued)) > 300
    for name in FIELDS:
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name


def _one_stage(per_year: float, fte: float, cv: float, backlog: int = 0) -> PathwaySpec:
    """Decisions only (every request refused), by caseworkers a day of work a day."""
    return _spec(
        per_year=per_year,
        fte=(fte, 1),
        days=(365.25, 365.25),
        cv=cv,
        mins=(0, 0, 0),
        assess=0.0,
        withdrawn=0.0,
        backlog=(backlog, 0, 0),
    )


def test_one_overloaded_stage_ends_the_same_work_at_the_same_instants():
    """Two servers, the same work on every case: any discipline that never idles a
    server while a case waits ends tasks at the same instants, only for other cases
    (the busy periods are the same). Overloaded (10 a day for 2 a day's capacity)
    with a backlog, so the queue is long and the two orders differ."""
    spec = _one_stage(per_year=3 * 365.25, fte=2, cv=0.0, backlog=40)
    a = simulate(spec, START, END, Streams(9, 0))
    b = simulate(_with(spec, "deadline_first"), START, END, Streams(9, 0))
    assert np.array_equal(a.requested, b.requested)
    assert np.array_equal(np.sort(a.decided), np.sort(b.decided), equal_nan=True)
    both = np.isfinite(a.decided) & np.isfinite(b.decided)
    assert np.count_nonzero(a.decided[both] != b.decided[both]) > 100  # other cases
    # deadline first decides more of them within 20 weeks
    on_time = lambda d: np.count_nonzero(d.decided - d.requested < 140)  # noqa: E731
    assert on_time(b) > on_time(a)


def test_deadline_first_keeps_every_case_and_its_stages_in_order():
    spec = _with(_spec(per_year=600, fte=(1.5, 1.0), backlog=(20, 30, 10)), "deadline_first")
    d = simulate(spec, START, END, Streams(3, 1))
    assert np.count_nonzero(d.first_stage >= 0) == 60
    assert np.all(np.isfinite(d.issued) == (d.outcome == 4))
    assert np.all(np.isfinite(d.decided[np.isin(d.outcome, (1, 2))]))
    assert np.all(np.isfinite(d.assessed[d.outcome == 3]))
    new = d.first_stage < 0
    assert np.all(
        d.decided[new & np.isfinite(d.assessed)] <= d.assessed[new & np.isfinite(d.assessed)]
    )
    done = np.isfinite(d.issued)
    assert np.all(d.assessed[done & (d.first_stage <= 1)] <= d.issued[done & (d.first_stage <= 1)])
    assert np.all(d.issued[done] >= d.requested[done])
    y = yearly(d, np.array([2025, 2026, 2027]))
    assert y["requests"].sum() == np.count_nonzero(new)
    assert y["plans_issued"].sum() == np.count_nonzero(done)
    assert np.count_nonzero(d.outcome == 0) > 0  # overloaded: some are still open


def test_erlang_c_mean_wait_under_deadline_first():
    """M/M/10 at 9 a day, work of mean 1 day: the mean wait is Erlang C's 0.66873 days
    under any order that never idles a server and does not look at the work, this one
    too (Little's law: the number waiting is the same process)."""
    spec = _with(_one_stage(per_year=9 * 365.25, fte=10, cv=1.0), "deadline_first")
    means = []
    for r in range(6):
        d = simulate(spec, date(2025, 1, 1), date(2031, 1, 1), Streams(7, r))
        keep = (d.requested > date(2026, 1, 1).toordinal()) & np.isfinite(d.decided)
        means.append((d.decided[keep] - d.requested[keep]).mean() - 1.0)
    means = np.array(means)
    se = means.std(ddof=1) / np.sqrt(len(means))
    assert abs(means.mean() - 0.66873) < 4 * se + 0.01, (means.mean(), se)


def test_the_engine_fit_runs_the_discipline_it_is_given():
    """The fit's pre-drawn cases do not depend on the discipline; the engine it runs does.

    Short of caseworkers (the requests need about 2,600 of their days a year), the
    two disciplines issue plans at different times; the default is first come, first
    served, to the bit.
    """
    from placeplan.pathway.calibrate import _GROUPS, STAGE_ASSUMPTIONS
    from placeplan.pathway.engine_fit import prepare

    years = np.arange(2020, 2025)
    requests = np.full(len(years), 800.0)
    shares = (0.01, 0.7, 0.95)
    default = prepare(years, requests, shares, STAGE_ASSUMPTIONS, _GROUPS, 2, seed=5)
    fifo = prepare(years, requests, shares, STAGE_ASSUMPTIONS, _GROUPS, 2, 5, "fifo")
    deadline = prepare(years, requests, shares, STAGE_ASSUMPTIONS, _GROUPS, 2, 5, "deadline_first")
    assert default.spec.discipline == "fifo" and deadline.spec.discipline == "deadline_first"
    for a, b in zip(fifo.cases, deadline.cases, strict=True):
        assert np.array_equal(a.requested, b.requested) and np.array_equal(a.work, b.work)
    capacity = {"caseworkers": 1500.0, "psychologists": 4000.0}
    base, _ = default.run(capacity, 2.0)
    same, _ = fifo.run(capacity, 2.0)
    other, _ = deadline.run(capacity, 2.0)
    for key in base:
        assert np.array_equal(base[key], same[key], equal_nan=True), key
    assert not np.allclose(base["pct_within_20_weeks"], other["pct_within_20_weeks"])
