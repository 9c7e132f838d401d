"""Tests for placeplan.sen2: the official-file reader and the shipped extract."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from sen2_fixture import ROOT

from placeplan import sen2


def row(frame: pd.DataFrame, **where: object) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    hits = frame[mask.fillna(False).astype(bool)]
    assert len(hits) == 1, f"{len(hits)} rows match {where}"
    return hits.iloc[0]


# --------------------------------------------------------------------------------------
# (a) the reader on official-format fixture files
# --------------------------------------------------------------------------------------


def test_read_official_tables_and_dtypes(sen2_dir: Path) -> None:
    tables = sen2.read_official(sen2_dir)
    assert tuple(tables) == sen2.TABLE_NAMES
    for name, frame in tables.items():
        if name not in {"areas", "releases", "corrections"}:
            assert list(frame.columns[:3]) == ["code", "name", "level"], name
    totals = tables["plans_total"]
    assert totals["plans"].dtype == "Int64"
    assert totals["year"].dtype == "int64"
    assert set(totals["level"]) == {"national", "regional", "la"}


def test_markers_are_missing_not_zero(sen2_dir: Path) -> None:
    totals = sen2.read_official(sen2_dir)["plans_total"]
    east = row(totals, code="E12000006", year=2019)
    assert east["plans"] == 300
    assert pd.isna(east["special_independent"])  # "x"
    bucks_2019 = row(totals, code="E06000060", year=2019)
    assert pd.isna(bucks_2019["special"])  # "z"
    assert pd.isna(bucks_2019["special_independent"])  # "c"
    assert bucks_2019["mainstream"] == 40
    # a genuine zero stays zero
    assert row(totals, code="E06000099", year=2025)["special"] == 0
    placement = sen2.read_official(sen2_dir)["placement_by_need"]
    special = placement[
        (placement["code"] == "E10000015") & (placement["placement"] == "Special - total")
    ]
    by_need = dict(zip(special["need"], special["plans"], strict=True))
    assert by_need["ASD"] == 20
    assert pd.isna(by_need["HI"])  # "c"
    assert pd.isna(by_need["VI"])  # "z"
    assert by_need["UNKNOWN"] == 10


def test_codes_years_and_releases(sen2_dir: Path) -> None:
    tables = sen2.read_official(sen2_dir)
    totals = tables["plans_total"]
    # academic year 201819 -> January 2019; newest release wins where both have the year
    england_2019 = row(totals, code="E92000001", year=2019)
    assert england_2019["plans"] == 1000
    assert england_2019["release"] == 2025
    assert england_2019["series"] == "plans"
    england_2015 = row(totals, code="E92000001", year=2015)
    assert england_2015["plans"] == 605
    assert england_2015["statements"] == 600
    assert england_2015["series"] == "statements+plans"
    assert england_2015["release"] == 2022
    assert row(totals, code="E10000015", year=2015)["plans"] == 70  # the Total row only
    # Buckinghamshire's county code is harmonised, the published one kept
    bucks_rows = totals[totals["code"] == "E06000060"]
    assert set(bucks_rows["new_la_code"]) == {"E10000002"}
    assert set(bucks_rows["old_la_code"]) == {"825"}
    assert pd.isna(england_2019["new_la_code"])
    # an LA present in some years only
    areas = tables["areas"].set_index("code")
    assert areas.loc["E06000099", "first_year"] == 2022  # its new plans, calendar 2022
    assert areas.loc["E06000099", "last_year"] == 2025
    assert areas.loc["E10000015", "first_year"] == 2015
    assert areas.loc["E10000015", "region_name"] == "East of England"
    assert areas.loc["E06000060", "published_codes"] == "E10000002"
    assert list(tables["releases"]["release"]) == [2025, 2022]
    assert tables["releases"]["published"].iloc[0] == "June 2025"


def test_ages(sen2_dir: Path) -> None:
    tables = sen2.read_official(sen2_dir)
    by_age = tables["plans_by_age"]
    herts = by_age[by_age["code"] == "E10000015"]
    assert list(herts["age"]) == [2, 4, 25]
    assert list(herts["age_label"]) == ["under 3", "age 4", "age 25"]
    assert set(herts["year"]) == {2025}
    assert pd.isna(row(herts, age=25)["plans"])
    assert pd.isna(row(herts, age=4)["special_independent"])
    new_by_age = tables["new_plans_by_age"]
    assert list(new_by_age["age"]) == [2, 20]
    assert list(new_by_age["age_label"]) == ["age 2 and under", "age 20 and over"]
    need_by_age = tables["need_by_age"]
    assert need_by_age["plans"].sum() == 2
    assert set(need_by_age["age"]) == {2}


def bands(frame: pd.DataFrame, code: str, year: int, column: str = "plans") -> dict:
    """``{age_band: count}`` of one area and year of an age-band table."""
    hits = frame[(frame["code"] == code) & (frame["year"] == year)]
    return dict(zip(hits["age_band"], hits[column], strict=True))


def test_age_bands_from_official_files(sen2_dir: Path) -> None:
    tables = sen2.read_official(sen2_dir)
    table = tables["plans_by_age_band"]
    assert list(table.columns) == [*sen2._AREA_COLUMNS, "year", "age_band", "plans", "release"]
    assert table["plans"].dtype == "Int64"
    assert table["age_band"].dtype == "string"
    # release 2022 publishes the bands; "Calendar year" 2015 is the January 2015 snapshot
    herts_2015 = bands(table, "E10000015", 2015)
    assert herts_2015 == {
        "under 5": 4,
        "5 to 10": 30,
        "11 to 15": 26,
        "16 to 19": 10,
        "20 to 25": 0,
    }
    assert (
        sum(herts_2015.values()) == row(tables["plans_total"], code="E10000015", year=2015)["plans"]
    )
    assert set(table.loc[table["year"] == 2015, "release"]) == {2022}
    # release 2025 publishes single years of age, summed into the bands (rows in band order)
    herts_2025 = table[(table["code"] == "E10000015") & (table["year"] == 2025)]
    assert list(herts_2025["age_band"]) == list(sen2.AGE_BANDS)
    assert set(herts_2025["release"]) == {2025}
    by_band = bands(table, "E10000015", 2025)
    assert by_band["under 5"] == 23  # under 3 (3) + age 4 (20)
    assert by_band["5 to 10"] == 0  # no age of the band listed: no plans
    assert pd.isna(by_band["20 to 25"])  # age 25 published as "x"
    new = tables["new_plans_by_age_band"]
    assert list(new.columns) == [*sen2._AREA_COLUMNS, "year", "age_band", "new_plans", "release"]
    # new plans: time_period is the calendar year; no 20-25 band before 2014
    england_2013 = bands(new, "E92000001", 2013, "new_plans")
    assert england_2013 == {"under 5": 15, "5 to 10": 15, "11 to 15": 9, "16 to 19": 1}
    assert (
        sum(england_2013.values())
        == row(tables["new_plans_total"], code="E92000001", year=2013)["new_plans"]
    )
    herts_2021 = bands(new, "E10000015", 2021, "new_plans")
    assert herts_2021["under 5"] == 3
    assert herts_2021["20 to 25"] == 0
    # 2022 from release 2025's single ages ("age 2 and under", "age 20 and over"), not the
    # release-2022 row for the same year
    herts_2022 = new[(new["code"] == "E10000015") & (new["year"] == 2022)]
    assert set(herts_2022["release"]) == {2025}
    assert row(herts_2022, age_band="under 5")["new_plans"] == 5
    assert row(herts_2022, age_band="16 to 19")["new_plans"] == 0
    assert pd.isna(row(herts_2022, age_band="20 to 25")["new_plans"])


def test_age_band_markers_are_missing_not_zero(sen2_dir: Path) -> None:
    tables = sen2.read_official(sen2_dir)
    england_2015 = bands(tables["plans_by_age_band"], "E92000001", 2015)
    assert set(england_2015) == {"under 5", "20 to 25"}
    assert pd.isna(england_2015["under 5"])  # "x"
    assert pd.isna(england_2015["20 to 25"])  # "z"
    herts_2021 = bands(tables["new_plans_by_age_band"], "E10000015", 2021, "new_plans")
    assert pd.isna(herts_2021["5 to 10"])  # "z"
    assert herts_2021["11 to 15"] == 4


def test_unrecognised_age_band_is_an_error(sen2_dir: Path) -> None:
    path = sen2_dir / "release-2022" / "sen2_age_caseload.csv"
    path.write_text(path.read_text().replace("Age 16 to 19", "Age 16 to 18"))
    with pytest.raises(sen2.SEN2FormatError, match="Age 16 to 18"):
        sen2.read_official(sen2_dir)


def test_single_age_outside_bands_is_an_error(sen2_dir: Path) -> None:
    path = sen2_dir / "release-2025" / "caseload.csv"
    path.write_text(path.read_text(encoding="utf-8-sig").replace("age 25", "age 26"))
    with pytest.raises(sen2.SEN2FormatError, match="26"):
        sen2.read_official(sen2_dir)


def test_regional_total_copied_into_councils_is_blanked(sen2_dir: Path) -> None:
    tables = sen2.read_official(sen2_dir)
    new = tables["new_plans_total"]
    assert row(new, code="E12000006", year=2022)["new_plans"] == 70
    assert pd.isna(row(new, code="E10000015", year=2022)["new_plans"])
    assert row(new, code="E10000015", year=2022)["new_special"] == 4
    fixes = tables["corrections"]
    assert set(fixes["code"]) == {"E10000015", "E06000099"}
    assert set(fixes["published_value"]) == {70}
    assert fixes["new_value"].isna().all()


def test_single_release_folder(sen2_dir: Path) -> None:
    tables = sen2.read_official(sen2_dir / "release-2022")
    assert list(tables["releases"]["folder"]) == ["."]
    assert set(tables["plans_total"]["year"]) == {2015, 2019}
    assert tables["plans_by_age"].empty
    assert list(tables["plans_by_age"].columns) == list(
        sen2.read_official(sen2_dir)["plans_by_age"].columns
    )


def test_missing_column_names_file_and_column(sen2_dir: Path) -> None:
    path = sen2_dir / "release-2025" / "caseload.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.drop(columns="special_total").to_csv(path, index=False, encoding="utf-8-sig")
    with pytest.raises(sen2.SEN2FormatError, match=r"caseload\.csv.*special_total") as err:
        sen2.read_official(sen2_dir)
    assert isinstance(err.value, ValueError)
    assert err.value.column == "special_total"
    assert err.value.file.endswith("caseload.csv")


def test_unrecognised_value_is_an_error(sen2_dir: Path) -> None:
    path = sen2_dir / "release-2022" / "sen2_age_caseload.csv"
    path.write_text(path.read_text().replace(",605,", ",six hundred,"))
    with pytest.raises(sen2.SEN2FormatError, match="six hundred"):
        sen2.read_official(sen2_dir)


def test_load_from_official_folder(sen2_dir: Path) -> None:
    herts = sen2.load("HERTFORDSHIRE", sen2_dir=sen2_dir)
    assert herts.code == "E10000015"
    assert set(herts.plans_total["code"]) == {"E10000015"}
    assert herts.release == "SEN2 release 2025 (June 2025) and release 2022"
    assert sen2.load("E10000002", sen2_dir=sen2_dir).code == "E06000060"
    assert sen2.load("england", sen2_dir=sen2_dir).name == "England"
    assert len(sen2.councils(sen2_dir)) == 6


def test_build_is_deterministic(sen2_dir: Path, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "build_sen2_extract", ROOT / "tools" / "build_sen2_extract.py"
    )
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    digests = []
    for out in (tmp_path / "a", tmp_path / "b"):
        tool.build(sen2_dir, out, "test", allow_empty=True)
        digests.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert digests[0] == digests[1]
    extract = sen2._read_extract(tmp_path / "a")
    official = sen2.read_official(sen2_dir)
    for name in sen2.TABLE_NAMES:
        pd.testing.assert_frame_equal(extract[name], official[name])


# --------------------------------------------------------------------------------------
# (b) the shipped extract against published figures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> sen2.SEN2Tables:
    return sen2.load()


def plans(tables: sen2.SEN2Tables, code: str, year: int) -> int:
    return int(row(tables.plans_total, code=code, year=year)["plans"])


def test_england_totals(shipped: sen2.SEN2Tables) -> None:
    assert plans(shipped, "E92000001", 2025) == 638_745
    assert plans(shipped, "E92000001", 2015) == 240_183
    assert plans(shipped, "E92000001", 2024) == 576_474  # the revised figure
    years = shipped.plans_total.loc[shipped.plans_total["code"] == "E92000001", "year"]
    assert list(years) == list(range(2010, 2026))


def test_hertfordshire_totals(shipped: sen2.SEN2Tables) -> None:
    assert plans(shipped, "E10000015", 2019) == 6_328
    assert plans(shipped, "E10000015", 2025) == 12_920
    jan_2025 = row(shipped.plans_total, code="E10000015", year=2025)
    assert jan_2025["special"] == 3_375
    assert jan_2025["special_independent"] == 278


def test_hertfordshire_special_schools_by_need(shipped: sen2.SEN2Tables) -> None:
    table = shipped.placement_by_need
    special = table[(table["code"] == "E10000015") & (table["placement"] == "Special - total")]
    by_need = dict(zip(special["need"], special["plans"], strict=True))
    assert by_need["ASD"] == 782
    assert by_need["SLD"] == 727
    assert by_need["MLD"] == 682
    assert by_need["SEMH"] == 564
    assert sum(by_need.values()) == 3_375
    assert set(special["year"]) == {2025}


def test_hertfordshire_need_by_age_sums_to_total(shipped: sen2.SEN2Tables) -> None:
    table = shipped.need_by_age
    herts = table[table["code"] == "E10000015"]
    assert herts["plans"].sum() == 12_920
    assert herts["age"].min() == 2
    assert herts["age"].max() == 25
    by_age = shipped.plans_by_age
    herts_2025 = by_age[(by_age["code"] == "E10000015") & (by_age["year"] == 2025)]
    assert herts_2025["plans"].sum() == 12_920


def band_sums(table: pd.DataFrame, code: str, column: str = "plans") -> pd.Series:
    """Sum of the age bands of one area by year (missing if a band is)."""
    area = table[table["code"] == code]
    return area.groupby("year")[column].agg(lambda s: s.sum() if s.notna().all() else pd.NA)


@pytest.mark.parametrize("code", ["E92000001", "E10000015"])
def test_plans_by_age_band_add_up_to_totals(shipped: sen2.SEN2Tables, code: str) -> None:
    sums = band_sums(shipped.plans_by_age_band, code)
    # January 2010-2022 from release 2022, 2024-2025 from single ages; 2023 not published
    assert list(sums.index) == [*range(2010, 2023), 2024, 2025]
    totals = shipped.plans_total.set_index("code").loc[code].set_index("year")["plans"]
    for year, total in sums.items():
        if (code, year) == ("E92000001", 2024):
            # the age breakdown leaves out Hackney and Peterborough (totals only) and
            # predates the revision of the England total from 575,963 to 576,474
            assert (total, totals[year]) == (572_829, 576_474)
        else:
            assert total == totals[year], year
    if code == "E92000001":
        assert sums[2015] == 240_183
        assert sums[2022] == 473_255
    else:
        assert sums[2019] == 6_328
        assert sums[2022] == 9_422


@pytest.mark.parametrize("code", ["E92000001", "E10000015"])
def test_new_plans_by_age_band_add_up_to_totals(shipped: sen2.SEN2Tables, code: str) -> None:
    sums = band_sums(shipped.new_plans_by_age_band, code, "new_plans")
    assert list(sums.index) == list(range(2009, 2025))
    table = shipped.new_plans_total
    totals = table[table["code"] == code].set_index("year")["new_plans"]
    for year, total in sums.items():
        if (code, year) == ("E92000001", 2022):
            # Wakefield returned only a total of new plans for 2022
            assert (total, totals[year]) == (66_356, 66_706)
        else:
            assert total == totals[year], year
    release = shipped.new_plans_by_age_band.groupby("year")["release"].agg(set)
    assert all(release[y] == {2022} for y in range(2009, 2022))
    assert all(release[y] == {2025} for y in range(2022, 2025))


def test_age_band_exceptions_across_all_areas(shipped: sen2.SEN2Tables) -> None:
    """Every area and year whose bands do not add up to the total is a known one."""
    found = set()
    for name, total_name, column in (
        ("plans_by_age_band", "plans_total", "plans"),
        ("new_plans_by_age_band", "new_plans_total", "new_plans"),
    ):
        table = getattr(shipped, name)
        assert set(table["age_band"]) == set(sen2.AGE_BANDS)
        sums = table.groupby(["code", "year"])[column].agg(
            lambda s: s.sum() if s.notna().all() else pd.NA
        )
        totals = getattr(shipped, total_name).set_index(["code", "year"])[column]
        joined = pd.concat([sums.rename("bands"), totals.rename("total")], axis=1, join="inner")
        assert len(joined) == len(sums)  # every area and year with bands has a total row
        differ = joined["bands"].ne(joined["total"]).fillna(True).astype(bool)
        found |= {(name, code, year) for code, year in joined.index[differ]}
    yorkshire_2022 = {  # totals set to missing (see corrections): regional copies
        ("new_plans_by_age_band", code, 2022)
        for code in shipped.corrections.loc[
            shipped.corrections["table"] == "new_plans_total", "code"
        ]
    }
    assert len(yorkshire_2022) == 15
    assert found == yorkshire_2022 | {
        ("plans_by_age_band", "E06000031", 2024),  # Peterborough: bands "x"
        ("plans_by_age_band", "E09000012", 2024),  # Hackney: bands "x"
        ("plans_by_age_band", "E12000006", 2024),  # East of England
        ("plans_by_age_band", "E12000007", 2024),  # London
        ("plans_by_age_band", "E92000001", 2024),  # England
        ("new_plans_by_age_band", "E12000003", 2022),  # Yorkshire and The Humber: Wakefield
        ("new_plans_by_age_band", "E92000001", 2022),  # England: Wakefield
    }


def test_extract_has_every_table(shipped: sen2.SEN2Tables) -> None:
    for name, frame in shipped.tables().items():
        if name != "corrections":
            assert not frame.empty, name
    assert shipped.release == "SEN2 release 2025 (June 2025) and release 2022"
    assert shipped.attribution.startswith(
        "Contains public sector information licensed under the Open Government Licence v3.0."
    )


# --------------------------------------------------------------------------------------
# (c) choosing a council
# --------------------------------------------------------------------------------------


def test_load_by_name_and_code_agree() -> None:
    by_name = sen2.load("hertfordshire")
    by_code = sen2.load("E10000015")
    assert by_name.code == by_code.code == "E10000015"
    assert by_name.name == "Hertfordshire"
    for name in sen2.TABLE_NAMES:
        pd.testing.assert_frame_equal(getattr(by_name, name), getattr(by_code, name))
    assert set(by_name.plans_total["code"]) == {"E10000015"}


def test_load_regions_and_england() -> None:
    assert sen2.load("England").code == "E92000001"
    assert sen2.load("east of england").code == "E12000006"
    assert sen2.load("Buckinghamshire").code == "E06000060"
    assert sen2.load("Bristol").code == "E06000023"


def test_unknown_council_suggests_close_names() -> None:
    with pytest.raises(KeyError, match="Hertfordshire"):
        sen2.load("Hertfordshir")


def test_councils_table() -> None:
    table = sen2.councils()
    assert list(table.columns[:6]) == [
        "code",
        "name",
        "level",
        "region_name",
        "first_year",
        "last_year",
    ]
    herts = row(table, code="E10000015")
    assert herts["level"] == "la"
    assert herts["region_name"] == "East of England"
    assert herts["last_year"] == 2025
    assert table["code"].is_unique


# --------------------------------------------------------------------------------------
# (d) the manifest
# --------------------------------------------------------------------------------------


def test_manifest_matches_shipped_files() -> None:
    folder = sen2.extract_dir()
    manifest = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
    assert set(manifest["tables"]) == set(sen2.TABLE_NAMES)
    total = 0
    for name, entry in manifest["tables"].items():
        path = folder / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], name
        total += path.stat().st_size
        frame = getattr(sen2.load(), name)
        assert len(frame) == entry["rows"], name
    assert total < 3_000_000
    assert len(manifest["sources"]) == 11
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert (
        "Contains public sector information licensed under the Open Government Licence v3.0."
        in readme
    )
    assert "reporting year 2025 (published June 2025)" in readme
    assert "| `plans_by_age_band.csv.gz` |" in readme
    assert "| `new_plans_by_age_band.csv.gz` |" in readme
    assert "## Age bands and totals" in readme


def test_an_areas_tables_are_kept_but_each_caller_gets_its_own() -> None:
    """``load`` keeps an area's tables for the process and hands out copies of them."""
    first = sen2.load("Rutland")
    first.plans_total.loc[:, "plans"] = -1
    first.areas.loc[:, "name"] = "changed"
    again = sen2.load("Rutland")
    assert (again.plans_total["plans"].dropna() >= 0).all()
    assert again.name == "Rutland" and set(again.areas["name"]) == {"Rutland"}
    assert again.plans_total is not sen2.load("Rutland").plans_total
    fresh = sen2._read_extract(sen2.extract_dir(), again.code)
    for name, frame in again.tables().items():
        pd.testing.assert_frame_equal(frame, fresh[name])
