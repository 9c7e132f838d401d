"""The published record: Hertfordshire's figures as its documents give them, the SEN2
signals as shadows of the list, and where each falls in a run (bands, bounds, the
report's section and the fan charts' markers)."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_plots import _check

import placeplan as pp
from placeplan import observed as obs
from placeplan.errors import InputError
from placeplan.measures import Thresholds
from placeplan.published import load_published, published
from placeplan.results import Results, build_dataset

TIMES = [
    date(2023, 1, 19),
    date(2023, 5, 18),
    date(2023, 10, 5),
    date(2024, 1, 18),
    date(2024, 5, 16),
    date(2024, 10, 3),
    date(2025, 1, 16),
]
REPS = 101  # values 0..100: the 10th, 50th and 90th percentiles are 10, 50 and 90


@pytest.fixture(scope="module")
def scenario():
    return pp.load_scenario("herts-baseline").model_copy(update={"start": date(2023, 1, 3)})


def handmade(scenario, weeks: float = 52.0, children: pd.DataFrame | None = None) -> Results:
    """A run whose every measure is known: replication r has r of everything."""
    r = np.arange(REPS)[:, None] * np.ones(len(TIMES), dtype=np.int64)
    step = np.arange(len(TIMES))[None, :]
    arrays = {
        "waiting": r,
        "waiting_over_52_weeks": r,
        "waiting_over_3_terms": r // 2,
        "capacity": 3000 + r,
        "placed": r * step,  # since the start: r more at each snapshot
        "capacity_by_designation": (3000 + r)[:, :, None],
        "specialist_demand_by_designation": (3000.0 + r)[:, :, None],
    }
    ds = build_dataset(
        TIMES,
        [f"term {k}" for k in range(len(TIMES))],
        ("ASD",),
        arrays,
        thresholds=Thresholds(3, weeks),
    )
    provenance = {
        "seed": {"given": 1, "entropy": 1},
        "placeplan_version": pp.__version__,
        "scenario": {"resolved_sha256": "0" * 64},
    }
    return Results(ds, scenario, provenance, children)


def point(**kw) -> dict:
    base = {
        "id": "p",
        "what": "A point",
        "source": "Test council update",
        "licence": "test licence",
        "shadow": False,
        "kind": "count",
        "relation": "=",
        "value": 0.0,
        "units": "children",
        "measure": "waiting",
        "date": None,
        "start": None,
        "end": None,
        "quote": "",
        "note": "",
    }
    return base | kw


# ---------------------------------------------------------------- the bundled figures
def test_hertfordshire_figures_are_what_its_documents_say():
    record = published("Hertfordshire")
    figures = {f.id: f for f in record.figures}
    placed = figures["placed-after-waiting-over-a-year-sep-2023-to-mar-2024"]
    assert (placed.kind, placed.relation, placed.value) == ("interval", "about", 100)
    assert (placed.start, placed.end) == (date(2023, 9, 1), date(2024, 3, 31))
    assert placed.measure == "placed_after_waiting_over_52_weeks"
    texts = [q.text for q in placed.quotes]
    assert any("over 100 children" in t for t in texts)  # the two versions disagree
    assert any("almost 100 children" in t for t in texts)
    waiting = figures["waiting-over-a-year-mar-2024"]
    assert (waiting.kind, waiting.relation, waiting.value) == ("bound", "<", 70)
    assert waiting.at == date(2024, 3, 31) and waiting.measure == "waiting_over_52_weeks"
    assert all("less than 70" in q.text for q in waiting.quotes)
    assert figures["places-2018-19"].value == 2350
    assert figures["places-2018-19"].start == date(2018, 9, 1)
    assert figures["places-sep-2024"].value == 3054
    assert figures["places-sep-2024"].start == date(2024, 9, 1)
    for f in record.figures:
        assert f.quotes and all(s.licence and s.short for s in record.source_of(f))
        assert any(f"{f.value:g}" in q.text for q in f.quotes)
    assert record.area == "E10000015"
    assert published("E10000015") is record
    assert published("Leeds") is None  # no figures bundled for most councils


def test_the_published_increase_that_does_not_add_up_is_a_statement():
    record = published("E10000015")
    stated = {s.id: s for s in record.statements}["places-increase-stated"]
    assert "737 places" in stated.quotes[0].text and "704" in stated.why_not_compared


def _write(tmp_path: Path, figure: str, name: str = "figures.yaml") -> Path:
    path = tmp_path / name
    path.write_text(
        "area: E10000015\n"
        "council: Test\n"
        "sources:\n"
        "  doc:\n"
        "    short: Doc\n"
        "    title: A document\n"
        "    publisher: A council\n"
        "    published: March 2024\n"
        "    document: here\n"
        "    licence: none stated\n"
        "figures:\n" + figure,
        encoding="utf-8",
    )
    return path


GOOD = (
    "  - id: bound\n"
    "    what: Still waiting over a year\n"
    "    kind: bound\n"
    "    relation: '<'\n"
    "    value: 70\n"
    "    units: children\n"
    "    measure: waiting_over_52_weeks\n"
    "    at: 2024-03-31\n"
    "    quotes: [{source: doc, text: fewer than 70}]\n"
)


def test_a_figure_file_of_ones_own_reads(tmp_path):
    record = load_published(_write(tmp_path, GOOD))
    assert record.figures[0].at == date(2024, 3, 31)


@pytest.mark.parametrize(
    ("change", "line", "field", "says"),
    [
        (
            ("    at: 2024-03-31\n", "    date: 2024-03-31\n    colour: red\n"),
            20,
            "figures.0.colour",
            "unknown key 'colour'",
        ),
        (("2024-03-31", "2024-02-30"), 19, "figures.0.at", "valid date"),
        (("relation: '<'", "relation: '='"), 12, "figures.0", "a bound's relation"),
        (
            ("waiting_over_52_weeks", "waiting_forever"),
            12,
            "figures.0",
            "unknown measure 'waiting_forever'",
        ),
        (("source: doc", "source: elsewhere"), None, "", "'elsewhere' is not among the sources"),
        (
            ("kind: bound", "kind: interval"),
            12,
            "figures.0",
            "an interval count gives start and end",
        ),
    ],
)
def test_bad_figure_files_say_file_line_field_and_what_was_expected(
    tmp_path, change, line, field, says
):
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(InputError) as err:
        load_published(path)
    message = str(err.value)
    assert str(path) in message and says in message
    if line is not None:
        assert f"{path}:{line}: {field}:" in message


def test_an_interval_needs_events_and_a_level_needs_a_level(tmp_path):
    interval_of_a_level = GOOD.replace("kind: bound", "kind: interval").replace(
        "    at: 2024-03-31\n", "    start: 2023-09-01\n    end: 2024-03-31\n"
    )
    with pytest.raises(InputError, match="needs a measure of events"):
        load_published(_write(tmp_path, interval_of_a_level))
    level_of_events = GOOD.replace("waiting_over_52_weeks", "placed")
    with pytest.raises(InputError, match="needs a level"):
        load_published(_write(tmp_path, level_of_events))


# ---------------------------------------------------------------- SEN2 signals
def test_hertfordshire_sen2_signals_are_the_published_numbers():
    signals = obs.sen2_signals("Hertfordshire").set_index("year")
    assert signals.loc[2019:2025, "ed_elsewhere"].tolist() == [74, 109, 93, 145, 384, 638, 653]
    assert signals.loc[2019:2022, "await_prov"].tolist() == [107, 112, 130, 133]
    assert signals.loc[2023:2025, "await_prov"].isna().all()  # not published after 2022
    assert signals.loc[2025, "census"] == date(2025, 1, 16)  # third Thursday of January
    assert "shadows" in signals.attrs["description"]
    assert "Open Government Licence" in signals.attrs["attribution"]
    for column in ("plans", "special", "special_independent", "special_non_maintained"):
        assert signals.loc[2025, column] > 0


def test_sen2_signals_known_until_an_origin():
    assert obs.sen2_signals("E10000015", 2020)["year"].max() == 2020
    assert obs.sen2_signals("E10000015", date(2019, 1, 16))["year"].max() == 2018
    with pytest.raises(InputError, match="no SEN2 January on or before 2005"):
        obs.sen2_signals("E10000015", 2005)
    with pytest.raises(InputError, match="No SEN2 area matches"):
        obs.sen2_signals("Atlantis")


def test_sen2_signals_become_shadow_points_of_the_list():
    points = obs.observations("E10000015")
    shadows = points[points["shadow"]]
    assert len(shadows) == 7 + 4
    assert set(shadows["measure"]) == {"waiting"}
    assert all(s.startswith("DfE SEN2") for s in shadows["source"])
    assert all("shadow" in note for note in shadows["note"])
    # independent and non-maintained special schools: a direct count of part of
    # placed elsewhere (not a shadow), 111 in January 2019 and 332 in 2025 (278 + 54)
    independent = points[points["id"].str.startswith("sen2-independent")]
    assert set(independent["measure"]) == {"placed_elsewhere"}
    assert not independent["shadow"].any()
    assert independent["value"].tolist() == [111, 145, 178, 230, 255, 269, 332]
    others = points[~points["shadow"] & ~points["id"].str.startswith("sen2-independent")]
    assert (others["id"].str.startswith("sen2")).sum() == 0


# ---------------------------------------------------------------- comparison and bands
@pytest.mark.parametrize(
    ("value", "band"),
    [
        (5, "below the 10th percentile"),
        (30, "10th–50th percentile"),
        (50, "10th–50th percentile"),  # at the median: its mid-rank is 0.5
        (70, "50th–90th percentile"),
        (95, "above the 90th percentile"),
    ],
)
def test_the_band_a_value_falls_in(scenario, value, band):
    results = handmade(scenario)
    table = obs.compare(results, pd.DataFrame([point(date=date(2024, 2, 1), value=value)]))
    row = table.iloc[0]
    assert (row["p10"], row["p50"], row["p90"]) == (10, 50, 90)
    assert row["band"] == band
    assert row["compared_at"] == "2024-01-18"  # the latest snapshot on or before
    assert row["percentile"] == pytest.approx((value + 0.5) / REPS)


def test_a_bound_gives_the_probability_it_holds(scenario):
    results = handmade(scenario)
    bound = point(kind="bound", relation="<", value=70, measure="waiting_over_52_weeks")
    table = obs.compare(results, pd.DataFrame([bound | {"date": date(2024, 3, 31)}]))
    row = table.iloc[0]
    assert row["p_holds"] == pytest.approx(70 / REPS)  # replications 0..69
    assert row["band"] == "50th–90th percentile"
    at_least = bound | {"relation": ">=", "date": date(2024, 3, 31)}
    assert obs.compare(results, pd.DataFrame([at_least]))["p_holds"].iloc[0] == pytest.approx(
        31 / REPS
    )


def test_a_level_over_a_period_is_read_at_its_first_snapshot(scenario):
    results = handmade(scenario)
    places = point(measure="capacity", units="places", value=3054, start=date(2024, 9, 1))
    row = obs.compare(results, pd.DataFrame([places | {"end": date(2025, 8, 31)}])).iloc[0]
    assert row["compared_at"] == "2024-10-03"
    assert row["p50"] == 3050 and row["band"] == "50th–90th percentile"


def test_an_interval_count_is_the_increase_between_snapshots(scenario):
    results = handmade(scenario)
    # placed = r × snapshot index: from 2023-10-05 (index 2) to 2024-05-16 (index 4): 2r
    interval = point(kind="interval", measure="placed", start=date(2023, 10, 5))
    table = obs.compare(results, pd.DataFrame([interval | {"end": date(2024, 5, 20)}]))
    row = table.iloc[0]
    assert row["compared_at"] == "2023-10-05 to 2024-05-16 (snapshots)"
    assert (row["p10"], row["p50"], row["p90"]) == (20, 100, 180)


def test_a_measure_the_run_lacks_is_not_simulated_and_says_which(scenario):
    record = published("E10000015")
    table = obs.compare(handmade(scenario), record)
    row = table.set_index("id").loc["placed-after-waiting-over-a-year-sep-2023-to-mar-2024"]
    assert row["status"].startswith("not simulated")
    assert "placed_after_waiting_over_52_weeks" in row["status"]
    assert np.isnan(row["p50"]) and row["band"] == ""
    assert obs.needed_measures(table) == [row["status"]]


def test_the_child_log_gives_children_placed_after_a_long_wait(scenario):
    # replication 0: placed after 400 days in the interval (counts), after 300 (no),
    # after 400 but before the interval (no); replication 1 none; replication 2: two
    children = pd.DataFrame(
        {
            "replicate": [0, 0, 0, 2, 2],
            "referred": pd.to_datetime(
                ["2022-11-01", "2023-01-10", "2022-01-01", "2022-10-01", "2023-01-01"]
            ),
            "placed": pd.to_datetime(
                ["2023-12-06", "2023-11-06", "2023-02-05", "2024-03-31", "2024-01-01"]
            ),
        }
    )
    results = handmade(scenario, children=children)
    record = published("E10000015")
    table = obs.compare(results, record).set_index("id")
    row = table.loc["placed-after-waiting-over-a-year-sep-2023-to-mar-2024"]
    assert row["status"] == "compared" and row["compared_at"].endswith("(child log)")
    expected = np.zeros(REPS)
    expected[0], expected[2] = 1, 2
    got = obs._flow_from_log(
        results, "placed_after_waiting_over_52_weeks", date(2023, 9, 1), date(2024, 3, 31)
    )
    np.testing.assert_array_equal(got, expected)
    assert row["band"] == "above the 90th percentile"  # 100 against at most 2
    assert row["percentile"] == 1.0


def test_a_run_with_another_long_wait_threshold_is_not_comparable(scenario):
    results = handmade(scenario, weeks=26)
    table = obs.compare(results, published("E10000015")).set_index("id")
    status = table.loc["waiting-over-a-year-mar-2024", "status"]
    assert status.startswith("not comparable") and "26 weeks" in status


def test_points_outside_the_run_are_listed_not_compared(scenario):
    table = obs.compare(handmade(scenario))  # the run's council: figures and SEN2 signals
    assert "places-2018-19" in table.attrs["outside"]
    assert "sen2-ed-elsewhere-2019" in table.attrs["outside"]
    assert set(table["id"]) >= {"sen2-ed-elsewhere-2023", "sen2-ed-elsewhere-2025"}
    assert not set(table["id"]) & set(table.attrs["outside"])
    shadow = table.set_index("id").loc["sen2-ed-elsewhere-2024"]
    assert shadow["compared_at"] == "2024-01-18" and shadow["measure"] == "waiting"
    assert shadow["band"] == "above the 90th percentile"  # 638 against 0..100


# ---------------------------------------------------------------- the report's section
def test_the_report_section_tables_every_point_with_its_band(scenario):
    lines = obs.observed_section(handmade(scenario))
    text = "\n".join(lines)
    assert lines[0] == "## Against the published record"
    header = next(line for line in lines if line.startswith("| published figure"))
    for column in ("simulated median", "simulated 80% interval", "band", "P(bound holds)"):
        assert column in header
    assert "fewer than 70" in text and "| 69% |" in text  # 70 of 101 replications
    assert "a shadow of the list, not the list" in text
    assert "not simulated" in text
    sentence = next(line for line in lines if line.startswith("Of "))
    assert "holds in 69% of replications" in sentence
    assert "SEN2 shadows of the list" in sentence and "could not be compared" in sentence
    assert "Open Government Licence" in text


def test_a_run_beside_no_published_point_says_so(scenario):
    results = handmade(scenario)
    empty = pd.DataFrame([point(date=date(2030, 1, 1))])
    lines = obs.observed_section(results, empty)
    assert not any(line.startswith("|") for line in lines)
    assert any(line.startswith("No published figure or SEN2 signal falls within") for line in lines)


# ---------------------------------------------------------------- fan charts
def _observed_lines(fig):
    return [line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == "observed"]


def test_fan_charts_draw_published_points_with_bounds_apart(scenario):
    results = handmade(scenario)
    points = pd.DataFrame(
        [
            point(id="a", measure="waiting_over_52_weeks", value=40, date=date(2024, 2, 1)),
            point(
                id="b",
                kind="bound",
                relation="<",
                measure="waiting_over_52_weeks",
                value=70,
                date=date(2024, 3, 31),
            ),
            point(id="c", measure="waiting_over_52_weeks", value=9, date=date(2030, 1, 1)),
            point(id="d", measure="waiting", value=99, date=date(2024, 3, 31)),
        ]
    )
    fig = results.plot.fan("waiting_over_52_weeks", observed=points)
    lines = {line.get_marker(): line for line in _observed_lines(fig)}
    assert set(lines) == {"D", "v"}  # a count, an upper bound; the 2030 point is outside
    assert list(lines["D"].get_ydata()) == [40] and list(lines["v"].get_ydata()) == [70]
    assert lines["v"].get_markerfacecolor() == "none"
    assert lines["D"].get_label() == "published: Test council update"
    assert "upper bound" in lines["v"].get_label().replace("\n", " ")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "published: Test council update" in legend
    top = fig.axes[0].get_ylim()[1]
    assert top > 70  # the points are in view
    _check(fig, results)  # title, units, footer, no text over text


def test_fan_charts_mark_sen2_shadows_and_figures_add_fans(scenario):
    results = handmade(scenario)
    figs = results.plot.figures(observed=obs.observations("E10000015"))
    shadows = _observed_lines(figs["fan-waiting"])
    assert len(shadows) == 1 and shadows[0].get_marker() == "o"
    assert "shadow" in shadows[0].get_label()
    assert sorted(shadows[0].get_ydata()) == [384, 638, 653]  # Januaries 2023–2025
    assert "fan-waiting-over-52-weeks" in figs and "fan-capacity" in figs
    for name in ("fan-waiting", "fan-capacity", "fan-waiting-over-52-weeks"):
        _check(figs[name], results)
    assert [line.get_marker() for line in _observed_lines(figs["fan-waiting-over-52-weeks"])] == [
        "v"
    ]
    assert not _observed_lines(results.plot.fan("waiting"))  # none unless asked


def test_an_impossible_date_in_a_scenario_is_an_error_with_its_line_not_a_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("extends: herts-baseline\nstart: 2024-02-30\n", encoding="utf-8")
    with pytest.raises(pp.ScenarioError) as err:
        pp.load_scenario(path)
    assert f"{path}:2: start:" in str(err.value) and "valid date" in str(err.value)
