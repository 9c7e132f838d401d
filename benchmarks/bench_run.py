"""Time and memory of `placeplan.run` on a bundled scenario (not part of the test suite).

Usage: python benchmarks/bench_run.py [SCENARIO] [-n 10 100 1000] [--repeat 3]

Prints a Markdown table: replications, best wall time of the repeats, time per
replication, and the peak resident memory of a fresh process for each size.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time

CHILD = """
import json, resource, sys, time
import placeplan as pp
scenario = pp.load_scenario(sys.argv[1])
n = int(sys.argv[2])
pp.run(scenario, replications=1, seed=0)  # warm up: imports, SEN2 extract, caches
t = time.perf_counter()
pp.run(scenario, replications=n, seed=0)
wall = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall": wall, "peak_mib": peak}))
"""


def measure(scenario: str, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, scenario, str(n)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", nargs="?", default="herts-baseline")
    parser.add_argument("-n", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import placeplan

    print(
        f"placeplan {placeplan.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {time.strftime('%Y-%m-%d')}, scenario {args.scenario}\n"
    )
    print(
        f"| replications | wall time [s] (best of {args.repeat}) "
        "| per replication [ms] | peak memory [MiB] |"
    )
    print("|---:|---:|---:|---:|")
    for n in args.n:
        runs = [measure(args.scenario, n) for _ in range(args.repeat)]
        best = min(r["wall"] for r in runs)
        peak = max(r["peak_mib"] for r in runs)
        print(f"| {n} | {best:.2f} | {1000 * best / n:.1f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
