"""A run never replaces a run folder written from another scenario without saying so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from placeplan.cli import main
from placeplan.errors import InputError
from placeplan.run_folder import check_same_scenario
from placeplan.scenario import load_scenario

TINY = """\
name: {name}
title: Tiny {name}
council: {{code: {code}, name: {council}}}
start: 2025-09-01
years: 1
demand:
  model: fixed
  per_term: {{ANY: [{referrals}]}}
  arrival: term_start
placement:
  designations:
    ANY: {{places: 2, source: "test"}}
  panels: {{every_days: null, start_places: immediate}}
  leaving: {{end_of_year: {{}}, mid_year_rate: 0.0}}
"""


def tiny(folder: Path, name: str, *, code="E10000015", council="Hertfordshire", referrals=3):
    path = folder / f"{name}.yaml"
    path.write_text(TINY.format(name=name, code=code, council=council, referrals=referrals))
    return path


def cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback for {args}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def run(scenario: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return cli("run", scenario, "-n", "2", "--seed", "1", "-q", "--out", out, *extra)


def test_a_run_of_another_scenario_is_refused_and_names_the_writer(tmp_path):
    out = tmp_path / "runs" / "shared"
    assert run(tiny(tmp_path, "first"), out)[0] == 0
    before = json.loads((out / "provenance.json").read_text())["run_id"]
    code, _, stderr = run(tiny(tmp_path, "second"), out)
    assert code == 2 and "Traceback" not in stderr
    assert "holds a run of scenario 'first' (Tiny first), file" in stderr
    assert "first.yaml" in stderr and "not 'second'" in stderr
    assert "--out" in stderr and "--overwrite" in stderr
    assert json.loads((out / "provenance.json").read_text())["run_id"] == before  # untouched
    code, _, stderr = run(tmp_path / "second.yaml", out, "--overwrite")
    assert code == 0 and "replacing a run of scenario 'first'" in stderr
    assert json.loads((out / "provenance.json").read_text())["scenario"]["name"] == "second"


def test_a_run_of_the_same_name_for_another_council_is_refused(tmp_path):
    out = tmp_path / "r"
    assert run(tiny(tmp_path, "baseline"), out)[0] == 0
    other = tmp_path / "kent"
    other.mkdir()
    kent = tiny(other, "baseline", code="E10000016", council="Kent")
    code, _, stderr = run(kent, out)
    assert code == 2 and "of council E10000015, not E10000016" in stderr


def test_the_same_scenario_runs_again_into_its_folder(tmp_path):
    out = tmp_path / "r"
    scenario = tiny(tmp_path, "same")
    assert run(scenario, out)[0] == 0
    code, _, stderr = run(scenario, out)
    assert code == 0 and "replacing" not in stderr
    tiny(tmp_path, "same", referrals=5)  # edited: same name and council, another file hash
    code, _, stderr = run(scenario, out)
    assert code == 0 and "same scenario name, the same file, edited since" in stderr


def test_check_same_scenario_leaves_other_folders_to_check_replaceable(tmp_path):
    scenario = load_scenario(tiny(tmp_path, "x"))
    assert check_same_scenario(tmp_path / "missing", scenario, None) is None
    (tmp_path / "empty").mkdir()
    assert check_same_scenario(tmp_path / "empty", scenario, None) is None
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "provenance.json").write_text("{not json")
    assert check_same_scenario(damaged, scenario, None) is None
    (damaged / "provenance.json").write_text(json.dumps({"scenario": {"name": "y"}}))
    with pytest.raises(InputError, match="holds a run of scenario 'y'"):
        check_same_scenario(damaged, scenario, None)


def test_a_hindcast_does_not_replace_another_scenarios_run_either(tmp_path):
    out = tmp_path / "r"
    assert run(tiny(tmp_path, "first"), out)[0] == 0
    before = (out / "provenance.json").read_text()
    code, _, stderr = cli(
        "hindcast", "herts-hindcast-2019", "-n", "2", "--seed", "1", "-q", "--out", out
    )
    assert code == 2 and "holds a run of scenario 'first'" in stderr and "--overwrite" in stderr
    assert (out / "provenance.json").read_text() == before
