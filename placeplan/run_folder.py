"""The run folder on disk: written whole, with a manifest; read back only if it is whole.

A run folder holds ``results.nc``, ``summary.csv``, ``provenance.json``,
``scenario.yaml`` (and ``children.csv.gz`` when the child log was kept), and
``MANIFEST.json``: the run's id and the SHA-256 and size of every other file.

Writing (:func:`write_run_folder`) puts every file into a staging folder beside
the run folder and then swaps it in (:func:`placeplan.io.atomic_folder`), so a run
killed at any moment leaves the previous run folder or the new one, never files of
both. Reading (:func:`read_run_folder`) checks every file against the manifest,
and the run id and scenario hash recorded in each file against the others, so a
damaged, foreign or mixed folder is refused with a message naming the file and
what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from placeplan.errors import InputError
from placeplan.io import atomic_folder

if TYPE_CHECKING:  # pragma: no cover
    from placeplan.results import Results

__all__ = [
    "MANIFEST",
    "RUN_FILES",
    "check_replaceable",
    "check_same_scenario",
    "read_run_folder",
    "write_run_folder",
]

MANIFEST = "MANIFEST.json"
"""The manifest's file name."""

MANIFEST_FORMAT = "placeplan-run-folder/1"

RUN_FILES = ("results.nc", "summary.csv", "provenance.json", "scenario.yaml", "children.csv.gz")
"""Files a run writes (``children.csv.gz`` only with the child log)."""

_DERIVED = ("figures", "report.html", "report.md", "results.xlsx", "hindcast.md", ".DS_Store")
"""What other commands write into a run folder (replaced with the folder on a re-run)."""

_TEMPORARY = re.compile(r"^\..+\.(\d+\.[0-9a-f]{12}\.tmp|[A-Za-z0-9_]{8}\.tmp)$")

_PROVENANCE_KEYS = {
    "run_id": str,
    "placeplan_version": str,
    "scenario": dict,
    "seed": dict,
    "replications": int,
    "engine": str,
    "started": str,
    "data": dict,
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_replaceable(folder: Path) -> None:
    """Refuse to replace a folder that is not a run folder (it is replaced whole)."""
    if not folder.is_dir():
        if folder.exists() or folder.is_symlink():
            raise InputError(f"cannot write {folder}: exists and is not a folder")
        return
    others = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name not in (*RUN_FILES, MANIFEST, *_DERIVED) and not _TEMPORARY.match(entry.name)
    )
    if others:
        shown = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
        raise InputError(
            f"{folder}: exists and is not a run folder (it holds {shown}); a run folder is "
            "replaced whole when run again, so give a new folder or a run folder"
        )


def _recorded_scenario(folder: Path) -> dict[str, Any] | None:
    """The scenario a run folder records: name, title, council, file and its SHA-256.

    None if the folder holds no readable provenance (not a run folder, or damaged:
    :func:`check_replaceable` decides about those).
    """
    import yaml

    try:
        provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    scenario = provenance.get("scenario") if isinstance(provenance, dict) else None
    if not isinstance(scenario, dict) or not isinstance(scenario.get("name"), str):
        return None
    file = scenario.get("file") if isinstance(scenario.get("file"), dict) else {}
    council = None
    try:
        resolved = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
        if isinstance(resolved, dict) and isinstance(resolved.get("council"), dict):
            council = resolved["council"].get("code")
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        pass
    return {
        "name": scenario["name"],
        "title": scenario.get("title"),
        "council": council if isinstance(council, str) else None,
        "path": file.get("path"),
        "sha256": file.get("sha256"),
    }


def check_same_scenario(
    folder: Path,
    scenario: Any,
    scenario_file: str | Path | None,
    *,
    overwrite: bool = False,
    option: str = "--overwrite",
) -> str | None:
    """Refuse to replace a run folder written from another scenario, unless told to.

    Another scenario is one of another name, or of another council. The same
    scenario run again (even edited: its file's SHA-256 differs) replaces the folder
    as before, with a note saying what changed.

    Parameters
    ----------
    folder : pathlib.Path
        The run folder about to be written.
    scenario : Scenario
        The scenario about to run.
    scenario_file : str or pathlib.Path, optional
        Its file.
    overwrite : bool
        Replace a run folder of another scenario all the same (a note says so).
    option : str
        The command's option that allows it, for the message.

    Returns
    -------
    str or None
        A note to show when the folder holds a run that is replaced (another
        scenario, with ``overwrite``; or the same scenario from an edited or
        different file); None otherwise.

    Raises
    ------
    InputError
        If the folder holds a run of another scenario and ``overwrite`` is false.
    """
    if not folder.is_dir():
        return None
    old = _recorded_scenario(folder)
    if old is None:
        return None
    import hashlib

    new_file = Path(scenario_file) if scenario_file is not None else None
    new_sha = hashlib.sha256(new_file.read_bytes()).hexdigest() if new_file else None
    written = f"scenario {old['name']!r}" + (f" ({old['title']})" if old["title"] else "")
    if old["path"]:
        written += f", file {old['path']}"
    if old["sha256"]:
        written += f" (SHA-256 {old['sha256'][:12]}…)"
    council = getattr(getattr(scenario, "council", None), "code", None)
    other_council = old["council"] is not None and council is not None and old["council"] != council
    if old["name"] != scenario.name or other_council:
        what = (
            f"of council {old['council']}, not {council}"
            if other_council
            else f"not {scenario.name!r}"
        )
        if not overwrite:
            raise InputError(
                f"{folder}: holds a run of {written}, {what}; refusing to replace it with "
                f"a run of {scenario.name!r}. Give another folder (--out), or {option} to "
                "replace it"
            )
        return f"note: {folder}: replacing a run of {written} ({option})"
    if new_sha is not None and old["sha256"] is not None and new_sha != old["sha256"]:
        edited = (
            "the same file, edited since"
            if old["path"] is not None and new_file is not None and str(new_file) == old["path"]
            else f"now from {new_file}"
        )
        return (
            f"note: {folder}: replacing the run of {written}: same scenario name, "
            f"{edited} (SHA-256 {new_sha[:12]}…)"
        )
    return None


def write_run_folder(results: Results, directory: str | Path) -> dict[str, Path]:
    """Write ``results`` as a run folder, replacing the folder there whole.

    Parameters
    ----------
    results : Results
        The run.
    directory : str or pathlib.Path
        The run folder. If it exists it must be a run folder (or empty): it is
        replaced, files of other commands (figures, report, workbook) included.

    Returns
    -------
    dict of str to pathlib.Path
        The files written, under their final names.

    Raises
    ------
    InputError
        If ``directory`` exists and holds files a run folder does not.
    OSError
        If the folder cannot be written.
    """
    import yaml

    out = Path(directory)
    check_replaceable(out)
    names = {
        "results": "results.nc",
        "summary": "summary.csv",
        "provenance": "provenance.json",
        "scenario": "scenario.yaml",
    }
    if results.children is not None:
        names["children"] = "children.csv.gz"
    with atomic_folder(out) as stage:
        results.dataset.to_netcdf(stage / names["results"], engine="netcdf4")
        if results.children is not None:
            results.children.to_csv(stage / names["children"], index=False, compression="gzip")
        summary = results.summary().to_csv(index=False, float_format="%.6g")
        (stage / names["summary"]).write_text(summary, encoding="utf-8")
        provenance = json.dumps(results.provenance, indent=2) + "\n"
        (stage / names["provenance"]).write_text(provenance, encoding="utf-8")
        resolved = yaml.safe_dump(
            results.scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True
        )
        header = (
            f"# Resolved scenario (defaults filled) of run {results.provenance.get('run_id', '')}\n"
            f"# SHA-256 of its canonical JSON: {results.scenario.digest()}\n"
        )
        (stage / names["scenario"]).write_text(header + resolved, encoding="utf-8")
        manifest = {
            "format": MANIFEST_FORMAT,
            "run_id": results.provenance.get("run_id"),
            "files": {
                name: {"sha256": _sha256(stage / name), "bytes": (stage / name).stat().st_size}
                for name in names.values()
            },
        }
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return {key: out / name for key, name in names.items()}


def _interrupted(folder: Path) -> str:
    """A hint when a swap of this folder was interrupted (its old or new copy is beside it)."""
    parent = folder.parent
    if not parent.is_dir():
        return ""
    left = sorted(
        p.name
        for p in parent.iterdir()
        if p.name.startswith((f".{folder.name}.old-", f".{folder.name}.staging-"))
    )
    if not left:
        return ""
    return f"; a run writing it was stopped, leaving {', '.join(left)} beside it"


def _regular(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        what = "missing" if not path.exists() and not path.is_symlink() else "not a regular file"
        raise InputError(f"{path}: {what}")
    return path


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a readable JSON file ({exc})") from None


def _check_manifest(folder: Path) -> str | None:
    """Check every file against MANIFEST.json; the run id it records (None without one)."""
    path = folder / MANIFEST
    if not path.exists() and not path.is_symlink():
        return None
    manifest = _read_json(_regular(folder, MANIFEST))
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if (
        not isinstance(files, dict)
        or manifest.get("format") != MANIFEST_FORMAT
        or not all(isinstance(v, dict) and isinstance(v.get("sha256"), str) for v in files.values())
    ):
        raise InputError(f"{path}: not a placeplan run folder manifest ({MANIFEST_FORMAT})")
    for name in RUN_FILES:
        if name not in files and (folder / name).exists():
            raise InputError(
                f"{folder / name}: not part of run {manifest.get('run_id')} (not in {MANIFEST})"
            )
    for name, entry in files.items():
        if name not in RUN_FILES:
            raise InputError(f"{path}: lists {name!r}, which is not a run folder file")
        file = _regular(folder, name)
        if file.stat().st_size != entry.get("bytes") or _sha256(file) != entry["sha256"]:
            raise InputError(
                f"{file}: does not match {MANIFEST} (damaged, or written by another run "
                f"than {manifest.get('run_id')})"
            )
    run_id = manifest.get("run_id")
    return run_id if isinstance(run_id, str) else None


def _check_provenance(path: Path, provenance: Any) -> None:
    if not isinstance(provenance, dict):
        raise InputError(f"{path}: expected a mapping of provenance fields")
    for key, kind in _PROVENANCE_KEYS.items():
        if not isinstance(provenance.get(key), kind) or isinstance(provenance.get(key), bool):
            raise InputError(f"{path}: {key}: missing or not a {kind.__name__}")
    for section, keys in {
        "scenario": ("name", "title", "resolved_sha256"),
        "seed": ("entropy",),
        "data": ("release",),
    }.items():
        for key in keys:
            if not isinstance(provenance[section].get(key), str):
                raise InputError(f"{path}: {section}.{key}: missing or not a string")
    if provenance["replications"] < 1:
        raise InputError(f"{path}: replications: expected a positive number")


def _open_dataset(path: Path):
    import xarray as xr

    from placeplan.results import VARIABLES, time_coder

    try:
        with xr.open_dataset(path, engine="netcdf4", decode_times=time_coder()) as ds:
            dataset = ds.load()
    except Exception as exc:  # any failure to parse this file means the file is bad
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not a readable NetCDF file ({reason})") from None
    missing = [n for n in VARIABLES if n not in dataset]
    if missing:
        raise InputError(f"{path}: not a placeplan run (missing variables: {', '.join(missing)})")
    for name in VARIABLES:
        dims = dataset[name].dims
        if dims[:2] != ("replicate", "time"):
            raise InputError(f"{path}: {name}: expected dimensions (replicate, time), got {dims}")
    if dataset.sizes["time"] == 0 or dataset.sizes["replicate"] == 0:
        raise InputError(f"{path}: holds no replication or no snapshot")
    return dataset


def read_run_folder(directory: str | Path) -> Results:
    """Read a run folder written by :func:`write_run_folder`, checking that it is whole.

    Raises
    ------
    InputError
        Naming the file and what is wrong: not a folder, not a run folder, a file
        missing, not a regular file, unreadable, damaged (not as the manifest
        records it) or from another run than the others.
    """
    import pandas as pd

    from placeplan.results import Results
    from placeplan.scenario import load_scenario

    folder = Path(directory)
    if not folder.is_dir():
        what = "no such folder" if not folder.exists() else "not a folder"
        raise InputError(f"{folder}: {what}{_interrupted(folder)}")
    needed = ("results.nc", "provenance.json", "scenario.yaml")
    missing = [f for f in needed if not (folder / f).exists()]
    if missing:
        raise InputError(
            f"{folder}: not a run folder (missing {', '.join(missing)}){_interrupted(folder)}"
        )
    run_id = _check_manifest(folder)
    prov_path = _regular(folder, "provenance.json")
    provenance = _read_json(prov_path)
    _check_provenance(prov_path, provenance)
    if run_id is not None and provenance["run_id"] != run_id:
        raise InputError(f"{prov_path}: of run {provenance['run_id']}, not {run_id} ({MANIFEST})")
    nc = _regular(folder, "results.nc")
    dataset = _open_dataset(nc)
    recorded = dataset.attrs.get("provenance")
    if isinstance(recorded, str):
        try:
            nc_run = json.loads(recorded).get("run_id")
        except (ValueError, AttributeError):
            nc_run = None
        if nc_run is not None and nc_run != provenance["run_id"]:
            raise InputError(
                f"{nc}: of run {nc_run}, but {prov_path} is of run {provenance['run_id']}: "
                "the folder mixes two runs"
            )
    if dataset.sizes["replicate"] != provenance["replications"]:
        raise InputError(
            f"{nc}: {dataset.sizes['replicate']} replications, but provenance.json records "
            f"{provenance['replications']}"
        )
    scenario_path = _regular(folder, "scenario.yaml")
    scenario = load_scenario(scenario_path)
    digest = scenario.digest()
    for where, value in (
        (prov_path, provenance["scenario"]["resolved_sha256"]),
        (nc, dataset.attrs.get("scenario_sha256", digest)),
    ):
        if value != digest:
            raise InputError(
                f"{scenario_path}: not the scenario of this run (its SHA-256 differs from "
                f"the one in {where.name}): the folder mixes two runs"
            )
    children = None
    if (folder / "children.csv.gz").exists() or (folder / "children.csv.gz").is_symlink():
        log = _regular(folder, "children.csv.gz")
        try:
            children = pd.read_csv(log)
        except Exception as exc:  # any failure to parse this file means the file is bad
            raise InputError(f"{log}: not a readable child log ({exc})") from None
    return Results(dataset, scenario, provenance, children)
