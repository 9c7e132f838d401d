"""Kill runs writing into an existing run folder, and count what the folder holds afterwards.

Two kinds of kill, each SIGKILL at a random moment:

* ``save``: a process that saves two runs into the folder in turn, for ever (forked
  from one that imported placeplan once), killed within the time of three saves,
  so that every kill lands while the folder is written or swapped;
* ``cli``: ``placeplan run`` into the folder, killed between 40% and 100% of the
  time a warm run takes (the run and the save rather than the imports).

After each kill the folder must read as one whole run (:func:`placeplan.open_results`
checks every file against the manifest and the run ids against each other), and
the citation must give the seed of the run the results belong to. At the end a
new process writes into the folder, and no temporary file or folder may remain.

Usage: ``python benchmarks/run_folder_kills.py [SAVE_KILLS] [CLI_KILLS]``
"""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import placeplan as pp
from placeplan.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_contract import _FORKER, tiny  # noqa: E402


def state(folder: Path) -> str:
    """``whole seed N``, or what the reader said."""
    try:
        results = pp.open_results(folder)
    except InputError as exc:
        return f"refused ({str(exc)[:80]})"
    seed = results.provenance["seed"]["entropy"]
    assert f"seed entropy {seed}" in results.citation()
    return f"whole seed {seed}"


def leftovers(parent: Path, target: Path) -> list[str]:
    names = [*parent.iterdir(), *(target.iterdir() if target.is_dir() else [])]
    return [p.name for p in names if p.name.startswith(".")]


def save_kills(n: int, mode: str, work: Path, rng: random.Random) -> collections.Counter:
    a, b, target = work / "a", work / "b", work / "run"
    pp.run(tiny(work), replications=2, seed=1).save(a)
    pp.run(tiny(work), replications=3, seed=2).save(b)
    pp.open_results(a).save(target)
    tally: collections.Counter = collections.Counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", _FORKER, str(target), mode, str(a), str(b)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as forker:
        save_time = float(forker.stdout.readline())
        tally[f"one save [s]: {save_time:.2f}"] += 1
        for _ in range(n):
            forker.stdin.write("go\n")
            forker.stdin.flush()
            pid = int(forker.stdout.readline())
            time.sleep(rng.uniform(0.0, 3 * save_time))
            os.kill(pid, signal.SIGKILL)
            forker.stdout.readline()
            tally[state(target)] += 1
            tally["temporaries left after the kill"] += bool(leftovers(work, target))
        forker.stdin.close()
    code = "import sys, placeplan as pp; pp.open_results(sys.argv[2]).save(sys.argv[1])"
    subprocess.run([sys.executable, "-c", code, str(target), str(a)], check=True, env=env)
    tally[f"temporaries after a next run: {leftovers(work, target)}"] += 1
    return tally


def cli_kills(n: int, work: Path, rng: random.Random) -> collections.Counter:
    scenario = tiny(work, years=3)
    target = work / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    tally: collections.Counter = collections.Counter()
    args = [sys.executable, "-m", "placeplan", "run", str(scenario), "-n", "40", "-q"]
    quiet = {"stdout": subprocess.DEVNULL, "check": True, "env": env}
    subprocess.run([*args, "--seed", "1", "--out", str(target)], **quiet)
    started = time.perf_counter()  # a second, warm run is timed
    subprocess.run([*args, "--seed", "1", "--out", str(target)], **quiet)
    duration = time.perf_counter() - started
    tally[f"one run [s]: {duration:.1f}"] += 1
    for k in range(n):
        proc = subprocess.Popen(
            [*args, "--seed", str(100 + k), "--out", str(target)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        time.sleep(rng.uniform(0.4, 1.0) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        tally["finished before the kill" if proc.returncode == 0 else "killed"] += 1
        s = state(target)
        tally["whole (old run)" if s == "whole seed 1" else s.split(" seed")[0]] += 1
        tally["temporaries left after the kill"] += bool(leftovers(work, target))
        if s.startswith("whole seed") and s != "whole seed 1":
            prov = json.loads((target / "provenance.json").read_text())
            assert prov["seed"]["given"] == 100 + k or prov["seed"]["given"] < 100 + k
    code = "import sys, placeplan as pp; pp.open_results(sys.argv[1]).save(sys.argv[1])"
    subprocess.run([sys.executable, "-c", code, str(target)], check=True, env=env)
    tally[f"temporaries after a next run: {leftovers(work, target)}"] += 1
    return tally


def main() -> None:
    save_n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    cli_n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    rng = random.Random(2026)
    for mode in ("exchange", "rename"):
        with tempfile.TemporaryDirectory() as tmp:
            print(f"save kills ({mode}):", dict(save_kills(save_n, mode, Path(tmp), rng)))
    with tempfile.TemporaryDirectory() as tmp:
        print("placeplan run kills:", dict(cli_kills(cli_n, Path(tmp), rng)))


if __name__ == "__main__":
    main()
