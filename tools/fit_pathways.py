"""Fit every council's pathway on the shipped SEN2 extract: placeplan/data/pathway_fits*.

Usage::

    PYTHONPATH=. python tools/fit_pathways.py [--until 2024] [--times times.csv]

Writes ``placeplan/data/pathway_fits.csv.gz`` (per council: ``code``, ``name``, the
``pathway:`` section as JSON or the ``error`` that refused it) and
``placeplan/data/pathway_fits.json`` (the manifest: the extract's SHA-256, the fit
version, ``until``, the replications, the placeplan version and the command), both
atomically and deterministically (the same extract and code give the same bytes:
sorted rows, gzip without a timestamp, no timings). ``calibrate_pathway`` uses the
table when the manifest matches (placeplan.pathway.fits). ``--times`` writes each
council's fitting time [s] to a CSV (for benchmarks/pathway_backtest.py).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from placeplan import sen2  # noqa: E402
from placeplan._version import __version__  # noqa: E402
from placeplan.errors import InputError  # noqa: E402
from placeplan.io import atomic_path, atomic_write_text  # noqa: E402
from placeplan.pathway.calibrate import FIT_VERSION, calibrate_pathway  # noqa: E402
from placeplan.pathway.engine_fit import REPLICATIONS  # noqa: E402
from placeplan.pathway.fits import FITS, MANIFEST, extract_digest  # noqa: E402

COMMAND = "placeplan.pathway.calibrate.calibrate_pathway"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--until", type=int, default=2024)
    ap.add_argument("--times", default=None, help="CSV of each council's fitting time [s]")
    args = ap.parse_args()
    areas = sen2.councils()
    la = areas[areas["level"] == "la"].sort_values("code")
    rows, times = [], []
    for code, name in zip(la["code"], la["name"], strict=True):
        began = time.perf_counter()
        try:
            section = calibrate_pathway(code, args.until, command=COMMAND, shipped=False)
            row = {"code": code, "name": name, "section": json.dumps(section, sort_keys=True)}
            row["error"] = ""
        except InputError as exc:
            row = {"code": code, "name": name, "section": "", "error": str(exc)}
        seconds = time.perf_counter() - began
        times.append({"code": code, "seconds": round(seconds, 3), "ok": not row["error"]})
        rows.append(row)
        print(f"{code} {name}: {seconds:.1f} s {'refused' if row['error'] else ''}", flush=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as gz:
        gz.write(pd.DataFrame(rows).to_csv(index=False, lineterminator="\n").encode())
    with atomic_path(FITS) as tmp:
        tmp.write_bytes(buffer.getvalue())
    manifest = {
        "name": "placeplan pathway fits",
        "extract_sha256": extract_digest(),
        "fit_version": FIT_VERSION,
        "until": args.until,
        "replications": REPLICATIONS,
        "placeplan_version": __version__,
        "command": f"python tools/fit_pathways.py --until {args.until}",
        "councils": len(rows),
        "refused": sum(bool(r["error"]) for r in rows),
        "attribution": (
            "Contains public sector information licensed under the Open Government Licence "
            "v3.0 (DfE, 'Education, health and care plans', SEN2)."
        ),
    }
    atomic_write_text(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    if args.times:
        t = pd.DataFrame(times)
        t["replications"] = REPLICATIONS
        atomic_write_text(Path(args.times), t.to_csv(index=False))


if __name__ == "__main__":
    main()
