"""The report: self-contained HTML (rendered in headless Chromium) and Markdown."""

import re
import shutil

import openpyxl
import pytest
import xarray as xr
from test_cli import placeplan

import placeplan as pp
from placeplan.bundled import bundled_scenarios
from placeplan.report import (
    limitations,
    md_escape,
    report_html,
    report_markdown,
    reproduce_command,
    write_report,
)
from placeplan.results import Results

TRICKY = "<script>alert(1)</script> *bold* _em_ [link](http://e.x) `code` | pipe & co"


def _with(results, scenario):
    """The same run, described by another scenario (to test the text, not the model)."""
    return Results(results.dataset, scenario, results.provenance, results.children)


def _tricky(scenario):
    """Every kind of scenario text replaced by markup that must not act."""
    p = scenario.placement
    programme = tuple(
        x.model_copy(update={"name": f"{TRICKY} {k}", "source": TRICKY})
        for k, x in enumerate(p.build_programme)
    )
    designations = {k: v.model_copy(update={"source": TRICKY}) for k, v in p.designations.items()}
    waiting = tuple(g.model_copy(update={"source": TRICKY}) for g in p.initial_waiting)
    placement = p.model_copy(
        update={
            "build_programme": programme,
            "designations": designations,
            "initial_waiting": waiting,
            "leaving": p.leaving.model_copy(update={"source": TRICKY}),
            "out_of_area": p.out_of_area.model_copy(update={"source": TRICKY}),
        }
    )
    return scenario.model_copy(
        update={
            "title": TRICKY,
            "description": "# heading\n- item\n1. first " + TRICKY,
            "placement": placement,
            "demand": scenario.demand.model_copy(update={"source": TRICKY}),
        }
    )


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    base = pp.run("herts-baseline", 6, seed=1, child_log=True)
    other = pp.run("herts-no-further-building", 6, seed=1)
    base.save(root / "base")
    other.save(root / "other")
    return root, base, other


def test_report_contents_and_escaping(run_dirs):
    _, base, other = run_dirs
    page = report_html(base, [other])
    for heading in (
        "The answer",
        "The build programme",
        "Assumptions",
        "Objectives",
        "Model logic",
        "Data",
        "Experimentation",
        "Implementation",
        "Code access",
        "Provenance",
        "How to cite",
        "Options compared",
    ):
        assert heading in page, heading
    assert page.count("data:image/png;base64,") == 4  # fan, demand, terms waited, comparison
    assert "http://" not in page and "<script" not in page and "<link" not in page
    assert base.scenario.digest() in page and "£91m programme: ASD places" in page
    # text from the scenario is escaped
    tricky = base.scenario.model_copy(update={"title": "<script>alert(1)</script> & co"})
    escaped = report_html(type(base)(base.dataset, tricky, base.provenance, base.children))
    assert "<script>alert(1)</script>" not in escaped and "&lt;script&gt;alert(1)" in escaped
    md = report_markdown(base, [other])
    assert md.startswith("# Hertfordshire baseline") and "| January census |" in md
    with pytest.raises(ValueError, match="html or"):
        write_report(base, run_dirs[0] / "report.pdf")


def test_markdown_escapes_every_scenario_text(run_dirs):
    _, base, other = run_dirs
    tricky = _with(base, _tricky(base.scenario))
    md = report_markdown(tricky, [_with(other, _tricky(other.scenario))])
    raw = ("<script>", "*bold*", "_em_", "[link](", "`code`", "| pipe")
    for markup in raw:  # never unescaped
        assert not re.search(r"(?<!\\)" + re.escape(markup), md), markup
    escaped = (
        r"&lt;script&gt;alert(1)&lt;/script&gt; \*bold\* \_em\_ \[link\](http://e.x) "
        r"\`code\` \| pipe &amp; co"
    )
    # title, description, every project name, and the sources of designations,
    # projects, demand, leaving, out of area and the list at the start
    assert md.count(escaped) >= 1 + 1 + 2 * len(base.scenario.placement.build_programme) + 5
    assert md.startswith("# &lt;script&gt;")
    assert "\n\\# heading - item 1. first" in md  # one line: no heading, no list
    page = report_html(tricky)
    assert "<script" not in page and "&lt;script&gt;alert(1)" in page


def test_md_escape():
    assert md_escape("a*b_c") == r"a\*b\_c"
    assert md_escape("# title") == r"\# title"
    assert md_escape("2. point") == r"2\. point"
    assert md_escape("- x\n+ y") == r"\- x + y"
    assert md_escape("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"
    assert md_escape("plain text, (2024)") == "plain text, (2024)"
    assert md_escape("-2.5", block=False) == "-2.5"  # table cells: no line starts
    assert md_escape("a|b", block=False) == r"a\|b"


def test_reproduce_with_names_the_scenario(run_dirs, tmp_path):
    root, base, _ = run_dirs
    command = "placeplan run herts-baseline -n 6 --seed 1"
    assert reproduce_command(base.provenance) == command
    md = report_markdown(base)
    assert f"Reproduce with: {command}" in md and "SCENARIO" not in md
    assert "scenario.yaml in the run folder reproduces" in md
    assert command in base.citation() and "SCENARIO" not in base.citation()
    # a file of one's own is named by its path; a scenario object by the run folder's copy
    own = tmp_path / "my scenario.yaml"
    own.write_text("extends: herts-baseline\nname: mine\ntitle: Mine\n", encoding="utf-8")
    mine = pp.run(str(own), 2, seed=5)
    assert reproduce_command(mine.provenance) == f"placeplan run '{own}' -n 2 --seed 5"
    obj = pp.run(pp.load_scenario("herts-baseline"), 2, seed=5, engine="reference")
    assert reproduce_command(obj.provenance) == (
        "placeplan run RUN_FOLDER/scenario.yaml -n 2 --seed 5 --engine reference"
    )
    # and the run folder's resolved scenario.yaml does reproduce the run exactly
    again = pp.run(root / "base" / "scenario.yaml", 6, seed=1)
    xr.testing.assert_identical(
        again.dataset.drop_attrs(deep=False), base.dataset.drop_attrs(deep=False)
    )


def test_limitations_follow_the_scenario(run_dirs):
    _, base, _ = run_dirs
    items = limitations(base)
    text = " ".join(items)
    assert "One locality (county)" in text
    # the list at the start is derived from SEN2, its share and waits drawn
    assert "educated elsewhere in the January caseload" in text and "uniform 0.5–1.5" in text
    trend = pp.load_scenario(bundled_scenarios()["herts-baseline"]).demand.specialist_share_trend
    assert "fitted to need" in text and f"{trend.mean:+.4f}".replace("+", "") in text
    assert "13 needs onto ASD, MLD, PSI, SEMH, SLD" in text and "MLD → MLD, SLD" in text
    assert "Councils publish no waiting list" in text
    assert "at the cohort projection's own rates" in text
    assert "not be referred again" in text  # all-age places: phase transfers not modelled
    assert "Nobody is placed out of area" in text
    for page in (report_html(base), report_markdown(base)):
        assert "Limitations" in page and "Councils publish no waiting list" in page
        assert "Against the published record" in page and "by construction" in page
    # another scenario, other limitations
    s = base.scenario
    p = s.placement
    localities = {
        "north": p.localities["county"].model_copy(update={"share": 0.5}),
        "south": p.localities["county"].model_copy(update={"share": 0.5}),
    }
    primary = p.build_programme[0].model_copy(update={"ages": (4, 11), "locality": "north"})
    other = s.model_copy(
        update={
            "placement": p.model_copy(
                update={
                    "localities": localities,
                    "initial_waiting": (),
                    "build_programme": (primary,),
                    "out_of_area": p.out_of_area.model_copy(
                        update={"after_terms": 3, "yearly_cost_gbp": 65000.0}
                    ),
                }
            )
        }
    )
    text = " ".join(limitations(_with(base, other)))
    assert "2 localities" in text and "One locality" not in text
    assert "educated elsewhere in the January caseload" in text  # derived, not typed
    assert "take pupils younger than 18" in text and primary.name in text
    assert "£65,000 a year" in text and "Nobody is placed out of area" not in text


@pytest.fixture(scope="module")
def one_term():
    s = pp.load_scenario("herts-baseline")
    s = s.model_copy(update={"calendar": s.calendar.model_copy(update={"long_wait_terms": 1})})
    return pp.run(s, 3, seed=1, child_log=True)


def test_labels_follow_long_wait_terms(one_term):
    for page in (report_html(one_term), report_markdown(one_term)):
        assert "Children waiting longer than one term for a special school place" in page
        assert "three terms" not in page
        assert "P(nobody waits longer than one term)" in page
        assert "at least 1 whole term has passed" in page


def test_report_renders_in_headless_chromium(run_dirs):
    root, _, _ = run_dirs
    proc = placeplan(
        "report",
        str(root / "base"),
        "--compare",
        str(root / "other"),
        "--out",
        str(root / "report.html"),
    )
    assert proc.returncode == 0, proc.stderr
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options
    )
    try:
        driver.get((root / "report.html").as_uri())
        sizes = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth,"
            " i.naturalHeight, i.getBoundingClientRect().width])"
        )
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        title = driver.title
    finally:
        driver.quit()
    assert len(sizes) == 4
    assert all(done and w > 100 and h > 100 and shown > 0 for done, w, h, shown in sizes), sizes
    assert errors == []
    assert "Hertfordshire baseline" in title


def test_report_refuses_runs_of_different_seeds(run_dirs, tmp_path):
    root, _, _ = run_dirs
    pp.run("herts-no-further-building", 3, seed=2).save(tmp_path / "seed2")
    proc = placeplan("report", str(root / "base"), "--compare", str(tmp_path / "seed2"))
    assert proc.returncode == 2 and "same seed" in proc.stderr


def test_views_of_a_run_without_a_january_census(tmp_path):
    r = pp.run("validation/growing-capacity", 2, seed=1)
    assert not (r.dataset["time"].dt.month == 1).any()
    for page in (report_html(r), report_markdown(r)):
        assert "no January census" in page
    book = r.to_excel(tmp_path / "r.xlsx")
    sheets = openpyxl.load_workbook(book).sheetnames
    assert "headline" in sheets and "specialist_demand by desig" not in sheets  # no projection
    assert set(r.plot.figures()) == {"fan-waiting-over-3-terms", "fan-waiting", "demand-and-places"}
