"""Time and memory of a national run: every English council (not part of the test suite).

Usage: python benchmarks/bench_national.py [-n 1000] [--workers 2] [--out runs/national-bench]
       [--write benchmarks/NATIONAL.md]

Runs `placeplan national` (every council inited from SEN2, its own seed, `--workers`
processes) in a fresh process and records the wall time, the machine's speed before
and after it (one council's replications in one process: :data:`REFERENCE`), the
summed time of the councils' runs, the peak resident memory of the main process and of
the largest worker, and the councils' ranking. The parts folder is emptied first, so nothing is
resumed. Writes a Markdown report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from placeplan.national import national_run
n, workers, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t = time.perf_counter()
result = national_run(replications=n, seed=0, workers=workers, parts=out + "/parts")
wall = time.perf_counter() - t
result.save(out)
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"wall": wall, "main_mib": own, "worker_mib": child}))
"""

REFERENCE = """
import json, time
from placeplan.council_init import scenario_for
from placeplan.experiment import run
from placeplan.national import MEASURES_READ
from placeplan.scenario import scenario_from_dict
scenario = scenario_from_dict(scenario_for("E06000015"), source="Derby")
run(scenario, 20, seed=1, measures_only=MEASURES_READ)
best = float("inf")
for burst in range(3):
    t = time.perf_counter()
    run(scenario, 100, seed=burst, measures_only=MEASURES_READ)
    best = min(best, (time.perf_counter() - t) / 100 * 1000)
print(json.dumps(best))
"""
"""The machine's speed, measured beside the national run: Derby's init scenario in one
process, the best of three bursts of 100 replications [ms a replication]."""


def _reference() -> float:
    """:data:`REFERENCE` in a fresh process [ms a replication]."""
    proc = subprocess.run(
        [sys.executable, "-c", REFERENCE], capture_output=True, text=True, check=True
    )
    return float(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--replications", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="runs/national-bench")
    parser.add_argument("--write", default="benchmarks/NATIONAL.md")
    args = parser.parse_args()
    import pandas as pd

    import placeplan
    from placeplan.national import open_national

    out = Path(args.out)
    shutil.rmtree(out / "parts", ignore_errors=True)
    before = _reference()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(args.replications), str(args.workers), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    after = _reference()
    result = open_national(out)
    seconds = pd.Series({c: v["run_seconds"] for c, v in result.provenance["councils"].items()})
    names = {c: v["name"] for c, v in result.provenance["councils"].items()}
    n, runs = args.replications, len(result.table)
    goal_s, goal_n = 600.0, 1000
    at_goal = m["wall"] * goal_n / n
    peak = m["main_mib"] + args.workers * m["worker_mib"]
    lines = [
        "# A national run: every English council",
        "",
        f"placeplan {placeplan.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}.",
        "",
        f"Command: `python benchmarks/bench_national.py -n {n} --workers {args.workers}` "
        f"(the same as `placeplan national -n {n} --workers {args.workers} --seed 0`).",
        "",
        "| | measured |",
        "|---|---:|",
        f"| councils run / refused | {runs} / {len(result.refused)} |",
        f"| replications per council | {n:,} |",
        f"| wall time | {m['wall']:.0f} s |",
        f"| summed time of the councils' runs | {seconds.sum():.0f} s |",
        f"| per replication, mean over councils | {1000 * seconds.sum() / (runs * n):.1f} ms |",
        f"| slowest council | {names[seconds.idxmax()]}: {seconds.max():.1f} s |",
        f"| peak memory: main process + {args.workers} × largest worker | "
        f"{m['main_mib']:.0f} + {args.workers} × {m['worker_mib']:.0f} = {peak:.0f} MiB |",
        f"| the machine's speed, before / after: Derby's init scenario, one process | "
        f"{before:.2f} / {after:.2f} ms a replication |",
        "",
        "The machine's speed varies by up to a fifth from hour to hour, so a wall time "
        "is read beside the reference measured in the same run: a run on a slow hour "
        "shows a slow reference too.",
        "",
        f"The goal (issue 12): {goal_n:,} replications of every council in at most "
        f"{goal_s / 60:.0f} minutes and 4 GB on 2 cores. "
        + (
            f"At {n:,} replications, linear in the replications, {goal_n:,} would take "
            f"about {at_goal / 60:.0f} minutes: {at_goal / goal_s:.1f}× the goal."
            if n != goal_n
            else f"Measured: {m['wall'] / 60:.1f} minutes, {m['wall'] / goal_s:.2f}× the goal."
        ),
        "",
        f"## The ten councils with most long waits, January {result.year}",
        "",
        "| rank | council | long waits (80% interval) | per 1,000 plans | shortfall of places |",
        "|---:|---|---:|---:|---:|",
    ]
    for row in result.table.head(10).itertuples():
        lines.append(
            f"| {row.rank_long_waits} | {row.name} | {row.long_waits_median:,.0f} "
            f"({row.long_waits_p10:,.0f}–{row.long_waits_p90:,.0f}) | "
            f"{row.long_waits_per_1000_plans:.1f} | {row.shortfall_median:,.0f} |"
        )
    lines += [
        "",
        "Each council's scenario is `placeplan init`'s: places sized from SEN2, demand "
        "fitted on every council at once, an empty build programme. These are forecasts "
        "of no further building, not of each council's plans.",
        "",
        "Refused councils: "
        + (
            "; ".join(f"{r.name} ({r.reason})" for r in result.refused.itertuples())
            if len(result.refused)
            else "none."
        ),
        "",
    ]
    figure = Path(args.write).with_name("national.png")
    shutil.copyfile(out / "national.png", figure)
    lines += [f"![Councils ranked]({figure.name})", ""]
    Path(args.write).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
