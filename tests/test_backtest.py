"""Backtests of the cohort projection: data known at the origin, seeds, naive forecasts,
scores, the councils' sum against England, and the ``placeplan backtest`` command."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from placeplan import sen2
from placeplan.bundled import DEFAULT_SCENARIO, bundled_scenarios
from placeplan.cli import main
from placeplan.demand.backtest import (
    NAIVE,
    Assumptions,
    _naive,
    england_check,
    forecast_draws,
    score,
    skill,
)
from placeplan.demand.calibrate import fit
from placeplan.demand.inputs import cohort_inputs
from placeplan.demand.panel import YEARS, panel

ORIGIN = 2021
R = 200


@pytest.fixture(scope="module")
def tables():
    return sen2.load()


@pytest.fixture(scope="module")
def councils(tables):
    return panel("la", tables)


@pytest.fixture(scope="module")
def assumptions():
    demand = yaml.safe_load(bundled_scenarios()[DEFAULT_SCENARIO].read_text())["demand"]
    return Assumptions.of(demand, DEFAULT_SCENARIO)


@pytest.fixture(scope="module")
def areas(councils):
    names = ["Hertfordshire", "Kent", "Rutland", "Manchester", "Cornwall"]
    return np.array([int(np.flatnonzero(councils.names == n)[0]) for n in names])


@pytest.fixture(scope="module")
def fitted(councils):
    return fit(councils, ORIGIN)


@pytest.fixture(scope="module")
def base(councils, tables, assumptions, areas, fitted):
    return forecast_draws(councils, ORIGIN, 3, R, 0, assumptions, tables, areas, fitted)


def _later(tables: sen2.SEN2Tables, origin: int, factor: float) -> sen2.SEN2Tables:
    """Every count published after the origin (Januaries after it, calendar years from it)
    scaled by ``factor``: levels change, shapes (shares by age, need, placement) do not."""
    counts = {
        "plans",
        "special",
        "special_independent",
        "mainstream",
        "statements",
        "special_non_maintained",
        "ed_elsewhere",
        "new_plans",
        "new_special",
        "new_statements",
        "ceased",
    }
    flows = {"new_need_by_age", "new_plans_by_age", "new_plans_by_age_band", "new_plans_total"}
    flows |= {"ceased_by_age", "ceased_total"}
    changed = {}
    for name, frame in tables.tables().items():
        if "year" not in frame.columns or name == "corrections":
            continue
        frame = frame.copy()
        later = frame["year"] >= origin if name in flows else frame["year"] > origin
        for column in counts & set(frame.columns):
            frame.loc[later, column] = frame.loc[later, column] * factor
        changed[name] = frame
    return dataclasses.replace(tables, **changed)


def test_forecasts_use_only_data_known_at_the_origin(councils, tables, assumptions, areas, base):
    """Levels published after the origin (tables, and the panel the fit uses) change
    nothing; the same change does reach the inputs from a later origin."""
    scaled = _later(tables, ORIGIN, 2.0)
    p = panel("la", scaled)
    later = YEARS > ORIGIN
    assert np.nanmax(np.abs(p.plans[:, later] - 2 * councils.plans[:, later])) == 0
    # and noise that keeps no shape, in the panel's later years
    rng = np.random.default_rng(1)
    p = dataclasses.replace(
        p,
        plans=np.where(later, p.plans * rng.uniform(0.5, 1.5, p.plans.shape), p.plans),
        new=np.where(YEARS >= ORIGIN, p.new * rng.uniform(0.5, 1.5, p.new.shape), p.new),
        special=np.where(later, p.special * rng.uniform(0.5, 1.5, p.special.shape), p.special),
        waiting=np.where(later, p.waiting + 100, p.waiting),
    )
    moved = forecast_draws(p, ORIGIN, 3, R, 0, assumptions, scaled, areas)
    for quantity, values in base.items():
        np.testing.assert_allclose(moved[quantity], values, rtol=1e-9, err_msg=quantity)
    # not vacuous: from January 2022 the scaled figures are known and used
    code = str(councils.codes[areas[0]])
    one = sen2.load(code)
    then = cohort_inputs(code, 2022, one, known_until=2022)
    after = cohort_inputs(code, 2022, _later(one, ORIGIN, 2.0), known_until=2022)
    assert after.stock.sum() == pytest.approx(2 * then.stock.sum())


def test_draws_are_reproducible_by_seed_and_each_council_has_its_own_stream(
    councils, tables, assumptions, areas, fitted, base
):
    again = forecast_draws(councils, ORIGIN, 3, R, 0, assumptions, tables, areas, fitted)
    other = forecast_draws(councils, ORIGIN, 3, R, 1, assumptions, tables, areas, fitted)
    alone = forecast_draws(councils, ORIGIN, 3, R, 0, assumptions, tables, areas[:1], fitted)
    for quantity, values in base.items():
        np.testing.assert_array_equal(again[quantity], values)
        assert not np.allclose(other[quantity][areas], values[areas]), quantity
        # a council's draws do not depend on which others are forecast with it
        np.testing.assert_array_equal(alone[quantity][areas[0]], values[areas[0]])
    # only the councils asked for are forecast
    rest = np.setdiff1d(np.arange(len(councils.codes)), areas)
    assert np.isnan(base["ehcp_plans"][rest]).all()
    assert np.isfinite(base["ehcp_plans"][areas]).all()


def _series(values: dict[int, float]) -> np.ndarray:
    s = np.full((1, len(YEARS)), np.nan)
    for year, v in values.items():
        s[0, year - YEARS[0]] = v
    return s


def test_naive_forecasts_on_a_hand_made_series():
    s = _series({2019: 100, 2020: 120, 2021: 130, 2022: 150, 2024: 180})  # no 2023
    # from 2024, two years ahead; the last growth bridges the gap: (180/150) over 2 years
    got = {k: float(v[0]) for k, v in _naive(s, 2024, 2).items()}
    assert got["naive_last"] == 180
    assert got["naive_trend"] == pytest.approx(180 * (180 / 150) ** (2 / 2))
    assert got["naive_mean2"] == pytest.approx(180 * (180 / 150) ** (2 / 2))
    assert got["naive_mean3"] == pytest.approx(180 * (180 / 130) ** (2 / 3))
    assert got["naive_mean5"] == pytest.approx(180 * (180 / 100) ** (2 / 5))
    # from 2023 (not published), one year ahead: from 2022's value, two years on
    got = {k: float(v[0]) for k, v in _naive(s, 2023, 1).items()}
    assert got["naive_last"] == 150
    assert got["naive_trend"] == pytest.approx(150 * (150 / 130) ** 2)
    assert got["naive_mean2"] == pytest.approx(150 * (150 / 120) ** (2 / 2))
    # five years asked, three published: the growth over those
    assert got["naive_mean5"] == pytest.approx(150 * (150 / 100) ** (2 / 3))
    # data after the last year are not used
    later = s.copy()
    later[0, 2024 - YEARS[0]] = 1e6
    assert _naive(later, 2022, 1)["naive_mean3"][0] == pytest.approx(150 * (150 / 100) ** (1 / 3))


def _table(rows):
    columns = ["quantity", "horizon", "actual", "p10", "p50", "p90", *NAIVE]
    return pd.DataFrame(rows, columns=columns)


def test_score_coverage_mape_and_best_naive():
    #        quantity h actual p10 p50 p90  last trend m2 m3 m5
    t = _table(
        [
            ("q", 1, 100, 90, 110, 120, 100, 130, 95, 90, 80),
            ("q", 1, 200, 210, 220, 230, 180, 200, 190, 180, 160),
            ("q", 1, 50, 40, 50, 60, 60, 55, 50, 45, 40),
            ("q", 1, 80, 70, 80, 90, np.nan, 80, 80, 80, 80),  # a naive missing: left out
            ("q", 1, np.nan, 70, 80, 90, 80, 80, 80, 80, 80),  # no actual: left out
        ]
    )
    s = score(t, by=("quantity",)).loc["q"]
    assert s["n"] == 3
    assert s["coverage_80"] == pytest.approx(2 / 3)  # 200 is below its p10
    assert s["mape_p50"] == pytest.approx((10 + 10 + 0) / 3)
    assert s["mape_naive_last"] == pytest.approx((0 + 10 + 20) / 3)
    assert s["mape_naive_mean2"] == pytest.approx((5 + 5 + 0) / 3)
    assert s["best_naive"] == "naive_mean2"
    assert s["ratio"] == pytest.approx(20 / 10)
    # without naive_required, the row missing a naive forecast counts for the median
    loose = score(t, by=("quantity",), naive_required=False).loc["q"]
    assert loose["n"] == 4 and loose["coverage_80"] == pytest.approx(3 / 4)


def test_skill_keeps_one_best_naive_for_every_horizon():
    """naive_last is best pooled, naive_trend at horizon 2: skill keeps naive_last."""
    rows = []
    for _ in range(3):
        rows.append(("ehcp_plans", 1, 100, 90, 105, 110, 101, 150, 150, 150, 150))
    rows.append(("ehcp_plans", 2, 100, 90, 110, 110, 120, 115, 150, 150, 150))
    s = skill(_table(rows), quantities=("ehcp_plans",)).set_index("horizon")
    assert (s["best_naive"] == "naive_last").all()
    assert s.loc[2, "mape_best_naive"] == pytest.approx(20)
    assert s.loc[2, "ratio"] == pytest.approx(10 / 20)
    assert s.loc["all", "ratio"] == pytest.approx((3 * 5 + 10) / (3 * 1 + 20))


def test_england_check_sums_the_joint_draws_and_shared_shocks_widen_the_sum(councils, areas, base):
    order = np.sort(areas)
    sub = councils.select(np.isin(np.arange(len(councils.codes)), order))
    draws = {q: v[order].copy() for q, v in base.items()}
    draws["ehcp_plans"][0] = np.nan  # a council not forecast: left out on both sides
    sub = dataclasses.replace(sub, plans=sub.plans.copy())
    sub.plans[-1, councils.year(ORIGIN + 1)] = np.nan  # not published: left out that year
    england = panel("national")
    check = england_check(sub, england, {ORIGIN: draws}, quantities=("ehcp_plans",))
    assert list(check["horizon"]) == [1, 2, 3]
    assert list(check["councils"]) == [len(order) - 2, len(order) - 1, len(order) - 1]
    first = check.iloc[0]
    assert first["p50"] == pytest.approx(np.median(draws["ehcp_plans"][1:-1, 0].sum(axis=0)))
    assert first["england_actual"] == sub.plans[1:-1, councils.year(ORIGIN + 1)].sum()
    row = check[check["horizon"] == 3].iloc[0]
    total = draws["ehcp_plans"][1:, 2].sum(axis=0)
    assert row["councils"] == len(order) - 1
    assert row["p50"] == pytest.approx(np.percentile(total, 50))
    assert row["p10"] == pytest.approx(np.percentile(total, 10))
    column = councils.year(ORIGIN + 3)
    # England's figure on the councils summed: their published figures
    assert row["england_actual"] == pytest.approx(sub.plans[1:, column].sum())
    assert row["england"] == england.plans[0, column]
    assert row["covered"] == (row["p10"] <= row["england_actual"] <= row["p90"])
    # councils drawn independently (each one's replications shuffled on its own)
    rng = np.random.default_rng(0)
    shuffled = draws["ehcp_plans"].copy()
    for i in range(1, len(order)):
        shuffled[i] = shuffled[i][:, rng.permutation(R)]
    independent = england_check(
        sub, england, {ORIGIN: {"ehcp_plans": shuffled}}, quantities=("ehcp_plans",)
    )
    joint_width = (check["p90"] - check["p10"]).to_numpy()
    independent_width = (independent["p90"] - independent["p10"]).to_numpy()
    assert (joint_width > independent_width).all(), (joint_width, independent_width)
    assert joint_width[-1] > 1.2 * independent_width[-1], (joint_width, independent_width)


def test_the_backtest_command_writes_a_csv(tmp_path):
    out = tmp_path / "bt.csv"
    args = ["backtest", "--council", "Hertfordshire", "--council", "E06000017"]
    args += ["--origin", "2022", "--horizon", "1", "-n", "100", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert set(table["council"]) == {"Hertfordshire", "Rutland"}
    assert set(table["origin"]) == {2022} and set(table["horizon"]) == {1}
    assert {"actual", "p10", "p50", "p90", *NAIVE} <= set(table.columns)
    assert "coverage_80" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--council", "Nowhere"], "Nowhere"),
        (["--council", "East of England"], "not a council"),
        (["--all", "--origin", "2019"], "2019 is not in the range"),
        (["--all", "--council", "Kent"], "either --council"),
        ([], "either --council"),
    ],
)
def test_the_backtest_command_rejects_bad_input(tmp_path, args, message):
    result = CliRunner().invoke(main, ["backtest", *args, "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.csv").exists()


def test_the_backtest_command_rejects_a_bad_template(tmp_path):
    template = tmp_path / "t.yaml"
    template.write_text("name: x\n", encoding="utf-8")
    args = ["backtest", "--all", "--template", str(template), "--out", str(tmp_path / "x.csv")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert str(template) in result.output
    data = yaml.safe_load(bundled_scenarios()[DEFAULT_SCENARIO].read_text())
    data["demand"]["ceasing_scal"] = 1.0
    template.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "demand.ceasing_scal: unknown key" in result.output
