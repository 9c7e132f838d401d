"""The Excel workbook: sheets a planner can read, with number formats, frozen headers,
by-designation sheets, the build programme and the assumptions."""

import datetime

import numpy as np
import openpyxl
import pytest

import placeplan as pp
from placeplan.excel import BY_DESIGNATION, FORMATS


@pytest.fixture(scope="module")
def run():
    return pp.run("herts-baseline", 5, seed=2)


@pytest.fixture(scope="module")
def book(run, tmp_path_factory):
    path = run.to_excel(tmp_path_factory.mktemp("excel") / "forecast.xlsx")
    return openpyxl.load_workbook(path)


def _rows(sheet):
    rows = list(sheet.iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


def test_sheets_and_the_about_sheet(book):
    names = book.sheetnames
    assert names[:3] == ["about", "headline", "summary"]
    for sheet in ("programme", "assumptions", "measures", "provenance", "waiting_over_3_terms"):
        assert sheet in names
    assert [f"{m} by desig" for m in BY_DESIGNATION] == [n for n in names if "by desig" in n]
    _, rows = _rows(book["about"])
    about = {r[0]: r[1] for r in rows if r[0]}
    assert about["scenario"].startswith("Hertfordshire baseline")
    assert about["reproduce with"] == "placeplan run herts-baseline -n 5 --seed 2"
    described = [r[0] for r in rows[rows.index(("sheet", "what it holds")) + 1 :] if r[0]]
    assert [n for n in names if n != "about"] == described[: len(names) - 1]
    assert "limitations" in about and any(
        "Councils publish no waiting list" in str(r[1]) for r in rows
    )


def test_frozen_headers_and_widths(book):
    for sheet in book.worksheets:
        assert sheet.freeze_panes is not None and sheet.freeze_panes.endswith("2"), sheet.title
        assert all(cell.font.b for cell in sheet[1] if cell.value is not None), sheet.title
        widths = [sheet.column_dimensions[c].width for c in ("A", "B")]
        assert all(w and w >= 8 for w in widths), (sheet.title, widths)
    assert book["about"].column_dimensions["B"].width >= 60


def test_headline_formats_and_values(book, run):
    header, rows = _rows(book["headline"])
    assert header[1] == "Children waiting longer than three terms: median [children]"
    h = run.headline()
    assert len(rows) == len(h)
    sheet = book["headline"]
    for k, row in enumerate(sheet.iter_rows(min_row=2)):
        assert row[0].is_date and row[0].number_format == FORMATS["date"]
        assert row[0].value.date() == h["census"][k]
        assert [c.number_format for c in row[1:4]] == [FORMATS["children"]] * 3
        assert row[1].value == pytest.approx(h["median"][k])
        assert row[4].number_format == "0%" and row[4].value == pytest.approx(h["p_none"][k])


def test_headline_label_follows_the_threshold(tmp_path):
    s = pp.load_scenario("herts-baseline")
    s = s.model_copy(update={"calendar": s.calendar.model_copy(update={"long_wait_terms": 1})})
    book = openpyxl.load_workbook(pp.run(s, 2, seed=1).to_excel(tmp_path / "one.xlsx"))
    assert book["headline"]["B1"].value.startswith("Children waiting longer than one term")
    measures = {r[0]: r[1] for r in _rows(book["measures"])[1]}
    assert measures["waiting_over_3_terms"] == "Children waiting longer than one term"
    assert "three terms" not in " ".join(str(c.value) for c in book["about"]["B"] if c.value)


def test_measure_sheets_have_units_formats(book, run):
    money = book["out_of_area_cost"]
    assert money["A1"].value == "time (GBP)"
    assert money["B2"].number_format == FORMATS["GBP"] and money["A2"].is_date
    counts = book["waiting"]
    assert counts["B2"].number_format == FORMATS["children"]
    assert counts["B2"].value == int(run.dataset["waiting"][0, 0])
    assert book["capacity"]["C5"].number_format == FORMATS["places"]
    summary = book["summary"]
    header = [c.value for c in summary[1]]
    col = header.index("out_of_area_cost") + 1
    assert summary.cell(2, col).number_format == FORMATS["GBP"]
    assert summary.cell(2, header.index("capacity") + 1).number_format == FORMATS["places"]
    assert summary["A2"].is_date


def test_by_designation_sheets(book, run):
    sheet = book["waiting by desig"]
    header, rows = _rows(sheet)
    designations = list(run.dataset["designation"].to_numpy())
    assert header[:2] == ["census", "term"]
    assert header[2:] == [f"{d}: {s}" for d in designations for s in ("median", "p10", "p90")]
    assert len(rows) == run.dataset.sizes["time"]
    da = run.dataset["waiting_by_designation"]
    for k in (0, 7, len(rows) - 1):
        for j, d in enumerate(designations):
            values = da.isel(time=k).sel(designation=d).to_numpy()
            got = rows[k][2 + 3 * j : 5 + 3 * j]
            want = [np.quantile(values, q) for q in (0.5, 0.1, 0.9)]
            assert got == pytest.approx(want), (k, d)
    assert sheet["C2"].number_format == FORMATS["children"] and sheet["A2"].is_date


def test_programme_sheet(book, run):
    header, rows = _rows(book["programme"])
    assert header[:7] == [
        "project",
        "designation",
        "places",
        "locality",
        "ages",
        "opens",
        "cost [GBP]",
    ]
    programme = run.scenario.placement.build_programme
    assert len(rows) == len(programme)
    for row, project in zip(rows, programme, strict=True):
        assert row[0] == project.name and row[1] == project.designation
        assert row[2] == project.places and row[3] == "county"
        assert row[5] == datetime.datetime.combine(project.opens, datetime.time())
        assert row[6] == project.cost_gbp
        assert row[-1] == project.source
    sheet = book["programme"]
    assert sheet["F2"].number_format == FORMATS["date"]
    assert sheet["G2"].number_format == FORMATS["GBP"]
    assert sheet["C2"].number_format == FORMATS["places"]


def test_assumptions_sheet(book, run):
    header, rows = _rows(book["assumptions"])
    assert header == ["assumption", "value", "units", "source"]
    table = {r[0]: r for r in rows}
    asd = run.scenario.placement.designations["ASD"]
    assert table["places: ASD"][1:] == (asd.places, "places", asd.source)
    assert table["special school children at the start"][1] == 3375  # SEN2, January 2025
    assert "SEN2 January 2025 caseload" in table["special school children at the start"][3]
    assert table["placed elsewhere at the start"][1] == 3375 - 3054
    assert "one source" in table["leaving need"][3]
    assert any(r[0].startswith("on the list at the start") for r in rows)


def test_provenance_sheet_keeps_its_fields(book):
    fields = {r[0]: r[1] for r in _rows(book["provenance"])[1]}
    assert fields["seed.entropy"] == "2" and fields["units of out_of_area_cost"] == "GBP"
    assert fields["scenario.name"] == "herts-baseline"
