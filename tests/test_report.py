"""The report: self-contained HTML (rendered in headless Chromium) and Markdown."""

import shutil

import pytest
from test_cli import placeplan

import placeplan as pp
from placeplan.report import report_html, report_markdown, write_report


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
