"""The national run: every council with its own seed, reduced, ranked, resumable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import placeplan as pp
from placeplan import national
from placeplan.bundled import resolve_scenario_path
from placeplan.errors import InputError
from placeplan.scenario_files import read_scenario_file

SMALL = ("Rutland", "Hartlepool")
"""Two small councils: quick to run."""


def _cli(*args: object) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    exe = shutil.which("placeplan")
    cmd = [exe] if exe else [sys.executable, "-m", "placeplan"]
    return subprocess.run(
        [*cmd, *map(str, args)], capture_output=True, text=True, env=env, timeout=900
    )


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> tuple[national.National, Path]:
    parts = tmp_path_factory.mktemp("national") / "parts"
    return national.national_run(SMALL, replications=12, seed=7, parts=parts), parts


def test_a_council_seed_depends_on_the_seed_and_the_council_alone():
    a = national.council_seed(7, "E06000017")
    assert a == national.council_seed(7, "E06000017")
    assert a != national.council_seed(8, "E06000017")
    assert a != national.council_seed(7, "E06000001")
    assert 0 <= a < 2**64


def test_every_current_council_is_covered_once():
    found = national.councils()
    assert len(found) == 153
    assert found["code"].is_unique
    # councils gone since 2019 are not run: their successors are
    assert "E10000006" not in set(found["code"])  # Cumbria (to 2023)
    assert {"E06000063", "E06000064"} <= set(found["code"])  # Cumberland, Westmorland


def test_councils_are_started_largest_first_and_each_once():
    """Longest first: the small councils fill the workers at the end (no idle tail)."""
    codes = list(national.councils()["code"])
    order = national.largest_first(codes, 2025)
    assert sorted(order) == sorted(codes)
    kent, surrey, rutland, scilly = "E10000016", "E10000030", "E06000017", "E06000053"
    assert order.index(kent) < order.index(surrey) < order.index(rutland) < order.index(scilly)
    assert order[0] == kent  # the most plans in January 2025
    # a council SEN2 has no figure for goes last, not first
    assert national.largest_first([rutland, "E99999999", kent], 2025) == [
        kent,
        rutland,
        "E99999999",
    ]


def test_the_table_holds_the_runs_quantiles_at_the_ranking_january(two, tmp_path):
    result, _ = two
    assert result.year == 2030
    assert list(result.table["name"]) == sorted(
        SMALL, key=lambda n: -result.table.set_index("name").loc[n, "long_waits_median"]
    )
    # against the council run on its own, with its national seed
    code = result.table.loc[result.table["name"] == "Rutland", "code"].item()
    from placeplan.council_init import scenario_for
    from placeplan.scenario import scenario_from_dict

    alone = pp.run(
        scenario_from_dict(scenario_for(code), source="x"),
        12,
        seed=national.council_seed(7, code),
    ).dataset
    jan = pd.DatetimeIndex(alone["time"].to_numpy())
    at = np.flatnonzero((jan.month == 1) & (jan.year == 2030))[0]
    waits = alone["waiting_over_3_terms"].to_numpy()[:, at]
    short = (alone["need"] - alone["capacity"]).to_numpy()[:, at]
    row = result.table.set_index("code").loc[code]
    assert row["long_waits_median"] == pytest.approx(np.quantile(waits, 0.5))
    assert row["long_waits_p10"] == pytest.approx(np.quantile(waits, 0.1))
    assert row["long_waits_p90"] == pytest.approx(np.quantile(waits, 0.9))
    assert row["shortfall_median"] == pytest.approx(np.quantile(short, 0.5))
    assert row["rank_long_waits"] in (1, 2) and row["rank_shortfall"] in (1, 2)
    mean = result.dataset["long_waits"].sel(council=code, stat="mean").to_numpy()
    # the table keeps three decimals
    assert mean[jan[jan.month == 1].year == 2030] == pytest.approx(waits.mean(), abs=5e-4)


def test_a_councils_figures_do_not_depend_on_the_others_or_the_workers(two, tmp_path):
    result, _ = two
    one = national.national_run(
        ("Rutland",), replications=12, seed=7, parts=tmp_path / "a", workers=1
    )
    both = national.national_run(SMALL, replications=12, seed=7, parts=tmp_path / "b", workers=2)
    pd.testing.assert_frame_equal(both.table, result.table)
    mine = result.table[result.table["name"] == "Rutland"].drop(
        columns=["rank_long_waits", "rank_shortfall"]
    )
    pd.testing.assert_frame_equal(
        one.table.drop(columns=["rank_long_waits", "rank_shortfall"]),
        mine.reset_index(drop=True),
    )


def test_a_run_started_again_resumes_the_councils_done(two):
    result, parts = two
    again = national.national_run(SMALL, replications=12, seed=7, parts=parts)
    assert len(again.provenance["resumed"]) == 2
    pd.testing.assert_frame_equal(again.table, result.table)
    # a part of other settings, or damaged, is computed again
    (parts / f"{result.table['code'][0]}.json").write_text("{not json", encoding="utf-8")
    other = national.national_run(SMALL, replications=12, seed=8, parts=parts)
    assert other.provenance["resumed"] == []
    assert not other.table.equals(result.table)


def test_files_written_and_read_back(two, tmp_path):
    result, _ = two
    files = result.save(tmp_path / "out")
    assert {p.name for p in files.values()} == {
        "national.csv",
        "national.nc",
        "refused.csv",
        "national.png",
        "provenance.json",
    }
    back = national.open_national(tmp_path / "out")
    pd.testing.assert_frame_equal(back.table, result.table, check_dtype=False)
    assert back.provenance["councils_run"] == 2
    seeds = {c["seed"] for c in back.provenance["councils"].values()}
    assert len(seeds) == 2
    assert (tmp_path / "out" / "national.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(InputError, match="not a national run folder"):
        national.open_national(tmp_path)


def test_the_planners_own_scenario_replaces_inits(tmp_path):
    path = resolve_scenario_path("herts-baseline")
    data, _ = read_scenario_file(path)
    result = national.national_run(
        ("Hertfordshire",),
        replications=5,
        seed=1,
        scenarios={"E10000015": (data, str(path))},
        parts=tmp_path,
    )
    assert result.provenance["councils"]["E10000015"]["scenario"] == str(path)
    capacity = result.table["capacity_median"].item()
    assert capacity == 3054 + 296 + 300  # the baseline's places and programme by 2030


def test_unknown_councils_and_bad_years_are_refused(tmp_path):
    with pytest.raises(InputError, match="Nowhere"):
        national.national_run(("Nowhereshire",), replications=2, parts=tmp_path)
    with pytest.raises(InputError, match="not a council"):
        national.national_run(("East of England",), replications=2, parts=tmp_path)
    with pytest.raises(InputError, match="--year 2050"):
        national.national_run(("Rutland",), replications=2, year=2050, parts=tmp_path)


def test_cli_national(tmp_path):
    out = tmp_path / "nat"
    proc = _cli("national", "--council", "Rutland", "-n", "5", "--out", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert "Rutland" in proc.stdout and "1 councils run" in proc.stdout
    table = pd.read_csv(out / "national.csv")
    assert table["name"].tolist() == ["Rutland"]
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["command_settings"]["replications"] == 5
    bad = _cli("national", "--council", "Nowhereshire", "-n", "5", "--out", tmp_path / "x")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    folder = tmp_path / "own"
    folder.mkdir()
    text = resolve_scenario_path("herts-baseline").read_text(encoding="utf-8")
    (folder / "herts.yaml").write_text(text.replace("years: 10", "years: 10\nbogus: 1"))
    wrong = _cli("national", "--scenarios", folder, "-n", "5", "--out", tmp_path / "y")
    assert wrong.returncode == 2 and "bogus" in wrong.stderr and "Traceback" not in wrong.stderr
