"""The command-line contract: exit 0 on success, exit 2 with a message naming the input on
bad input, never a traceback; and run folders that are always whole.

Most cases run in-process (click's runner: an uncaught exception is kept, not
printed, so "no traceback" means the command ended by a clean exit); the kill
tests run real processes and kill them with SIGKILL.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import xarray as xr
from click.testing import CliRunner

import placeplan as pp
from placeplan.cli import main
from placeplan.errors import InputError
from placeplan.io import atomic_folder, atomic_path, clean_stale

FIFO = "validation/fifo-deterministic"

TINY = """\
name: {name}
title: Tiny {name}
council: {{code: E10000015, name: Hertfordshire}}
start: 2025-09-01
years: {years}
demand:
  model: fixed
  per_term: {{{designation}: [3, 2, 1]}}
  arrival: term_start
placement:
  designations:
    {designation}: {{places: 2, source: "test"}}
  panels: {{every_days: null, start_places: immediate}}
  leaving: {{end_of_year: {{}}, mid_year_rate: 0.0}}
"""


def tiny(tmp_path: Path, name: str = "tiny", years: int = 2, designation: str = "ANY") -> Path:
    """A two-year scenario that runs in a blink."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(TINY.format(name=name, years=years, designation=designation))
    return path


def cli(*args: str | Path) -> tuple[int, str, str]:
    """Run the command line in-process: exit code, stdout, stderr.

    An exception that escapes the command (what would print a traceback) fails the
    test here, whatever the exit code.
    """
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback for {args}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def bad(*args: str | Path, names: str | Path) -> str:
    """Assert exit code 2 with a message naming ``names``; return the message."""
    code, _, err = cli(*args)
    assert code == 2, (args, err)
    assert str(names) in err, (names, err)
    assert "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A run folder of the tiny scenario (seed 1)."""
    folder = tmp_path_factory.mktemp("contract")
    pp.run(tiny(folder), replications=2, seed=1).save(folder / "run")
    return folder / "run"


@pytest.fixture(scope="module")
def other_dir(tmp_path_factory) -> Path:
    """A run folder of another scenario (seed 2)."""
    folder = tmp_path_factory.mktemp("contract-other")
    pp.run(tiny(folder, "other", years=3), replications=3, seed=2).save(folder / "run")
    return folder / "run"


# -- unwritable --out ------------------------------------------------------------------


def _not_a_folder(tmp_path: Path) -> Path:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    return blocker


@pytest.mark.parametrize(
    "command",
    [
        ["run", "{scenario}", "-n", "2", "--out"],
        ["compare", "{scenario}", "{scenario2}", "-n", "2", "--out"],
        ["sweep", "{sweep}", "--out"],
        ["export", "{run}", "--out"],
        ["report", "{run}", "--out"],
        ["schema", "--out"],
        ["calibrate", "--council", "E06000001", "--out"],
        ["backtest", "--council", "E06000001", "--origin", "2021", "--out"],
    ],
    ids=lambda c: c[0],
)
@pytest.mark.parametrize("where", ["under-a-file", "unwritable", "empty", "a-folder"])
def test_unwritable_out_exits_2_before_anything_runs(tmp_path, run_dir, command, where):
    scenario = tiny(tmp_path)
    scenario2 = tiny(tmp_path, "tiny2")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: s\nscenarios: [{scenario.name}]\nreplications: 2\n")
    folder_out = command[0] in {"run", "compare", "sweep"}
    target = {
        "under-a-file": _not_a_folder(tmp_path) / "out",
        "unwritable": Path("/proc/placeplan-no-such/out"),
        "empty": "",
        "a-folder": _not_a_folder(tmp_path) if folder_out else tmp_path,
    }[where]
    args = [
        a.format(scenario=scenario, scenario2=scenario2, sweep=sweep, run=run_dir) for a in command
    ]
    code, out, err = cli(*args, target)
    assert code == 2, err
    assert "Traceback" not in err
    assert "--out" in err
    assert ("empty path" in err) if where == "empty" else f"cannot write {target}" in err
    assert "Files:" not in out and "wrote" not in out  # refused before running


def test_write_failure_after_the_run_is_reported(tmp_path, monkeypatch):
    """A folder that becomes unwritable while running: exit 2, 'cannot write OUT'."""
    import placeplan.run_folder

    def refuse(*_):
        raise PermissionError(13, "Permission denied", str(tmp_path / "o"))

    monkeypatch.setattr(placeplan.run_folder, "atomic_folder", refuse)
    err = bad("run", tiny(tmp_path), "-n", "2", "--out", tmp_path / "o", names=tmp_path / "o")
    assert f"cannot write {tmp_path / 'o'}: Permission denied" in err


def test_out_that_is_not_a_run_folder_is_never_replaced(tmp_path):
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("precious")
    err = bad("run", tiny(tmp_path), "-n", "2", "--out", keep, names=keep)
    assert "not a run folder" in err and "notes.txt" in err
    assert (keep / "notes.txt").read_text() == "precious"
    with pytest.raises(InputError, match="not a run folder"):
        pp.run(tiny(tmp_path), replications=2, seed=1).save(keep)
    assert sorted(p.name for p in keep.iterdir()) == ["notes.txt"]


@pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning")  # no plans: fixed demand
def test_plot_into_an_unwritable_run_folder(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "figures").write_text("a file where the figures folder goes")
    err = bad("plot", copy, names=copy / "figures")
    assert "cannot write" in err


# -- damaged, foreign or mixed run folders ---------------------------------------------


def _truncate(folder: Path, _: Path) -> None:
    data = (folder / "results.nc").read_bytes()
    (folder / "results.nc").write_bytes(data[: len(data) // 3])


def _bad_json(folder: Path, _: Path) -> None:
    (folder / "provenance.json").write_text('{"run_id": ')


def _missing_field(folder: Path, _: Path) -> None:
    prov = json.loads((folder / "provenance.json").read_text())
    del prov["seed"]
    (folder / "provenance.json").write_text(json.dumps(prov))


def _missing_variable(folder: Path, _: Path) -> None:
    with xr.open_dataset(folder / "results.nc") as ds:
        data = ds.load()
    (folder / "results.nc").unlink()
    data.drop_vars("waiting").to_netcdf(folder / "results.nc")


def _foreign_results(folder: Path, other: Path) -> None:
    shutil.copy(other / "results.nc", folder / "results.nc")


def _foreign_provenance(folder: Path, other: Path) -> None:
    shutil.copy(other / "provenance.json", folder / "provenance.json")


def _foreign_scenario(folder: Path, other: Path) -> None:
    shutil.copy(other / "scenario.yaml", folder / "scenario.yaml")


def _fifo(folder: Path, _: Path) -> None:
    (folder / "results.nc").unlink()
    os.mkfifo(folder / "results.nc")


def _garbage(folder: Path, _: Path) -> None:
    (folder / "results.nc").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 300)


DAMAGE = {
    "truncated results.nc": (_truncate, "results.nc"),
    "provenance.json not JSON": (_bad_json, "provenance.json"),
    "provenance.json field missing": (_missing_field, "provenance.json"),
    "variable missing": (_missing_variable, "results.nc"),
    "results.nc of another run": (_foreign_results, "results.nc"),
    "provenance.json of another run": (_foreign_provenance, "provenance.json"),
    "scenario.yaml of another run": (_foreign_scenario, "scenario.yaml"),
    "results.nc a FIFO": (_fifo, "results.nc"),
    "results.nc garbage": (_garbage, "results.nc"),
}


@pytest.mark.parametrize("manifest", [True, False], ids=["manifest", "no-manifest"])
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_or_mixed_run_folder_exits_2_naming_the_file(
    run_dir, other_dir, tmp_path, damage, manifest
):
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    if not manifest:  # a folder of an older placeplan, or one whose manifest was lost
        (folder / "MANIFEST.json").unlink()
    change, file = DAMAGE[damage]
    change(folder, other_dir)
    for command in (["cite"], ["export"], ["report"], ["plot"]):
        bad(*command, folder, names=folder / file)
    with pytest.raises(InputError, match=file):
        pp.open_results(folder)


@pytest.mark.parametrize("what", ["empty folder", "a file", "scenario folder", "interrupted"])
def test_not_a_run_folder(tmp_path, what):
    folder = tmp_path / "x"
    if what == "empty folder":
        folder.mkdir()
    elif what == "a file":
        folder.write_text("x")
    elif what == "scenario folder":
        folder.mkdir()
        tiny(folder)
    else:  # a swap stopped between its two renames (where no atomic exchange exists)
        (tmp_path / ".x.old-12345-0123456789ab").mkdir()
    with pytest.raises(InputError, match=str(folder)) as info:
        pp.open_results(folder)
    if what == "interrupted":
        assert ".x.old-12345-0123456789ab" in str(info.value)
    if what != "a file":
        for command in ("cite", "export", "report", "plot"):
            code, _, err = cli(command, folder)
            assert code == 2 and str(folder) in err and "Traceback" not in err


def test_an_intact_run_folder_reads_and_cites(run_dir):
    code, out, err = cli("cite", run_dir)
    assert code == 0, err
    prov = json.loads((run_dir / "provenance.json").read_text())
    assert f"seed entropy {prov['seed']['entropy']}" in out
    manifest = json.loads((run_dir / "MANIFEST.json").read_text())
    assert manifest["run_id"] == prov["run_id"]
    assert set(manifest["files"]) == {
        "results.nc",
        "summary.csv",
        "provenance.json",
        "scenario.yaml",
    }


# -- a run folder written whole ----------------------------------------------------------


def test_rerun_replaces_the_folder_whole(tmp_path):
    folder = tmp_path / "run"
    first = pp.run(tiny(tmp_path), replications=2, seed=1, child_log=True)
    first.save(folder)
    (folder / "figures").mkdir()
    (folder / "figures" / "fan.png").write_bytes(b"old figure")
    second = pp.run(tiny(tmp_path), replications=3, seed=2)
    second.save(folder)
    again = pp.open_results(folder)
    assert again.provenance["run_id"] == second.provenance["run_id"]
    assert not (folder / "children.csv.gz").exists()  # the first run's log went with it
    assert not (folder / "figures").exists()  # figures of the first run too
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failed_save_leaves_the_previous_folder(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    first = pp.run(tiny(tmp_path), replications=2, seed=1)
    first.save(folder)
    second = pp.run(tiny(tmp_path), replications=2, seed=2)
    monkeypatch.setattr(type(second), "summary", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        second.save(folder)
    assert pp.open_results(folder).provenance["run_id"] == first.provenance["run_id"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_atomic_folder_without_an_atomic_exchange(tmp_path, monkeypatch):
    """Where renameat2 is missing, two renames; the result is the same."""
    import placeplan.io

    monkeypatch.setattr(placeplan.io, "_exchange", lambda a, b: False)
    folder = tmp_path / "run"
    pp.run(tiny(tmp_path), replications=2, seed=1).save(folder)
    second = pp.run(tiny(tmp_path), replications=2, seed=2)
    second.save(folder)
    assert pp.open_results(folder).provenance["run_id"] == second.provenance["run_id"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "tiny.yaml"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_of_dead_processes_are_cleaned(tmp_path):
    dead = _dead_pid()
    old = time.time() - 7200
    stale = [
        tmp_path / f".results.nc.{dead}.0123456789ab.tmp",
        tmp_path / ".summary.csv.k2j4h5g6.tmp",  # the old naming, two hours old
    ]
    stale_dirs = [
        tmp_path / f".run.staging-{dead}-0123456789ab",
        tmp_path / f".run.old-{dead}-0123456789ab",
    ]
    alive = [
        tmp_path / f".results.nc.{os.getpid()}.0123456789ab.tmp",  # a live process's
        tmp_path / ".notes.tmp",  # not ours
        tmp_path / ".fresh.abcd1234.tmp",  # old naming but young
    ]
    for p in stale + alive:
        p.write_text("x")
    for d in stale_dirs:
        d.mkdir()
        (d / "results.nc").write_text("x")
    for p in stale + stale_dirs + alive[:2]:
        os.utime(p, (old, old))
    removed = clean_stale(tmp_path)
    assert sorted(removed) == sorted(stale + stale_dirs)
    assert all(p.exists() for p in alive)
    # every write cleans the folder it writes into
    (stale[0]).write_text("x")
    os.utime(stale[0], (old, old))
    with atomic_path(tmp_path / "schema.json") as tmp:
        assert str(os.getpid()) in tmp.name
        tmp.write_text("{}")
    assert not stale[0].exists()
    with atomic_folder(tmp_path / "f") as stage:
        (stage / "a").write_text("a")
    assert (tmp_path / "f" / "a").read_text() == "a"


# -- kills -------------------------------------------------------------------------------

_FORKER = textwrap.dedent(
    """
    import os
    import sys
    import time

    import placeplan as pp
    import placeplan.io

    target, mode, *sources = sys.argv[1:]
    if mode == "rename":
        placeplan.io._exchange = lambda a, b: False
    runs = [pp.open_results(s) for s in sources]
    started = time.perf_counter()
    for r in [*runs[1:], runs[0]]:  # timed, and the folder left as it was (the first run)
        r.save(target)
    print((time.perf_counter() - started) / len(runs), flush=True)  # one save [s]
    for _ in sys.stdin:  # a line: fork a child that saves the runs in turn, for ever
        pid = os.fork()
        if pid == 0:
            try:
                while True:
                    for r in runs:
                        r.save(target)
            finally:
                os._exit(1)
        print(pid, flush=True)
        os.waitpid(pid, 0)
        print("reaped", flush=True)
    """
)
"""Imports placeplan once, then forks savers to be killed (no import time per kill)."""


def _state(folder: Path, seeds: set[str]) -> str:
    """'whole' if the folder is one whole run of one of ``seeds``, else what is wrong."""
    try:
        results = pp.open_results(folder)
    except InputError as exc:
        return f"refused: {exc}"
    prov = results.provenance
    assert prov["seed"]["entropy"] in seeds
    with xr.open_dataset(folder / "results.nc") as ds:
        assert ds.attrs["seed_entropy"] == prov["seed"]["entropy"]
        assert json.loads(ds.attrs["provenance"])["run_id"] == prov["run_id"]
    assert f"seed entropy {prov['seed']['entropy']}" in results.citation()
    return "whole"


def _no_stale_after_a_next_run(tmp_path: Path, target: Path, source: Path) -> None:
    """A new process writing into the folder leaves no temporary file or folder behind."""
    code = "import sys, placeplan as pp; pp.open_results(sys.argv[2]).save(sys.argv[1])"
    subprocess.run([sys.executable, "-c", code, str(target), str(source)], check=True)
    left = [p for p in [*tmp_path.iterdir(), *target.iterdir()] if p.name.startswith(".")]
    assert left == []


KILLS = 8
"""SIGKILLs of a saver in each kill test."""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["exchange", "rename"])
def test_killed_while_saving_leaves_one_whole_run(tmp_path, run_dir, mode):
    """SIGKILL at random moments of repeated saves: the folder is always one whole run."""
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(run_dir, a)
    pp.run(tiny(tmp_path), replications=3, seed=2).save(b)
    ids = {"1", "2"}  # the seeds of the two runs
    target = tmp_path / "run"
    shutil.copytree(a, target)
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": str(Path(pp.__file__).parents[1])}
    states = []
    with subprocess.Popen(
        [sys.executable, "-c", _FORKER, str(target), mode, str(a), str(b)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as forker:
        save_time = float(forker.stdout.readline())
        for _ in range(KILLS):
            forker.stdin.write("go\n")
            forker.stdin.flush()
            pid = int(forker.stdout.readline())
            time.sleep(rng.uniform(0.0, 3 * save_time))  # in any of the first three saves
            os.kill(pid, signal.SIGKILL)
            assert forker.stdout.readline().strip() == "reaped"
            state = _state(target, ids)
            if mode == "rename" and state.startswith("refused"):
                # killed between the two renames: the reader is told; the next run repairs
                assert "a run writing it was stopped" in state
            else:
                assert state == "whole", state
            states.append(state)
        forker.stdin.close()
    assert forker.returncode == 0
    _no_stale_after_a_next_run(tmp_path, target, a)
    assert _state(target, ids) == "whole"


@pytest.mark.slow
def test_killed_cli_run_into_an_existing_run_folder(tmp_path):
    """`placeplan run` killed at random moments: the old run or the new one, whole; cite works.

    The first run is timed, and the kills fall in its last 40% (the run and the
    save, rather than the imports).
    """
    scenario = tiny(tmp_path, years=3)
    target = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(pp.__file__).parents[1])}
    args = [sys.executable, "-m", "placeplan", "run", str(scenario), "-n", "40", "-q"]
    started = time.perf_counter()
    subprocess.run([*args, "--seed", "1", "--out", str(target)], check=True, env=env)
    duration = time.perf_counter() - started
    seeds = {"1", "100", "101", "102"}  # the old run's seed, and the new runs'
    rng = random.Random(11)
    for k in range(3):
        proc = subprocess.Popen(
            [*args, "--seed", str(100 + k), "--out", str(target)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        time.sleep(rng.uniform(0.6, 1.05) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _state(target, seeds) == "whole"
        code, out, _ = cli("cite", target)
        assert code == 0 and "seed entropy" in out
    _no_stale_after_a_next_run(tmp_path, target, target)


# -- data folders, Dask, compare ---------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["data", "councils"],
        ["calibrate", "--council", "E06000001", "--out", "{tmp}/x.yaml"],
        ["backtest", "--council", "E06000001", "--origin", "2021", "--out", "{tmp}/x.csv"],
    ],
    ids=lambda c: c[0],
)
def test_empty_sen2_dir_exits_2(tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [a.format(tmp=tmp_path) for a in command]
    err = bad(*args, "--sen2-dir", empty, names=empty)
    assert "no SEN2 files" in err
    assert not (tmp_path / "x.yaml").exists() and not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(
    "content", [b"garbage\x00\xff\n1,2\n", b"", b"a,b\n1,2\n"], ids=["binary", "empty", "columns"]
)
def test_unreadable_sen2_file_exits_2_naming_it(tmp_path, content):
    release = tmp_path / "sen2" / "release-2025"
    release.mkdir(parents=True)
    (release / "caseload.csv").write_bytes(content)
    bad("data", "councils", "--sen2-dir", tmp_path / "sen2", names=release / "caseload.csv")


def test_unreachable_dask_address_times_out_with_a_message(tmp_path):
    pytest.importorskip("dask.distributed")
    started = time.perf_counter()
    out = tmp_path / "o"
    address = "tcp://127.0.0.1:9"
    args = ["run", tiny(tmp_path), "-n", "2", "--dask", address, "--dask-timeout", "1"]
    err = bad(*args, "--out", out, names=address)
    assert "no Dask scheduler answered within 1 s" in err
    assert time.perf_counter() - started < 20
    assert not out.exists()
    bad("run", tiny(tmp_path), "--dask", "no-port-here", names="no-port-here")
    for timeout in ("0", "-1", "nan", "inf", "1e9", "soon"):
        bad("run", tiny(tmp_path), "--dask-timeout", timeout, names="--dask-timeout")


def test_compare_a_scenario_with_itself_exits_2_before_running(tmp_path, monkeypatch):
    module = sys.modules["placeplan.compare"]  # pp.compare is the function
    monkeypatch.setattr(module, "run", lambda *a, **k: pytest.fail("ran"))
    s = tiny(tmp_path)
    err = bad("compare", s, s, "-n", "2", "--out", tmp_path / "c", names=s)
    assert "two scenarios are called 'tiny'" in err
    with pytest.raises(InputError, match="at least two"):
        pp.compare([s])


@pytest.mark.parametrize(
    "other",
    [
        {"designation": "SLD"},
        {"years": 3},
    ],
    ids=["designations", "snapshots"],
)
def test_compare_incomparable_scenarios_exits_2_before_running(tmp_path, monkeypatch, other):
    module = sys.modules["placeplan.compare"]  # pp.compare is the function
    monkeypatch.setattr(module, "run", lambda *a, **k: pytest.fail("ran"))
    first = tiny(tmp_path)
    second = tiny(tmp_path, "second", **other)
    err = bad("compare", first, second, "-n", "2", names="second")
    assert "cannot be compared with tiny" in err
    with pytest.raises(InputError, match="cannot be compared"):
        pp.compare([first, second], 2)


def test_compare_thresholds_must_match(tmp_path):
    first = tiny(tmp_path)
    second = tiny(tmp_path, "second")
    second.write_text(second.read_text() + "calendar: {long_wait_terms: 1}\n")
    err = bad("compare", first, second, "-n", "2", names="second")
    assert "long-wait thresholds" in err


def test_compare_prints_the_scenario_threshold(tmp_path):
    a, b = tiny(tmp_path, "a"), tiny(tmp_path, "b")
    for path in (a, b):
        path.write_text(path.read_text() + "calendar: {long_wait_terms: 1}\n")
    code, out, err = cli("compare", a, b, "-n", "2", "--out", tmp_path / "c")
    assert code == 0, err
    assert "Children waiting longer than one term: each option minus a" in out
    assert "three terms" not in out


# -- files that never end, bounds -------------------------------------------------------


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_non_regular_files_are_refused(tmp_path, special):
    path = Path(special)
    if special == "fifo":
        path = tmp_path / "scenario.yaml"
        os.mkfifo(path)
    bad("run", path, "-n", "2", names=path)
    bad("compare", path, FIFO, "-n", "2", names=path)
    bad("sweep", path, names=path)
    bad("calibrate", "--council", "E06000001", "--template", path, "--out", tmp_path / "o.yaml",
        names=path)  # fmt: skip


def test_a_folder_given_as_a_scenario(run_dir, tmp_path):
    err = bad("run", run_dir, "-n", "2", names=run_dir)
    assert "a run folder, not a scenario file" in err and "scenario.yaml" in err
    bad("run", tmp_path, "-n", "2", names=tmp_path)


@pytest.mark.parametrize(
    "args",
    [
        ["run", "-n", "100001"],
        ["run", "-n", "0"],
        ["compare", FIFO, FIFO, "-n", "1000000"],
        ["backtest", "--all", "--origin", "2021", "--out", "x.csv", "-n", "100001"],
        ["run", "--precision", "nan"],
        ["run", "--precision", "inf"],
        ["run", "--precision", "0"],
        ["run", "--precision", "1.5"],
        ["run", "--precision", "-0.1"],
        ["run", "--seed", "-1"],
        ["run", "--seed", "1.5"],
        ["run", "--seed", "lots"],
        ["run", "--workers", "-2"],
        ["run", "--workers", "0"],
        ["run", "--workers", "100000"],
        ["run", "--engine", "fast"],
        ["run", "--no-such-option"],
        ["plot", ".", "--format", "jpg"],
        ["frobnicate"],
        ["run", "--dask", ""],
    ],
    ids=lambda a: " ".join(a),
)
def test_bad_options_exit_2(args):
    code, _, err = cli(*args)
    assert code == 2, err
    assert "Error" in err or "error" in err
    assert "Traceback" not in err


def test_python_api_refuses_the_same_bounds(tmp_path):
    s = tiny(tmp_path)
    for kwargs, match in [
        ({"replications": 100_001}, "replications"),
        ({"replications": 0}, "replications"),
        ({"precision": float("nan")}, "precision"),
        ({"workers": 0}, "workers"),
        ({"engine": "fast"}, "engine"),
        ({"dask_timeout": float("inf")}, "dask_timeout"),
    ]:
        with pytest.raises(InputError, match=match):
            pp.run(s, **kwargs)


def test_sweep_bounds(tmp_path):
    s = tiny(tmp_path)
    many = tmp_path / "many.yaml"
    values = list(range(30))
    many.write_text(
        f"name: many\nscenarios: [{s.name}]\nparameters:\n"
        f"  years: {values}\n  demand.per_term.ANY: {values}\n"
        f"  placement.designations.ANY.places: {values}\n"
    )
    err = bad("sweep", many, "--out", tmp_path / "o", names=many)
    assert "27,000 points" in err
    into_list = tmp_path / "list.yaml"
    into_list.write_text(
        f"name: lst\nscenarios: [{s.name}]\nparameters:\n  demand.per_term.ANY.0: [1]\n"
    )
    bad("sweep", into_list, "--out", tmp_path / "o2", names="demand.per_term.ANY.0")


# -- a horizon without a January census; labels ----------------------------------------


def test_no_january_census_headline_and_cli(tmp_path):
    path = tmp_path / "autumn.yaml"
    path.write_text(
        TINY.format(name="autumn", years=3, designation="ANY") + "calendar: {snapshots: 365.25}\n"
    )
    results = pp.run(path, replications=2, seed=1)
    months = {d.month for d in results.headline()["census"]}
    assert 1 not in months and len(results.headline()) >= 2
    assert len(results.headline()) == results.dataset.sizes["time"]  # every snapshot
    assert results.headline().attrs["census"].startswith("every snapshot")
    code, out, err = cli("run", path, "-n", "2", "--seed", "1", "--out", tmp_path / "o")
    assert code == 0, err
    assert "at each snapshot (no January census)" in out
    assert "Traceback" not in err


def test_erlang_c_runs_from_the_command_line(tmp_path):
    """The bundled validation scenario whose snapshots are ten years apart, in September."""
    code, out, err = cli("run", "validation/erlang-c", "-n", "2", "--out", tmp_path / "o")
    assert code == 0, err
    assert "at each snapshot (no January census)" in out


def test_headline_label_follows_long_wait_terms(tmp_path):
    path = tiny(tmp_path)
    path.write_text(path.read_text() + "calendar: {long_wait_terms: 2}\n")
    code, out, err = cli("run", path, "-n", "2", "--seed", "1", "--out", tmp_path / "o")
    assert code == 0, err
    assert "Children waiting longer than two terms for a special school place" in out
    assert "three terms" not in out


def test_cli_source_does_not_hard_code_three_terms():
    source = Path(pp.__file__).with_name("cli.py").read_text(encoding="utf-8")
    assert "three terms" not in source and "3 terms" not in source


def test_a_genuine_bug_still_exits_1(monkeypatch):
    """The contract maps bad input to 2, not every exception: a bug keeps exit 1."""
    import placeplan.sen2

    monkeypatch.setattr(placeplan.sen2, "councils", lambda *_: 1 / 0)
    result = CliRunner().invoke(main, ["data", "councils"])
    assert result.exit_code == 1
    assert isinstance(result.exception, ZeroDivisionError)


def test_interrupt_exits_130(monkeypatch):
    import placeplan.sen2

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(placeplan.sen2, "councils", interrupted)
    code, _, err = cli("data", "councils")
    assert code == 130 and "interrupted" in err


def test_snapshots_past_2262_keep_their_dates_on_disk(tmp_path):
    """datetime64[ns] ends in April 2262: later census days must not wrap round to 1677."""
    path = tiny(tmp_path, years=3)
    path.write_text(path.read_text().replace("start: 2025-09-01", "start: 2260-09-01"))
    code, _, err = cli("run", path, "-n", "2", "--seed", "1", "--out", tmp_path / "far", "-q")
    assert code == 0, err
    times = pp.open_results(tmp_path / "far").dataset["time"].to_index()
    assert times[0].year == 2260 and times[-1].year == 2263
    assert times.is_monotonic_increasing
    januaries = pp.open_results(tmp_path / "far").headline()["census"]
    assert [d.year for d in januaries] == [2261, 2262, 2263]
