"""Comparison tables: human labels, and P(better), P(same), P(worse) that count ties honestly."""

import numpy as np
import pytest

import placeplan as pp
from placeplan.compare import Comparison
from placeplan.results import Results


@pytest.fixture(scope="module")
def base():
    return pp.run("herts-baseline", 8, seed=6)


def _renamed(results, name, title, dataset=None):
    scenario = results.scenario.model_copy(update={"name": name, "title": title})
    return Results(
        results.dataset if dataset is None else dataset, scenario, results.provenance, None
    )


def test_identical_outcomes_are_the_same_not_better(base):
    twin = _renamed(base, "twin", "The same again")
    table = Comparison([base, twin]).differences()
    assert len(table) == 10  # one row per January census
    assert (table["p_better"] == 0).all()
    assert (table["p_same"] == 1).all()
    assert (table["p_worse"] == 0).all()
    assert (table["difference"] == 0).all()


def test_better_same_and_worse_are_counted_apart(base):
    ds = base.dataset.copy(deep=True)
    k = int(np.flatnonzero(ds["time"].dt.month.to_numpy() == 1)[3])
    values = ds["waiting_over_3_terms"].to_numpy()
    reference = values[:, k].copy()
    # 8 replications: 3 lower (better), 4 equal, 1 higher (worse)
    values[:, k] = reference + np.array([-5, -1, -2, 0, 0, 0, 0, 7])
    option = _renamed(base, "option", "An option", ds)
    row = Comparison([base, option]).differences().iloc[3]
    assert row["p_better"] == pytest.approx(3 / 8)
    assert row["p_same"] == pytest.approx(4 / 8)
    assert row["p_worse"] == pytest.approx(1 / 8)
    assert row["difference"] == pytest.approx(-1 / 8)
    # when higher is better, better and worse swap; ties stay ties
    up = Comparison([base, option]).differences(lower_is_better=False).iloc[3]
    assert (up["p_better"], up["p_same"], up["p_worse"]) == pytest.approx((1 / 8, 4 / 8, 3 / 8))


def test_tables_use_scenario_titles(base):
    option = _renamed(base, "option", "An option <with> title")
    c = Comparison([base, option])
    assert c.titles == [base.scenario.title, "An option <with> title"]
    assert c.label() == "Children waiting longer than three terms"
    table = c.table()
    assert list(table.columns) == [
        "option",
        "January census",
        "mean, option [children]",
        "mean, reference [children]",
        "difference [children]",
        "95% interval [children]",
        "P(better)",
        "P(same)",
        "P(worse)",
    ]
    assert set(table["option"]) == {"An option <with> title (option)"}
    assert set(table["P(same)"]) == {"100%"} and set(table["P(better)"]) == {"0%"}
    frame = c.differences()
    assert set(frame["option_title"]) == {"An option <with> title"}
    assert set(frame["reference_title"]) == {base.scenario.title}


def test_label_follows_the_reference_scenario_thresholds(base):
    s = base.scenario
    one = s.model_copy(update={"calendar": s.calendar.model_copy(update={"long_wait_terms": 1})})
    c = Comparison([Results(base.dataset, one, base.provenance), base])
    assert c.label() == "Children waiting longer than one term"
