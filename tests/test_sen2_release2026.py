"""SEN2 reporting year 2026: its layouts, Down syndrome as a need, revisions and the diff.

The fixture (tests/data/sen2-2026, written by tests/sen2_fixture_2026.py) has the 2026
headers as published; the shipped extract is release 2025 (and 2022).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sen2_fixture_2026 as fx
import yaml

import placeplan as pp
from placeplan import scenario as sc
from placeplan import sen2, sen2_diff
from placeplan.bundled import resolve_scenario_path
from placeplan.demand.inputs import cohort_inputs
from placeplan.errors import ScenarioError
from placeplan.scenario_files import read_scenario_file

FIXTURE = fx.COMMITTED
HERTS, ENGLAND = "E10000015", "E92000001"


def _cli(*args: object) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    exe = shutil.which("placeplan")
    cmd = [exe] if exe else [sys.executable, "-m", "placeplan"]
    return subprocess.run(
        [*cmd, *map(str, args)], capture_output=True, text=True, env=env, timeout=600
    )


def _copy(tmp_path: Path) -> Path:
    """A copy of the fixture to break."""
    out = tmp_path / "sen2"
    shutil.copytree(FIXTURE, out)
    return out


def _edit_header(path: Path, edit) -> None:
    """Rewrite a CSV with ``edit(header, rows) -> (header, rows)`` applied."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = edit(rows[0], rows[1:])
    fx._write(path, header, body)


def _drop(column: str):
    def edit(header, rows):
        i = header.index(column)
        return header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows]

    return edit


def _rename(old: str, new: str):
    return lambda header, rows: ([new if c == old else c for c in header], rows)


def _add(column: str, value: str):
    return lambda header, rows: ([*header, column], [[*r, value] for r in rows])


# --------------------------------------------------------------------------------------
# reading the 2026 layout
# --------------------------------------------------------------------------------------


def test_committed_fixture_is_what_its_generator_writes(tmp_path):
    fx.write_release_2026(tmp_path)
    for path in sorted((FIXTURE / "release-2026").iterdir()):
        assert (tmp_path / "release-2026" / path.name).read_bytes() == path.read_bytes(), path


def test_2026_files_are_read_in_their_layouts():
    t = sen2.load(sen2_dir=FIXTURE)
    # a folder of newer releases alone is read over the shipped extract
    assert t.release == "SEN2 release 2026 (June 2026), release 2025 (June 2025) and release 2022"
    assert sen2.read_official(FIXTURE)["releases"]["release"].tolist() == [2026]
    layouts = dict(item.split(":") for item in t.releases["layouts"].iloc[0].split(";"))
    assert layouts == {
        "caseload.csv": "2026",
        "sen_needs_all_plans.csv": "2026",
        "sen_need_newplans.csv": "2026",
        "newplans.csv": "2026",
        "ceased_plans.csv": "2025",
    }


def test_down_syndrome_is_a_primary_need_with_its_counts():
    assert "DS" in sc.NEEDS and "DS" in sen2.NEEDS
    t = sen2.load("Hertfordshire", sen2_dir=FIXTURE)
    ds = t.need_by_age[t.need_by_age["need"] == "DS"]
    expected = sum(fx._split(fx._plans_at(a, 2026), fx.SHARES, ds=True)["ds"] for a in fx.AGES)
    assert ds.loc[ds["year"] == 2026, "plans"].sum() == expected > 0
    # 'x' for 2024/25: missing, never zero
    assert ds.loc[ds["year"] == 2025, "plans"].isna().all()
    assert len(ds[ds["year"] == 2025]) == len(fx.AGES)
    england = sen2.load("England", sen2_dir=FIXTURE).placement_by_need
    row = england[(england["year"] == 2026) & (england["need"] == "DS")]
    assert row["plans"].tolist() == [4100]
    new = t.new_need_by_age
    assert new.loc[(new["need"] == "DS") & (new["year"] == 2025), "new_plans"].sum() > 0


def test_release_2025_layout_has_no_down_syndrome_rows():
    shipped = sen2.load()
    for table in (shipped.need_by_age, shipped.new_need_by_age, shipped.placement_by_need):
        assert "DS" not in set(table["need"])


def test_academy_and_free_school_split_adds_up_to_the_combined_column():
    t = sen2.load(sen2_dir=FIXTURE)
    totals = [
        x[x["release"] == 2026].reset_index(drop=True) for x in (t.plans_total, t.new_plans_total)
    ]
    for table, prefix in zip(totals, ("", "new_"), strict=True):
        academy = table[f"{prefix}special_academy"]
        free = table[f"{prefix}special_free_school"]
        assert academy.notna().all() and free.notna().all()
        assert (academy + free == table[f"{prefix}special_academy_free"]).all()
    p = totals[0]
    parts = (
        p["special_la_maintained"]
        + p["special_academy"]
        + p["special_free_school"]
        + p["special_independent"]
        + p["special_non_maintained"]
    )
    assert (parts == p["special"]).all()


def test_shipped_release_keeps_the_combined_column_without_the_split():
    p = sen2.load().plans_total
    england = p[(p["code"] == ENGLAND) & (p["year"] == 2025)].iloc[0]
    assert england["special_academy_free"] == 73932
    assert pd.isna(england["special_academy"]) and pd.isna(england["special_free_school"])
    full = p.dropna(
        subset=[
            "special_la_maintained",
            "special_academy_free",
            "special_independent",
            "special_non_maintained",
            "special",
        ]
    )
    assert len(full) > 1000
    parts = (
        full["special_la_maintained"]
        + full["special_academy_free"]
        + full["special_independent"]
        + full["special_non_maintained"]
    )
    assert (parts == full["special"]).all()


def test_shipped_release_is_unchanged():
    """Guard on totals of the shipped extract (release 2025 and 2022), as before."""
    england = sen2.load("England")
    totals = england.plans_total.set_index("year")
    assert totals.loc[2025, "plans"] == 638745
    assert totals.loc[2025, "special"] == 193880
    assert totals.loc[2010, "plans"] == 228221
    herts = sen2.load("Hertfordshire")
    assert herts.plans_total.set_index("year").loc[2025, "special"] == 3375
    placed = england.placement_by_need
    total = placed[placed["placement"] == "All EHC plans"].set_index("need")["plans"]
    assert total["SLD"] == 25681 and total["SPLD"] == 14374 and total["OTH"] == 7512
    assert england.release == "SEN2 release 2025 (June 2025) and release 2022"
    assert (england.releases["layouts"].str.contains("caseload.csv:2025")).any()


def test_parts_that_do_not_add_up_are_refused(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "release-2026" / "newplans.csv"

    def edit(header, rows):
        rows[1][header.index("special_free_school")] = "999999"
        return header, rows

    _edit_header(path, edit)
    with pytest.raises(sen2.SEN2FormatError, match=r"newplans\.csv: line 3: .*special_total") as e:
        sen2.read_official(folder)
    assert e.value.column == "special_total"


# --------------------------------------------------------------------------------------
# unknown layouts are refused
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "edit", "names"),
    [
        (
            "sen_needs_all_plans.csv",
            _rename("number_sld", "number_severe"),
            ["number_sld", "number_severe"],
        ),
        ("sen_needs_all_plans.csv", _drop("number_hi"), ["number_hi"]),
        ("sen_need_newplans.csv", _drop("ds_pc"), []),
        ("newplans.csv", _add("special_hospital", "3"), ["special_hospital"]),
        ("newplans.csv", _drop("special_free_school"), ["special_free_school"]),
        ("caseload.csv", _add("special_academy_free", "5"), ["special_academy_free"]),
    ],
    ids=["renamed need", "missing need", "missing pc", "new column", "half split", "both"],
)
def test_a_file_of_unknown_layout_is_refused(tmp_path, file, edit, names):
    folder = _copy(tmp_path)
    _edit_header(folder / "release-2026" / file, edit)
    if not names:  # a percentage column may be left out: it carries no children
        sen2.read_official(folder)
        return
    with pytest.raises(sen2.SEN2FormatError) as e:
        sen2.read_official(folder)
    message = str(e.value)
    assert file in message and "Known layouts: 2025" in message and "2026" in message
    for column in names:
        assert repr(column) in message
    assert e.value.column in names


def test_unknown_layout_exits_2_through_the_cli(tmp_path):
    folder = _copy(tmp_path)
    _edit_header(folder / "release-2026" / "sen_needs_all_plans.csv", _drop("number_ds"))
    _edit_header(folder / "release-2026" / "sen_needs_all_plans.csv", _rename("ds_pc", "downs_pc"))
    for command in (("data", "diff"), ("data", "councils")):
        proc = _cli(*command, "--sen2-dir", folder)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "sen_needs_all_plans.csv" in proc.stderr and "'downs_pc'" in proc.stderr


# --------------------------------------------------------------------------------------
# revisions: the newer release wins, and the diff names it
# --------------------------------------------------------------------------------------


def _with_release_2025(tmp_path: Path) -> Path:
    """The fixture beside a release-2025 need file (2025 layout) with the old England row."""
    folder = _copy(tmp_path)
    old = folder / "release-2025"
    old.mkdir()
    (old / "data-guidance.txt").write_text("Reporting year 2025\n", encoding="utf-8")
    needs = [n for n in fx.NEEDS_2026 if n != "ds"]
    header = [
        *fx.GEO,
        "breakdown_topic",
        "breakdown",
        "ehc_plans",
        *(f"number_{n}" for n in needs),
        "number_need_unknown",
    ]
    values = {**fx.ENGLAND_2025, "sld": 25681, "spld": 14374}
    numbers = [values[n] for n in needs]
    row = [
        "202425",
        "Academic year",
        *fx.ENGLAND,
        "All EHC plans",
        "All EHC plans",
        str(sum(numbers) + values["unknown"]),
        *map(str, numbers),
        str(values["unknown"]),
    ]
    fx._write(old / "sen_needs_all_plans.csv", header, [row])
    return folder


def test_a_revised_value_of_a_newer_release_wins(tmp_path):
    folder = _with_release_2025(tmp_path)
    t = sen2.load("England", sen2_dir=folder)
    total = t.placement_by_need
    total = total[(total["placement"] == "All EHC plans") & (total["year"] == 2025)]
    by_need = total.set_index("need")["plans"]
    assert by_need["SLD"] == 25025 and by_need["SPLD"] == 15030
    assert set(total["release"]) == {2026}


def test_diff_reports_revisions_new_needs_split_and_years(tmp_path):
    found = sen2_diff.diff(_with_release_2025(tmp_path), top=1000)
    tables = {t.table: t for t in found.tables}
    placed = tables["placement_by_need"]
    assert "need=DS" in placed.categories_added
    assert placed.years_added == (2026,)
    sld = placed.largest[
        (placed.largest["code"] == ENGLAND)
        & (placed.largest["column"] == "plans")
        & (placed.largest["category"] == "All EHC plans SLD")
    ]
    assert sld[["year", "old", "new", "change"]].to_numpy().tolist() == [[2025, 25681, 25025, -656]]
    assert placed.cells_changed >= 2
    assert set(tables["plans_total"].columns_added) == {"special_academy", "special_free_school"}
    assert 2010 in tables["plans_total"].years_dropped
    text = found.render(top=1000)
    assert "England (E92000001) 2025 All EHC plans SLD plans: 25,681 -> 25,025 (-656)" in text
    summary = found.summary()
    assert len(summary.splitlines()) <= 2
    assert "new primary need DS" in summary and "revised" in summary
    assert "special_academy, special_free_school" in summary


def test_diff_of_the_shipped_release_itself_finds_nothing(monkeypatch):
    shipped = sen2.load()
    monkeypatch.setattr(sen2, "load", lambda council=None, *, sen2_dir=None: shipped)
    found = sen2_diff.diff("unused")
    assert found.identical and "the same tables" in found.summary()


def test_cli_data_diff_and_the_summary_of_every_sen2_dir_command():
    proc = _cli("data", "diff", "--sen2-dir", FIXTURE)
    assert proc.returncode == 0, proc.stderr
    assert "need=DS" in proc.stdout
    assert "25,681 -> 25,025" in proc.stdout
    assert "release 2026  newplans.csv" in proc.stdout and "layout 2026" in proc.stdout
    councils = _cli("data", "councils", "--sen2-dir", FIXTURE)
    assert councils.returncode == 0, councils.stderr
    assert "Hertfordshire" in councils.stdout
    for err in (proc.stderr, councils.stderr):
        assert "SEN2 from" in err and "new primary need DS" in err
        assert "values revised" in err


# --------------------------------------------------------------------------------------
# scenarios: DS placed by a sourced default or a choice, runs on a newer release
# --------------------------------------------------------------------------------------


def _baseline(**demand) -> dict:
    data, _ = read_scenario_file(resolve_scenario_path("herts-baseline"))
    data["demand"].update(demand)
    return data


def test_ds_is_placed_as_oth_by_default_with_its_source():
    s = pp.load_scenario("herts-baseline")
    routes = s.demand.designation_routes
    assert tuple(routes) == sc.NEEDS
    assert routes["DS"] == routes["OTH"]
    like, source = s.demand.placed_as["DS"]
    assert like == "OTH"
    assert "footnote 1" in source and "Down Syndrome" in source


def test_ds_may_be_placed_as_another_need_or_named_itself():
    chosen = {"DS": {"as": "SLD", "source": "assumption: most children with DS need SLD places"}}
    s = sc.scenario_from_dict(_baseline(new_needs=chosen), check_data=False)
    assert s.demand.designation_routes["DS"] == s.demand.designation_routes["SLD"]
    named = _baseline()
    named["demand"]["need_designation"] = {**named["demand"]["need_designation"], "DS": "PSI"}
    s = sc.scenario_from_dict(named, check_data=False)
    assert s.demand.designation_routes["DS"] == ("PSI",)
    assert "DS" not in s.demand.placed_as


def test_a_new_need_without_a_placing_is_an_error():
    with pytest.raises(ScenarioError, match="need_designation lacks the needs DS"):
        sc.scenario_from_dict(_baseline(new_needs={}), check_data=False)
    data = _baseline(new_needs={"DS": {"as": "DS", "source": "x"}})  # placed as itself
    with pytest.raises(ScenarioError, match=r"new_needs\.DS\.as is DS, which need_designation"):
        sc.scenario_from_dict(data, check_data=False)


def _run_2026(tmp_path: Path, **demand) -> pp.Results:
    data = _baseline(sen2_dir=str(FIXTURE), base_year=2026, **demand)
    data["start"] = "2026-01-05"
    programme = data["placement"]["build_programme"]
    data["placement"]["build_programme"] = [b for b in programme if str(b["opens"]) > "2026"]
    s = sc.scenario_from_dict(data, source=str(tmp_path / "x.yaml"))
    assert any("SEN2 from" in str(w) for w in s.warnings)
    return pp.run(s, replications=2, seed=5, child_log=True)


@pytest.fixture(scope="module")
def run_default(tmp_path_factory):
    return _run_2026(tmp_path_factory.mktemp("ds"))


def test_a_run_on_a_2026_release_places_ds_children_as_the_scenario_says(run_default, tmp_path):
    routes = run_default.scenario.demand.designation_routes
    children = run_default.children
    ds = children[children["need"] == "DS"]
    assert len(ds) > 0
    assert set(ds["designation"]) == {routes["OTH"][0]}  # MLD in the baseline
    chosen = {"DS": {"as": "SLD", "source": "assumption: for the test"}}
    other = _run_2026(tmp_path, new_needs=chosen).children
    assert set(other.loc[other["need"] == "DS", "designation"]) == {routes["SLD"][0]}


def test_provenance_names_the_release_files_and_the_ds_default(run_default):
    data = run_default.provenance["data"]
    # release 2026 alone is read over the shipped extract, whose digest is recorded
    assert data["release"] == (
        "SEN2 release 2026 (June 2026), release 2025 (June 2025) and release 2022"
    )
    assert data["sen2_dir"] == str(FIXTURE.resolve())
    assert len(data["extract_manifest_sha256"]) == 64
    files = {f["file"]: f["sha256"] for f in data["files"]}
    assert set(files) == {f"release-2026/{p.name}" for p in FIXTURE.glob("release-2026/*.csv")}
    assert all(len(h) == 64 for h in files.values())
    assert data["new_needs"]["DS"]["as"] == "OTH"
    assert "footnote 1" in data["new_needs"]["DS"]["source"]


def test_base_year_2025_of_a_2026_release_counts_new_ds_plans_under_oth():
    folded = cohort_inputs("Hertfordshire", 2025, sen2_dir=FIXTURE)
    k, j = sc.NEEDS.index("DS"), sc.NEEDS.index("OTH")
    assert folded.stock[:, k].sum() == 0 and folded.new_plans[:, k].sum() == 0
    assert any("need DS: counted under OTH" in b for b in folded.borrowed)
    later = cohort_inputs("Hertfordshire", 2026, sen2_dir=FIXTURE)
    assert later.stock[:, k].sum() > 0 and later.new_plans[:, k].sum() > 0
    assert (later.special_share[:, k] > 0).any()
    # the new plans of every need add up the same, folded or not
    assert np.isclose(folded.new_plans.sum(), later.new_plans.sum())
    assert folded.new_plans[:, j].sum() > later.new_plans[:, j].sum()


def test_sen2_dir_is_relative_to_the_scenario_file(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "data" / "sen2")
    path = tmp_path / "s.yaml"
    path.write_text(
        "extends: herts-baseline\nname: herts-2026\ndemand:\n  sen2_dir: data/sen2\n",
        encoding="utf-8",
    )
    s = pp.load_scenario(path)
    assert s.demand.sen2_dir == str((tmp_path / "data" / "sen2").resolve())
    path.write_text(
        "extends: herts-baseline\nname: herts-2026\ndemand:\n  sen2_dir: nowhere\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match=r"s\.yaml:4: demand\.sen2_dir: folder not found"):
        pp.load_scenario(path)


def test_base_year_2026_needs_a_newer_release():
    with pytest.raises(ScenarioError, match=r"no plans by age for .* in January 2026"):
        sc.scenario_from_dict(_baseline(base_year=2026))


def test_a_fit_on_other_data_is_named(tmp_path):
    s = sc.scenario_from_dict(_baseline(sen2_dir=str(FIXTURE)))
    warned = [str(w) for w in s.warnings]
    assert any(
        "demand.calibration.release" in w and "fitted on SEN2 release 2025" in w for w in warned
    )
    assert not [w for w in pp.load_scenario("herts-baseline").warnings if "release" in str(w)]


def test_a_newer_release_alone_is_laid_over_the_shipped_extract():
    shipped = sen2.load()
    read = sen2.load(sen2_dir=FIXTURE)
    herts = read.plans_total[read.plans_total["code"] == "E10000015"].set_index("year")
    # the years release 2026 publishes are its own (2025 revised, 2026 added) ...
    assert herts.loc[2026, "release"] == 2026 and herts.loc[2025, "release"] == 2026
    assert herts.loc[2025, "plans"] == 14610  # the fixture's revised figure (12,920 shipped)
    # ... and every other year and area is the shipped extract's, unchanged
    old = shipped.plans_total
    kept = read.plans_total[read.plans_total["release"] < 2026].reset_index(drop=True)
    expected = old[
        ~(old["code"].isin(["E10000015", "E92000001"]) & old["year"].isin([2025, 2026]))
    ].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, expected)
    area = read.areas.set_index("code").loc["E10000015"]
    assert (area["first_year"], area["last_year"]) == (2009, 2026)
    assert len(read.areas) == len(shipped.areas)


def test_a_folder_with_a_release_as_old_as_the_shipped_one_is_read_alone(tmp_path):
    t = sen2.load(sen2_dir=_with_release_2025(tmp_path))
    assert t.release == "SEN2 release 2026 (June 2026) and release 2025 (June 2025)"
    assert set(t.areas["code"]) == {ENGLAND, "E10000015"}


def test_calibrate_to_january_2026_on_release_2026(tmp_path):
    template = tmp_path / "template.yaml"
    text = resolve_scenario_path("herts-baseline").read_text(encoding="utf-8")
    template.write_text(text[: text.index("  build_programme:")], encoding="utf-8")
    out = tmp_path / "fitted.yaml"
    args = ["calibrate", "--council", "Hertfordshire", "--until", "2026", "--template"]
    proc = _cli(*args, template, "--sen2-dir", FIXTURE, "--out", out)
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["demand"]["base_year"] == 2026
    assert str(data["start"]) == "2026-01-05"  # moved to the spring term of the base year
    assert data["demand"]["calibration"]["diagnostics"]["plans_at_origin"] == 15339
    assert data["demand"]["calibration"]["diagnostics"]["new_plans_years"] == "2019-2025"
    assert "release 2026" in data["demand"]["calibration"]["release"]
    sc.load_scenario(out)  # runnable as written (sen2_dir relative to the file)
    shipped = _cli(*args, template, "--out", tmp_path / "x.yaml")
    assert shipped.returncode == 2 and "Traceback" not in shipped.stderr
    assert "publish plans up to January 2025, not 2026" in shipped.stderr
