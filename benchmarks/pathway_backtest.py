"""Backtest of the pathway calibration across every council: writes PATHWAY_BACKTEST.md.

Usage::

    PYTHONPATH=. python benchmarks/pathway_backtest.py [--draws 40] [--seed 0]

From origins 2021, 2022 and 2023, every council's pathway is calibrated on SEN2 up to
the origin (placeplan.pathway.calibrate) and run forward; plans issued and % within
20 weeks are scored against what SEN2 published and against naive forecasts
(placeplan.pathway.backtest). Also times the calibration of every council
(``calibrate_pathway(council, 2024)``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from placeplan.io import atomic_write_text  # noqa: E402
from placeplan.pathway.backtest import backtest, score  # noqa: E402
from placeplan.pathway.observed import pathway_panel  # noqa: E402


def _table(frame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--replications", type=int, default=4, help="engine replications behind each fit"
    )
    ap.add_argument(
        "--times",
        default=None,
        help="CSV of each council's fitting time, from tools/fit_pathways.py --times",
    )
    args = ap.parse_args()
    panel = pathway_panel()
    fits = pd.read_csv(args.times) if args.times else None
    began = time.perf_counter()
    table = backtest(
        panel,
        (2021, 2022, 2023),
        draws=args.draws,
        seed=args.seed,
        replications=args.replications,
    )
    bt_seconds = time.perf_counter() - began
    scores = score(table)
    fitted = table.drop_duplicates(["code", "origin"])
    ok = int((fitted["status"] == "ok").sum())
    timing = "Fitting times not given (tools/fit_pathways.py --times FILE, then --times FILE)."
    if fits is not None:
        t = fits["seconds"].to_numpy(dtype=float)
        timing = (
            f"`tools/fit_pathways.py` (`calibrate_pathway(council, 2024)`, "
            f"{int(fits['replications'].iloc[0])} replications) fitted {len(t)} councils "
            f"({int((~fits['ok'].astype(bool)).sum())} refused): "
            f"median {np.median(t):.1f} s, max {t.max():.1f} s, total {t.sum():.0f} s "
            "(one process)."
        )
    text = f"""# Pathway backtest (placeplan.pathway.backtest)

Written by `benchmarks/pathway_backtest.py --draws {args.draws} --seed {args.seed}
--replications {args.replications}` on the
shipped SEN2 extract (release 2025 and release 2022). Contains public sector information
licensed under the Open Government Licence v3.0.

From each origin (2021, 2022, 2023) every council's pathway is calibrated on SEN2 up to
the origin only, WITH THE ENGINE (placeplan.pathway.calibrate: the caseworkers' and
psychologists' effective capacities and the assessment's mean delay, fitted on
{args.replications} replications with common random numbers) and run forward by the
engine from empty at the fit's warm-up, one replication per draw, staff following
requests as in the fit; 80% intervals from {args.draws} draws of the growth, outcome
shares, capacities and delay. Scored against what SEN2 published for the years
after the origin up to 2024, and against two naive forecasts made from the same data:
`naive_last` (the council's value at the origin) and `naive_national` (the council's
value moved by England's last yearly change). `ratio_*` is the model's MAE over the
naive's: **below 1 the model beats the naive forecast**.

Council-origins fitted: {ok} of {len(fitted)} (the rest have too little published data:
successor councils formed in 2021 or later, gaps in the series).

## Scores (MAE of the median; plans issued in [plans], % within 20 weeks in points)

{_table(scores.round(3))}

## Calibration time

{timing}
The backtest itself took {bt_seconds:.0f} s.

## Reading the figures

"""
    pct = scores[(scores["quantity"] == "pct_within_20_weeks") & (scores["horizon"] == "all")]
    plans = scores[(scores["quantity"] == "plans_issued") & (scores["horizon"] == "all")]
    for name, row in (("% within 20 weeks", pct), ("plans issued", plans)):
        if len(row):
            r = row.iloc[0]
            verdict = (
                "beats" if max(r["ratio_last"], r["ratio_national"]) < 1 else ("does not beat both")
            )
            text += (
                f"- {name}: MAE {r['mae_p50']:.1f} against {r['mae_naive_last']:.1f} "
                f"(persistence) and {r['mae_naive_national']:.1f} (national change); the "
                f"model {verdict} naive forecasts; 80% interval coverage "
                f"{100 * r['coverage_80']:.0f}%.\n"
            )
    atomic_write_text(Path(args.out), text)
    print(text)


if __name__ == "__main__":
    main()
