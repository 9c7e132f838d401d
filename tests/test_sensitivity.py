"""Sensitivity: pins keep common random numbers, the ranking finds the dominant assumption."""

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import placeplan as pp
from placeplan import measures
from placeplan.cli import main
from placeplan.errors import InputError
from placeplan.model import ASSUMPTION_BOUNDS, Model
from placeplan.scenario import scenario_from_dict
from placeplan.sensitivity import _swing, pick_snapshot, sensitivity
from placeplan.streams import Streams

TREND = "demand.specialist_share_trend"
RECODING = "demand.need_recoding"
N, SEED = 8, 5


def _tiny_data(**demand) -> dict:
    """The baseline over three years, with only the demand assumptions given here uncertain."""
    baseline = pp.load_scenario("herts-baseline")
    data = baseline.model_dump(mode="json")
    data.update(name="tiny", years=3)
    for path, dist in baseline.assumptions().items():  # every other one fixed at its centre
        *keys, last = path.split(".")
        node = data
        for key in keys:
            node = node[key]
        node[last] = dist.centre
    data["demand"].update(demand)
    return data


def _tiny(**demand):
    return scenario_from_dict(_tiny_data(**demand), source="tiny")


@pytest.fixture(scope="module")
def scenario():
    """A wide share trend and a narrow re-recording: the trend obviously dominates."""
    return _tiny(
        specialist_share_trend={"low": -0.3, "high": 0.3},
        need_recoding={"low": 0.95, "high": 1.0},
    )


@pytest.fixture(scope="module")
def result(scenario):
    return sensitivity(scenario, N, SEED)


def test_pinning_one_assumption_leaves_every_other_draw_unchanged(scenario):
    drawn, pinned = Model(scenario), Model(scenario, pins={TREND: 0.9})
    dist = scenario.assumptions()[TREND]
    seen = []
    for r in range(6):
        streams = Streams(123, r)
        free, held = drawn.assumption_values(streams), pinned.assumption_values(streams)
        assert held[TREND] == dist.ppf(0.9, *ASSUMPTION_BOUNDS[TREND])
        assert {k: v for k, v in held.items() if k != TREND} == {
            k: v for k, v in free.items() if k != TREND
        }
        seen.append(free[RECODING])
    assert len(set(seen)) == 6  # the others really are drawn, replication by replication


def test_a_pinned_run_records_its_pins_and_a_pin_on_a_fixed_assumption_changes_nothing(
    scenario,
):
    damping = "demand.new_plans_growth_damping"
    assert scenario.assumptions()[damping].fixed
    free = pp.run(scenario, 3, seed=SEED)
    held = pp.run(scenario, 3, seed=SEED, pins={damping: 0.9})
    for name in measures.MEASURES:
        np.testing.assert_array_equal(held.dataset[name.name], free.dataset[name.name])
    assert held.provenance["pins"] == {damping: 0.9}
    assert json.loads(held.dataset.attrs["pins"]) == {damping: 0.9}
    assert free.provenance["pins"] == {} and "pins" not in free.dataset.attrs


@pytest.mark.parametrize(
    "pins, message",
    [({"demand.nonsense": 0.5}, "no assumption"), ({TREND: 1.0}, r"probability in \(0, 1\)")],
)
def test_run_refuses_bad_pins(scenario, pins, message):
    with pytest.raises(InputError, match=message):
        pp.run(scenario, 2, seed=1, pins=pins)


def test_the_obviously_dominant_assumption_ranks_first(scenario, result):
    table = result.table
    assert list(table["assumption"]) == [TREND, RECODING]
    assert list(table["rank"]) == [1, 2]
    assert result.dominant == TREND
    top, second = table.iloc[0], table.iloc[1]
    assert abs(top["swing"]) > 10 * abs(second["swing"])
    assert top["distinguishable"]
    assert top["value_low"] == pytest.approx(-0.24) and top["value_high"] == pytest.approx(0.24)
    assert top["distribution"] == "uniform -0.3–0.3"
    assert result.at == date(2027, 1, 21)  # the last January census of the forecast
    assert result.lead()[2]  # and by more than noise ahead of the next
    assert result.sentence().startswith(
        "The assumption that dominates is the trend of the special school share"
    )


def test_swings_are_paired_differences_of_pinned_runs(scenario, result):
    held = pp.run(scenario, N, seed=SEED, pins={TREND: 0.9})
    at = pd.Timestamp(result.at)
    high = held.dataset[measures.HEADLINE].sel(time=at).to_numpy()
    top = result.table.iloc[0]
    assert top["headline_high"] == pytest.approx(high.mean())
    d = result.paired[TREND]
    assert top["swing"] == pytest.approx(d.mean())
    assert top["swing"] == pytest.approx(top["headline_high"] - top["headline_low"])
    assert top["swing_se"] == pytest.approx(d.std(ddof=1) / np.sqrt(N))
    base = pp.run(scenario, N, seed=SEED).dataset[measures.HEADLINE].sel(time=at)
    np.testing.assert_allclose(result.table["headline_base"], float(base.mean()))


def test_monte_carlo_noise_is_flagged():
    rng = np.random.default_rng(0)
    lo = rng.normal(100, 10, 50)
    assert _swing(lo, lo) == (0.0, 0.0, False)  # no effect at all
    assert _swing(lo, lo + 5)[2]  # a steady shift, however small, is an effect
    noise = _swing(lo, lo + rng.normal(0, 10, 50))
    assert not noise[2] and noise[1] > 0  # pure noise is not


def test_serial_and_two_workers_give_identical_numbers(scenario, result):
    parallel = sensitivity(scenario, N, SEED, workers=2)
    pd.testing.assert_frame_equal(parallel.table, result.table)


def test_a_measure_and_a_snapshot_can_be_chosen(scenario):
    chosen = sensitivity(scenario, 3, SEED, measure="waiting", at="2026-05")
    assert chosen.at == date(2026, 5, 21) and chosen.measure == "waiting"
    assert chosen.label == "Children waiting for a special school place"
    assert "May 2026" in chosen.sentence()


def test_pick_snapshot(scenario):
    assert pick_snapshot(scenario) == date(2027, 1, 21)
    assert pick_snapshot(scenario, "2026") == date(2026, 1, 15)
    assert pick_snapshot(scenario, "2025-10") == date(2025, 10, 2)
    assert pick_snapshot(scenario, "2026-01-01") == date(2026, 1, 15)  # the nearest
    for bad, message in [
        ("2040-01-01", "outside the forecast"),
        ("2031", "no January census"),
        ("2026-02", "no snapshot in that month"),
        ("soon", "expected a date"),
    ]:
        with pytest.raises(InputError, match=message):
            pick_snapshot(scenario, bad)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sensitivity")
    data = _tiny_data(specialist_share_trend={"low": -0.3, "high": 0.3})
    (folder / "tiny.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    fixed = _tiny_data(specialist_share_trend=0.0)
    fixed["name"] = "fixed"
    (folder / "fixed.yaml").write_text(yaml.safe_dump(fixed), encoding="utf-8")
    return folder


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_writes_the_table_the_tornado_and_the_report(files):
    out = files / "out"
    proc = _cli("sensitivity", files / "tiny.yaml", "-n", 4, "--seed", 3, "--out", out, "-q")
    assert proc.exit_code == 0, proc.output
    table = pd.read_csv(out / "sensitivity.csv")
    assert list(table["assumption"]) == [TREND]
    assert (out / "tornado.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "sensitivity.md").read_text(encoding="utf-8")
    assert "The assumption that dominates is the trend of the special school share" in report
    assert "January 2027" in report
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed"] == 3 and prov["replications"] == 4
    assert prov["runs"][1]["pins"] == {TREND: 0.1} and prov["runs"][2]["pins"] == {TREND: 0.9}
    assert pp.load_scenario(out / "scenario.yaml").digest() == prov["scenario"]["resolved_sha256"]
    assert "dominates" in proc.output


def test_cli_reads_the_scenario_and_seed_of_a_run_folder(files):
    run = files / "run"
    assert _cli("run", files / "tiny.yaml", "-n", 2, "--seed", 7, "--out", run, "-q").exit_code == 0
    proc = _cli("sensitivity", run, "-n", 2, "-q")
    assert proc.exit_code == 0, proc.output
    prov = json.loads((files / "run-sensitivity" / "provenance.json").read_text())
    run_prov = json.loads((run / "provenance.json").read_text())
    assert prov["seed"] == 7
    assert prov["source"] == {"run": str(run), "run_id": run_prov["run_id"]}


@pytest.mark.parametrize(
    "args, message",
    [
        (["fixed.yaml"], "no assumption is given as a distribution"),
        (["tiny.yaml", "--measure", "nonsense"], "no such measure"),
        (["tiny.yaml", "--at", "2040-01-01"], "outside the forecast"),
        (["tiny.yaml", "--out", "tiny.yaml"], "not a folder"),
        (["tiny.yaml", "-n", "1"], "not in the range"),
        (["."], "not a run folder"),
    ],
)
def test_cli_bad_input_exits_2(files, args, message):
    first, *rest = args
    proc = _cli(
        "sensitivity", files / first, *[files / a if a.endswith(".yaml") else a for a in rest]
    )
    assert proc.exit_code == 2, proc.output
    assert message in proc.output
    assert "Traceback" not in proc.output


def test_cli_refuses_to_replace_a_folder_of_other_files(files):
    other = files / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    proc = _cli("sensitivity", files / "tiny.yaml", "-n", 2, "--out", other)
    assert proc.exit_code == 2
    assert "not a sensitivity folder" in proc.output
    assert (other / "notes.txt").read_text() == "mine"
