"""Validation before a model exists: what `run` would reject, `validate` rejects first.

Every crash class found by fuzzing is a case here, checked through the Python API
(:func:`placeplan.load_scenario`: a ScenarioError naming file, line and field) and
through ``placeplan validate`` (exit 2, the same message, never a traceback).
"""

from __future__ import annotations

import os
import re
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import placeplan as pp
from placeplan.bundled import bundled_scenarios
from placeplan.cli import main
from placeplan.errors import ScenarioError
from placeplan.model import Model
from placeplan.scenario import FIRST_DAY, LAST_DAY, scenario_from_dict
from placeplan.scenario_files import MAX_DEPTH, MAX_EXTENDS, MAX_FILE_BYTES
from placeplan.streams import Streams

SMALL = """\
name: small
title: Small
council: {code: E10000015, name: Hertfordshire}
start: 2025-09-01
years: 2
demand:
  model: poisson
  rate: {ANY: 20.0}
placement:
  designations:
    ANY: {places: 10}
  leaving: {end_of_year: {15: 1.0}, mid_year_rate: 0.5}
"""
"""A small valid scenario (Poisson demand: no SEN2 data needed)."""


def _baseline() -> str:
    return bundled_scenarios()["herts-baseline"].read_text()


_GROWTH = re.search(r"new_plans_growth: \{[^}]*\}", _baseline()).group(0)
"""The baseline's calibrated growth line, as written by `placeplan calibrate`."""


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _line(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def _validate(*args: str):
    result = CliRunner().invoke(main, ["validate", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


def _rejected(path: Path, field: str, fragment: str, line: int | None = None, **kwargs):
    """Assert the file is rejected at ``field`` (API and CLI), with the line if given."""
    with pytest.raises(ScenarioError) as info:
        pp.load_scenario(path, **kwargs)
    issues = [i for i in info.value.issues if i.path == field]
    assert issues, f"no issue at {field!r}: {info.value}"
    issue = issues[0]
    assert fragment in issue.message, issue.message
    assert issue.source == str(path)
    if line is not None:
        assert issue.line == line
    result = _validate(str(path))
    assert result.exit_code == 2
    assert str(issue) in result.output
    expected = f"{path}:{line}: {field}:" if line is not None else f"{path}"
    assert expected in result.output
    return issue


# ---------------------------------------------------------------- checks moved into validation
def test_spring_term_start_in_march_is_rejected_at_load(tmp_path):
    text = SMALL.replace(
        "years: 2\n",
        "years: 2\ncalendar:\n  term_starts:\n"
        "    - {academic_year: 2025, term: spring, starts: 2026-03-10}\n",
    )
    path = _write(tmp_path, text)
    _rejected(path, "calendar.term_starts.0", "January or February", _line(text, "spring"))


def test_a_term_start_given_twice_is_rejected(tmp_path):
    entry = "    - {academic_year: 2025, term: spring, starts: 2026-01-06}\n"
    text = SMALL.replace("years: 2\n", "years: 2\ncalendar:\n  term_starts:\n" + entry * 2)
    path = _write(tmp_path, text)
    _rejected(path, "calendar.term_starts.1", "given twice", _line(text, "spring") + 1)


def test_project_opening_before_the_start_is_rejected(tmp_path):
    text = (
        SMALL
        + "  build_programme:\n    - {name: p, designation: ANY, places: 5, opens: 2024-09-01}\n"
    )
    path = _write(tmp_path, text)
    _rejected(path, "placement.build_programme.0.opens", "before the forecast starts")


def test_project_opening_after_the_supported_calendar_is_rejected(tmp_path):
    text = (
        SMALL
        + "  build_programme:\n    - {name: p, designation: ANY, places: 5, opens: 2402-09-01}\n"
    )
    path = _write(tmp_path, text)
    _rejected(path, "placement.build_programme.0.opens", "less than or equal to 2399-08-31")


def test_unknown_sen2_area_is_rejected_at_load(tmp_path):
    text = _baseline().replace("sen2_area: E10000015", "sen2_area: E10999999")
    path = _write(tmp_path, text)
    _rejected(path, "demand.sen2_area", "no SEN2 figures", _line(text, "sen2_area:"))


def test_base_year_without_sen2_figures_is_rejected_at_load(tmp_path):
    # Cumberland (formed in 2023) has no SEN2 figures for January 2019
    text = (
        _baseline()
        .replace("sen2_area: E10000015", "sen2_area: E06000063")
        .replace("base_year: 2025", "base_year: 2019")
        .replace("start: 2025-01-06", "start: 2019-01-04")
    )
    path = _write(tmp_path, text)
    _rejected(path, "demand.base_year", "January 2019", _line(text, "base_year:"))


def test_model_assumes_a_valid_scenario():
    """The checks left model.py: it raises no InputError of its own any more."""
    source = (Path(pp.__file__).parent / "model.py").read_text()
    assert "InputError" not in source


# ------------------------------------------------------------------------ bounds on numbers
@pytest.mark.parametrize(
    ("old", "new", "field", "fragment"),
    [
        ("start: 2025-09-01", "start: 9999-12-01", "start", "less than or equal"),
        ("start: 2025-09-01", "start: 1900-01-01", "start", "greater than or equal"),
        ("years: 2", "years: 0.001", "years", "at least one day"),
        ("start: 2025-09-01", "start: 2399-01-04", "years", "must end by 2400-09-01"),
        (
            "years: 2\n",
            "years: 2\ncalendar: {snapshots: 1.0e-9}\n",
            "calendar.snapshots",
            "or equal to 1",
        ),
        ("years: 2\n", "years: 20\ncalendar: {snapshots: 1}\n", "calendar.snapshots", "at most"),
        ("years: 2\n", "years: 2\ncalendar: {snapshots: 5000}\n", "calendar.snapshots", "no snap"),
        (
            "start: 2025-09-01\nyears: 2",
            "start: 2025-11-01\nyears: 0.1",
            "calendar.snapshots",
            "no census",
        ),
        ("places: 10", f"places: {2**63}", "placement.designations.ANY.places", "1000000"),
        ("ANY: 20.0", "ANY: 1.0e+300", "demand.rate.ANY", "less than or equal"),
        ("ANY: 20.0", "ANY: 900000.0", "demand.rate", "referrals expected"),
        ("ANY: 20.0", "ANY: .nan", "demand.rate.ANY", "finite"),
        ("mid_year_rate: 0.5", "mid_year_rate: .inf", "placement.leaving.mid_year_rate", ""),
    ],
)
def test_numbers_are_bounded(tmp_path, old, new, field, fragment):
    text = SMALL.replace(old, new)
    assert text != SMALL
    _rejected(_write(tmp_path, text), field, fragment)


def test_waiting_list_from_1900_is_rejected(tmp_path):
    text = SMALL + (
        "  initial_waiting:\n    - {children: {ANY: 3}, referred_from: 1900-01-01, "
        "referred_to: 1901-01-01}\n"
    )
    path = _write(tmp_path, text)
    _rejected(path, "placement.initial_waiting.0.referred_from", "greater than or equal")


def test_waiting_list_referred_after_the_start_or_before_birth_is_rejected(tmp_path):
    group = (
        "  initial_waiting:\n    - {{children: {{ANY: 3}}, referred_from: {}, "
        "referred_to: {}, age: [4, 9]}}\n"
    )
    path = _write(tmp_path, SMALL + group.format("2026-01-01", "2026-02-01"))
    _rejected(path, "placement.initial_waiting.0.referred_from", "not before the start")
    path = _write(tmp_path, SMALL + group.format("2015-01-01", "2016-02-01"))
    _rejected(path, "placement.initial_waiting.0.age", "before they were born")


def test_demand_expecting_too_many_children_is_refused_by_validate_and_run(tmp_path):
    # central growth alone expects tens of millions of referrals: validate refuses it
    text = re.sub(
        r"new_plans_growth_damping: [0-9.]+",
        "new_plans_growth_damping: 1.0",
        _baseline().replace(_GROWTH, "new_plans_growth: {mean: 1.0, sd: 0}"),
    )
    _rejected(_write(tmp_path, text), "demand.new_plans_growth", "at the central estimates")
    # a replication drawing such growth (built past validation, as a tail draw of wide
    # growth would be): the run stops with a clear error before any child is drawn
    base = pp.load_scenario("herts-baseline")
    demand = base.demand.model_copy(
        update={"new_plans_growth": pp.scenario.Uncertain(mean=1.0), "new_plans_growth_damping": 1}
    )
    model = Model(base.model_copy(update={"demand": demand}))
    with pytest.raises(pp.InputError, match="placeplan follows at most 1,000,000"):
        model.replicate(Streams(1, 0))


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("    - 4\n    - 14\n", "    - 4\n    - 1000000000\n", "placement.initial_waiting.0.age.1"),
        ("    - 4\n    - 14\n", "    - 14\n    - 4\n", "placement.initial_waiting.0.age"),
        ("  referral_ages:\n  - 4\n", "  referral_ages:\n  - -1\n", "demand.referral_ages.0"),
        ("  occupant_ages:\n  - 4\n  - 18\n", "  occupant_ages:\n  - 18\n  - 4\n",
         "placement.occupant_ages"),
    ],
)  # fmt: skip
def test_ages_are_sen2_ages_youngest_first(tmp_path, old, new, field):
    # an age of 10^9 passed the schema and crashed the run (the fuzz suite's long tier)
    data = yaml.safe_load(_baseline())
    data["placement"]["initial_waiting"] = [  # a typed list (overriding SEN2's)
        {
            "children": {"ASD": 18, "SEMH": 14},
            "referred_from": "2024-04-15",
            "referred_to": "2024-08-31",
            "age": [4, 14],
        }
    ]
    text = yaml.safe_dump(data, sort_keys=False)
    assert old in text
    _rejected(_write(tmp_path, text.replace(old, new, 1)), field, "")


def test_too_many_children_waiting_is_rejected(tmp_path):
    group = "    - {children: {ANY: 600000}, referred_from: 2024-01-01, referred_to: 2024-02-01}\n"
    path = _write(tmp_path, SMALL + "  initial_waiting:\n" + group * 2)
    _rejected(path, "placement.initial_waiting", "1,200,000 children")


def test_huge_growth_is_rejected(tmp_path):
    text = _baseline().replace(_GROWTH, "new_plans_growth: {mean: 1.0, sd: 1.0}")
    path = _write(tmp_path, text)
    _rejected(path, "demand.new_plans_growth", "100,000,000-fold", _line(text, "new_plans_growth:"))
    # undamped, the baseline's own growth over three centuries is refused too
    text = re.sub(
        r"new_plans_growth_damping: [0-9.]+",
        "new_plans_growth_damping: 1.0",
        _baseline().replace("years: 10", "years: 300"),
    )
    _rejected(_write(tmp_path, text), "demand.new_plans_growth", "six standard deviations")


def test_start_before_the_base_year_is_rejected(tmp_path):
    text = _baseline().replace("start: 2025-01-06", "start: 2024-09-02")
    path = _write(tmp_path, text)
    _rejected(path, "start", "2025-01-01", _line(text, "start:"))


# ------------------------------------------------------------------------ parser hardening
@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: " + "[" * 500 + "]" * 500 + "\n", f"nested more than {MAX_DEPTH} levels"),
        ("a: &a [*a]\n", "an alias refers to a value that contains it"),
        ("? [a, b]\n: 1\n", "a key must be a plain value"),
        ("? {a: b}\n: 1\n", "a key must be a plain value"),
        ("a: &a [1]\nb: {<<: [*a]}\n", "invalid YAML"),
    ],
)
def test_hostile_yaml_is_refused(tmp_path, text, fragment):
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError, match=re.escape(fragment)):
        pp.load_scenario(path)
    result = _validate(str(path))
    assert result.exit_code == 2 and fragment in result.output


def test_deep_nesting_through_aliases_is_refused(tmp_path):
    lines = ["a0: &a0 [1]"]
    lines += [f"a{i}: &a{i} [[[*a{i - 1}]]]" for i in range(1, 40)]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ScenarioError, match="levels deep"):
        pp.load_scenario(path)


def test_billion_laughs_is_refused_quickly(tmp_path):
    text = "a: &a [" + ", ".join(['"lol"'] * 9) + "]\n"
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        text += f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    path = _write(tmp_path, text)
    began = time.perf_counter()
    with pytest.raises(ScenarioError, match="once aliases are expanded"):
        pp.load_scenario(path)
    assert time.perf_counter() - began < 2.0
    assert _validate(str(path)).exit_code == 2


def test_deep_toml_is_refused(tmp_path):
    path = _write(tmp_path, "a = " + "[" * 200 + "]" * 200 + "\n", "s.toml")
    with pytest.raises(ScenarioError, match="nested"):
        pp.load_scenario(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "s.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match="not a regular file"):
        pp.load_scenario(fifo)
    assert _validate(str(fifo)).exit_code == 2


def test_devices_folders_and_large_files_are_refused(tmp_path):
    if Path("/dev/zero").exists():
        with pytest.raises(ScenarioError, match="unknown file type"):
            pp.load_scenario("/dev/zero")
    folder = tmp_path / "d.yaml"
    folder.mkdir()
    with pytest.raises(ScenarioError, match="not a regular file"):
        pp.load_scenario(folder)
    big = _write(tmp_path, SMALL + "#" * MAX_FILE_BYTES)
    with pytest.raises(ScenarioError, match="larger than 1024 KiB"):
        pp.load_scenario(big)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        pp.load_scenario(binary)


# ------------------------------------------------------------------------------- extends
def test_long_extends_name_is_refused(tmp_path):
    path = _write(tmp_path, "extends: " + "x" * 300 + ".yaml\n")
    _rejected(path, "extends", "at most 200 characters", 1)


def test_extends_stays_in_the_scenario_folder_unless_allowed(tmp_path):
    (tmp_path / "base.yaml").write_text(SMALL)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "deeper").mkdir()
    (sub / "deeper" / "base.yaml").write_text(SMALL)
    below = _write(sub, "extends: deeper/base.yaml\nname: below\n", "below.yaml")
    assert pp.load_scenario(below).name == "below"
    outside = _write(sub, "extends: ../base.yaml\nname: outside\n", "child.yaml")
    issue = _rejected(outside, "extends", "outside this scenario's folder", 1)
    assert "--allow-extends-anywhere" in issue.message
    assert pp.load_scenario(outside, allow_outside=True).name == "outside"
    result = _validate("--allow-extends-anywhere", str(outside))
    assert result.exit_code == 0, result.output
    # a bundled name is always allowed
    bundled = _write(sub, "extends: validation/erlang-c\nname: bundled\n", "b.yaml")
    assert pp.load_scenario(bundled).name == "bundled"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_link_out_of_the_folder_is_outside(tmp_path):
    (tmp_path / "base.yaml").write_text(SMALL)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "link.yaml").symlink_to(tmp_path / "base.yaml")
    child = _write(sub, "extends: link.yaml\nname: linked\n", "child.yaml")
    with pytest.raises(ScenarioError, match="outside this scenario's folder"):
        pp.load_scenario(child)


def test_extends_chain_depth_is_bounded(tmp_path):
    (tmp_path / "s0.yaml").write_text(SMALL)
    for i in range(1, MAX_EXTENDS + 2):
        (tmp_path / f"s{i}.yaml").write_text(f"extends: s{i - 1}.yaml\nname: s{i}\n")
    assert pp.load_scenario(tmp_path / f"s{MAX_EXTENDS}.yaml").name == f"s{MAX_EXTENDS}"
    too_long = tmp_path / f"s{MAX_EXTENDS + 1}.yaml"
    with pytest.raises(ScenarioError, match=r"s1\.yaml:1: extends: more than 8 scenarios"):
        pp.load_scenario(too_long)
    assert _validate(str(too_long)).exit_code == 2


def test_a_different_demand_model_replaces_the_base_demand(tmp_path):
    child = _write(
        tmp_path,
        "extends: herts-baseline\nname: fixed-child\n"
        "demand: {model: fixed, per_term: {ASD: [3], SEMH: [2], MLD: [2], SLD: [1], PSI: [1]}}\n",
    )
    scenario = pp.load_scenario(child)
    assert scenario.demand.model == "fixed"
    assert scenario.placement == pp.load_scenario("herts-baseline").placement
    # the same model merges key by key
    merged = _write(
        tmp_path,
        "extends: herts-baseline\nname: m\nstart: 2024-01-08\ndemand: {base_year: 2024}\n",
    )
    assert pp.load_scenario(merged).demand.need_designation["ASD"] == "ASD"


def test_unknown_key_hint_lists_the_keys_of_the_chosen_demand_model(tmp_path):
    text = SMALL.replace("rate: {ANY: 20.0}", "rate: {ANY: 20.0}\n  sen2_area: E10000015")
    path = _write(tmp_path, text)
    issue = _rejected(path, "demand.sen2_area", "unknown key", _line(text, "sen2_area"))
    assert "expected one of: model, rate, age" in issue.message
    assert "need_designation" not in issue.message


# ------------------------------------------------------------------------------ warnings
def _warnings(path: Path) -> list[str]:
    scenario = pp.load_scenario(path)
    result = _validate(str(path))
    assert result.exit_code == 0, result.output
    for w in scenario.warnings:
        assert str(w) in result.output
    return [f"{w.path}: {w.message}" for w in scenario.warnings]


def test_nobody_leaving_is_a_warning_unless_said_explicitly(tmp_path):
    text = SMALL.replace("  leaving: {end_of_year: {15: 1.0}, mid_year_rate: 0.5}\n", "")
    path = _write(tmp_path, text)
    (warning,) = pp.load_scenario(path).warnings
    assert warning.warning and warning.path == "placement.leaving"
    assert "nobody ever leaves" in warning.message
    assert warning.line == _line(text, "placement:")
    output = _validate(str(path)).output
    assert f"{path}:{warning.line}: placement.leaving: warning: nobody ever leaves" in output
    explicit = text + "  leaving: {end_of_year: {}, mid_year_rate: 0}\n"
    assert _warnings(_write(tmp_path, explicit, "e.yaml")) == []


def test_project_after_the_horizon_is_a_warning(tmp_path):
    text = (
        SMALL
        + "  build_programme:\n    - {name: p, designation: ANY, places: 5, opens: 2030-09-01}\n"
    )
    path = _write(tmp_path, text)
    (warning,) = _warnings(path)
    assert warning.startswith("placement.build_programme.0.opens: opens on 2030-09-01, after")
    line = _line(text, "opens: 2030")
    assert (
        f"{path}:{line}: placement.build_programme.0.opens: warning:" in _validate(str(path)).output
    )


def test_designation_no_need_maps_to_is_a_warning(tmp_path):
    text = _baseline().replace(
        "    PSI:  {places: 272,", "    EXTRA: {places: 0}\n    PSI:  {places: 272,"
    )
    path = _write(tmp_path, text)
    (warning,) = _warnings(path)
    assert warning.startswith("placement.designations.EXTRA: no need maps to this designation")


def test_designation_without_referrals_and_no_january_census_are_warnings(tmp_path):
    text = SMALL.replace("ANY: {places: 10}", "ANY: {places: 10}\n    NONE: {places: 3}")
    text = text.replace("start: 2025-09-01", "start: 2025-02-01").replace("years: 2", "years: 0.5")
    found = _warnings(_write(tmp_path, text))
    assert any(w.startswith("placement.designations.NONE: nobody is referred") for w in found)
    assert any(w.startswith("calendar.snapshots: no January census day") for w in found)


@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_bundled_scenarios_validate_without_warnings(name):
    assert pp.load_scenario(name).warnings == ()


def test_warnings_are_not_part_of_the_scenario(tmp_path):
    text = SMALL.replace("  leaving: {end_of_year: {15: 1.0}, mid_year_rate: 0.5}\n", "")
    warned = pp.load_scenario(_write(tmp_path, text))
    quiet = pp.load_scenario(_write(tmp_path, text + "  leaving: {}\n", "q.yaml"))
    assert warned.warnings and warned == quiet and warned.digest() == quiet.digest()


def test_validating_a_bundled_scenario_is_fast():
    pp.load_scenario("herts-baseline")  # SEN2 inputs derived once per process
    began = time.perf_counter()
    for _ in range(5):
        pp.load_scenario("herts-baseline")
    assert (time.perf_counter() - began) / 5 < 0.25


# --------------------------------------------------------- accepted scenarios run: property
def _day(start: date, days: int) -> str:
    return min(max(start + timedelta(days=days), FIRST_DAY), LAST_DAY).isoformat()


@st.composite
def _scenarios(draw) -> dict:
    """Small scenarios around the bounds: many valid, some not (those must be rejected)."""
    start = draw(
        st.dates(min_value=date(1995, 9, 1), max_value=LAST_DAY)
        | st.sampled_from([date(2025, 9, 1), date(2399, 1, 4)])
    )
    years = draw(st.floats(min_value=0.0001, max_value=3.0))
    designations = draw(st.lists(st.sampled_from("ABC"), min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):
        demand = {
            "model": "fixed",
            "per_term": {
                d: draw(st.lists(st.integers(0, 30), min_size=1, max_size=4)) for d in designations
            },
            "arrival": draw(st.sampled_from(["term_start", "spread"])),
        }
    else:
        demand = {"model": "poisson", "rate": {d: draw(st.floats(0, 60)) for d in designations}}
    first = draw(st.none() | st.integers(-400, 1500))
    placement: dict = {
        "designations": {d: {"places": draw(st.integers(0, 40))} for d in designations},
        "initial_occupancy": draw(st.floats(0, 1)),
        "panels": {
            "every_days": draw(st.sampled_from([None, "continuous", 1, 14, 366])),
            "first": None if first is None else _day(start, first),
            "start_places": draw(st.sampled_from(["next_term", "immediate"])),
        },
        "leaving": {
            "end_of_year": {draw(st.integers(0, 25)): draw(st.floats(0, 1))},
            "mid_year_rate": draw(st.floats(0, 50)),
            "list_rate": draw(st.none() | st.floats(0, 50)),
        },
        "out_of_area": {"after_terms": draw(st.none() | st.integers(0, 12))},
        "priority": draw(st.sampled_from(["first_come_first_served", "out_of_school_first"])),
    }
    if draw(st.booleans()):
        ago = draw(st.integers(-30, 4000))
        placement["initial_waiting"] = [
            {
                "children": {designations[0]: draw(st.integers(0, 20))},
                "referred_from": _day(start, -ago),
                "referred_to": _day(start, -ago + draw(st.integers(0, 400))),
                "age": sorted(draw(st.tuples(st.integers(0, 25), st.integers(0, 25)))),
            }
        ]
    if draw(st.booleans()):
        placement["build_programme"] = [
            {
                "name": "p",
                "designation": designations[-1],
                "places": draw(st.integers(1, 20)),
                "opens": _day(start, draw(st.integers(-100, 1500))),
                "slippage": {0: 0.5, draw(st.integers(1, 30)): 0.5},
            }
        ]
    return {
        "name": "prop",
        "title": "Property",
        "council": {"code": "E10000015", "name": "H"},
        "start": start.isoformat(),
        "years": years,
        "calendar": {"snapshots": draw(st.sampled_from(["census", 1.0, 30.5, 365.25, 2000.0]))},
        "demand": demand,
        "placement": placement,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenarios(), st.sampled_from(["epoch", "reference"]))
@example(yaml.safe_load(SMALL), "epoch")
@example(  # a child of 0 in 2399 reaches 25 after the calendar: leaving then is never
    {
        "name": "prop",
        "title": "Property",
        "council": {"code": "E10000015", "name": "H"},
        "start": "2399-01-04",
        "years": 1.0,
        "demand": {"model": "fixed", "per_term": {"A": [1]}, "age": 0},
        "placement": {
            "designations": {"A": {"places": 1}},
            "panels": {"every_days": None, "start_places": "next_term"},
            "leaving": {"end_of_year": {0: 0.0}, "mid_year_rate": 0.0},
        },
    },
    "epoch",
)
def test_every_scenario_validate_accepts_runs(data, engine):
    try:
        scenario = scenario_from_dict(data)
    except ScenarioError:
        return
    model = Model(scenario)
    replication = model.replicate(Streams(entropy=1, replicate=0), engine)
    assert replication.outcome is not None


@st.composite
def _cohort_scenarios(draw) -> dict:
    """The Hertfordshire baseline with its dates and demand parameters varied."""
    data = yaml.safe_load(_baseline())
    data["placement"]["build_programme"] = []
    data["placement"]["initial_waiting"] = []
    data["start"] = draw(st.dates(min_value=date(2024, 6, 1), max_value=date(2030, 1, 1)))
    data["years"] = draw(st.floats(min_value=0.0001, max_value=2.0))
    demand = data["demand"]
    demand["base_year"] = draw(st.sampled_from([2024, 2025]))
    demand["new_plans_growth"] = {"mean": draw(st.floats(-1, 1)), "sd": draw(st.floats(0, 0.3))}
    demand["new_plans_noise_sd"] = draw(st.floats(0, 0.6))
    demand["new_plans_growth_damping"] = draw(st.floats(0.01, 1))
    demand["specialist_share_trend"] = {"mean": draw(st.floats(-1, 1)), "sd": draw(st.floats(0, 1))}
    return data


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cohort_scenarios())
def test_every_cohort_scenario_validate_accepts_runs(data):
    try:
        scenario = scenario_from_dict(data)
    except ScenarioError:
        return
    replication = Model(scenario).replicate(Streams(entropy=2, replicate=0))
    assert len(replication.demand.januaries) >= 1


@pytest.mark.parametrize(
    ("extra", "field", "fragment"),
    [
        (
            "  initial_waiting:\n    - {children: {ANY: 3}, referred_from: 2025-06-01, "
            "referred_to: 2025-09-30, age: [6, 9]}\n",
            "placement.initial_waiting.0.referred_to",
            "referrals are taken up to the day before the start",
        ),
        (
            "  schools:\n    - {name: S, locality: county, places: {ANY: 10}, "
            "temporary_until: 2025-07-01}\n",
            "placement.schools.0.temporary_until",
            "closed to new pupils throughout the forecast",
        ),
        (
            "  panels: {every_days: 14, first: 2029-01-01}\n",
            "placement.panels.first",
            "no panel meets",
        ),
    ],
)
def test_other_likely_mistakes_are_warnings(tmp_path, extra, field, fragment):
    path = _write(tmp_path, SMALL + extra)
    (warning,) = pp.load_scenario(path).warnings
    assert warning.path == field and fragment in warning.message
    assert str(warning) in _validate(str(path)).output


def test_too_many_pools_are_rejected(tmp_path):
    five = {d: 0 for d in "ABCDE"}
    data = yaml.safe_load(SMALL)
    data["demand"]["rate"] = dict.fromkeys(five, 1.0)
    data["placement"]["designations"] = {d: {"places": 0} for d in five}
    data["placement"]["schools"] = [
        {"name": f"S{i}", "locality": "county", "places": five} for i in range(450)
    ]
    path = _write(tmp_path, yaml.safe_dump(data))
    _rejected(path, "placement.schools", "2,250 pools of places")


def test_run_prints_the_warnings_and_takes_the_extends_flag(tmp_path):
    (tmp_path / "base.yaml").write_text(
        SMALL.replace("  leaving: {end_of_year: {15: 1.0}, mid_year_rate: 0.5}\n", "")
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    child = _write(sub, "extends: ../base.yaml\nname: child\n", "child.yaml")
    out = tmp_path / "run"
    args = ["run", str(child), "-n", "1", "--seed", "1", "-q", "--out", str(out)]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2 and "outside this scenario's folder" in refused.output
    result = CliRunner().invoke(main, [*args, "--allow-extends-anywhere"])
    assert result.exit_code == 0, result.output
    assert "placement.leaving: warning: nobody ever leaves" in result.output
