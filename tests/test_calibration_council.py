"""`placeplan calibrate`: no silent mixing of councils; every current council fits."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import placeplan as pp
from placeplan.calibration import calibrate
from placeplan.cli import main


def cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback for {args}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def test_another_councils_template_is_refused_pointing_to_init(tmp_path):
    template = pp.bundled_scenarios()["herts-baseline"]
    out = tmp_path / "kent.yaml"
    code, _, stderr = cli("calibrate", "--council", "Kent", "--template", template, "--out", out)
    assert code == 2 and "Traceback" not in stderr
    assert "a scenario of Hertfordshire (E10000015), but --council names Kent" in stderr
    assert "placeplan init --council Kent --out FILE.yaml" in stderr
    assert not out.exists()


@pytest.mark.parametrize("council", ["Hertfordshire", "E10000015", "919"])
def test_the_same_councils_template_is_calibrated_as_before(tmp_path, council):
    template = pp.bundled_scenarios()["herts-baseline"]
    out = tmp_path / "herts.yaml"
    code, stdout, stderr = cli(
        "calibrate", "--council", council, "--template", template, "--out", out
    )
    assert code == 0, stderr
    written = yaml.safe_load(out.read_text())
    assert written["placement"] == yaml.safe_load(template.read_text())["placement"]
    assert "Hertfordshire (E10000015)" in stdout


def test_a_template_from_init_calibrates_its_own_council_only(tmp_path):
    scenario = tmp_path / "leeds.yaml"
    assert cli("init", "--council", "Leeds", "--out", scenario)[0] == 0
    assert (
        cli(
            "calibrate",
            "--council",
            "Leeds",
            "--template",
            scenario,
            "--out",
            scenario,
        )[0]
        == 0
    )
    again = pp.load_scenario(scenario)
    assert again.council.name == "Leeds" and again.demand.sen2_area == again.council.code
    code, _, stderr = cli(
        "calibrate", "--council", "York", "--template", scenario, "--out", tmp_path / "york.yaml"
    )
    assert code == 2 and "placeplan init --council York" in stderr


@pytest.mark.parametrize(
    "council", ["Cumberland", "North Northamptonshire", "Cambridgeshire", "North East Lincolnshire"]
)
def test_councils_with_short_or_unpublished_series_calibrate(council):
    """Successors (no January 2019) and councils without January 2025 placements fit, with
    the diagnostics they lack said in words rather than a crash."""
    fitted = calibrate(council)
    assert -1 < fitted.growth < 1 and fitted.growth_se > 0
    values = fitted.diagnostics.values()
    assert any(isinstance(v, str) and ("not known" in v or "not published" in v) for v in values)
