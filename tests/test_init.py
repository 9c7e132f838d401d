"""`placeplan init`: a whole, sourced, runnable scenario for every English council."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import placeplan as pp
from placeplan import calibration, council_init, sen2
from placeplan.cli import main
from placeplan.council_init import (
    PREDECESSORS,
    SUCCESSORS,
    scenario_for,
    scenario_text,
    slug,
    state_funded_by_need,
    write_scenario,
)
from placeplan.errors import InputError
from placeplan.scenario import load_scenario, scenario_from_dict


def cli(*args: str | Path) -> tuple[int, str, str]:
    """Run the command line in-process: exit code, stdout, stderr (no traceback allowed)."""
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback for {args}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def _councils() -> list[tuple[str, str]]:
    areas = sen2.councils()
    la = areas[areas["level"] == "la"]
    return list(zip(la["code"], la["name"], strict=True))


@pytest.fixture(scope="module")
def every_council():
    """Every council's scenario, initialised and validated once (timed)."""
    began = time.perf_counter()
    made, refused = {}, {}
    for code, name in _councils():
        try:
            data = scenario_for(code)
        except InputError as exc:
            refused[code] = str(exc)
            continue
        made[code] = (data, scenario_from_dict(data, source=f"init {name}"))
    return made, refused, time.perf_counter() - began


def test_every_current_council_inits_and_validates(every_council):
    made, refused, seconds = every_council
    assert len(made) == 153, sorted(refused)
    # only the councils abolished since 2019 are refused, each naming its successors
    assert set(refused) == set(PREDECESSORS)
    for code, message in refused.items():
        assert "abolished" in message and PREDECESSORS[code][1] in message
    names = [s.name for _, s in made.values()]
    assert len(set(names)) == len(names)  # no two councils share a scenario (or run folder)
    for code, (_, s) in made.items():
        assert s.council.code == code and s.demand.sen2_area == code
        assert s.name == f"{slug(s.council.name)}-baseline"
        assert "Hertfordshire" not in s.title + s.description or code == "E10000015"
        assert not s.placement.build_programme and not s.warnings
        for designation in s.placement.designations.values():
            assert designation.source.startswith("SEN2: ")
        assert s.demand.calibration is not None and s.demand.ceasing_scale.source
        assert s.demand.starting_state.list_mean_terms_waited.source.startswith("assumption")
        assert s.placement.out_of_area.rate.source.startswith("assumption borrowed")
    assert seconds < 300  # about 30 s on one core: the fit of every council is made once


def test_places_are_the_councils_state_funded_special_school_children(every_council):
    made, _, _ = every_council
    for code, (_, s) in made.items():  # every council, whatever its need table publishes
        total = sum(d.places for d in s.placement.designations.values())
        p = sen2.load(code).plans_total.set_index("year").loc[:2025]
        state = (p["special_la_maintained"] + p["special_academy_free"]).dropna()
        assert total == state.iloc[-1], (s.council.name, total, state.iloc[-1])
    # Surrey publishes no need table for January 2025: England's mix, scaled to its 3,480
    surrey = made["E10000030"][1].placement.designations
    assert (
        sum(d.places for d in surrey.values()) == 3480
        and min(d.places for d in surrey.values()) > 100
    )
    # Hertfordshire: the counts its baseline's comment quotes (647, 819, 819, 487, 271 of 3,043)
    places = {k: d.places for k, d in made["E10000015"][1].placement.designations.items()}
    assert places == {"ASD": 647, "SLD": 819, "MLD": 819, "SEMH": 487, "PSI": 271}


def test_councils_without_a_published_january_are_sized_from_the_latest_one(every_council):
    """Cambridgeshire and North East Lincolnshire returned no placements for January 2025."""
    made, _, _ = every_council
    for code in ("E10000003", "E06000012"):
        data, s = made[code]
        assert s.demand.starting_state.special_school_children is not None
        assert "January 2024" in s.demand.starting_state.source
        source = data["placement"]["designations"]["ASD"]["source"]
        assert "England's need mix" in source and "January 2025 is not published" in source
    _, total, how = state_funded_by_need(sen2.load("E06000012"), 2025)
    assert "England's need mix" in how and "incomplete" in how
    row = sen2.load("E06000012").plans_total.set_index("year").loc[2024]
    assert round(total) == row["special_la_maintained"] + row["special_academy_free"]


def test_successor_councils_are_fitted_on_their_own_series(every_council):
    made, _, _ = every_council
    for code, (formed, _) in SUCCESSORS.items():
        data, s = made[code]
        diagnostics = s.demand.calibration.diagnostics
        if formed > 2019:  # no January 2019: said so, and the first January given instead
            assert str(diagnostics["need_share_2019"]).startswith("not known")
            assert diagnostics["first_january"] == formed + 1
        assert f"formed in {formed}" in scenario_text(data)
    with pytest.raises(InputError, match="--until must be"):
        scenario_for("Cumberland", until=2022)


def test_the_fit_of_every_council_is_made_once(monkeypatch):
    calls = []
    real = calibration.fit

    def counting(p, origin):
        calls.append(origin)
        return real(p, origin)

    monkeypatch.setattr(calibration, "fit", counting)
    # the demand's fit is counted here; the pathway (fitted afresh for until=2024) is not
    monkeypatch.setattr(council_init, "_pathway", lambda *a: (None, ["no pathway here"]))
    calibration._national_fit.cache_clear()
    for council in ("Kent", "Leeds", "Cornwall"):
        scenario_for(council, until=2024)
    assert calls == [2024]
    assert calibration.national_fit(2024) is calibration.national_fit(2024)


def test_written_file_is_the_scenario_with_its_sources(tmp_path):
    data = scenario_for("Kent")
    out = write_scenario(data, tmp_path / "kent.yaml")
    text = out.read_text()
    assert load_scenario(out).digest() == scenario_from_dict(data).digest()
    assert text.startswith("# Kent baseline, written by `placeplan init`")
    assert '# - {name: "New ASD school", designation: ASD' in text  # commented example project
    assert "build_programme: []" in text
    assert "Fitted by `placeplan init --council Kent --until 2025`" in text
    assert "assumption borrowed from Hertfordshire" in text
    assert max(len(line) for line in text.splitlines() if line.lstrip().startswith("#")) <= 130
    # an edited mapping keeps only the comments of what did not change
    data["placement"]["designations"]["ASD"]["places"] = 1
    edited = scenario_text(data)
    assert "# Places: Kent's 6,427" in text and "# Places: Kent's 6,427" not in edited
    assert yaml.safe_load(edited)["placement"]["designations"]["ASD"]["places"] == 1


@pytest.mark.parametrize(
    "council",
    ["City of London", "Cumberland", "Cambridgeshire", "Isles of Scilly", "Rutland"],
)
def test_a_sample_runs_end_to_end(council):
    """Small, successor, unpublished-January, no-places and small-county councils run."""
    s = scenario_from_dict(scenario_for(council))
    results = pp.run(s, replications=3, seed=1)
    table = results.headline()
    assert len(table) == 10 and (table["median"] >= 0).all()
    assert results.provenance["scenario"]["name"] == s.name


@dataclass(frozen=True)
class FakeRegister:
    """The shape of placeplan.gias.GiasPlacement, made up."""

    designations: dict = field(
        default_factory=lambda: {
            "ASD": {"places": 120, "source": "GIAS: 2 schools"},
            "SEMH": {"places": 60, "source": "GIAS: 1 school"},
            "SLD": {"places": 80, "source": "GIAS: 1 school"},
        }
    )
    localities: dict = field(
        default_factory=lambda: {"Dover": {"share": 1.0}, "Ashford": {"share": 2.0}}
    )
    schools: list = field(
        default_factory=lambda: [
            {"name": "A", "locality": "Dover", "places": {"ASD": 70}, "ages": [4, 18]},
            {"name": "B", "locality": "Ashford", "places": {"ASD": 50, "SEMH": 60}},
            {"name": "C", "locality": "Ashford", "places": {"SLD": 80}, "source": "GIAS"},
        ]
    )
    independent_places: int = 345
    gaps: list = field(default_factory=lambda: ["School C: no capacity; places from pupils"])
    source: str = "edubasealldata20250901.csv (SHA-256 abc), extract of 2025-09-01, OGL v3.0"


def test_a_school_register_replaces_the_sen2_sized_placement(tmp_path):
    data = scenario_for("Kent", placement=FakeRegister())
    s = scenario_from_dict(data)
    assert {k: d.places for k, d in s.placement.designations.items()} == {
        "ASD": 120,
        "SEMH": 60,
        "SLD": 80,
        "MLD": 0,
        "PSI": 0,
    }
    assert [x.name for x in s.placement.schools] == ["A", "B", "C"]
    assert set(s.placement.localities) == {"Dover", "Ashford"}
    # ranked needs keep the designations the register has, in order
    assert s.demand.need_designation["PD"] == ["PSI", "SLD"]
    assert "register" in s.title
    text = write_scenario(data, tmp_path / "kent.yaml").read_text()
    assert "School C: no capacity; places from pupils" in text
    assert "edubasealldata20250901.csv" in text and "345 places in independent" in text
    assert "no school in the register is designated MLD" in text
    assert load_scenario(tmp_path / "kent.yaml").digest() == s.digest()
    pp.run(s, replications=2, seed=3)


def test_cli_init_writes_a_runnable_scenario(tmp_path):
    out = tmp_path / "kent.yaml"
    code, stdout, stderr = cli("init", "--council", "Kent", "--out", out)
    assert code == 0, stderr
    assert "6,427 places" in stdout and "kent-baseline" in stdout and str(out) in stdout
    assert cli("validate", out)[0] == 0
    code, stdout, stderr = cli("run", out, "-n", "2", "--seed", "1", "-q", "--out", tmp_path / "r")
    assert code == 0, stderr and "Kent" in (tmp_path / "r" / "scenario.yaml").read_text()


def test_cli_init_from_an_earlier_january_names_it(tmp_path):
    out = tmp_path / "kent.yaml"
    assert cli("init", "--council", "E10000016", "--until", "2021", "--out", out)[0] == 0
    s = load_scenario(out)
    assert s.name == "kent-from-2021" and str(s.start) == "2021-01-04"


@pytest.mark.parametrize(
    ("council", "expected"),
    [
        ("Kentt", "Did you mean: Kent (E10000016)"),
        ("England", "is England, not a council"),
        ("East of England", "is a region, not a council"),
        ("Cumbria", "abolished in 2023 and replaced by Cumberland (E06000063)"),
        ("Northamptonshire", "North Northamptonshire (E06000061)"),
        ("E10000009", "Dorset (E06000059)"),
    ],
)
def test_cli_init_refuses_what_is_no_current_council(tmp_path, council, expected):
    out = tmp_path / "x.yaml"
    code, _, stderr = cli("init", "--council", council, "--out", out)
    assert code == 2 and expected in stderr and "Traceback" not in stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("council", "code"),
    [("Cumberland", "E06000063"), ("E06000065", "E10000023"), ("E10000002", "E06000060")],
)
def test_cli_init_takes_successors_and_recoded_councils(tmp_path, council, code):
    out = tmp_path / "x.yaml"
    status, _, stderr = cli("init", "--council", council, "--out", out)
    assert status == 0, stderr
    s = load_scenario(out)
    assert s.council.code == code
    if code == "E10000023":  # North Yorkshire, re-coded by ONS in 2023
        assert "re-coded it E06000065" in out.read_text()


def test_a_sen2_folder_is_written_relative_to_the_scenario(tmp_path):
    data = scenario_for("Rutland")
    folder = tmp_path / "data" / "sen2"
    data["demand"]["sen2_dir"] = str(folder)
    out = write_scenario(data, tmp_path / "scenarios" / "rutland.yaml")
    written = yaml.safe_load(out.read_text())["demand"]["sen2_dir"]
    assert written == "../data/sen2" and (out.parent / written).resolve() == folder.resolve()


GIAS = Path(__file__).parent / "data" / "gias" / "edubasealldata20261101.csv"


def test_cli_init_with_the_school_register(tmp_path):
    from placeplan.calendar import Term, TermCalendar
    from placeplan.council_init import NEED_DESIGNATION
    from placeplan.gias import placement_from_gias, read_gias

    out = tmp_path / "herts.yaml"
    code, _, stderr = cli("init", "--council", "Hertfordshire", "--gias", GIAS, "--out", out)
    assert code == 0, stderr
    assert "left out (no places are guessed)" in stderr  # the register's gaps are printed
    s = load_scenario(out)
    expected = placement_from_gias(
        read_gias(GIAS),
        "Hertfordshire",
        on=TermCalendar().term_start(2024, Term.SPRING),
        need_designation=NEED_DESIGNATION,
    )
    assert {k: d.places for k, d in s.placement.designations.items()} == {
        k: d["places"] for k, d in expected.designations.items()
    }
    assert len(s.placement.schools) == len(expected.schools) > 0
    # a school the register says will open later is a build project, not a place now
    assert [p.places for p in s.placement.build_programme] == [
        p["places"] for p in expected.proposed
    ]
    assert s.placement.build_programme and all(
        p.opens > s.start for p in s.placement.build_programme
    )
    text = out.read_text(encoding="utf-8")
    assert "edubasealldata20261101.csv" in text and "Open Government Licence" in text
    code, _, stderr = cli(
        "init", "--council", "Hertfordshire", "--gias", out, "--out", tmp_path / "x.yaml"
    )
    assert code == 2 and "not a GIAS establishment extract" in stderr
    assert not (tmp_path / "x.yaml").exists()
