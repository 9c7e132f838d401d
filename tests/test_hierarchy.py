"""The hierarchical fit of new plans, and the projection the run and the backtests share."""

from __future__ import annotations

import numpy as np
import pytest

from placeplan.demand.calibrate import fit
from placeplan.demand.hierarchy import fit_growth
from placeplan.demand.panel import YEARS, Panel, panel
from placeplan.demand.projection import new_plans_log_factor, share_path


def _synthetic(
    rng: np.random.Generator,
    n: int = 150,
    drift: float = 0.1,
    step_sd: float = 0.05,
    trend_sd: float = 0.05,
    noise: np.ndarray | None = None,
) -> tuple[Panel, dict[str, np.ndarray]]:
    """Councils on one national path, each with its own trend and noise around it."""
    years = 2025 - YEARS[0] + 1  # published to 2025; the panel's later years are empty
    path = np.concatenate([[0.0], np.cumsum(drift + rng.normal(0, step_sd, years - 1))])
    own = rng.normal(0.0, trend_sd, n)
    noise = rng.uniform(0.03, 0.3, n) if noise is None else noise
    level = rng.uniform(4.0, 7.0, n)
    t = np.arange(years) - (years - 1)
    deviation = rng.normal(0, 1, (n, years)) * noise[:, None]
    log_new = level[:, None] + path[None, :] + own[:, None] * t + deviation
    pad = np.full((n, len(YEARS) - years), np.nan)
    new = np.hstack([np.exp(log_new), pad])
    plans = np.hstack([np.cumsum(np.exp(log_new), axis=1) * 3, pad])
    p = Panel(
        codes=np.array([f"E{i:08d}" for i in range(n)]),
        names=np.array([f"council {i}" for i in range(n)]),
        plans=plans,
        new=new,
        special=plans * 0.3,
        waiting=plans * 0.02,
        release="synthetic",
    )
    return p, {"path": path, "own": own, "noise": noise, "log_new": log_new, "level": level}


def test_the_fit_recovers_the_national_path_and_each_councils_own_trend():
    rng = np.random.default_rng(11)
    p, truth = _synthetic(rng)
    g = fit_growth(p, 2025)
    cols = g.years - YEARS[0]
    steps_true = np.diff(truth["path"][cols])
    # each year's step within about three standard errors of the truth (the mean of
    # 150 councils' noise, sd up to 0.3)
    np.testing.assert_allclose(np.diff(g.national_path), steps_true, atol=0.06)
    assert g.national_drift == pytest.approx(steps_true.mean(), abs=0.02)
    # the between-council sd of own trends (0.05) is estimated, not floored
    assert 0.035 < np.sqrt(g.between_var) < 0.07
    # own trends are recovered: closely where the series are steady
    steady = truth["noise"] < 0.08
    err = g.own_trend - (truth["own"] - truth["own"].mean())
    assert np.abs(err[steady]).max() < 0.03
    assert np.corrcoef(g.own_trend, truth["own"])[0, 1] > 0.8
    # a steady council's own data carry more weight than a noisy one's
    noisy = truth["noise"] > 0.25
    assert g.own_weight[steady].min() > 0.8
    assert g.own_weight[steady].mean() > g.own_weight[noisy].mean() + 0.3
    # growth = national drift + own trend
    np.testing.assert_allclose(g.growth, g.national_drift + g.own_trend)


def test_shrinkage_pulls_a_noisy_council_towards_the_mean_by_its_weight():
    rng = np.random.default_rng(5)
    p, _ = _synthetic(rng)
    g = fit_growth(p, 2025)
    raw, w = g.own_trend_raw, g.own_weight
    np.testing.assert_allclose(g.own_trend, w * raw + (1 - w) * g.trend_mean, atol=1e-12)
    assert ((w > 0) & (w < 1)).all()


def test_the_anchor_starts_the_forecast_from_the_fitted_level_not_a_spike():
    rng = np.random.default_rng(2)
    noise = np.full(150, 0.02)
    p, _ = _synthetic(rng, noise=noise)
    last = 2024 - YEARS[0]
    new = p.new.copy()
    new[7, last] *= 1.5  # one council's last year spikes by half
    spiked = Panel(p.codes, p.names, p.plans, new, p.special, p.waiting, "synthetic")
    g = fit_growth(spiked, 2025)
    # the spike is mostly not carried forward (the trend's fit leans towards its last
    # point a little, so not all of it is undone)
    assert -np.log(1.5) - 0.05 < g.anchor[7] < -0.5 * np.log(1.5)
    assert np.abs(np.delete(g.anchor, 7)).max() < 0.1


def test_one_area_has_no_own_trend_and_grows_on_its_path():
    england = panel("national")
    g = fit_growth(england, 2025)
    assert g.own_trend[0] == 0.0 and g.own_weight[0] == 0.0
    assert g.growth[0] == pytest.approx(g.national_drift)
    steps = np.diff(np.log(england.new[0, g.years - YEARS[0]]))
    assert g.national_drift == pytest.approx(steps.mean())


def test_councils_keep_growths_of_their_own():
    """The issue's table: Kent, Cornwall and Manchester no longer share one growth."""
    p = panel("la")
    f = fit(p, 2025)
    g = f.growth_fit
    pick = {name: list(p.names).index(name) for name in ("Kent", "Cornwall", "Manchester")}
    growths = {name: f.growth[i] for name, i in pick.items()}
    assert max(growths.values()) - min(growths.values()) > 0.05, growths
    assert g.between_var > 1e-3  # the old floor was 1e-4
    assert np.median(g.own_weight) > 0.5
    # the stated uncertainty is the drift's and the own trend's, not a floor
    i = pick["Kent"]
    assert f.growth_se[i] == pytest.approx(np.hypot(g.national_drift_se, g.own_trend_se[i]))
    assert f.growth_se[i] > 0.02


def test_steps_accumulate_transient_deviations_do_not_and_the_anchor_shifts_all():
    ahead = np.array([0, 1, 2, 3])
    steps = np.array([0.1, -0.2, 0.05])
    transient = np.array([0.3, 0.0, -0.1])
    got = new_plans_log_factor(ahead, 0.1, 0.5, steps, transient, anchor=-0.2)
    drift = np.array([0.1, 0.05, 0.025])
    walk = np.cumsum(drift + steps)
    np.testing.assert_allclose(got, np.concatenate([[0.0], -0.2 + walk + transient]))
    # replications broadcast
    many = new_plans_log_factor(ahead, np.array([0.1, 0.2]), 1.0, np.zeros((2, 3)))
    np.testing.assert_allclose(many[:, -1], [0.3, 0.6])


def test_the_share_of_all_plans_follows_the_trend_whatever_the_ageing():
    rng = np.random.default_rng(0)
    stock = rng.uniform(1, 50, (4, 26, 3))  # the age mix changes year to year
    share0 = rng.uniform(0.05, 0.5, (26, 3))
    years = np.arange(4)
    share = share_path(stock, share0, -0.05, years)
    total = (stock * share).sum(axis=(-1, -2)) / stock.sum(axis=(-1, -2))
    total0 = (stock[0] * share0).sum() / stock[0].sum()
    np.testing.assert_allclose(total, total0 * np.exp(-0.05 * years), rtol=1e-12)
    # the pattern by age and need is kept
    ratio = share / share0
    np.testing.assert_allclose(ratio, ratio[:, :1, :1] * np.ones_like(ratio))
