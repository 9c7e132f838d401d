"""Figures: titles, axes with units, a footer saying what produced them; PNG and SVG;
January views of the January headline, labels that follow the scenario's thresholds,
no overlapping labels, and no locality chart without localities."""

import itertools

import pandas as pd
import pytest
from test_cli import placeplan

import placeplan as pp
from placeplan.plot import comparison, save


@pytest.fixture(scope="module")
def results():
    return pp.run("herts-baseline", 8, seed=4, child_log=True)


@pytest.fixture(scope="module")
def two_localities():
    s = pp.load_scenario("herts-baseline")
    county = s.placement.localities["county"]
    localities = {
        "north": county.model_copy(update={"share": 0.5, "neighbours": ("south",)}),
        "south": county.model_copy(update={"share": 0.5, "neighbours": ("north",)}),
    }
    s = s.model_copy(
        update={
            "name": "two-localities",
            "placement": s.placement.model_copy(update={"localities": localities}),
        }
    )
    return pp.run(s, 3, seed=4)


@pytest.fixture(scope="module")
def one_term():
    s = pp.load_scenario("herts-baseline")
    s = s.model_copy(update={"calendar": s.calendar.model_copy(update={"long_wait_terms": 1})})
    return pp.run(s, 3, seed=4, child_log=True)


def _check(fig, results):
    texts = [t.get_text() for t in fig.texts]
    footer = " ".join(texts)
    assert (
        results.scenario.name in footer and f"seed {results.provenance['seed']['given']}" in footer
    )
    assert f"placeplan {pp.__version__}" in footer
    assert f"{results.replications} replications" in footer
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        assert ax.get_title() or fig._suptitle is not None
        assert "[" in ax.get_ylabel() and "]" in ax.get_ylabel()  # units
    _no_overlaps(fig)


def _boxes(fig):
    """Window extents of every visible text: tick labels, titles, labels, legends, footer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = list(fig.texts)  # the footer and the suptitle
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            texts += [
                tick.label1
                for tick in axis.get_major_ticks()
                if tick.label1.get_visible() and low <= tick.get_loc() <= high
            ]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_text()]
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + fig.legends
    boxes += [(f"legend {k}", lg.get_window_extent(renderer)) for k, lg in enumerate(legends)]
    return boxes


def _no_overlaps(fig):
    boxes = _boxes(fig)
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        overlap = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        assert overlap <= 1 or height <= 1, f"{a!r} overlaps {b!r}"
    width, height = fig.bbox.width, fig.bbox.height
    for text, box in boxes:  # and nothing is cut off at the edges
        assert box.x0 >= -1 and box.y0 >= -1, text
        assert box.x1 <= width + 1 and box.y1 <= height + 1, text


@pytest.mark.parametrize("name", ["fan", "demand_capacity", "terms_waited"])
def test_figures(results, name, tmp_path):
    fig = getattr(results.plot, name)()
    _check(fig, results)
    for suffix in ("png", "svg"):
        path = save(fig, tmp_path / f"{name}.{suffix}")
        assert path.stat().st_size > 5000
    with pytest.raises(ValueError, match=r"png or \.svg"):
        save(fig, tmp_path / "x.pdf")


def test_no_locality_chart_with_one_locality(results, two_localities):
    assert results.plot.available() == ["fan", "demand_capacity", "terms_waited"]
    assert "placed-in-own-locality" not in results.plot.figures()
    with pytest.raises(ValueError, match="more than one locality"):
        results.plot.own_locality()
    assert "own_locality" in two_localities.plot.available()
    assert "terms_waited" not in two_localities.plot.available()  # no child log
    fig = two_localities.plot.figures()["placed-in-own-locality"]
    _check(fig, two_localities)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["north", "south"]


def test_fan_of_the_headline_is_drawn_at_january_censuses(results):
    fig = results.plot.fan()
    ax = fig.axes[0]
    median = next(line for line in ax.get_lines() if line.get_label() == "median")
    months = pd.to_datetime(median.get_xdata()).month
    januaries = pd.to_datetime(results.dataset["time"].to_numpy())
    januaries = januaries[januaries.month == 1]
    assert (months == 1).all() and len(months) == len(januaries)
    assert "at each January census" in ax.get_title() and ax.get_xlabel() == "January census"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "aim: nobody waits that long" in labels and "median" in labels
    # other measures: every census day, with the January censuses marked
    waiting = results.plot.fan("waiting").axes[0]
    lines = {line.get_label(): line for line in waiting.get_lines()}
    assert len(lines["median"].get_xdata()) == results.dataset.sizes["time"]
    assert len(lines["median, January census"].get_xdata()) == len(januaries)


def test_labels_and_calendar_follow_the_scenario(one_term):
    fan = one_term.plot.fan().axes[0]
    assert fan.get_title().startswith("Children waiting longer than one term")
    hist = one_term.plot.terms_waited().axes[0]
    threshold = [line for line in hist.get_lines() if line.get_linestyle() == "--"]
    assert [line.get_xdata()[0] for line in threshold] == [0.5]
    labels = [t.get_text() for t in hist.get_legend().get_texts()]
    assert "children waiting longer than one term" in labels
    assert "2034-01-19" in hist.get_title()  # the last January census, not the last snapshot


def test_terms_waited_counts_on_the_scenario_calendar(results):
    """Bars add up to the children waiting at the last January census, by whole terms."""
    hist = results.plot.terms_waited().axes[0]
    heights = {}
    for patch in hist.patches:
        x = round(patch.get_x() + patch.get_width() / 2)
        heights[x] = heights.get(x, 0) + patch.get_height()
    last = pd.Timestamp("2034-01-19")
    waiting = results.dataset["waiting"].sel(time=last).mean("replicate")
    assert sum(heights.values()) == pytest.approx(float(waiting))
    long = results.dataset["waiting_over_3_terms"].sel(time=last).mean("replicate")
    assert sum(h for x, h in heights.items() if x >= 3) == pytest.approx(float(long))


def test_long_runs_keep_tick_labels_apart():
    s = pp.load_scenario("herts-baseline").model_copy(update={"years": 30})
    r = pp.run(s, 2, seed=1)
    for fig in r.plot.figures().values():
        _no_overlaps(fig)


def test_comparison_figure():
    c = pp.compare(["herts-no-further-building", "herts-baseline", "herts-slippage"], 4, seed=2)
    fig = comparison(c)
    _check(fig, c.results[0])
    title = fig.axes[0].get_title().replace("\n", " ")
    assert "difference from Hertfordshire — no further building" in title
    assert title.startswith("Children waiting longer than three terms")
    labels = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_legend().get_texts()]
    assert labels == c.titles[1:]


def test_cite_and_plot_commands(tmp_path, results):
    results.save(tmp_path / "run")
    cite = placeplan("cite", str(tmp_path / "run"))
    assert cite.returncode == 0
    text = cite.stdout
    assert results.scenario.digest() in text and "seed entropy 4" in text
    assert f"placeplan {pp.__version__}" in text and "Open Government Licence" in text
    drawn = placeplan("plot", str(tmp_path / "run"), "--format", "svg")
    assert drawn.returncode == 0, drawn.stderr
    written = sorted(p.stem for p in (tmp_path / "run" / "figures").glob("*.svg"))
    assert written == sorted(results.plot.figures())
    assert written == [
        "demand-and-places",
        "fan-waiting",
        "fan-waiting-over-3-terms",
        "terms-waited",
    ]  # one locality: no locality chart
