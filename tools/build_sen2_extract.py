"""Build the compact SEN2 extract that ships with placeplan.

Usage::

    python tools/build_sen2_extract.py --source /work/shared/data/sen2 --out placeplan/data/sen2

All parsing is done by :func:`placeplan.sen2.read_official`; this script only writes
its tables as deterministic gzip files (``mtime=0``, no file name in the header, so a
rebuild from the same sources gives identical bytes), a ``MANIFEST.json`` (rows and
sha256 of every output file, sha256 of every source file, the releases) and a
``README.md`` with the attribution the Open Government Licence v3.0 requires.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from placeplan import sen2  # noqa: E402

MANIFEST = "MANIFEST.json"
README = "README.md"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def gzip_bytes(data: bytes) -> bytes:
    """Gzip ``data`` deterministically (no name, mtime 0, fixed level)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def table_csv(frame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def plain(value):
    """JSON-friendly scalar (pandas NA -> None, numpy ints -> int)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def corrections_text(corrections: pd.DataFrame) -> str:
    if corrections.empty:
        return "`corrections.csv.gz` is empty: no published value had to be set to missing."
    lines = []
    for (table, column, year), group in corrections.groupby(["table", "column", "year"]):
        names = ", ".join(sorted(group["name"].astype(str)))
        lines.append(
            f"- `{table}.{column}`, {year}: {len(group)} councils ({names}) set to missing: "
            f"{group['reason'].iloc[0]}."
        )
    return (
        "`corrections.csv.gz` lists published values the reader set to missing because "
        "they cannot be right:\n\n" + "\n".join(lines)
    )


#: Age-band table -> (table of totals, count column) the bands should add up to.
BAND_TOTALS = {
    "plans_by_age_band": ("plans_total", "plans"),
    "new_plans_by_age_band": ("new_plans_total", "new_plans"),
}


def band_exceptions(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Area x year where the age bands do not add up to the published total.

    Returns one row per exception: ``table, code, name, year, bands`` (sum of the
    bands, missing if a band is) ``total`` (missing if not published or corrected)
    and ``problem``.
    """
    rows = []
    for name, (total_name, column) in BAND_TOTALS.items():
        bands = tables[name]
        sums = bands.groupby(["code", "year"], sort=True).agg(
            name=("name", "first"),
            bands=(column, lambda s: s.sum() if s.notna().all() else pd.NA),
        )
        totals = tables[total_name].set_index(["code", "year"])[column]
        joined = sums.join(totals.rename("total"), how="left").reset_index()
        for row in joined.itertuples(index=False):
            if pd.isna(row.bands) and pd.isna(row.total):
                problem = "bands and total missing"
            elif pd.isna(row.bands):
                problem = "bands missing"
            elif pd.isna(row.total):
                problem = "total missing"
            elif row.bands != row.total:
                problem = "bands differ from total"
            else:
                continue
            rows.append(
                {
                    "table": name,
                    "code": row.code,
                    "name": row.name,
                    "year": int(row.year),
                    "bands": row.bands,
                    "total": row.total,
                    "problem": problem,
                }
            )
    return pd.DataFrame(
        rows, columns=["table", "code", "name", "year", "bands", "total", "problem"]
    )


def bands_text(exceptions: pd.DataFrame) -> str:
    intro = (
        "## Age bands and totals\n\n"
        "The bands of `plans_by_age_band` add up to `plans_total`, and those of "
        "`new_plans_by_age_band` to `new_plans_total`, in every area and year with bands, "
        "except the following (a sum of bands is missing where a band is, a total where it "
        "was not published or was set to missing):\n\n"
    )
    if exceptions.empty:
        return intro + "- none.\n"

    def number(value) -> str:
        return "missing" if pd.isna(value) else f"{int(value):,}"

    lines = []
    for row in exceptions.itertuples(index=False):
        lines.append(
            f"- `{row.table}`, {row.name} ({row.code}), {row.year}: {row.problem}: "
            f"sum of bands {number(row.bands)}, total {number(row.total)}."
        )
    return intro + "\n".join(lines) + "\n"


def readme_text(manifest: dict, corrections: pd.DataFrame, exceptions: pd.DataFrame) -> str:
    rows = "\n".join(
        f"| `{t['file']}` | {t['rows']:,} | {t['description']} |"
        for t in manifest["tables"].values()
    )
    releases = "\n".join(
        f"- `{r['folder']}`: {r['label']} — {r['files'].replace(';', ', ')}"
        for r in manifest["releases"]
    )
    return f"""# SEN2 extract (education, health and care plans)

Compact, tidy extract of the Department for Education's official statistics
"Education, health and care plans" (the SEN2 collection), shipped with `placeplan`
so that nothing outside the package is read at run time. Read it with
`placeplan.sen2.load()` / `placeplan.sen2.councils()`; see the docstring of
`placeplan/sen2.py` for the meaning of every column (counts are in [plans];
markers `x`, `z`, `c` in the official files are missing values, never 0).

Releases: {manifest["release"]}.

{releases}

## Licence and attribution

{manifest["attribution"]}

Open Government Licence v3.0:
https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/

## How it was built

    {manifest["command"]}

`tools/build_sen2_extract.py` calls `placeplan.sen2.read_official` on the unchanged
official CSV files and writes each table as deterministic gzip (mtime 0), so
rebuilding from the same files gives identical bytes. `MANIFEST.json` lists the
rows and sha256 of each file here and the sha256 of each source file.

## Tables

| file | rows | contents |
|---|---:|---|
{rows}

{corrections_text(corrections)}

{bands_text(exceptions)}"""


DESCRIPTIONS = {
    "plans_by_age": "active plans each January by single year of age (2024-2025), "
    "with special / independent special / mainstream school counts",
    "plans_by_age_band": "active plans (statements + plans) each January by age band: "
    "2010-2022 as published in release 2022, 2024-2025 summed from single years of age "
    "(January 2023 is not published by age)",
    "plans_total": "active plans each January 2010-2025 (statements + plans before 2019)",
    "placement_by_need": "active plans January 2025 by type of placement and primary need",
    "need_by_age": "active plans January 2025 by age and primary need",
    "new_need_by_age": "new plans in calendar year 2024 by age at start and primary need",
    "new_plans_by_age": "new plans by age at start, calendar years 2022-2024",
    "new_plans_by_age_band": "new plans (statements + plans) by age band at start: calendar "
    "years 2009-2021 as published in release 2022, 2022-2024 summed from single years of age",
    "new_plans_total": "new plans each calendar year 2009-2024",
    "ceased_by_age": "ceased plans by age and reason, calendar years 2023-2024",
    "ceased_total": "ceased plans by reason, calendar years 2022-2024",
    "requests": (
        "requests and their outcomes (decided to assess or not, undecided, withdrawn, "
        "decided within 6 weeks), assessments, plans issued within 20 weeks, 20-52 weeks "
        "and over a year (with and without exceptions), calendar years 2014-2024"
    ),
    "areas": "one row per area (code, name, level, region, years covered)",
    "releases": "the releases the extract was built from",
    "corrections": "published values set to missing, with the reason",
}


def build(source: Path, out: Path, command: str, *, allow_empty: bool = False) -> dict:
    """Read ``source`` with placeplan.sen2 and write the extract to ``out``.

    Unless ``allow_empty``, every table but ``corrections`` must have rows.
    """
    tables = sen2.read_official(source)
    empty = [name for name in sen2.TABLE_NAMES if name != "corrections" and tables[name].empty]
    if empty and not allow_empty:
        raise SystemExit(f"no data for table(s) {empty}: is {source} a complete SEN2 download?")
    out.mkdir(parents=True, exist_ok=True)
    manifest_tables = {}
    for name in sen2.TABLE_NAMES:
        frame = tables[name]
        path = out / f"{name}.csv.gz"
        path.write_bytes(gzip_bytes(table_csv(frame)))
        manifest_tables[name] = {
            "file": path.name,
            "rows": len(frame),
            "columns": list(frame.columns),
            "sha256": sha256(path),
            "description": DESCRIPTIONS[name],
        }
    releases = tables["releases"]
    sources = {}
    for row in releases.itertuples(index=False):
        folder = source if row.folder == "." else source / row.folder
        for file in str(row.files).split(";"):
            key = file if row.folder == "." else f"{row.folder}/{file}"
            sources[key] = sha256(folder / file)
    manifest = {
        "name": "placeplan SEN2 extract",
        "release": sen2._release_text(releases),
        "attribution": sen2._attribution_text(releases),
        "licence": "Open Government Licence v3.0",
        "command": command,
        "releases": [{k: plain(v) for k, v in r.items()} for r in releases.to_dict("records")],
        "tables": manifest_tables,
        "sources": dict(sorted(sources.items())),
    }
    readme = readme_text(manifest, tables["corrections"], band_exceptions(tables))
    (out / README).write_text(readme, encoding="utf-8")
    (out / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=False, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        required=True,
        type=Path,
        help="folder of official SEN2 CSVs (release-YYYY sub-folders)",
    )
    parser.add_argument(
        "--out", required=True, type=Path, help="extract folder to write, e.g. placeplan/data/sen2"
    )
    args = parser.parse_args(argv)
    command = (
        f"python tools/build_sen2_extract.py --source {args.source.as_posix()} "
        f"--out {args.out.as_posix()}"
    )
    manifest = build(args.source, args.out, command)
    total = 0
    for name, table in manifest["tables"].items():
        size = (args.out / table["file"]).stat().st_size
        total += size
        print(f"{name:20s} {table['rows']:>8,} rows {size:>10,} bytes")
    print(f"{'total':20s} {'':>13} {total:>10,} bytes -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
