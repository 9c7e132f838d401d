"""The command line end to end: outputs, printed table, exit codes and messages."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

import placeplan as pp


def placeplan(*args, cwd=None):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    exe = shutil.which("placeplan")
    cmd = [exe] if exe else [sys.executable, "-m", "placeplan"]
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )


@pytest.fixture(scope="module")
def bundled_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cli")
    proc = placeplan("run", "-n", "20", "--seed", "11", cwd=cwd)
    return cwd, proc


def test_run_on_the_bundled_default_scenario(bundled_run):
    cwd, proc = bundled_run
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Hertfordshire baseline" in out
    assert "waiting longer than three terms" in out
    assert "80% interval" in out
    for year in range(2025, 2035):
        assert f"{year}-01-" in out  # one row per January census
    run_dir = cwd / "runs" / "herts-baseline"
    for name in ("results.nc", "summary.csv", "provenance.json", "scenario.yaml", "MANIFEST.json"):
        assert (run_dir / name).stat().st_size > 0
        assert str(run_dir / name) in out or f"runs/herts-baseline/{name}" in out
    assert not list(run_dir.glob(".*tmp"))  # no temporary files left behind
    prov = json.loads((run_dir / "provenance.json").read_text())
    assert prov["seed"]["given"] == 11 and prov["replications"] == 20
    assert prov["scenario"]["file"]["sha256"]


def test_cli_run_equals_python_run(bundled_run):
    cwd, _ = bundled_run
    with xr.open_dataset(cwd / "runs" / "herts-baseline" / "results.nc") as ds:
        from_cli = ds.load()
    in_python = pp.run("herts-baseline", replications=20, seed=11).dataset
    xr.testing.assert_equal(from_cli, in_python)


def test_printed_table_matches_the_headline(bundled_run):
    _, proc = bundled_run
    head = pp.run("herts-baseline", replications=20, seed=11).headline()
    rows = [line.split() for line in proc.stdout.splitlines() if line[:4].isdigit()]
    assert [r[0] for r in rows] == [str(c) for c in head["census"]]
    assert [float(r[1]) for r in rows] == [round(m) for m in head["median"]]


def test_run_a_scenario_file_with_out_and_quiet(tmp_path):
    src = pp.bundled_scenarios()["validation/fifo-deterministic"]
    proc = placeplan("run", str(src), "-n", "2", "--seed", "1", "--out", str(tmp_path / "o"), "-q")
    assert proc.returncode == 0, proc.stderr
    assert "80% interval" not in proc.stdout
    assert (tmp_path / "o" / "results.nc").exists()


def test_invalid_scenario_exits_2_with_file_line_field_and_no_traceback(tmp_path):
    text = pp.bundled_scenarios()["herts-baseline"].read_text().replace("years: 10", "yeers: 10")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    line = text.splitlines().index("yeers: 10") + 1
    proc = placeplan("run", str(bad), "-n", "2", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert f"{bad}:{line}: yeers: unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_bad_options_exit_2():
    assert placeplan("run", "-n", "0").returncode == 2
    assert placeplan("run", "--seed", "minus").returncode == 2
    proc = placeplan("run", "no-such-scenario")
    assert proc.returncode == 2 and "no such scenario file or bundled scenario" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_validate(tmp_path):
    ok = placeplan("validate", "herts-baseline", "validation/fifo-deterministic")
    assert ok.returncode == 0 and ok.stdout.count(": ok") == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    proc = placeplan("validate", "herts-baseline", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:" in proc.stderr and "required but missing" in proc.stderr
    assert "herts-baseline: ok" in proc.stdout


def test_scenario_for_a_council_without_sen2_figures_exits_2(tmp_path):
    text = pp.bundled_scenarios()["herts-baseline"].read_text()
    bad = tmp_path / "nowhere.yaml"
    bad.write_text(text.replace("  sen2_area: E10000015", "  sen2_area: E99999999"))
    for args in (
        ["validate", str(bad)],
        ["run", str(bad), "-n", "1", "--out", str(tmp_path / "o")],
    ):
        proc = placeplan(*args)
        assert proc.returncode == 2
        assert "demand.sen2_area: no SEN2 figures for 'E99999999'" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_schema(tmp_path):
    proc = placeplan("schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert schema["title"] == "Scenario"
    out = tmp_path / "schema.json"
    assert placeplan("schema", "--out", str(out)).returncode == 0
    assert json.loads(out.read_text()) == schema


def test_scenarios_and_version():
    proc = placeplan("scenarios")
    assert proc.returncode == 0 and "herts-baseline" in proc.stdout
    assert pp.__version__ in placeplan("--version").stdout


def test_bundled_baseline_demand_is_what_calibrate_writes(tmp_path):
    """The baseline's demand section is produced by `placeplan calibrate`, exactly."""
    import shlex

    bundled = pp.bundled_scenarios()["herts-baseline"]
    command = pp.load_scenario("herts-baseline").demand.calibration.command
    args = shlex.split(command)[1:]
    template = args[args.index("--template") + 1]
    out = args[args.index("--out") + 1]
    # run it from a folder laid out like the repository, on a copy of the baseline
    (tmp_path / template).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / template).write_text(bundled.read_text())
    proc = placeplan(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / out).read_text() == bundled.read_text()


def test_calibrate_writes_a_demand_section_that_validates(tmp_path):
    out = tmp_path / "demand.yaml"
    proc = placeplan("calibrate", "--council", "E06000001", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Hartlepool" in proc.stdout
    import yaml

    from placeplan.scenario import CohortDemand

    demand = CohortDemand.model_validate(yaml.safe_load(out.read_text())["demand"])
    assert demand.sen2_area == "E06000001" and demand.base_year == 2025
    assert demand.calibration.diagnostics["plans_at_origin"] > 0
    assert 0 < demand.new_plans_growth.sd < 0.2
    # the trend written is that of need; the placements trend is a diagnostic beside it
    from placeplan.calibration import calibrate

    fitted = calibrate("E06000001")
    assert demand.specialist_share_trend.mean == fitted.share_trend
    diagnostics = demand.calibration.diagnostics
    assert diagnostics["special_share_trend_placements"] != fitted.share_trend
    assert "need" in demand.calibration.method and "educated elsewhere" in out.read_text()
    assert "share needing a special school" in proc.stdout


def test_calibrate_bad_input_exits_2(tmp_path):
    proc = placeplan("calibrate", "--council", "Hertfordshir", "--out", str(tmp_path / "x.yaml"))
    assert proc.returncode == 2 and "Hertfordshire (E10000015)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (
        placeplan(
            "calibrate",
            "--council",
            "Hertfordshire",
            "--until",
            "2018",
            "--out",
            str(tmp_path / "x.yaml"),
        ).returncode
        == 2
    )
    assert not (tmp_path / "x.yaml").exists()


def test_backtest_cli(tmp_path):
    import pandas as pd

    out = tmp_path / "bt.csv"
    args = ["--origin", "2021", "--origin", "2022", "--horizon", "3", "-n", "500"]
    proc = placeplan("backtest", "--council", "Hertfordshire", *args, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out)
    assert list(table.columns[:10]) == [
        "council_code",
        "council",
        "origin",
        "horizon",
        "year",
        "quantity",
        "actual",
        "p10",
        "p50",
        "p90",
    ]
    assert {"naive_last", "naive_trend", "naive_mean3"} <= set(table.columns)
    assert set(table["council_code"]) == {"E10000015"}
    assert len(table) == 2 * 3 * table["quantity"].nunique()
    assert {"ehcp_plans", "new_plans", "special_school", "need_ASD", "age_16-19"} <= set(
        table["quantity"]
    )
    assert "coverage_80" in proc.stdout
    both = placeplan(
        "backtest", "--all", "--council", "Hertfordshire", "--origin", "2021", "--out", str(out)
    )
    assert both.returncode == 2


def test_data_councils(sen2_dir):
    proc = placeplan("data", "councils")
    assert proc.returncode == 0
    assert "E10000015" in proc.stdout and "Hertfordshire" in proc.stdout
    newer = placeplan("data", "councils", "--sen2-dir", str(sen2_dir))
    assert newer.returncode == 0 and "Newtown" in newer.stdout


def test_calibrate_on_a_newer_release_writes_where_it_read(tmp_path, sen2_dir):
    """A scenario fitted on a release given with --sen2-dir names it, so runs read it too."""
    from placeplan.calibration import calibrate, demand_block, replace_demand_block

    out = tmp_path / "fitted" / "herts.yaml"
    out.parent.mkdir()
    relative = Path(os.path.relpath(sen2_dir, out.parent))
    block = demand_block(calibrate("Hertfordshire"), None, "placeplan calibrate", relative)
    template = pp.bundled_scenarios()["herts-baseline"].read_text()
    out.write_text(replace_demand_block(template, block))
    import yaml

    written = yaml.safe_load(out.read_text())["demand"]["sen2_dir"]
    # relative to the scenario's folder, as demand.sen2_dir is read
    assert (out.parent / written).resolve() == sen2_dir.resolve()
    assert not Path(written).is_absolute()


def test_calibrate_on_a_release_too_short_to_fit_is_refused(tmp_path):
    folder = tmp_path / "sen2"
    shutil.copytree(Path(__file__).parent / "data" / "sen2-2026" / "release-2026", folder / "r")
    (folder / "r" / "data-guidance.txt").write_text("Reporting year 2025\n", encoding="utf-8")
    out = tmp_path / "x.yaml"
    proc = placeplan(
        "calibrate", "--council", "Hertfordshire", "--sen2-dir", str(folder), "--out", str(out)
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "put the earlier releases' folders beside it" in proc.stderr
    assert not out.exists()
