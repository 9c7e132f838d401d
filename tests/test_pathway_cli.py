"""The pathway from the command line: validate, run (both headlines), compare, report."""

from pathlib import Path

import pytest
import xarray as xr
from click.testing import CliRunner

from placeplan.cli import main

SCENARIOS = Path(__file__).parent.parent / "scenarios"
WITH = str(SCENARIOS / "herts-pathway.yaml")
WITHOUT = str(SCENARIOS / "herts-pathway-no-appointments.yaml")


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_validate_the_bundled_pathway_scenarios():
    result = invoke("validate", WITH, WITHOUT)
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok") == 2


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("pathway") / "run"
    result = invoke("run", WITH, "-n", "3", "--seed", "5", "--out", str(out))
    return out, result


def test_run_reports_both_headlines(run_folder):
    out, result = run_folder
    assert result.exit_code == 0, result.output
    assert "waiting longer than three terms for a special school place" in result.output
    assert "New EHC plans issued within 20 weeks, by calendar year (target 60%)" in result.output
    for year in range(2025, 2035):
        assert f"\n{year}  " in result.output  # one pathway row per year
    ds = xr.open_dataset(out / "results.nc")
    assert ds["pathway_pct_within_20_weeks"].dims == ("replicate", "year")
    assert list(ds["year"].values) == list(range(2025, 2035))
    assert ds["pathway_backlog_over_20_weeks"].dims == ("replicate", "time")
    assert float(ds["pathway_referrals_from_new_plans"].sum()) > 0
    assert float(ds["pathway_plans_issued"].min()) > 0


def test_report_has_the_pathway_section(run_folder, tmp_path):
    out, _ = run_folder
    result = invoke("report", str(out), "--out", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "r.md").read_text()
    assert "## The EHC needs-assessment pathway" in text
    assert "against the target of 60%" in text
    assert "How the pathway moves referrals for places" in text


def test_compare_with_and_without_the_appointments():
    result = invoke("compare", WITH, WITHOUT, "-n", "2", "--seed", "5")
    assert result.exit_code == 0, result.output


def test_a_stage_naming_no_staff_group_is_a_clear_error(tmp_path):
    (tmp_path / "herts-baseline.yaml").write_text((SCENARIOS / "herts-baseline.yaml").read_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(WITH).read_text().replace("staff: psychologists", "staff: psychologist"))
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "stages.assessment.staff is 'psychologist'" in result.output
    assert "expected one of caseworkers, psychologists" in result.output
    assert "bad.yaml" in result.output
    assert "Traceback" not in result.output
