"""Monte Carlo error of the headline: the standard errors against known results, the 5%
criterion, determinism, and the error shown in the CLI table, the report and the workbook."""

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner
from scipy import stats

import placeplan as pp
from placeplan import mcerror
from placeplan.cli import main
from placeplan.report import report_html, report_markdown
from placeplan.results import Results


def _results(values: np.ndarray, dates=("2030-01-17", "2031-01-16")) -> Results:
    """A run made of given headline values (replicate × census), for the arithmetic alone."""
    times = np.array(dates, dtype="datetime64[s]")
    ds = xr.Dataset(
        {"waiting_over_3_terms": (("replicate", "time"), np.asarray(values, dtype=float))},
        coords={"replicate": np.arange(values.shape[0]), "time": times},
    )
    return Results(dataset=ds, scenario=None, provenance={})  # type: ignore[arg-type]


# -- the standard errors against known results -------------------------------------------


def test_mean_se_is_sd_over_root_n_and_matches_the_spread_of_means():
    rng = np.random.default_rng(1)
    samples = rng.normal(100, 15, size=(200, 4000))  # 4,000 runs of 200 replications
    se = mcerror.mean_se(samples)
    assert se[0] == pytest.approx(samples[:, 0].std(ddof=1) / np.sqrt(200), rel=1e-12)
    # calibrated: the standard error is the spread of the mean over independent runs
    assert se.mean() == pytest.approx(15 / np.sqrt(200), rel=0.02)
    assert samples.mean(axis=0).std() == pytest.approx(se.mean(), rel=0.05)


def test_proportion_se_is_binomial():
    assert mcerror.proportion_se(0.3, 200) == pytest.approx(np.sqrt(0.3 * 0.7 / 200))
    assert mcerror.proportion_se(np.array([0.0, 1.0]), 50).tolist() == [0.0, 0.0]
    rng = np.random.default_rng(2)
    shares = (rng.random((200, 4000)) < 0.2).mean(axis=0)  # P(nobody) = 0.2, 200 replications
    assert shares.std() == pytest.approx(mcerror.proportion_se(0.2, 200), rel=0.05)
    assert mcerror.rule_of_three(200) == pytest.approx(0.015)


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_quantile_se_is_the_exact_bootstrap(q):
    """It equals what resampling the replications (many times) gives, ties included.

    With 21 replications these percentiles are single order statistics (the 3rd,
    11th and 19th), whose bootstrap variance the weights give exactly.
    """
    rng = np.random.default_rng(3)
    x = np.round(rng.lognormal(2, 1, size=21))
    x[:5] = 0  # an atom at zero, as when nobody waits in some replications
    resampled = x[rng.integers(0, 21, size=(400_000, 21))]
    brute = np.quantile(resampled, q, axis=1).std()
    assert mcerror.quantile_se(x, q) == pytest.approx(brute, rel=0.01)


def test_quantile_se_between_order_statistics_is_a_tight_upper_bound():
    """The 10th of 200 lies between the 20th and 21st smallest: bound within 5%, not below."""
    rng = np.random.default_rng(9)
    x = np.round(rng.lognormal(4, 1, size=200))
    resampled = x[rng.integers(0, 200, size=(40_000, 200))]
    for q in (0.1, 0.9):
        brute = np.quantile(resampled, q, axis=1).std()
        bound = mcerror.quantile_se(x, q)
        assert brute * 0.99 <= bound <= brute * 1.05, q


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_quantile_se_on_normal_samples_is_the_asymptotic_formula(q):
    rng = np.random.default_rng(4)
    n, sd = 1000, 15.0
    samples = rng.normal(100, sd, size=(n, 1000))
    se = mcerror.quantile_se(samples, q)
    formula = np.sqrt(q * (1 - q) / n) / stats.norm.pdf(stats.norm.ppf(q)) * sd
    assert se.mean() == pytest.approx(formula, rel=0.05)
    assert np.quantile(samples, q, axis=0).std() == pytest.approx(formula, rel=0.08)


def test_quantile_se_is_calibrated_on_skewed_zero_heavy_outputs():
    """Like the headline: 15% of replications at zero, a long right tail."""
    rng = np.random.default_rng(5)
    x = np.round(rng.lognormal(5, 1.2, size=(200, 3000)))
    x[rng.random(x.shape) < 0.15] = 0
    for q in (0.5, 0.9):
        spread = np.quantile(x, q, axis=0).std()  # the true error, over 3,000 runs
        assert np.median(mcerror.quantile_se(x, q)) == pytest.approx(spread, rel=0.1), q


def test_quantile_se_inside_and_on_the_edge_of_an_atom():
    inside = np.r_[np.zeros(180), np.arange(1, 21)]  # 90% zeros: the 10th percentile is 0
    assert mcerror.quantile_se(inside, 0.1) < 1e-6
    edge = np.r_[np.zeros(100), np.arange(1, 101)]  # the median on the edge of the zeros
    assert mcerror.quantile_se(edge, 0.5) > 1
    assert mcerror.quantile_se(np.full(50, 7.0), 0.9) == 0
    assert np.isnan(mcerror.quantile_se(np.array([3.0]), 0.5))
    with pytest.raises(ValueError, match="quantile in"):
        mcerror.quantile_se(inside, 1.5)


# -- the criterion ------------------------------------------------------------------------


def test_the_check_flags_too_few_replications_and_passes_enough():
    """Normal outputs: the percentiles' ratio is 0.67/sqrt(n), so 40 fail and 2,000 pass."""
    rng = np.random.default_rng(6)
    few = mcerror.headline_errors(_results(rng.normal(300, 50, size=(40, 2))))
    verdict = mcerror.check(few)
    assert verdict.met is False
    assert {fig for _, fig, _ in verdict.failures} >= {"p10", "p90"}
    assert all(ratio > mcerror.TARGET for *_, ratio in verdict.failures)
    assert "NOT within 5%" in verdict.sentence() and "90th percentile" in verdict.sentence()
    assert verdict.needed > 40  # it says how many would do
    # on average over runs, the percentile's ratio is the normal theory's 0.67/sqrt(n)
    runs = rng.normal(300, 50, size=(40, 2000))
    ratio = mcerror.quantile_se(runs, 0.9).mean() / (2 * mcerror.Z80 * 50)
    assert ratio == pytest.approx(0.667 / np.sqrt(40), rel=0.1)

    many = mcerror.headline_errors(_results(rng.normal(300, 50, size=(2000, 2))))
    verdict = mcerror.check(many)
    assert verdict.met is True and not verdict.failures
    assert verdict.worst <= mcerror.TARGET
    assert "is within 5%" in verdict.sentence()
    # the same replications fail a stricter target
    assert mcerror.check(many, target=0.005).met is False


def test_the_mean_criterion_of_the_brief_meets_at_about_61_replications():
    rng = np.random.default_rng(7)
    ratios = [
        mcerror.headline_errors(_results(rng.normal(300, 50, size=(n, 2))))["mean_ratio"].mean()
        for n in (30, 200)
    ]
    assert ratios[0] == pytest.approx(1 / (2 * mcerror.Z80 * np.sqrt(30)), rel=0.15)
    assert ratios[0] > 0.05 > ratios[1]


def test_zero_width_uses_the_spread_of_the_replications():
    """92.5% of replications have nobody waiting: the 80% interval is 0 – 0."""
    values = np.zeros((200, 2))
    values[:15, 0] = np.arange(1, 16)  # census 1: a few replications do have long waits
    e = mcerror.headline_errors(_results(values))
    assert e["width"].tolist() == [0.0, 0.0]
    sd = values[:, 0].std(ddof=1)
    assert e["reference_width"][0] == pytest.approx(2 * mcerror.Z80 * sd)
    assert e["mean_ratio"][0] == pytest.approx(1 / (2 * mcerror.Z80 * np.sqrt(200)))
    # census 2: every replication the same, no Monte Carlo error at all, and that passes
    assert e.loc[1, ["mean_se", "median_se", "p10_se", "p90_se", "p_none_se"]].eq(0).all()
    assert e.loc[1, ["mean_ratio", "p90_ratio"]].eq(0).all()
    assert mcerror.check(e.iloc[[1]]).met is True
    # census 1: the median and 10th percentile sit deep in the zeros (no error); the 90th
    # is near their edge (92.5% against 90%), so another seed could move it: flagged
    assert e.loc[0, ["median_se", "p10_se"]].lt(1e-6).all() and e.loc[0, "p90_se"] > 0.1
    assert [fig for _, fig, _ in mcerror.check(e).failures] == ["p90"]


def test_the_probability_is_held_to_five_points():
    values = np.zeros((40, 2))
    values[:20] = 5  # P(nobody) = 50% from 40 replications: s.e. 7.9 points
    e = mcerror.headline_errors(_results(values))
    assert e["p_none_ratio"][0] == pytest.approx(np.sqrt(0.25 / 40))
    verdict = mcerror.check(e, figures=("p_none",))
    assert verdict.met is False and "percentage points" in verdict.sentence()


def test_one_replication_cannot_tell():
    e = mcerror.headline_errors(_results(np.array([[3.0, 4.0]])))
    assert e["mean_se"].isna().all() and e["p90_se"].isna().all()
    verdict = mcerror.check(e)
    assert verdict.met is None and "not estimated" in verdict.sentence()


def test_errors_are_deterministic_and_ignore_the_order_of_replications():
    rng = np.random.default_rng(8)
    values = np.round(rng.lognormal(4, 1, size=(150, 2)))
    first = mcerror.headline_errors(_results(values))
    pd.testing.assert_frame_equal(first, mcerror.headline_errors(_results(values)))
    shuffled = mcerror.headline_errors(_results(values[rng.permutation(150)]))
    pd.testing.assert_frame_equal(first, shuffled, rtol=1e-12)


def test_replications_needed_goes_as_one_over_root_n():
    assert mcerror.replications_needed(200, 0.10) == 800
    assert mcerror.replications_needed(200, 0.04) == 200
    assert mcerror.replications_needed(100, 0.0731) == 220  # 213.7, up to two figures


def test_se_text():
    assert [mcerror.se_text(x) for x in (0.0, 0.01, 0.43, 4.6, 19.4, np.nan)] == [
        "±0",
        "±0",
        "±0.4",
        "±4.6",
        "±19",
        "",
    ]
    assert mcerror.with_se(0.22, 0.029, percent=True) == "22% ±2.9"


# -- shown in the CLI table, the report and the workbook ----------------------------------


@pytest.fixture(scope="module")
def run():
    return pp.run("herts-baseline", replications=20, seed=11)


def test_cli_table_shows_each_figures_error(run, tmp_path):
    result = CliRunner().invoke(
        main, ["run", "-n", "20", "--seed", "11", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    e = mcerror.headline_errors(run)
    rows = [line.split() for line in result.stdout.splitlines() if line[:4].isdigit()]
    assert len(rows) == len(e)
    for cells, err in zip(rows, e.itertuples(index=False), strict=True):
        # census, median, ±, p10, ±, –, p90, ±, P, ±
        assert cells[0] == str(err.census)
        assert cells[1:3] == [f"{err.median:.0f}", mcerror.se_text(err.median_se)]
        assert cells[3:5] == [f"{err.p10:.0f}", mcerror.se_text(err.p10_se)]
        assert cells[6:8] == [f"{err.p90:.0f}", mcerror.se_text(err.p90_se)]
        assert cells[8:10] == [f"{err.p_none:.0%}", mcerror.se_text(err.p_none_se, True)]
    flat = " ".join(result.stdout.split())
    assert "± is the Monte Carlo standard error" in flat
    assert mcerror.check(e).sentence() in flat  # 20 replications: says plainly it falls short
    assert "NOT within 5%" in flat


def test_report_shows_each_figures_error_and_the_verdict(run):
    e = mcerror.headline_errors(run)
    verdict = mcerror.check(e)
    page = report_markdown(run)
    for err in e.itertuples(index=False):
        row = next(line for line in page.splitlines() if line.startswith(f"| {err.census} |"))
        assert f"| {mcerror.with_se(err.median, err.median_se)} |" in row
        assert (
            f"{mcerror.with_se(err.p10, err.p10_se)} – {mcerror.with_se(err.p90, err.p90_se)}"
        ) in row
        assert mcerror.with_se(err.p_none, err.p_none_se, percent=True) in row
    assert "Monte Carlo standard error" in page
    assert "NOT within 5%" in page and not verdict.met
    html_page = report_html(run)
    assert "± is the Monte Carlo standard error" in html_page and "NOT within 5%" in html_page


def test_workbook_headline_has_the_errors(run, tmp_path):
    book = openpyxl.load_workbook(run.to_excel(tmp_path / "mc.xlsx"))
    rows = list(book["headline"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    e = mcerror.headline_errors(run)
    for column, title in {
        "median_se": "median: Monte Carlo s.e. [children]",
        "p90_se": "90th percentile: Monte Carlo s.e. [children]",
        "p_none_se": "P(nobody): Monte Carlo s.e.",
        "mean_se": "mean: Monte Carlo s.e. [children]",
    }.items():
        k = header.index(title)
        assert [r[k] for r in body] == pytest.approx(e[column].tolist()), title
    about = {r[0]: r[1] for r in book["about"].iter_rows(values_only=True) if r[0]}
    assert "NOT within 5%" in about["Monte Carlo error"]
