"""The shipped pathway fits: every council's ``pathway:`` section for ``until=2024``.

Fitting a council's pathway with the engine takes seconds
(:mod:`placeplan.pathway.calibrate`); ``placeplan init`` for every council would
take minutes. ``tools/fit_pathways.py`` fits every council once on the shipped SEN2
extract and writes ``placeplan/data/pathway_fits.csv.gz`` (one row per council: its
ONS code, the section as JSON, or why it could not be fitted) and
``placeplan/data/pathway_fits.json`` (the manifest: the extract's digest, the fit's
version :data:`placeplan.pathway.calibrate.FIT_VERSION`, ``until``, the replications
and the placeplan version that wrote it). :func:`shipped_section` gives a row only
when the manifest matches what a fresh fit would use — the shipped extract (no
``sen2_dir``), the same ``until``, the same extract digest and the same fit version —
so the table is a cache of the fit, never a different answer.

Contains public sector information licensed under the Open Government Licence v3.0.
"""

from __future__ import annotations

import copy
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["FITS", "MANIFEST", "extract_digest", "shipped_section"]

DATA = Path(__file__).resolve().parent.parent / "data"
FITS = DATA / "pathway_fits.csv.gz"
"""The shipped fits table."""
MANIFEST = DATA / "pathway_fits.json"
"""The shipped fits' manifest."""
EXTRACT = DATA / "sen2"


@lru_cache(maxsize=1)
def extract_digest() -> str:
    """SHA-256 of the shipped SEN2 extract: every file of ``placeplan/data/sen2``, by name."""
    h = hashlib.sha256()
    for path in sorted(EXTRACT.iterdir()):
        if path.is_file():
            h.update(path.name.encode() + b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, Any], dict[str, tuple[str, str]]] | None:
    if not (FITS.exists() and MANIFEST.exists()):
        return None
    manifest = json.loads(MANIFEST.read_text())
    frame = pd.read_csv(FITS, dtype=str, keep_default_na=False)
    rows = {r.code: (r.section, r.error) for r in frame.itertuples(index=False)}
    return manifest, rows


def shipped_section(code: str, until: int, fit_version: int) -> dict[str, Any] | str | None:
    """A council's shipped section (a fresh copy), the reason it was refused, or None.

    None when there is no table, or its manifest does not match (another ``until``,
    extract or fit version), or the council is not in it.
    """
    table = _table()
    if table is None:
        return None
    manifest, rows = table
    if (
        int(manifest.get("until", -1)) != int(until)
        or int(manifest.get("fit_version", -1)) != int(fit_version)
        or manifest.get("extract_sha256") != extract_digest()
        or code not in rows
    ):
        return None
    section, error = rows[code]
    if error:
        return error
    return copy.deepcopy(json.loads(section))
