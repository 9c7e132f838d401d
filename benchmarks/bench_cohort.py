"""Time the cohort projection of every English council at once (not part of the tests).

Usage: python benchmarks/bench_cohort.py [--replications 100]

Projects all 153 councils' plans by age × need for 10 years, with each replication's
new-plan growth drawn as in a scenario, in one vectorised call per replication
batch; prints Markdown.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from placeplan import sen2
from placeplan.demand import cohort_inputs, expected_referrals, project, stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=100)
    args = parser.parse_args()
    areas = sen2.councils()
    codes = areas[(areas["level"] == "la") & (areas["last_year"] == 2025)]["code"].tolist()
    t0 = time.perf_counter()
    s = stack([cohort_inputs(code) for code in codes])
    t1 = time.perf_counter()
    rng = np.random.default_rng(0)
    years, reps = 10, args.replications
    growth = rng.normal(0.1, 0.02, size=(reps, 1, 1, 1, 1))
    factor = np.exp(growth * np.arange(1, years + 1)[None, None, :, None, None])
    new = s["new_plans"][None, :, None] * factor  # [rep, area, year, age, need]
    timings = []
    for _ in range(2):  # the first pass also pays for the memory's first touch
        t2 = time.perf_counter()
        stock = project(s["stock"][None], s["cease_rate"][None], new, s["need_mix"][None], 1.0)
        t3 = time.perf_counter()
        specialist = stock * s["special_share"][None, :, None]
        referrals = expected_referrals(specialist, s["cease_rate"][None], (4, 15))
        t4 = time.perf_counter()
        timings.append((t3 - t2, t4 - t3))
    project_s, referrals_s = min(timings)
    cells = stock.size
    print(
        "| councils | replications | years | inputs from SEN2 [s] | projection [s] "
        "| referrals [s] | cells (council × rep × year × age × need) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(codes)} | {reps} | {years} | {t1 - t0:.2f} | {project_s:.2f} "
        f"| {referrals_s:.2f} | {cells:,} |"
    )
    assert np.isfinite(referrals).all()


if __name__ == "__main__":
    main()
