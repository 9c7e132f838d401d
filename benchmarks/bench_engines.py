"""The epoch engine against the per-child reference, and Erlang C against Ciw.

Usage: python benchmarks/bench_engines.py [-n 1000] [--reference-reps 100] [--ciw-reps 100]

1. The bundled Hertfordshire baseline, 10 years: a whole run of ``-n`` replications
   with the default engine (wall time, peak memory); then, on the same drawn
   replications, the placement engines alone: the epoch engine on all of them and
   the reference on the first ``--reference-reps`` (it is slow), checking that both
   place the same children on the same dates, and the ratio of their times per
   replication.
2. Erlang C (M/M/10, lambda = 9, mu = 1 a year): placeplan's continuous mode and
   Ciw, a peer queueing library (benchmark-only dependency: ``pip install ciw``),
   on the same horizon, warm-up and number of replications: mean wait, its 95%
   interval, the exact 0.66873, and the time each takes.

Prints Markdown, for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import numpy as np

import placeplan as pp
from placeplan.model import Model
from placeplan.placement import ENGINES
from placeplan.streams import Streams

YEAR = 365.25


def engines(n: int, reference_reps: int) -> None:
    scenario = pp.load_scenario("herts-baseline")
    pp.run(scenario, replications=1, seed=0)  # warm up
    t = time.perf_counter()
    pp.run(scenario, replications=n, seed=0)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"Whole run, {n} replications, default engine: {wall:.1f} s "
        f"({1000 * wall / n:.1f} ms a replication), peak memory {peak:.0f} MiB.\n"
    )

    model = Model(scenario)
    fast_s = slow_s = paired_fast_s = 0.0
    identical = 0
    children = 0
    for r in range(n):
        _, problem, _ = model.problem(Streams(0, r))
        t = time.perf_counter()
        fast = ENGINES["epoch"](problem, model._start, model._end)
        fast_s += time.perf_counter() - t
        if r < reference_reps:
            paired_fast_s += time.perf_counter() - t
            children += len(problem.children)
            t = time.perf_counter()
            slow = ENGINES["reference"](problem, model._start, model._end)
            slow_s += time.perf_counter() - t
            same = np.array_equal(fast.offered, slow.offered) and np.array_equal(
                fast.started, slow.started
            )
            identical += bool(same)
    per_fast = 1000 * fast_s / n
    print("| engine | replications | placement time [s] | per replication [ms] |")
    print("|---|---:|---:|---:|")
    print(f"| epoch (default) | {n} | {fast_s:.2f} | {per_fast:.2f} |")
    print(
        f"| epoch, the first {reference_reps} | {reference_reps} | {paired_fast_s:.2f} | "
        f"{1000 * paired_fast_s / reference_reps:.2f} |"
    )
    print(
        f"| reference (one process per child), the same {reference_reps} | {reference_reps} "
        f"| {slow_s:.2f} | {1000 * slow_s / reference_reps:.1f} |"
    )
    print(
        f"\nOn the same replications the reference takes {slow_s / paired_fast_s:.0f}× "
        "as long as the epoch engine."
    )
    print(
        f"\nIdentical placements (every child's offer and start) in {identical} of "
        f"{reference_reps} replications; {children / reference_reps:,.0f} children a "
        "replication on average.\n"
    )


def erlang(reps: int) -> None:
    import ciw

    model = Model(pp.load_scenario("validation/erlang-c"))
    warm, cool = 50 * YEAR, 15 * YEAR
    years = (model._end - model._start) / YEAR
    t = time.perf_counter()
    ours = []
    for r in range(reps):
        rep = model.replicate(Streams(1, r))
        t0 = rep.children.time
        window = (t0 >= model._start + warm) & (t0 < model._end - cool)
        ours.append(np.mean(rep.outcome.started[window] - t0[window]) / YEAR)
    ours_s = time.perf_counter() - t
    t = time.perf_counter()
    theirs = []
    for r in range(reps):
        ciw.seed(r)
        network = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(rate=9.0)],
            service_distributions=[ciw.dists.Exponential(rate=1.0)],
            number_of_servers=[10],
        )
        q = ciw.Simulation(network)
        q.simulate_until_max_time(years)
        recs = [
            x for x in q.get_all_records() if warm / YEAR <= x.arrival_date < years - cool / YEAR
        ]
        theirs.append(np.mean([x.waiting_time for x in recs]))
    theirs_s = time.perf_counter() - t

    def ci(values: list[float]) -> str:
        v = np.array(values)
        half = 1.96 * v.std(ddof=1) / np.sqrt(len(v))
        return f"{v.mean():.4f} ± {half:.4f}"

    print(
        f"Erlang C, M/M/10 with lambda = 9 and mu = 1 a year, {years:.0f} years a replication,"
        f" waits of those referred after 50 years and 15 years before the end; {reps}"
        " replications each:\n"
    )
    print("| model | mean wait [years], 95% interval | exact | time [s] |")
    print("|---|---:|---:|---:|")
    print(f"| placeplan (continuous mode) | {ci(ours)} | 0.66873 | {ours_s:.1f} |")
    print(f"| Ciw {ciw.__version__} | {ci(theirs)} | 0.66873 | {theirs_s:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--reference-reps", type=int, default=100)
    parser.add_argument("--ciw-reps", type=int, default=100)
    args = parser.parse_args()
    print(
        f"placeplan {pp.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {time.strftime('%Y-%m-%d')}\n"
    )
    engines(args.n, args.reference_reps)
    erlang(args.ciw_reps)


if __name__ == "__main__":
    main()
