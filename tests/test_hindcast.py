"""The hindcast: inputs from a past origin, nothing leaking from the future, the command."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import placeplan as pp
from placeplan import sen2
from placeplan.bundled import bundled_scenarios
from placeplan.calibration import NO_TREND_SD, calibrate
from placeplan.demand.inputs import AGES, cohort_inputs
from placeplan.errors import InputError
from placeplan.hindcast import (
    WAITING_SIGNAL,
    agreement_sentence,
    census_state,
    check_hindcast,
    hindcast,
    observations,
    warm_start,
)
from placeplan.run_folder import check_replaceable
from placeplan.validation import cohort_inputs_for

HERTS = "E10000015"
ORIGIN = 2019
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "herts-hindcast-2019.yaml"
BANDS = ((0, 4), (5, 10), (11, 15), (16, 19), (20, 25))

# January snapshots (stocks) and calendar-year flows: a flow of calendar year 2019
# happened after January 2019, a stock of January 2019 is known then.
_STOCKS = ("plans_by_age", "plans_by_age_band", "plans_total", "placement_by_need", "need_by_age")
_FLOWS = (
    "new_need_by_age",
    "new_plans_by_age",
    "new_plans_by_age_band",
    "new_plans_total",
    "ceased_by_age",
    "ceased_total",
    "requests",
)
_NOT_COUNTS = {"year", "age", "release"}


def _short(tmp_path: Path, years: float = 1.2, **changes) -> Path:
    """The bundled hindcast cut short (to February 2020: one January census after the start)."""
    data = yaml.safe_load(SCENARIO.read_text())
    data["name"] = "hindcast-short"
    data["years"] = years
    data["placement"]["build_programme"] = [
        p for p in data["placement"]["build_programme"] if str(p["opens"]) < "2020-01-01"
    ]
    for key, value in changes.items():
        data[key] = value
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


# ------------------------------------------------------------------ inputs at 2019
def _band_sums(by_age: np.ndarray) -> list[float]:
    return [float(by_age[lo : hi + 1].sum()) for lo, hi in BANDS]


def test_inputs_for_2019_sum_to_the_published_2019_totals():
    t = sen2.load(HERTS)
    inputs = cohort_inputs(HERTS, ORIGIN)
    totals = t.plans_total.set_index("year")
    bands = t.plans_by_age_band[t.plans_by_age_band["year"] == ORIGIN].set_index("age_band")
    new_bands = t.new_plans_by_age_band[t.new_plans_by_age_band["year"] == ORIGIN - 1]
    new_bands = new_bands.set_index("age_band")
    assert inputs.base_year == ORIGIN and inputs.known_until == ORIGIN
    assert inputs.stock.sum() == pytest.approx(float(totals.loc[ORIGIN, "plans"]))  # 6,328
    assert _band_sums(inputs.stock.sum(axis=1)) == pytest.approx(
        [float(bands.loc[b, "plans"]) for b in sen2.AGE_BANDS]
    )
    assert inputs.new_plans_year == ORIGIN - 1
    assert _band_sums(inputs.new_plans.sum(axis=1)) == pytest.approx(
        [float(new_bands.loc[b, "new_plans"]) for b in sen2.AGE_BANDS]
    )
    assert inputs.new_plans.sum() == pytest.approx(911)
    assert inputs.special_table.sum() == pytest.approx(float(totals.loc[ORIGIN, "special"]))
    assert inputs.caseload["ed_elsewhere"] == 74 and inputs.caseload["await_prov"] == 107
    assert inputs.caseload["special"] == 2448
    # ceasing: the later shape at the level of the stock identity over 2016–2018
    identity = np.mean(
        [
            (
                totals.loc[y, "plans"]
                + t.new_plans_total.set_index("year").loc[y, "new_plans"]
                - totals.loc[y + 1, "plans"]
            )
            / totals.loc[y, "plans"]
            for y in (2016, 2017, 2018)
        ]
    )
    weights = inputs.stock.sum(axis=1)
    assert (inputs.cease_rate * weights).sum() / weights.sum() == pytest.approx(identity)
    assert ((inputs.cease_rate >= 0) & (inputs.cease_rate <= 1)).all()
    assert ((inputs.special_share >= 0) & (inputs.special_share <= 1)).all()
    assert np.allclose(inputs.need_mix.sum(axis=1), 1.0)
    assert len(AGES) == inputs.stock.shape[0]


def test_every_borrowed_shape_is_named():
    borrowed = " | ".join(cohort_inputs(HERTS, ORIGIN).borrowed)
    for fragment in (
        "plans by single year of age within each age band: the shape of January 2024",
        "new plans by single year of age within each age band: the shape of 2022",
        "need mix of plans by age: the area's of January 2025",
        "need mix of new plans by age: the area's of calendar year 2024",
        "ceasing by age: the shape of 2024",
        "special school share by age: England's of January 2024",
        "special school children by primary need: the area's mix of January 2025",
    ):
        assert fragment in borrowed


def test_base_years_2020_to_2023_build_from_their_own_totals():
    t = sen2.load(HERTS).plans_total.set_index("year")
    for year in (2020, 2021, 2022, 2023):
        inputs = cohort_inputs(HERTS, year)
        assert inputs.stock.sum() == pytest.approx(float(t.loc[year, "plans"]))
        assert inputs.new_plans_year == year - 1
    # January 2023 has no age breakdown: the 2022 band mix, named as a borrowing
    assert any("band mix of January 2022" in b for b in cohort_inputs(HERTS, 2023).borrowed)


def test_published_base_years_are_unchanged_and_say_what_is_later():
    inputs = cohort_inputs(HERTS, 2025)
    assert inputs.known_until is None and inputs.borrowed == ()
    assert inputs.stock.sum() == pytest.approx(12920)
    assert any("2025" in b for b in cohort_inputs(HERTS, 2024).borrowed)


def test_an_origin_without_data_is_refused():
    with pytest.raises(ValueError, match="January 2019"):
        cohort_inputs("E06000063", ORIGIN)  # Cumberland, formed in 2023
    with pytest.raises(ValueError, match="before the base year"):
        cohort_inputs(HERTS, 2021, known_until=2020)


# ------------------------------------------------------------------ nothing leaks
def _factor(table: str, frame: pd.DataFrame) -> np.ndarray:
    """A whole-number factor (2–5) per table, area and year: levels change, shapes do not."""
    key = table + "|" + frame["code"].astype(str) + "|" + frame["year"].astype(str)
    return (pd.util.hash_pandas_object(key, index=False).to_numpy() % 4 + 2).astype(np.int64)


def _scramble(tables: sen2.SEN2Tables) -> sen2.SEN2Tables:
    """Every level published after the origin multiplied by 2–5 (per table, area and year)."""
    changed = {}
    for table in (*_STOCKS, *_FLOWS):
        frame = getattr(tables, table).copy()
        later = frame["year"] > ORIGIN if table in _STOCKS else frame["year"] >= ORIGIN
        factor = _factor(table, frame)
        for column in frame.columns:
            if column in _NOT_COUNTS or str(frame[column].dtype) not in ("Int64", "Float64"):
                continue
            scaled = frame[column] * pd.array(factor, dtype=frame[column].dtype)
            frame[column] = frame[column].where(~later, scaled)
        changed[table] = frame
    return dataclasses.replace(tables, **changed)


@pytest.fixture
def scramble(monkeypatch):
    """A switch: from its call on, sen2.load returns every level after January 2019 scrambled."""
    real = sen2.load

    def load(council=None, *, sen2_dir=None):
        return _scramble(real(council, sen2_dir=sen2_dir))

    def switch() -> None:
        cohort_inputs_for.cache_clear()
        monkeypatch.setattr(sen2, "load", load)

    cohort_inputs_for.cache_clear()
    yield switch
    monkeypatch.undo()
    cohort_inputs_for.cache_clear()


def test_the_scramble_changes_the_later_levels(scramble):
    before = sen2.load(HERTS).plans_total.set_index("year")
    scramble()
    after = sen2.load(HERTS).plans_total.set_index("year")
    assert before.loc[ORIGIN, "plans"] == after.loc[ORIGIN, "plans"]
    for year in range(ORIGIN + 1, 2026):
        assert after.loc[year, "plans"] != before.loc[year, "plans"]
        assert after.loc[year, "ed_elsewhere"] != before.loc[year, "ed_elsewhere"]


def test_nothing_leaks_from_after_the_origin_but_the_named_shapes(scramble, tmp_path):
    scenario = pp.load_scenario(_short(tmp_path, years=0.6))
    honest_inputs = cohort_inputs(HERTS, ORIGIN)
    honest = pp.run(scenario, replications=3, seed=5).dataset
    honest_fit = calibrate("Hertfordshire", ORIGIN)

    scramble()
    inputs = cohort_inputs(HERTS, ORIGIN)
    for name in ("stock", "cease_rate", "new_plans", "special_share", "need_mix"):
        np.testing.assert_allclose(getattr(inputs, name), getattr(honest_inputs, name))
    assert inputs.caseload == honest_inputs.caseload
    assert inputs.new_plans_year == honest_inputs.new_plans_year
    scrambled = pp.run(scenario, replications=3, seed=5).dataset
    for name in honest.data_vars:  # counts exactly; amounts (plans) to rounding
        got, want = scrambled[name].to_numpy(), honest[name].to_numpy()
        if np.issubdtype(want.dtype, np.integer):
            np.testing.assert_array_equal(got, want, err_msg=name)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=name)
    fit = calibrate("Hertfordshire", ORIGIN)
    fitted = ("growth", "growth_se", "growth_noise", "transient_sd", "anchor", "share_trend")
    assert [getattr(fit, k) for k in fitted] == [getattr(honest_fit, k) for k in fitted]
    assert (fit.share_trend, fit.share_trend_se) == (
        honest_fit.share_trend,
        honest_fit.share_trend_se,
    )
    assert fit.diagnostics == honest_fit.diagnostics


def test_the_leak_test_would_catch_a_level_from_the_future(scramble):
    """From January 2020 the 2020 levels are used: scrambled, they show."""
    honest = cohort_inputs(HERTS, 2020)
    scramble()
    assert not np.isclose(cohort_inputs(HERTS, 2020).stock.sum(), honest.stock.sum())


# ------------------------------------------------------------------ calibration at 2019
def test_calibration_to_2019_states_its_share_trend_fallback():
    fit = calibrate("Hertfordshire", ORIGIN)
    assert fit.until == ORIGIN
    assert fit.share_trend == 0.0 and fit.share_trend_se == NO_TREND_SD
    assert "one January of the need share" in fit.share_trend_note
    assert fit.diagnostics["need_share_trend_fallback"] == fit.share_trend_note
    assert fit.diagnostics["plans_at_origin"] == 6328
    assert fit.diagnostics["new_plans_last_year"] == 911
    with pytest.raises(InputError, match="2019"):
        calibrate("Hertfordshire", 2018)


# ------------------------------------------------------------------ the scenario
def test_the_hindcast_scenario_validates_and_reaches_the_published_places():
    assert "herts-hindcast-2019" in bundled_scenarios()
    scenario = pp.load_scenario(SCENARIO)
    demand = scenario.demand
    assert demand.base_year == ORIGIN and demand.calibration.origin == ORIGIN
    assert scenario.start == date(2019, 1, 4)
    assert scenario.end >= date(2025, 1, 16)  # past the January 2025 census
    places = sum(d.places for d in scenario.placement.designations.values())
    built = scenario.placement.build_programme
    assert places == 2350
    assert places + sum(p.places for p in built) == 3054
    assert max(p.opens for p in built) <= date(2024, 9, 1)
    assert all("assumption" in p.source for p in built)
    check_hindcast(scenario)


# ------------------------------------------------------------------ the comparison
def test_observations_add_the_waiting_signal_before_2023():
    points = observations(HERTS)
    signal = points[points["source"] == WAITING_SIGNAL].set_index("id")
    assert list(signal["value"]) == [74 + 107, 109 + 112, 93 + 130, 145 + 133]
    assert signal["shadow"].all() and (signal["measure"] == "waiting").all()
    assert {"placed-after-waiting-over-a-year-sep-2023-to-mar-2024"} <= set(points["id"])


def test_warm_start_takes_waits_from_the_run_and_the_share_only_where_supported():
    state = pd.DataFrame(
        {"waiting": np.arange(100, 200), "mean_terms_waited": np.linspace(1.0, 3.0, 100)}
    )
    state.attrs["census"] = date(2025, 1, 16)
    entries, notes = warm_start(state, 150.0, "placeplan hindcast x", list_share=(0.5, 1.5))
    waited = entries["list_mean_terms_waited"]
    lo, hi = np.quantile(state["mean_terms_waited"], [0.1, 0.9])
    assert waited["mean"] == pytest.approx(2.0, abs=0.01)
    assert waited["mean"] - 1.2816 * waited["sd"] == pytest.approx(lo, abs=0.02)
    assert waited["mean"] + 1.2816 * waited["sd"] == pytest.approx(hi, abs=0.02)
    assert "placeplan hindcast x" in waited["source"]
    share = entries["list_share_of_educated_elsewhere"]  # 150 inside 110–190, narrow
    assert share["low"] < 1 < share["high"] and not notes
    entries, notes = warm_start(state, 400.0, "placeplan hindcast x")
    assert "list_share_of_educated_elsewhere" not in entries
    assert "lies above it" in notes[-1]
    entries, notes = warm_start(state, 150.0, "x", share_width=0.1)
    assert "list_share_of_educated_elsewhere" not in entries and "wider" in notes[0]


def test_warm_start_reads_the_waits_where_the_list_agrees_with_the_data():
    """A longer list has waited longer: the waits of lists the data allow are taken."""
    state = pd.DataFrame(
        {"waiting": np.arange(100, 1100, 10), "mean_terms_waited": np.linspace(1.0, 5.0, 100)}
    )
    state.attrs["census"] = date(2025, 1, 16)
    entries, notes = warm_start(state, 200.0, "x", list_share=(0.5, 1.5))  # lists 100–300
    consistent = state[(state["waiting"] >= 100) & (state["waiting"] <= 300)]
    assert entries["list_mean_terms_waited"]["mean"] == pytest.approx(
        float(consistent["mean_terms_waited"].median()), abs=0.01
    )
    assert (
        "the 21 of 100 replications whose list was 100–300"
        in (entries["list_mean_terms_waited"]["source"])
    )
    entries, notes = warm_start(state, 200.0, "x", list_share=(0.9, 1.1))  # too few
    assert entries["list_mean_terms_waited"]["mean"] == pytest.approx(3.0, abs=0.01)
    assert "fewer than 20" in notes[0]


@pytest.fixture(scope="module")
def short_hindcast(tmp_path_factory):
    path = _short(tmp_path_factory.mktemp("hindcast"))
    return hindcast(pp.load_scenario(path), replications=4, seed=3, scenario_file=path)


def test_hindcast_compares_every_point_within_the_run(short_hindcast):
    table = short_hindcast.table
    compared = table[table["status"] == "compared"].set_index("id")
    for year in (2019, 2020):
        assert f"sen2-ed-elsewhere-{year}" in compared.index
        assert f"sen2-waiting-signal-{year}" in compared.index
    assert "places-2018-19" in compared.index
    assert "waiting-over-a-year-mar-2024" in table.attrs["outside"]
    row = compared.loc["sen2-waiting-signal-2020"]
    sims = short_hindcast.results.dataset["waiting"].sel(time="2020-01-16", method="pad")
    assert row["p50"] == pytest.approx(float(np.quantile(sims, 0.5)))
    sentence = agreement_sentence(table)
    assert sentence.startswith("Against the published record") and "1 of 1 January" in sentence


def test_census_state_reads_the_list_from_the_child_log(short_hindcast):
    state = short_hindcast.state
    assert state.attrs["census"] == date(2020, 1, 16)
    assert (state["waiting"] == state["waiting_dataset"]).all()
    assert (state["mean_terms_waited"] > 0).all()
    with pytest.raises(InputError, match="child log"):
        census_state(dataclasses.replace(short_hindcast.results, children=None))


def test_hindcast_markdown_lists_points_bands_and_borrowings(short_hindcast):
    text = short_hindcast.markdown()
    assert "| 2020-01-16 |" in text and "## Borrowed from after the origin" in text
    for b in short_hindcast.borrowed:
        assert b.split(":")[0] in text
    assert "list_mean_terms_waited" in text and "Warm start in distribution" in text


# ------------------------------------------------------------------ the command
def placeplan(*args, cwd=None):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    exe = shutil.which("placeplan")
    cmd = [exe] if exe else [sys.executable, "-m", "placeplan"]
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )


def test_cli_writes_the_run_folder_and_hindcast_md(tmp_path):
    path = _short(tmp_path)
    out = tmp_path / "run"
    proc = placeplan("hindcast", str(path), "-n", "2", "--seed", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    for name in ("results.nc", "provenance.json", "children.csv.gz", "MANIFEST.json"):
        assert (out / name).stat().st_size > 0
    text = (out / "hindcast.md").read_text()
    assert "## Against the published record" in text and "| 2020-01-16 |" in text
    assert list((out / "figures").glob("fan-waiting*.png"))
    assert "Against the published record" in proc.stdout
    assert pp.open_results(out).provenance["data"]["borrowed"]
    # a hindcast's folder is a run folder: a run again may replace it whole
    check_replaceable(out)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"start": "2025-01-06", "years": 0.5}, "no published January falls after it"),
        ({"council": {"code": "E10999999", "name": "Nowhere"}}, "E10999999"),
    ],
)
def test_cli_refuses_what_a_hindcast_cannot_compare(tmp_path, changes, fragment):
    path = _short(tmp_path, **changes)
    if "start" in changes:  # the cohort then starts in January 2025
        data = yaml.safe_load(path.read_text())
        data["demand"]["base_year"] = 2025
        data["placement"]["build_programme"] = []
        data["placement"]["panels"]["first"] = "2025-01-08"
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    proc = placeplan("hindcast", str(path), "-n", "2", "--out", str(tmp_path / "run"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert fragment in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()


def test_cli_refuses_an_origin_without_data_and_fixed_demand(tmp_path):
    path = _short(tmp_path)
    text = path.read_text().replace(f"sen2_area: {HERTS}", "sen2_area: E06000063")
    path.write_text(text)
    proc = placeplan("hindcast", str(path), "-n", "2", "--out", str(tmp_path / "run"))
    assert proc.returncode == 2 and "demand.base_year" in proc.stderr
    assert "January 2019" in proc.stderr and "Traceback" not in proc.stderr
    fixed = Path(__file__).resolve().parents[1] / "scenarios" / "validation" / "erlang-c.yaml"
    proc = placeplan("hindcast", str(fixed), "-n", "2", "--out", str(tmp_path / "run"))
    assert proc.returncode == 2 and "demand.model: cohort" in proc.stderr
