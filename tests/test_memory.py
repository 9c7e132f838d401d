"""What keeps a run's peak memory down, checked where it can fail without timing anything.

- The shipped SEN2 extract is held compactly (text as categories, whole numbers in 32
  bits), and :func:`placeplan.sen2.load` still hands out exactly the tables a plain
  read of the extract gives (same rows, values and dtypes), sharing nothing with the
  held copy.
- A run gathers each variable into one array over the replications as they arrive
  (``experiment._Gathered``), equal to ``numpy.stack`` of them, letting each
  replication's arrays go.
- A run from the command line imports none of the libraries only other commands need.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeplan import sen2
from placeplan.experiment import _Gathered

ROOT = Path(__file__).resolve().parent.parent

#: Deep memory of the held extract [MiB]: 6.8 measured (release 2025 + 2022); its
#: ``string``/``int64`` tables as read before would take about 117 by the same measure.
STORED_MIB = 12


@pytest.fixture(scope="module")
def stored() -> dict[str, pd.DataFrame]:
    return sen2._read_extract_cached(str(sen2.extract_dir()))


def _plain(name: str, code: str | None) -> pd.DataFrame:
    """Table ``name`` of the extract read in its schema's dtypes, the rows of ``code``."""
    frame = pd.read_csv(
        sen2.extract_dir() / f"{name}.csv.gz",
        dtype=dict(sen2._SCHEMAS[name]),
        keep_default_na=False,
        na_values=[""],
        encoding="utf-8",
    )
    if code is not None and name != "releases":
        frame = frame[(frame["code"] == code).fillna(False).astype(bool)]
    return frame.reset_index(drop=True)


def test_extract_is_held_compactly(stored: dict[str, pd.DataFrame]) -> None:
    assert list(stored) == list(sen2.TABLE_NAMES)
    for name, frame in stored.items():
        for column, dtype in sen2._SCHEMAS[name].items():
            held = frame[column].dtype
            if dtype == "string":
                assert isinstance(held, pd.CategoricalDtype), (name, column, held)
            else:
                assert held == {"int64": "int16", "Int64": "Int32"}.get(dtype, dtype), (
                    name,
                    column,
                    held,
                )
    mib = sum(f.memory_usage(deep=True).sum() for f in stored.values()) / 2**20
    assert mib < STORED_MIB, f"the held SEN2 extract takes {mib:.1f} MiB"


@pytest.mark.parametrize(
    ("council", "code"),
    [
        ("Hertfordshire", "E10000015"),
        ("England", "E92000001"),
        ("East of England", "E12000006"),
        ("E10000002", "E06000060"),  # Buckinghamshire, re-coded: published under both
        ("Dorset", None),  # a name two areas share: whichever load picks
        (None, None),
    ],
)
def test_load_gives_the_plain_read(council: str | None, code: str | None) -> None:
    tables = sen2.load(council)
    if council is not None:
        code = code or tables.code
        assert tables.code == code
        assert tables.name == str(_plain("areas", code)["name"].iloc[0])
    for name in sen2.TABLE_NAMES:
        got = getattr(tables, name)
        pd.testing.assert_frame_equal(got, _plain(name, code), check_exact=True)
        assert got.dtypes.astype(str).to_dict() == sen2._SCHEMAS[name], name
    assert council is None or len(tables.plans_total) > 0


def test_councils_is_the_plain_areas_table() -> None:
    pd.testing.assert_frame_equal(sen2.councils(), _plain("areas", None), check_exact=True)


def test_loaded_tables_share_nothing_with_the_held_extract(
    stored: dict[str, pd.DataFrame],
) -> None:
    for council in ("Hertfordshire", None):
        first = sen2.load(council)
        first.plans_total.loc[0, "plans"] = -1
        first.plans_total.loc[0, "name"] = "changed"
        first.requests.loc[0, "pct_within_20_weeks"] = -1.0
        again = sen2.load(council)
        assert again.plans_total.loc[0, "plans"] != -1
        assert again.plans_total.loc[0, "name"] != "changed"
        assert again.requests.loc[0, "pct_within_20_weeks"] != -1.0
    assert "changed" not in set(stored["plans_total"]["name"].cat.categories)


# --------------------------------------------------------------------------------------
# A run's results, gathered as they arrive
# --------------------------------------------------------------------------------------


def _parts(rng: np.random.Generator, count: int) -> list[dict[str, np.ndarray]]:
    return [
        {
            "waiting": rng.integers(0, 50, 30),
            "waiting_by_designation": rng.integers(0, 9, (30, 5)),
            "ehcp_plans": rng.normal(9000, 50, 30),
        }
        for _ in range(count)
    ]


def test_gathered_equals_stack_in_chunks_out_of_order() -> None:
    parts = _parts(np.random.default_rng(1), 7)
    expected = {k: np.stack([p[k].copy() for p in parts]) for k in parts[0]}
    gathered = _Gathered()
    for first, count in ((4, 3), (0, 2), (2, 2)):  # chunks arrive as they finish
        chunk = parts[first : first + count]
        gathered.put(first, chunk, 7)
        assert all(not p for p in chunk)  # each replication's arrays let go
    got = gathered.rows(7)
    assert list(got) == list(expected)
    for k, v in expected.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape
        assert np.array_equal(got[k], v)


def test_gathered_grows_by_rounds_and_widens_like_stack() -> None:
    parts = _parts(np.random.default_rng(2), 5)
    parts[3]["waiting"] = parts[3]["waiting"] + 0.5  # a float replication among ints
    expected = {k: np.stack([p[k].copy() for p in parts]) for k in parts[0]}
    gathered = _Gathered()
    gathered.put(0, parts[:2], 2)
    gathered.reserve(5)
    gathered.put(2, parts[2:], 5)
    got = gathered.rows(5)
    assert got["waiting"].dtype == expected["waiting"].dtype == np.float64
    for k, v in expected.items():
        assert np.array_equal(got[k], v), k


def test_gathered_refuses_ragged_or_missing_variables() -> None:
    parts = _parts(np.random.default_rng(3), 3)
    gathered = _Gathered()
    gathered.put(0, parts[:1], 3)
    with pytest.raises(ValueError, match="waiting: replication 1 has shape"):
        gathered.put(1, [{"waiting": np.zeros(29)}], 3)
    gathered = _Gathered()
    gathered.put(0, parts[:2], 3)
    gathered.put(2, [{"waiting": parts[2]["waiting"]}], 3)
    with pytest.raises(ValueError, match="missing from some of 3 replications"):
        gathered.rows(3)


# --------------------------------------------------------------------------------------
# What a run imports
# --------------------------------------------------------------------------------------

#: Dependencies only other commands use (figures, the optimiser, workbooks, fits).
NOT_FOR_A_RUN = ("matplotlib", "optuna", "openpyxl", "statsmodels")


def test_a_run_imports_only_what_it_needs(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from placeplan.cli import main\n"
        "try:\n"
        f"    main(['run', 'herts-baseline', '-n', '2', '--seed', '0', '-q', '--out', "
        f"{str(tmp_path / 'run')!r}])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({NOT_FOR_A_RUN!r})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert (tmp_path / "run" / "results.nc").is_file()
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_a_number_too_large_to_hold_is_an_error(tmp_path: Path) -> None:
    for path in sen2.extract_dir().glob("*.csv.gz"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    table = tmp_path / "plans_total.csv.gz"
    frame = pd.read_csv(table, dtype=str, keep_default_na=False)
    frame.loc[0, "year"] = "40000"  # beyond 16 bits: refused, never wrapped
    frame.to_csv(table, index=False, compression="gzip")
    with pytest.raises(sen2.SEN2FormatError, match=r"plans_total\.csv\.gz"):
        sen2._read_extract_cached(str(tmp_path))


def test_a_folder_read_for_one_area_leaves_its_cache_alone(sen2_dir: Path) -> None:
    first = sen2.load("Hertfordshire", sen2_dir=sen2_dir)
    first.releases.loc[0, "label"] = "changed"
    first.plans_total.loc[0, "plans"] = -1
    assert "changed" not in set(sen2.read_official(sen2_dir)["releases"]["label"])
    again = sen2.load("Hertfordshire", sen2_dir=sen2_dir)
    assert "changed" not in set(again.releases["label"])
    assert again.plans_total.loc[0, "plans"] != -1
