"""A whole run against release 0.1.0, side by side, and against the per-child reference.

Usage: python benchmarks/bench_release.py [-n 1000] [--rounds 2] [--reference-reps 10]
       [--baseline 5781659] [--write benchmarks/RELEASE.md]

Each measurement runs in a fresh process (after one warm-up replication, which also
loads numba's compiled code): the bundled `herts-baseline`, the same seed, `-n`
replications in one process (serial), alternating the release-0.1.0 checkout and
this one for `--rounds` rounds (the machine is noisy: each row is one measurement,
and the ratio is taken between the best of each). The release is checked out from
git (`--baseline`, the commit of release 0.1.0 when issue 13 was filed) into a
temporary worktree. The per-child reference engine's whole run is measured on
`--reference-reps` replications of the same scenario and seed in this checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
import placeplan as pp
scenario = pp.load_scenario("herts-baseline")
n, engine = int(sys.argv[1]), sys.argv[2]
pp.run(scenario, replications=1, seed=0, engine=engine)  # warm up: imports, caches, numba
t = time.perf_counter()
pp.run(scenario, replications=n, seed=0, engine=engine)
wall = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall": wall, "peak_mib": peak, "file": pp.__file__}))
"""

ROOT = Path(__file__).resolve().parent.parent


def measure(checkout: Path, n: int, engine: str = "epoch") -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), engine],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(result["file"]).is_relative_to(checkout), result["file"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--reference-reps", type=int, default=10)
    parser.add_argument("--baseline", default="5781659")
    parser.add_argument("--write", default="benchmarks/RELEASE.md")
    args = parser.parse_args()
    import placeplan

    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "release-0.1.0"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(old), args.baseline],
            check=True,
        )
        try:
            rows = []
            for r in range(args.rounds):
                for label, checkout in (("release 0.1.0", old), ("this version", ROOT)):
                    m = measure(checkout, args.n)
                    rows.append((label, r + 1, m))
                    print(label, r + 1, m, flush=True)
            reference = measure(ROOT, args.reference_reps, "reference")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)])
    best = {
        label: min(m["wall"] for lab, _, m in rows if lab == label)
        for label in ("release 0.1.0", "this version")
    }
    per = {k: 1000 * v / args.n for k, v in best.items()}
    ref_per = 1000 * reference["wall"] / args.reference_reps
    lines = [
        "# A whole run against release 0.1.0",
        "",
        f"placeplan {placeplan.__version__} (this checkout) against release 0.1.0 (commit "
        f"{args.baseline}), Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}. Command: "
        f"`python benchmarks/bench_release.py -n {args.n} --rounds {args.rounds} "
        f"--reference-reps {args.reference_reps}`.",
        "",
        f"`herts-baseline`, seed 0, {args.n:,} replications in one process, each in a fresh "
        "process after a warm-up replication, alternated:",
        "",
        "| code | round | wall time [s] | per replication [ms] | peak memory [MiB] |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, r, m in rows:
        lines.append(
            f"| {label} | {r} | {m['wall']:.1f} | {1000 * m['wall'] / args.n:.1f} | "
            f"{m['peak_mib']:.0f} |"
        )
    speedup = best["release 0.1.0"] / best["this version"]
    lines += [
        "",
        f"Best of each: {per['release 0.1.0']:.1f} ms a replication for release 0.1.0, "
        f"{per['this version']:.1f} ms for this version: **{speedup:.1f}× faster** "
        "(issue 13's goal: at least 3×).",
        "",
        f"The per-child reference engine's whole run (`--engine reference`, "
        f"{args.reference_reps} replications, same scenario and seed): "
        f"{ref_per:,.0f} ms a replication, **{ref_per / per['this version']:.0f}×** this "
        "version's default run (goal: at least 100×).",
        "",
    ]
    Path(args.write).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
