"""Scenario files: valid ones load; bad ones say file, line, field and what was expected."""

import json

import pytest
import yaml

import placeplan as pp
from placeplan.bundled import bundled_scenarios
from placeplan.errors import ScenarioError
from placeplan.scenario import Scenario


def _baseline_text() -> str:
    return bundled_scenarios()["herts-baseline"].read_text()


def _write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_bundled_scenarios_are_valid(name):
    scenario = pp.load_scenario(name)
    assert isinstance(scenario, Scenario)


def test_scenario_is_frozen():
    scenario = pp.load_scenario("herts-baseline")
    with pytest.raises(Exception, match="frozen"):
        scenario.years = 3


def test_unknown_key_is_an_error_with_line_and_allowed_keys(tmp_path):
    text = _baseline_text().replace(
        "  long_wait_weeks: 52", "  long_wait_weeks: 52\n  long_wiat: 4"
    )
    path = _write(tmp_path, text)
    line = next(
        i for i, line in enumerate(text.splitlines(), 1) if line.startswith("  long_wiat: 4")
    )
    with pytest.raises(ScenarioError) as info:
        pp.load_scenario(path)
    (issue,) = info.value.issues
    assert issue.source == str(path)
    assert issue.line == line
    assert issue.path == "calendar.long_wiat"
    assert "unknown key" in issue.message and "long_wait_terms" in issue.message
    assert f"{path}:{line}: calendar.long_wiat: unknown key" in str(info.value)


def test_wrong_type_names_field_line_and_value(tmp_path):
    text = _baseline_text().replace("years: 10", "years: ten")
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        pp.load_scenario(path)
    (issue,) = info.value.issues
    assert issue.path == "years"
    assert issue.line == text.splitlines().index("years: ten") + 1
    assert "number" in issue.message and "'ten'" in issue.message


def test_nested_list_error_points_at_the_item(tmp_path):
    text = _baseline_text().replace(
        "places: 120, opens: 2025-09-01", "places: -5, opens: 2025-09-01"
    )
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        pp.load_scenario(path)
    (issue,) = info.value.issues
    assert issue.path == "placement.build_programme.0.places"
    assert issue.line == next(
        i for i, line in enumerate(text.splitlines(), 1) if "places: -5" in line
    )
    assert "greater than or equal to 1" in issue.message


def test_every_problem_is_reported_at_once(tmp_path):
    text = (
        _baseline_text()
        .replace("years: 10", "years: -1")
        .replace("start: 2025-01-06", "start: tomorrow")
    )
    with pytest.raises(ScenarioError) as info:
        pp.load_scenario(_write(tmp_path, text))
    assert {i.path for i in info.value.issues} == {"years", "start"}


def test_missing_required_field(tmp_path):
    text = "\n".join(
        line for line in _baseline_text().splitlines() if not line.startswith("years:")
    )
    with pytest.raises(ScenarioError, match=r"s.yaml:\d+: years: required but missing"):
        pp.load_scenario(_write(tmp_path, text))


def test_cross_field_error_names_the_field_and_line(tmp_path):
    text = _baseline_text().replace(
        "designation: SEMH, places: 100", "designation: SEMX, places: 100"
    )
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        pp.load_scenario(path)
    (issue,) = info.value.issues
    assert issue.path == "placement.build_programme.1.designation"
    assert issue.line == next(i for i, x in enumerate(text.splitlines(), 1) if "SEMX" in x)
    assert "unknown designation 'SEMX'; expected one of: ASD, MLD, PSI, SEMH, SLD" in str(issue)


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment", "marker"),
    [
        (
            "    HI: PSI",
            "    HI: PSX",
            "demand.need_designation.HI",
            "unknown designation 'PSX'",
            "HI: PSX",
        ),
        (
            "    PSI:  {places: 272,",
            "    PSI:  {places: 272}\n    XX: {places: 1,",
            "placement.designations.XX",
            "no need maps",
            "XX: {",
        ),
        (
            "- children: {ASD: 18,",
            "- children: {ASX: 18,",
            "placement.initial_waiting.0.children.ASX",
            "unknown designation",
            "ASX: 18",
        ),
    ],
)
def test_references_are_checked_at_the_key(tmp_path, old, new, field, fragment, marker):
    base = _baseline_text() + (  # a typed list at the start (overriding SEN2's)
        "  initial_waiting:\n    - children: {ASD: 18, SEMH: 14}\n"
        "      referred_from: 2024-04-15\n      referred_to: 2024-08-31\n"
        if "initial_waiting" in field
        else ""
    )
    text = base.replace(old, new)
    assert text != base
    path = _write(tmp_path, text)
    try:
        issues = pp.load_scenario(path).warnings
    except ScenarioError as exc:
        issues = exc.issues
    (issue,) = [i for i in issues if i.path == field]
    assert fragment in issue.message
    assert issue.line == next(i for i, x in enumerate(text.splitlines(), 1) if marker in x)


def test_schools_must_add_up_to_the_designations(tmp_path):
    text = _baseline_text().replace(
        "  initial_occupancy: 1.0",
        "  schools:\n    - {name: S, locality: county, places: {ASD: 649, SLD: 822, MLD: 822, "
        "SEMH: 489, PSI: 270}}\n  initial_occupancy: 1.0",
    )
    with pytest.raises(ScenarioError) as info:
        pp.load_scenario(_write(tmp_path, text))
    (issue,) = info.value.issues
    assert issue.path == "placement.designations.PSI.places"
    assert "schools' PSI places add up to 270" in issue.message


def test_duplicate_yaml_key_is_an_error(tmp_path):
    text = _baseline_text().replace("years: 10", "years: 10\nyears: 12")
    with pytest.raises(ScenarioError, match=r"duplicate key 'years'"):
        pp.load_scenario(_write(tmp_path, text))


def test_malformed_yaml_gives_a_line(tmp_path):
    with pytest.raises(ScenarioError) as info:
        pp.load_scenario(_write(tmp_path, "name: x\ntitle: [unclosed\nyears: 3\n"))
    assert info.value.issues[0].line is not None
    assert "invalid YAML" in str(info.value)


def test_yaml_is_loaded_safely(tmp_path):
    text = "name: !!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(ScenarioError, match="invalid YAML"):
        pp.load_scenario(_write(tmp_path, text))


def test_missing_file_and_unknown_type(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        pp.load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="unknown file type"):
        pp.load_scenario(_write(tmp_path, "{}", name="s.json"))
    with pytest.raises(ScenarioError, match="no such scenario file or bundled scenario"):
        pp.load_scenario("no-such-bundled-scenario")


def _to_toml(value, prefix=()):
    """A tiny TOML writer for the test (tables and arrays of inline tables)."""
    scalars, tables = [], []
    for key, v in value.items():
        if isinstance(v, dict):
            tables.append((key, v))
        else:
            scalars.append(f"{key} = {_toml_value(v)}")
    out = []
    if prefix:
        out.append(f"[{'.'.join(prefix)}]")
    out += scalars
    for key, v in tables:
        out.append(_to_toml(v, (*prefix, key)))
    return "\n".join(out)


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if v is None:
        raise ValueError("TOML has no null")
    return str(v)


def test_toml_scenarios_load_and_errors_have_lines(tmp_path):
    data = yaml.safe_load(_baseline_text())
    text = _to_toml(data)
    path = _write(tmp_path, text, "s.toml")
    assert pp.load_scenario(path) == pp.load_scenario("herts-baseline")
    bad = text.replace("long_wait_terms = 3", "long_wait_terms = 3\nlong_wiat = 4")
    with pytest.raises(ScenarioError) as info:
        pp.load_scenario(_write(tmp_path, bad, "bad.toml"))
    (issue,) = info.value.issues
    assert issue.path == "calendar.long_wiat"
    assert issue.line == bad.splitlines().index("long_wiat = 4") + 1


def test_json_schema_has_units_and_descriptions():
    schema = Scenario.model_json_schema()
    years = schema["properties"]["years"]
    assert years["units"] == "years" and years["description"]
    project = schema["$defs"]["BuildProject"]["properties"]
    assert project["places"]["units"] == "places"
    assert project["cost_gbp"]["units"] == "GBP"
    assert schema["additionalProperties"] is False


def test_digest_changes_with_any_input():
    s = pp.load_scenario("herts-baseline")
    changed = s.model_copy(update={"years": 9})
    assert s.digest() != changed.digest()
    assert s.digest() == pp.load_scenario("herts-baseline").digest()


def test_extends_merges_and_points_errors_at_the_right_file(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(_baseline_text())
    child = tmp_path / "child.yaml"
    child.write_text(
        "extends: base.yaml\nname: child\nplacement:\n  build_programme: []\n"
        "  panels: {every_days: 28}\n"
    )
    scenario = pp.load_scenario(child)
    baseline = pp.load_scenario("herts-baseline")
    assert scenario.name == "child" and scenario.placement.build_programme == ()
    assert scenario.placement.panels.every_days == 28
    assert scenario.placement.panels.first == baseline.placement.panels.first  # merged
    assert scenario.demand == baseline.demand
    # an error in the extending file points at it
    child.write_text("extends: base.yaml\nname: child\nyears: ten\n")
    with pytest.raises(ScenarioError) as info:
        pp.load_scenario(child)
    (issue,) = info.value.issues
    assert (issue.source, issue.line, issue.path) == (str(child), 3, "years")
    # an error inherited from the base points at the base file's line
    base.write_text(_baseline_text().replace("years: 10", "years: -4"))
    child.write_text("extends: base.yaml\nname: child\n")
    with pytest.raises(ScenarioError) as info:
        pp.load_scenario(child)
    (issue,) = info.value.issues
    line = _baseline_text().splitlines().index("years: 10") + 1
    assert (issue.source, issue.line, issue.path) == (str(base), line, "years")


def test_extends_errors(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("extends: b.yaml\nname: a\n")
    b.write_text("extends: a.yaml\nname: b\n")
    with pytest.raises(ScenarioError, match="extend each other"):
        pp.load_scenario(a)
    a.write_text("extends: nowhere.yaml\n")
    with pytest.raises(ScenarioError, match=r"a\.yaml:1: extends: no scenario 'nowhere\.yaml'"):
        pp.load_scenario(a)
    a.write_text("extends: herts-baseline\nname: bundled-base\nunknown_key: 1\n")
    with pytest.raises(ScenarioError, match=r"a\.yaml:3: unknown_key: unknown key"):
        pp.load_scenario(a)


def test_scenario_reference_is_generated_from_the_schema():
    from pathlib import Path

    from placeplan.schema_doc import scenario_reference

    committed = (Path(__file__).parent.parent / "docs" / "scenario-reference.md").read_text()
    assert committed.strip() == scenario_reference().strip()
    for key in ("new_plans_growth", "out_of_area", "slippage", "temporary_until"):
        assert f"`{key}`" in committed
