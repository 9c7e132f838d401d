"""Analytic capacity guides: the formulas against known values, their monotonicity, guides on
bundled scenarios, and ``placeplan capacity`` on the command line."""

import datetime
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import placeplan as pp
from placeplan.capacity import (
    CapacityGuides,
    erlang_c,
    guides,
    kingman_places,
    little_list,
    load,
    mean_wait,
    nhsr_relief_capacity,
    nhsr_target_capacity,
    relief_places,
)
from placeplan.cli import main
from placeplan.errors import InputError
from placeplan.model import Model
from placeplan.streams import Streams

CONTRACT = [
    "designation",
    "places",
    "referrals_per_year",
    "mean_stay_years",
    "load",
    "list_now",
    "target_list",
    "kingman_places",
    "relief_places",
    "extra_places",
]


def erlang_c_poisson(c: int, a: float) -> float:
    """Erlang C from Erlang B written with Poisson probabilities (independent of the recursion)."""
    b = stats.poisson.pmf(c, a) / stats.poisson.cdf(c, a)
    return b / (1 - a / c * (1 - b))


# ------------------------------------------------------------------------------- formulas
def test_erlang_c_case_of_domain_md():
    """λ = 9, μ = 1, c = 10: Wq = 0.66873 years (DOMAIN.md, "Truths to test against")."""
    assert mean_wait(9.0, 1.0, 10) == pytest.approx(0.66873, abs=5e-6)
    assert erlang_c(10, 9.0) == pytest.approx(0.66873, abs=5e-6)  # c μ − λ = 1


@pytest.mark.parametrize("c, a", [(1, 0.5), (10, 9.0), (20, 12.3), (800, 760.0), (3000, 2950.5)])
def test_erlang_c_matches_the_poisson_form(c, a):
    assert erlang_c(c, a) == pytest.approx(erlang_c_poisson(c, a), rel=1e-9)


def test_erlang_c_edges():
    assert erlang_c(10, 0.0) == 0.0
    assert erlang_c(10, 10.0) == 1.0 and erlang_c(10, 12.0) == 1.0
    assert mean_wait(12.0, 1.0, 10) == math.inf and mean_wait(0.0, 1.0, 10) == 0.0


def test_littles_law_identity():
    """L = λ W, and for M/M/c the list from the mean wait is Erlang C's Lq = C ρ / (1 − ρ)."""
    assert little_list(30.0, 13.0) == 390.0  # NHS-R's example: 30 a week, 52 / 4 weeks
    for c, lam, stay in [(10, 9.0, 1.0), (5, 2.0, 1.5), (700, 90.0, 7.5)]:
        a = lam * stay
        rho = a / c
        lq = erlang_c(c, a) * rho / (1 - rho)
        assert little_list(lam, mean_wait(lam, stay, c)) == pytest.approx(lq, rel=1e-12)


def test_kingman_hand_computed():
    """Kingman's multi-server form at hand-computed cases, the single server included."""
    # M/M/1, λ = 0.5, μ = 1: Wq = ρ / (μ − λ) = 1 year
    assert mean_wait(0.5, 1.0, 1) == pytest.approx(1.0)
    # M/D/1 (cs = 0): half that, which is Pollaczek–Khinchine's exact ρ / (2 μ (1 − ρ))
    assert mean_wait(0.5, 1.0, 1, cv_stay=0.0) == pytest.approx(0.5)
    # G/G/1 with ca = 2, cs = 0.5: (4 + 0.25) / 2 = 2.125 times M/M/1
    assert mean_wait(0.5, 1.0, 1, cv_arrivals=2.0, cv_stay=0.5) == pytest.approx(2.125)
    # M/D/10 by Allen–Cunneen: half of Erlang C's 0.66873
    assert mean_wait(9.0, 1.0, 10, cv_stay=0.0) == pytest.approx(0.66873 / 2, abs=5e-6)


def test_kingman_places_is_the_fewest_that_meet_the_target():
    assert kingman_places(9.0, 1.0, 0.6688) == 10  # Erlang C: 10 places give 0.66873
    assert kingman_places(9.0, 1.0, 0.6687) == 11
    assert kingman_places(9.0, 1.0, 0.6688, cv_stay=0.0) == 10
    assert kingman_places(9.0, 1.0, 0.34, cv_stay=0.0) == 10  # M/D/10: 0.334
    assert kingman_places(0.0, 1.0, 0.5) == 0
    for lam, stay, w in [(190.0, 8.8, 0.25), (54.0, 4.5, 0.1), (3.0, 2.0, 1.0)]:
        c = kingman_places(lam, stay, w)
        assert c > lam * stay
        assert mean_wait(lam, stay, c) <= w < mean_wait(lam, stay, c - 1)
    with pytest.raises(ValueError):
        kingman_places(9.0, 1.0, 0.0)


def test_nhsr_published_examples():
    """NHSRwaitinglist's own examples: calc_target_capacity(4, 52) and the relief capacity."""
    assert nhsr_target_capacity(4, 52) == pytest.approx(4 + 1 * 4 / 52)  # 4.0769
    assert nhsr_relief_capacity(30, 1200, 390, 26) == pytest.approx(61.153846, abs=1e-6)


def test_relief_places_hand_computed():
    """λ = 100, stay 5, c = 400, list 300 to 50 in 2 years: x = (250 + 20 × 2) / 1.4."""
    got = relief_places(100.0, 5.0, 400.0, 300.0, 50.0, 2.0)
    assert got == pytest.approx(400 + 290 / 1.4)
    # the list it leaves after two years is the target: L0 − x + (λ − (c + x) μ) T
    x = got - 400
    assert 300 - x + (100 - got / 5) * 2 == pytest.approx(50.0)
    # with stays short beside T it is NHS-R's relief rate times the stay
    short = relief_places(100.0, 0.01, 1.0, 300.0, 50.0, 2.0)
    assert short == pytest.approx(0.01 * nhsr_relief_capacity(100, 300, 50, 2), rel=0.01)
    # a list already below target needs no extra places when places outrun demand
    assert relief_places(10.0, 5.0, 100.0, 5.0, 20.0, 1.0) < 100.0
    with pytest.raises(ValueError):
        relief_places(1.0, 1.0, 1.0, 1.0, 1.0, 0.0)


def test_load():
    assert load(9.0, 1.0, 10) == pytest.approx(0.9)
    assert load(190.0, 8.0, 760) == pytest.approx(2.0)
    assert load(1.0, 1.0, 0) == math.inf and math.isnan(load(0.0, 1.0, 0))


rates = st.floats(0.1, 300.0)
stays = st.floats(0.1, 12.0)
waits = st.floats(0.02, 3.0)


@settings(max_examples=60, deadline=None)
@given(rates, st.floats(1.0, 2.0), stays, waits)
def test_more_demand_never_needs_fewer_places(lam, more, stay, w):
    assert kingman_places(lam * more, stay, w) >= kingman_places(lam, stay, w)


@settings(max_examples=60, deadline=None)
@given(rates, stays, waits, st.floats(1.0, 4.0))
def test_a_longer_target_wait_never_needs_more_places(lam, stay, w, longer):
    assert kingman_places(lam, stay, w * longer) <= kingman_places(lam, stay, w)


@settings(max_examples=60, deadline=None)
@given(rates, stays, waits, st.floats(0.0, 1.0))
def test_more_regular_stays_never_need_more_places(lam, stay, w, cv):
    assert kingman_places(lam, stay, w, cv_stay=cv) <= kingman_places(lam, stay, w)


# ------------------------------------------------------------------------------- guides
@pytest.fixture(scope="module")
def herts() -> CapacityGuides:
    return guides(pp.load_scenario("herts-baseline"), replications=8, seed=5)


def test_herts_guides_one_sensible_row_per_designation(herts):
    scenario = pp.load_scenario("herts-baseline")
    t = herts.table
    assert list(t["designation"]) == list(scenario.designations)
    assert set(CONTRACT) <= set(t.columns)
    assert (t["referrals_per_year"] > 0).all() and (t["list_now"] > 0).all()
    assert t["mean_stay_years"].between(1.0, 15.0).all()  # children stay years, not days
    assert t["referrals_per_year"].sum() == pytest.approx(760, rel=0.15)
    # places at the end of 2025: the start's 3,054 plus the 596 of the build programme
    assert t["places"].sum() == pytest.approx(3054 + 596)
    assert t["places_now"].sum() == pytest.approx(3054)
    assert np.allclose(t["load"], t["referrals_per_year"] * t["mean_stay_years"] / t["places"])
    # three terms, NHS-R's factor 4: a target mean wait of a quarter of a year
    assert np.allclose(t["target_list"], t["referrals_per_year"] * 0.25)
    assert (t["kingman_places"] > t["demand_places"]).all()
    assert (t["nhsr_places"] >= t["kingman_places"] - 1e-9).all()
    extra = t["extra_places"]
    assert pd.api.types.is_integer_dtype(extra) and (extra >= 0).all()
    need = np.maximum(t["kingman_places"], t["relief_places"]) - t["places"]
    assert list(extra) == [max(math.ceil(x - 1e-9), 0) for x in need]
    assert extra.sum() > 0  # the baseline is short of places
    pooled = herts.pooled.iloc[0]
    assert pooled["referrals_per_year"] == pytest.approx(t["referrals_per_year"].sum())
    assert any("Little's law" in a for a in herts.assumptions)
    assert any("Kingman" in a for a in herts.assumptions)
    assert any("2025-01-16" in a for a in herts.assumptions)


def test_herts_departures_are_the_children_who_leave_places_in_the_year(herts):
    """Departures counted child by child (same seed, same replications) match the estimate.

    Each pupil at the start and each child placed leaves their place at a known instant;
    those leaving within the year measured, by designation, over the replications,
    are what the stay (pupils ÷ departures) divides by.
    """
    model = Model(pp.load_scenario("herts-baseline"))
    d = herts.demand
    t0, t1 = (float(x.toordinal()) for x in (d.start, d.end))
    counts = np.zeros(len(d.designations))
    for r in range(d.replications):
        rep = model.replicate(Streams(5, r))
        occupants = rep.problem.occupants
        left = (occupants.exit > t0) & (occupants.exit <= t1)
        counts += np.bincount(occupants.designation[left], minlength=len(counts))
        leaves = rep.problem.leaves_places(rep.outcome)
        left = (leaves > t0) & (leaves <= t1) & (rep.outcome.started <= t1)
        counts += np.bincount(rep.children.designation[left], minlength=len(counts))
    per_year = counts / d.replications / d.years
    assert np.allclose(d.departures_per_year, per_year, rtol=1e-9, atol=1e-9), (
        d.departures_per_year,
        per_year,
    )
    assert np.allclose(herts.table["mean_stay_years"], d.pupils / d.departures_per_year)


def test_herts_longer_target_wait_needs_no_more_places(herts):
    longer = guides(
        pp.load_scenario("herts-baseline"), replications=8, seed=5, target_wait_terms=6.0
    )
    assert (longer.table["kingman_places"] <= herts.table["kingman_places"]).all()
    assert (longer.table["target_list"] > herts.table["target_list"]).all()


def test_erlang_c_scenario_gives_back_its_own_lambda_mu_and_load():
    g = guides(pp.load_scenario("validation/erlang-c"), replications=40, seed=2)
    row = g.table.iloc[0]
    assert row["designation"] == "ANY" and row["places"] == 10
    assert row["referrals_per_year"] == pytest.approx(9.0, rel=0.05)
    assert row["mean_stay_years"] == pytest.approx(1.0, rel=0.10)
    assert row["load"] == pytest.approx(0.9, rel=0.10)


def test_guides_refuse_bad_input():
    s = pp.load_scenario("herts-baseline")
    for kwargs in [
        {"target_wait_terms": 0},
        {"target_wait_terms": float("nan")},
        {"factor": 0.5},
        {"cv_stay": -1.0},
        {"seed": -1},
        {"at": datetime.date(2019, 1, 1)},
        {"at": "not a date"},
        {"clear_by": "2026-13-01"},
        {"replications": 0},
    ]:
        with pytest.raises(InputError):
            guides(s, **kwargs)


def test_guides_refuse_a_year_past_the_horizon_and_a_clear_by_before_it():
    s = pp.load_scenario("herts-baseline")
    with pytest.raises(InputError, match="no snapshot a year after"):
        guides(s, replications=1, at=datetime.date(2034, 6, 1))
    with pytest.raises(InputError, match="must be after"):
        guides(s, replications=1, clear_by=datetime.date(2025, 1, 10))


def test_guides_at_a_later_year_measures_that_year():
    g = guides(pp.load_scenario("herts-baseline"), replications=2, at=datetime.date(2028, 1, 1))
    assert g.demand.start.year == 2028 and g.demand.end.year == 2029
    assert g.table["places_now"].sum() == pytest.approx(3650)


# ------------------------------------------------------------------------------- CLI
def test_cli_good_path(tmp_path):
    out = tmp_path / "guides.csv"
    result = CliRunner().invoke(
        main, ["capacity", "herts-baseline", "-n", "3", "--seed", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    for text in ("Kingman places", "relief places", "extra places", "Assumptions:", "SEMH"):
        assert text in result.output
    table = pd.read_csv(out)
    assert list(table["designation"]) == ["ASD", "SLD", "MLD", "SEMH", "PSI", "all (pooled)"]
    assert set(CONTRACT) <= set(table.columns)
    direct = guides(pp.load_scenario("herts-baseline"), replications=3, seed=1).table
    assert list(table["extra_places"][:5]) == list(direct["extra_places"])


def _placeplan(*args):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "placeplan", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--clear-by", "2020-01-01", "-n", "1"], "must be after"),
        (["--clear-by", "soon", "-n", "1"], "expected a date"),
        (["--at", "1999-01-01", "-n", "1"], "outside the forecast"),
        (["--target-wait-terms", "-1"], "target-wait-terms"),
    ],
)
def test_cli_bad_input_exits_2_without_traceback(args, message):
    proc = _placeplan("capacity", "herts-baseline", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_unknown_scenario_exits_2():
    proc = _placeplan("capacity", "no-such-scenario")
    assert proc.returncode == 2 and "no such scenario" in proc.stderr


def test_places_just_above_the_load_have_a_long_finite_wait_not_a_division_by_zero():
    """λ = 1, 1/μ just under 12: with 12 places c μ − λ rounds to 0 (Hypothesis found it)."""
    stay = 11.999999999999998
    assert math.isfinite(mean_wait(1.0, stay, 12)) and mean_wait(1.0, stay, 12) > 1e6
    assert kingman_places(1.0, stay, 4.0) <= kingman_places(1.0, stay, 1.0)
