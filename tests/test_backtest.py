"""Demand calibration and backtests on the published SEN2 series of every council."""

import warnings

import numpy as np
import pandas as pd
import pytest

from placeplan.demand.backtest import COLUMNS, backtest, england_check, score
from placeplan.demand.calibrate import fit, project_totals
from placeplan.demand.panel import panel


@pytest.fixture(scope="module")
def councils():
    return panel("la")


@pytest.fixture(scope="module")
def bar(councils):
    return backtest(councils, [2021, 2022], 3)


def test_panel_matches_published_figures(councils):
    i = list(councils.codes).index("E10000015")
    assert councils.plans[i, councils.year(2025)] == 12920
    assert councils.special[i, councils.year(2025)] == 3375
    assert councils.new[i, councils.year(2024)] == 1849
    # the waiting signal: educated elsewhere, plus awaiting provision up to 2022
    assert councils.waiting[i, councils.year(2022)] == 145 + 133
    assert councils.waiting[i, councils.year(2025)] == 653
    assert councils.need[i, councils.year(2025)] == 3375 + 653
    assert len(councils.codes) >= 150
    # the 2022 Yorkshire new plans blanked in the totals come back from the age breakdown
    assert np.isfinite(councils.new[:, councils.year(2022)]).sum() >= 150


def test_backtest_table_has_the_documented_columns(bar):
    assert list(bar.columns) == COLUMNS
    assert set(bar["quantity"]) == {"ehcp_plans", "special_school"}
    assert set(bar["origin"]) == {2021, 2022}
    assert set(bar["year"] - bar["origin"]) == {1, 2, 3}
    herts = bar[(bar.council_code == "E10000015") & (bar.quantity == "ehcp_plans")]
    row = herts[(herts.origin == 2022) & (herts.year == 2025)].iloc[0]
    assert row.actual == 12920 and row.naive_last == 9422
    assert row.naive_trend == pytest.approx(9422 * (9422 / 8338) ** 3)
    assert row.p10 < row.p50 < row.p90


def test_the_bar_coverage_and_errors(bar):
    """80% intervals cover 70-90% of actuals; the median beats both naive forecasts."""
    for by in (("quantity",), ("quantity", "horizon")):
        s = score(bar, by=by)
        assert s["n"].min() > 250
        assert s["coverage_80"].between(0.70, 0.90).all(), s
        assert (s["mape_p50"] < s["mape_naive_last"]).all(), s
        assert (s["mape_p50"] < s["mape_naive_trend"]).all(), s


def test_forecasts_use_only_data_known_at_the_origin(councils):
    origin = 2021
    later = councils.year(origin) + 1
    scrambled = councils.__class__(
        councils.codes,
        councils.names,
        np.where(np.arange(councils.plans.shape[1]) >= later, 1.0, councils.plans),
        # new plans of the origin's own calendar year are not known in its January
        np.where(np.arange(councils.new.shape[1]) >= later - 1, 1.0, councils.new),
        np.where(np.arange(councils.special.shape[1]) >= later, 1.0, councils.special),
        np.where(np.arange(councils.waiting.shape[1]) >= later, 1.0, councils.waiting),
        councils.release,
    )
    a = backtest(councils, [origin], 3)
    b = backtest(scrambled, [origin], 3)
    pd.testing.assert_frame_equal(a.drop(columns="actual"), b.drop(columns="actual"))
    assert not a["actual"].equals(b["actual"])
    # the need share trend, too, uses only the waiting signal known at the origin
    fa, fb = fit(councils, origin), fit(scrambled, origin)
    np.testing.assert_array_equal(fa.share_trend, fb.share_trend)
    np.testing.assert_array_equal(fa.share0, fb.share0)


def test_fit_shrinks_towards_the_median_council(councils):
    f = fit(councils, 2025)
    o = councils.year(2025)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # councils without a series
        raw = np.nanmean(np.diff(np.log(councils.new[:, o - 5 : o]), axis=1), axis=1)
    ok = np.isfinite(raw) & np.isfinite(f.growth)
    median = np.median(f.growth[ok])
    # every estimate lies between its own raw mean and the median council's
    lo, hi = np.minimum(raw[ok], median), np.maximum(raw[ok], median)
    assert ((f.growth[ok] >= lo - 1e-9) & (f.growth[ok] <= hi + 1e-9)).all()
    assert np.std(f.growth[ok]) < np.std(raw[ok])
    assert (f.growth_se[ok] > 0).all() and (f.share_noise[ok] > 0).all()


def test_projection_draws_are_reproducible_and_damping_slows_growth(councils):
    f = fit(councils, 2025)
    a = project_totals(f, 5, 500, np.random.default_rng(1))
    b = project_totals(f, 5, 500, np.random.default_rng(1))
    np.testing.assert_array_equal(a["ehcp_plans"], b["ehcp_plans"])
    damped = project_totals(f, 5, 500, np.random.default_rng(1), damping=0.5)
    ok = np.isfinite(a["ehcp_plans"][:, -1, 0])
    assert (
        np.median(damped["ehcp_plans"][ok, -1], axis=1) < np.median(a["ehcp_plans"][ok, -1], axis=1)
    ).mean() > 0.95
    special = np.isfinite(a["special_school"][:, -1, 0])
    assert special.sum() >= 145
    assert (a["special_school"][special] <= a["ehcp_plans"][special]).all()
    # no draw overflows (plans are a recurrence of non-negative terms, so a sign
    # check could not fail; an overflow to inf or NaN can)
    assert (
        np.isfinite(a["ehcp_plans"][ok]).all() and np.isfinite(a["special_school"][special]).all()
    )


def test_sum_of_councils_tracks_england(councils):
    england = panel("national")
    check = england_check(councils, england, 2022, 3)
    one_year = check[check["year"] == 2023]
    error = (one_year["councils_p50_sum"] / one_year["england_actual"] - 1).abs()
    assert (error < 0.03).all()
    assert (check["councils"] >= 150).all()
