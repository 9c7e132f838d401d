"""The epoch engine's time against the reference's, in one process: for A/B runs of two commits.

Usage, from a checkout of each commit in turn (placeplan imported from it)::

    PYTHONPATH=. python benchmarks/bench_engine_ab.py LABEL

Draws 150 replications of the bundled baseline once, times the epoch engine on all
of them (CPU time, best of three passes), the reference on the first 15, and a
whole replication (demand, engine, measures) on all; prints one line.
"""

from __future__ import annotations

import sys
import time

import placeplan as pp
from placeplan.model import Model
from placeplan.placement import ENGINES
from placeplan.streams import Streams


def main(label: str, n: int = 150, n_reference: int = 15) -> None:
    model = Model(pp.load_scenario("herts-baseline"))
    problems = [model.problem(Streams(7, r))[1] for r in range(n)]
    ENGINES["epoch"](problems[0], model._start, model._end)  # warm
    passes = []
    for _ in range(3):
        t = time.process_time()
        for p in problems:
            ENGINES["epoch"](p, model._start, model._end)
        passes.append((time.process_time() - t) / n * 1000)
    fast = min(passes)
    t = time.process_time()
    for p in problems[:n_reference]:
        ENGINES["reference"](p, model._start, model._end)
    reference = (time.process_time() - t) / n_reference * 1000
    t = time.process_time()
    for r in range(n):
        model.replicate(Streams(7, r))
    whole = (time.process_time() - t) / n * 1000
    print(
        f"{label}: epoch {fast:.2f} ms/rep (best of 3), reference {reference:.0f} ms/rep, "
        f"ratio {reference / fast:.0f}x, whole replication {whole:.1f} ms"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "this checkout")
