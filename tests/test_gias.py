"""The GIAS establishment extract reader (placeplan.gias).

The fixture (tests/data/gias/edubasealldata20261101.csv, written by
tests/gias_fixture.py) is made up in the official shape; its docstring tables what
each school should give.
"""

from __future__ import annotations

import copy
import csv
import datetime
import hashlib

import gias_fixture as fx
import pytest
import yaml

import placeplan as pp
from placeplan.bundled import bundled_scenarios
from placeplan.errors import InputError
from placeplan.gias import GiasPlacement, placement_from_gias, read_gias
from placeplan.scenario import scenario_from_dict

FIXTURE = fx.COMMITTED
START = datetime.date(2025, 1, 6)


@pytest.fixture(scope="module")
def baseline() -> dict:
    return yaml.safe_load(bundled_scenarios()["herts-baseline"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def need_designation(baseline) -> dict:
    return baseline["demand"]["need_designation"]


@pytest.fixture(scope="module")
def extract():
    return read_gias(FIXTURE)


@pytest.fixture(scope="module")
def herts(extract, need_designation) -> GiasPlacement:
    return placement_from_gias(
        extract, "Hertfordshire", on=START, need_designation=need_designation
    )


def places(p: GiasPlacement) -> dict[str, int]:
    return {name: spec["places"] for name, spec in p.designations.items()}


def test_the_committed_fixture_is_what_the_writer_writes(tmp_path):
    again = fx.write_extract(tmp_path / FIXTURE.name)
    assert again.read_bytes() == FIXTURE.read_bytes()


def test_read_as_published_windows_1252(extract):
    assert extract.encoding == "cp1252"
    assert extract.rows == 25
    assert extract.extract_date == datetime.date(2026, 11, 1)
    assert extract.sha256 == hashlib.sha256(FIXTURE.read_bytes()).hexdigest()
    names = {e.name for e in extract.establishments}
    assert "St Mary’s School" in names  # byte 0x92 in the file, a curly apostrophe here
    assert FIXTURE.read_bytes().count(b"St Mary\x92s School") == 1


def test_utf8_with_bom_gives_the_same_places(tmp_path, herts, need_designation):
    path = fx.write_extract(tmp_path / "edubasealldata20261101.csv", encoding="utf-8-sig")
    extract = read_gias(path)
    assert extract.encoding == "utf-8-sig"
    again = placement_from_gias(extract, "E10000015", on=START, need_designation=need_designation)
    assert again.schools == herts.schools
    assert again.designations == herts.designations


def test_places_by_designation(herts):
    # special schools by their first listed type; resourced provisions and units apart
    assert places(herts) == {
        "ASD": 90,
        "PSI": 80,
        "MLD": 150,
        "SLD": 170,
        "SEMH": 105,
        "ASD-RP": 12,
        "ASD-UNIT": 14,
        "PSI-RP": 10,
        "PSI-UNIT": 8,
    }
    assert herts.designations["ASD-RP"]["also_serves"] == ["ASD"]
    assert herts.designations["PSI-UNIT"]["also_serves"] == ["PSI"]
    assert "also_serves" not in herts.designations["ASD"]


def test_schools_add_up_and_carry_ages_locality_and_source(herts):
    totals: dict[str, int] = {}
    for school in herts.schools:
        for name, n in school["places"].items():
            totals[name] = totals.get(name, 0) + n
    assert totals == places(herts)
    by_name = {s["name"]: s for s in herts.schools}
    greenfields = by_name["Greenfields School"]
    assert greenfields["places"] == {"SLD": 120}
    assert greenfields["ages"] == [2, 18]  # statutory 2-19: SEN2 ages at 31 August
    assert greenfields["locality"] == "Dacorum"
    assert "SLD" in greenfields["source"] and "first listed" in greenfields["source"]
    assert "also lists PMLD, ASD, SLCN" in greenfields["source"]
    assert by_name["Meadowbank School"]["places"] == {"PSI": 80}  # PD -> [PSI, SLD]
    assert by_name["Kingsway Academy"]["places"] == {"PSI-RP": 10, "PSI-UNIT": 8}
    assert by_name["Brook Valley School"]["places"] == {"MLD": 150}
    assert "NumberOfPupils 150" in by_name["Brook Valley School"]["source"]


def test_closed_other_council_and_independent_schools_are_not_council_places(herts):
    names = {s["name"] for s in herts.schools}
    assert "Old Mill School" not in names  # closed in 2018
    assert "Medway Valley School" not in names  # Kent
    assert "Loose Road Primary School" not in names  # Kent's resourced provision
    assert not names & {"The Willows", "Chiltern Heights School"}
    assert herts.independent_places == 40 + 65
    assert "Hertfordshire Specialist College" not in names


def test_gaps_are_reported(herts):
    gaps = "\n".join(herts.gaps)
    assert "Brook Valley School" in gaps and "NumberOfPupils" in gaps
    assert "Hazel Grove School" in gaps and "left out" in gaps
    assert "Cedar Lodge School" in gaps and "no SEN provision type" in gaps
    assert "Old Mill School (closed 2018-08-31)" in gaps
    assert "'EAL'" in gaps and "Rowan House School" in gaps
    assert "SenUnitOnRoll" in gaps and "Kingsway Academy" in gaps
    assert "Elstree Park Free School" in gaps
    assert "Hertfordshire Specialist College" in gaps
    assert "Medway" not in gaps


def test_future_schools_are_proposed_not_counted(herts):
    assert [(p["name"], p["designation"], p["places"], p["opens"]) for p in herts.proposed] == [
        ("Elstree Park Free School (GIAS: opens 2027-09-01)", "SEMH", 100, "2027-09-01")
    ]
    # Ashcroft Academy replaces Ashcroft School (academy conversion): no new places, and
    # the old school's places stay (no closing date on them)
    ashcroft = [s for s in herts.schools if s["name"].startswith("Ashcroft")]
    assert [s["name"] for s in ashcroft] == ["Ashcroft School"]
    assert "temporary_until" not in ashcroft[0]
    assert any("replacing Ashcroft School" in g for g in herts.gaps)


def test_a_later_date_counts_the_successor_not_the_predecessor(extract, need_designation):
    later = placement_from_gias(
        extract, "919", on=datetime.date(2025, 9, 1), need_designation=need_designation
    )
    names = {s["name"] for s in later.schools}
    assert "Ashcroft Academy" in names and "Ashcroft School" not in names
    assert places(later)["SLD"] == 170


def test_a_closure_without_successor_closes_the_places(tmp_path, need_designation):
    rows = fx.rows()
    name = fx.COLUMNS.index("EstablishmentName")
    closed = fx.COLUMNS.index("CloseDate")
    status = fx.COLUMNS.index("EstablishmentStatus (name)")
    for row in rows:
        if row[name] == "Lime Tree Academy":
            row[closed], row[status] = "31-08-2025", "Open, but proposed to close"
    path = _write(tmp_path / "edubasealldata20250101.csv", rows)
    p = placement_from_gias(read_gias(path), "919", on=START, need_designation=need_designation)
    lime = next(s for s in p.schools if s["name"] == "Lime Tree Academy")
    assert lime["temporary_until"] == "2025-09-01"
    assert any("Lime Tree Academy" in g and "temporary_until" in g for g in p.gaps)


def test_localities_are_districts_with_pupil_shares_and_nearest_neighbours(herts):
    assert list(herts.localities) == [
        "Dacorum",
        "Hertsmere",
        "St Albans",
        "Stevenage",
        "Watford",
        "Welwyn Hatfield",
    ]
    assert sum(loc["share"] for loc in herts.localities.values()) == pytest.approx(1, abs=1e-5)
    # St Albans: Sandridge 205 + St Mary's 92 + Cedar Lodge 47 + Kingsway 1,180 pupils
    # of 5,192 in Hertfordshire's open state-funded schools (not the independent Abbey
    # Preparatory School, nor the non-maintained Chiltern Heights)
    assert herts.localities["St Albans"]["share"] == pytest.approx(1524 / 5192, abs=1e-6)
    assert herts.localities["Watford"]["neighbours"] == ["Hertsmere", "St Albans"]
    assert herts.localities["Stevenage"]["neighbours"][0] == "Welwyn Hatfield"


def test_source_names_file_hash_date_and_licence(herts, extract):
    assert "edubasealldata20261101.csv" in herts.source
    assert extract.sha256 in herts.source
    assert "2026-11-01" in herts.source
    assert "Open Government Licence v3.0" in herts.source
    assert "2025-01-06" in herts.source


def test_the_placement_validates_and_runs(baseline, herts):
    data = copy.deepcopy(baseline)
    data["placement"] = herts.apply_to(data["placement"])
    data["placement"]["build_programme"] = [
        *data["placement"]["build_programme"],
        *herts.proposed,
    ]
    scenario = scenario_from_dict(data, source="gias-test")
    assert scenario.placement.designations["SLD"].places == 170
    assert len(scenario.placement.schools) == len(herts.schools)
    assert not [w for w in scenario.warnings if "designations" in w.path]
    short = scenario.model_copy(update={"years": 1.0})
    ds = pp.run(short, replications=2, seed=1).dataset
    assert list(ds["locality"].values) == list(herts.localities)
    at_start = ds["capacity_by_designation"].isel(replicate=0, time=0)
    assert {str(d): int(at_start.sel(designation=d)) for d in ds["designation"].values} == (
        places(herts)
    )


def test_every_need_designation_is_present_even_without_places(extract):
    p = placement_from_gias(
        extract, "Hertfordshire", on=START, need_designation={"ASD": "ASD", "OTH": "OTHER"}
    )
    assert p.designations["OTHER"]["places"] == 0
    assert any("OTHER" in g and "0 places" in g for g in p.gaps)
    assert "SLD" not in p.designations
    # Greenfields lists SLD, PMLD, ASD, SLCN: the first mapped type is ASD now
    assert next(s for s in p.schools if s["name"] == "Greenfields School")["places"] == {"ASD": 120}
    assert any("Meadowbank School" in g and "left out" in g for g in p.gaps)


def test_not_a_gias_extract(tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text("URN,EstablishmentName,SchoolCapacity\n1,A,2\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_gias(path)
    message = str(err.value)
    assert str(path) in message and "not a GIAS establishment extract" in message
    assert "'LA (code)'" in message and "'SEN1 (name)'" in message
    assert "'SchoolCapacity'" not in message  # present, so not named as missing


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_gias(tmp_path / "edubasealldata20990101.csv")


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("SchoolCapacity", "12O", "not a whole number"),
        ("OpenDate", "31-13-2020", "not a date"),
        ("StatutoryHighAge", "-3", "not a whole number"),
        ("EstablishmentStatus (name)", "Shut", "not a status"),
    ],
)
def test_bad_values_name_file_line_and_column(tmp_path, column, value, expected):
    rows = fx.rows()
    rows[3][fx.COLUMNS.index(column)] = value  # St Mary's School, line 5
    path = _write(tmp_path / "edubasealldata20261101.csv", rows)
    with pytest.raises(InputError) as err:
        read_gias(path)
    message = str(err.value)
    assert message.startswith(f"{path}:5: column {column!r}: {value!r} is {expected}")


def test_bytes_that_are_not_windows_1252(tmp_path):
    path = tmp_path / "edubasealldata20261101.csv"
    path.write_bytes(FIXTURE.read_bytes().replace(b"Greenfields", b"Green\x81ields"))
    with pytest.raises(InputError, match=r":2: byte 0x81 is not text"):
        read_gias(path)


def test_unknown_council_and_council_absent_from_the_extract(extract, need_designation):
    with pytest.raises(InputError, match="No SEN2 area matches"):
        placement_from_gias(extract, "Atlantis", on=START, need_designation=need_designation)
    with pytest.raises(InputError, match="no establishment has LA \\(code\\) 330"):
        placement_from_gias(extract, "Birmingham", on=START, need_designation=need_designation)


def test_a_council_with_no_open_special_places(extract, need_designation):
    with pytest.raises(InputError, match=r"Kent .* no open special school"):
        placement_from_gias(extract, "Kent", on=START, need_designation={"VI": "VI"})
    kent = placement_from_gias(extract, "Kent", on=START, need_designation=need_designation)
    assert places(kent)["ASD"] == 200 and places(kent)["ASD-RP"] == 15


def _write(path, rows):
    with path.open("w", newline="", encoding="cp1252") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(fx.COLUMNS)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(
    ("file", "counted"),
    [("edubasealldata20260101.csv", True), ("edubasealldata20261101.csv", False)],
)
def test_a_school_proposed_to_open_counts_if_the_register_expected_it_by_then(
    tmp_path, need_designation, file, counted
):
    rows = fx.rows()
    name = fx.COLUMNS.index("EstablishmentName")
    for row in rows:
        if row[name] == "Elstree Park Free School":
            row[fx.COLUMNS.index("OpenDate")] = "01-09-2026"
    path = _write(tmp_path / file, rows)
    on = datetime.date(2027, 1, 6)
    p = placement_from_gias(read_gias(path), "919", on=on, need_designation=need_designation)
    names = {s["name"] for s in p.schools}
    # an extract of January 2026 expected it open by 2027; one of November 2026, after
    # its opening date, still has it proposed: it has not opened
    assert ("Elstree Park Free School" in names) is counted
    assert any("Elstree Park" in g and "has passed" in g for g in p.gaps) is not counted
    assert not p.proposed
