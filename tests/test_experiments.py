"""The experiment layer: comparisons with common random numbers, precision, parallel runs,
the results API and the exports."""

import json

import numpy as np
import openpyxl
import pytest
import xarray as xr
from test_cli import placeplan

import placeplan as pp


def _same(a, b):
    xr.testing.assert_identical(a.dataset.drop_attrs(deep=False), b.dataset.drop_attrs(deep=False))


@pytest.fixture(scope="module")
def comparison():
    return pp.compare(["herts-no-further-building", "herts-baseline"], replications=40, seed=3)


def test_paired_differences_are_narrower_than_independent_ones(comparison):
    paired = comparison.differences()
    jan28 = paired[paired["census"].astype(str) == "2028-01-20"].iloc[0]
    assert jan28["difference"] < 0 and jan28["ci_high"] < 0  # building cuts long waits
    assert jan28["p_better"] > 0.9
    # the same two scenarios on independent streams (different seeds)
    a = comparison.results[0].dataset["waiting_over_3_terms"].sel(time="2028-01-20")
    b = pp.run("herts-baseline", 40, seed=4).dataset["waiting_over_3_terms"].sel(time="2028-01-20")
    n = a.sizes["replicate"]
    independent = 2.02 * np.sqrt(float(a.var(ddof=1)) / n + float(b.var(ddof=1)) / n)
    paired_half = (jan28["ci_high"] - jan28["ci_low"]) / 2
    assert paired_half < 0.5 * independent, (paired_half, independent)


def test_common_random_numbers_share_demand(comparison):
    a, b = (r.dataset for r in comparison.results)
    np.testing.assert_array_equal(a["referred"], b["referred"])  # the same children referred
    assert not np.array_equal(a["capacity"], b["capacity"])


def test_serial_pool_and_dask_give_identical_datasets():
    serial = pp.run("herts-baseline", 12, seed=9)
    pool = pp.run("herts-baseline", 12, seed=9, workers=2)
    _same(serial, pool)
    pytest.importorskip("dask.distributed")
    on_dask = pp.run("herts-baseline", 12, seed=9, workers=2, dask=True)
    _same(serial, on_dask)
    assert on_dask.provenance["backend"] == "dask"


def test_precision_runs_until_the_interval_is_tight():
    loose = pp.run("herts-baseline", seed=5, precision=0.3)
    tight = pp.run("herts-baseline", seed=5, precision=0.15)
    assert 20 <= loose.replications < tight.replications <= 2000
    assert tight.provenance["precision"]["achieved"] <= 0.15
    assert loose.provenance["precision"]["achieved"] <= 0.3
    # the first replications are the same ones, whatever the stopping rule
    xr.testing.assert_identical(
        loose.dataset.drop_attrs(deep=False),
        tight.dataset.isel(replicate=slice(0, loose.replications)).drop_attrs(deep=False),
    )


def test_results_api_and_round_trip(tmp_path):
    r = pp.run("herts-baseline", 10, seed=1, child_log=True)
    q = r.quantiles("waiting", (0.1, 0.9))
    assert list(q.columns) == ["q0.1", "q0.9"] and (q["q0.1"] <= q["q0.9"]).all()
    p_none = r.prob(lambda w: w == 0)
    head = r.headline()
    jan = p_none[p_none.index.month == 1].to_numpy()
    np.testing.assert_allclose(jan, head["p_none"].to_numpy())
    r.save(tmp_path / "run")
    back = pp.open_results(tmp_path / "run")
    xr.testing.assert_allclose(back.dataset, r.dataset)
    assert back.scenario == r.scenario and back.provenance == r.provenance
    assert len(back.children) == len(r.children)
    with pytest.raises(pp.InputError, match="not a run folder"):
        pp.open_results(tmp_path)


def test_excel_workbook(tmp_path):
    r = pp.run("herts-baseline", 4, seed=2)
    path = r.to_excel(tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    assert {"headline", "summary", "waiting_over_3_terms", "provenance"} <= set(wb.sheetnames)
    sheet = wb["waiting_over_3_terms"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[0] == "time (children)" and header[1:] == [f"replicate {i}" for i in range(4)]
    fields = {row[0]: row[1] for row in wb["provenance"].iter_rows(min_row=2, values_only=True)}
    assert fields["seed.entropy"] == "2" and fields["units of out_of_area_cost"] == "GBP"


def test_cli_compare_and_export(tmp_path):
    proc = placeplan(
        "compare",
        "herts-no-further-building",
        "herts-baseline",
        "-n",
        "8",
        "--seed",
        "1",
        "--out",
        str(tmp_path / "c"),
        "-q",
    )
    assert proc.returncode == 0, proc.stderr
    assert "P(better)" in proc.stdout and "herts-baseline" in proc.stdout
    assert (tmp_path / "c" / "comparison.csv").exists()
    assert (tmp_path / "c" / "herts-baseline" / "results.nc").exists()
    exported = placeplan("export", str(tmp_path / "c" / "herts-baseline"))
    assert (
        exported.returncode == 0 and (tmp_path / "c" / "herts-baseline" / "results.xlsx").exists()
    )
    assert placeplan("compare", "herts-baseline").returncode == 2
    run = placeplan("run", "-n", "4", "--seed", "1", "--workers", "2", "--out", str(tmp_path / "w"))
    assert run.returncode == 0, run.stderr
    prov = json.loads((tmp_path / "w" / "provenance.json").read_text())
    assert prov["workers"] == 2 and prov["backend"] == "process pool"


SWEEP = """name: damping
scenarios: [herts-baseline, herts-no-further-building]
parameters:
  demand.new_plans_growth_damping: [0.7, 1.0]
replications: 3
seed: 1
"""


def test_sweep_resumes_and_equals_an_uninterrupted_sweep(tmp_path):
    from placeplan.sweep import open_sweep, run_sweep

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SWEEP)
    whole = run_sweep(sweep, tmp_path / "whole")
    assert len(whole) == 4 and whole["done"].all()
    # "killed" after two points, then run again: only the missing two are computed
    partial = run_sweep(sweep, tmp_path / "resumed", stop_after=2)
    assert partial["done"].sum() == 2
    computed = []
    run_sweep(sweep, tmp_path / "resumed", on_point=lambda p, ran: computed.append(ran))
    assert computed.count(True) == 2 and computed.count(False) == 2
    a, b = open_sweep(tmp_path / "whole"), open_sweep(tmp_path / "resumed")
    xr.testing.assert_identical(a, b)
    assert a.sizes["point"] == 4
    # points share the seed: the same demand, different outcomes
    jan = a["waiting_over_3_terms"].sel(time="2030-01-17")
    assert not np.array_equal(jan.isel(point=0), jan.isel(point=2))


def test_a_sweeps_councils_are_their_own_whole_scenarios(tmp_path):
    """A council in a sweep brings its demand and its places: never mixed with another's."""
    from placeplan.council_init import scenario_for
    from placeplan.scenario import scenario_from_dict
    from placeplan.sweep import load_sweep, points

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        "name: councils\nscenarios: [herts-baseline]\ncouncils: [Rutland]\n"
        "parameters:\n  demand.new_plans_growth_damping: [0.7, 1.0]\nreplications: 2\n"
    )
    spec, folder = load_sweep(sweep)
    found = points(spec, folder)
    assert len(found) == 4
    rutland = [p["scenario"] for p in found if p["label"]["council"] == "Rutland"]
    own = scenario_from_dict(scenario_for("Rutland"))
    assert len(rutland) == 2
    for s in rutland:
        assert s.council.code == own.council.code == s.demand.sen2_area
        assert s.placement.designations == own.placement.designations
        assert s.demand.new_plans_growth == own.demand.new_plans_growth
    assert sorted(s.demand.new_plans_growth_damping.mean for s in rutland) == [0.7, 1.0]
    herts = [p["scenario"] for p in found if p["label"]["council"] == ""]
    assert {s.council.name for s in herts} == {"Hertfordshire"}
    sweep.write_text("name: none\nreplications: 2\n")
    proc = placeplan("sweep", str(sweep), "--out", str(tmp_path / "o"), "-q")
    assert proc.returncode == 2 and "at least one base" in proc.stderr


def test_sweep_errors_exit_2(tmp_path):
    sweep = tmp_path / "bad.yaml"
    sweep.write_text(SWEEP.replace("demand.new_plans_growth_damping", "demand.no_such_thing"))
    proc = placeplan("sweep", str(sweep), "--out", str(tmp_path / "o"), "-q")
    assert proc.returncode == 2 and "demand.no_such_thing" in proc.stderr
    sweep.write_text(SWEEP + "typo: 1\n")
    proc = placeplan("sweep", str(sweep), "--out", str(tmp_path / "o"), "-q")
    assert proc.returncode == 2 and "bad.yaml:7: typo: unknown key" in proc.stderr
