"""Figures: titles, axes with units, and a footer saying what produced them; PNG and SVG."""

import pytest
from test_cli import placeplan

import placeplan as pp
from placeplan.plot import comparison, save


@pytest.fixture(scope="module")
def results():
    return pp.run("herts-baseline", 8, seed=4, child_log=True)


def _check(fig, results):
    texts = [t.get_text() for t in fig.texts]
    footer = " ".join(texts)
    assert (
        results.scenario.name in footer and f"seed {results.provenance['seed']['given']}" in footer
    )
    assert f"placeplan {pp.__version__}" in footer
    assert f"{results.replications} replications" in footer
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        assert ax.get_title() or fig._suptitle is not None
        assert "[" in ax.get_ylabel() and "]" in ax.get_ylabel()  # units


@pytest.mark.parametrize("name", ["fan", "demand_capacity", "terms_waited", "own_locality"])
def test_figures(results, name, tmp_path):
    fig = getattr(results.plot, name)()
    _check(fig, results)
    for suffix in ("png", "svg"):
        path = save(fig, tmp_path / f"{name}.{suffix}")
        assert path.stat().st_size > 5000
    with pytest.raises(ValueError, match=r"png or \.svg"):
        save(fig, tmp_path / "x.pdf")


def test_fan_marks_the_aim(results):
    fig = results.plot.fan()
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "aim: nobody" in labels and "median" in labels


def test_comparison_figure():
    c = pp.compare(["herts-no-further-building", "herts-baseline"], 6, seed=2)
    fig = comparison(c)
    _check(fig, c.results[0])
    assert "Difference from herts-no-further-building" in fig.axes[0].get_title()


def test_cite_and_plot_commands(tmp_path, results):
    results.save(tmp_path / "run")
    cite = placeplan("cite", str(tmp_path / "run"))
    assert cite.returncode == 0
    text = cite.stdout
    assert results.scenario.digest() in text and "seed entropy 4" in text
    assert f"placeplan {pp.__version__}" in text and "Open Government Licence" in text
    drawn = placeplan("plot", str(tmp_path / "run"), "--format", "svg")
    assert drawn.returncode == 0, drawn.stderr
    assert len(list((tmp_path / "run" / "figures").glob("*.svg"))) == 5
