"""Sweeps: a grid of scenario variations, written point by point, resumable.

A sweep file names base scenarios (files or bundled names), councils (each the
whole scenario `placeplan init` writes for it), and parameters to vary (key paths
into the scenario, each with a list of values); every base with every combination
of values is a *point*. Each point's Dataset is written to its own NetCDF file as soon as it is
done (atomically), so a sweep that is killed and run again computes only the
points that are missing, and its combined view equals that of a sweep run in one
go. Every point uses the sweep's seed, so points differ only by their parameters
(common random numbers).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, model_validator

from placeplan.errors import InputError, ScenarioError
from placeplan.experiment import run
from placeplan.io import atomic_path, atomic_write_text
from placeplan.results import time_coder
from placeplan.scenario import load_scenario, scenario_from_dict
from placeplan.scenario_files import read_scenario_file

__all__ = ["MAX_POINTS", "SweepSpec", "load_sweep", "open_sweep", "points", "run_sweep"]

MAX_POINTS = 10_000
"""Most points a sweep may have [1] (scenarios × councils × every parameter's values)."""


class SweepSpec(BaseModel):
    """A sweep file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="Short identifier.")
    scenarios: tuple[str, ...] = Field(
        (), description="Base scenarios: files (beside the sweep file) or bundled names."
    )
    councils: tuple[str, ...] = Field(
        (),
        description=(
            "Councils (names or ONS codes), each a further base: the whole scenario "
            "`placeplan init` writes for it, its demand and its places (never one "
            "council's demand on another's places)."
        ),
    )
    parameters: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="Key paths into the scenario (e.g. demand.new_plans_growth_damping), "
        "each with the values to try.",
    )
    replications: int = Field(
        100, ge=1, le=100_000, description="Replications at each point (at most 100,000)."
    )
    seed: int = Field(0, ge=0, description="The common seed of every point.")

    @model_validator(mode="after")
    def _some_base(self) -> SweepSpec:
        if not self.scenarios and not self.councils:
            raise ValueError("a sweep needs at least one base: scenarios, councils or both")
        return self


def load_sweep(path: str | Path) -> tuple[SweepSpec, Path]:
    """Read and validate a sweep file (YAML or TOML); errors name the file, line and field."""
    from pydantic import ValidationError

    path = Path(path)
    data, lines = read_scenario_file(path)  # refuses folders, FIFOs and devices unread
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError.from_validation(
            exc, source=str(path), lines=lines, model=SweepSpec
        ) from None
    count = len(spec.scenarios) + len(spec.councils)
    for values in spec.parameters.values():
        count *= len(values)
    if count > MAX_POINTS:
        raise ScenarioError.single(
            str(path),
            f"{count:,} points ((scenarios + councils) × values); at most {MAX_POINTS:,}",
            lines.get(("parameters",)) if isinstance(lines.get(("parameters",)), int) else None,
            "parameters",
        )
    return spec, path


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = tree
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            raise InputError(f"parameters: {dotted!r} is not a key path of the scenario")
        node = node[key]
    if not isinstance(node, dict) or keys[-1] not in node:
        raise InputError(f"parameters: {dotted!r} is not a key path of the scenario")
    node[keys[-1]] = value


def points(spec: SweepSpec, folder: Path) -> list[dict[str, Any]]:
    """Every combination of the sweep, with its id and resolved scenario."""
    from placeplan.bundled import resolve_scenario_path

    names = list(spec.parameters)
    bases: list[tuple[str, str, dict[str, Any]]] = []  # (source, council, scenario)
    for base in spec.scenarios:
        path = folder / base if (folder / base).exists() else resolve_scenario_path(base)
        bases.append((base, "", load_scenario(path).model_dump(mode="json")))
    if spec.councils:
        from placeplan.council_init import scenario_for

        for council in spec.councils:
            data = scenario_from_dict(scenario_for(council), source=f"placeplan init {council}")
            bases.append((f"council {council}", council, data.model_dump(mode="json")))
    out = []
    for base, council, base_data in bases:
        for values in itertools.product(*(spec.parameters[n] for n in names)):
            tree = json.loads(json.dumps(base_data))
            for name, value in zip(names, values, strict=True):
                _set(tree, name, value)
            label = {
                "scenario": base_data["name"],
                "council": council,
                **dict(zip(names, values, strict=True)),
            }
            scenario = scenario_from_dict(tree, source=f"{base} with {label}")
            key = json.dumps(
                {
                    "scenario": scenario.digest(),
                    "replications": spec.replications,
                    "seed": spec.seed,
                },
                sort_keys=True,
            )
            out.append(
                {
                    "id": hashlib.sha256(key.encode()).hexdigest()[:16],
                    "label": label,
                    "scenario": scenario,
                }
            )
    return out


def run_sweep(
    path: str | Path,
    out: str | Path,
    *,
    workers: int = 1,
    progress: bool = False,
    stop_after: int | None = None,
    on_point: Callable[[dict[str, Any], bool], None] | None = None,
) -> pd.DataFrame:
    """Run every point of a sweep not already in ``out``, writing each as it finishes.

    Parameters
    ----------
    path : str or pathlib.Path
        The sweep file.
    out : str or pathlib.Path
        The sweep's folder: ``points/ID.nc`` per point and ``points.csv``.
    workers : int
        Worker processes for each point's replications.
    progress : bool
        Progress bars.
    stop_after : int, optional
        Stop after computing this many points (to test resuming).
    on_point : callable, optional
        Called with each point and whether it was computed (False: found done).

    Returns
    -------
    pandas.DataFrame
        One row per point: its id, labels, and whether it is done.
    """
    spec, file = load_sweep(path)
    folder = Path(out)
    (folder / "points").mkdir(parents=True, exist_ok=True)
    computed = 0
    rows = []
    for point in points(spec, file.parent):
        target = folder / "points" / f"{point['id']}.nc"
        done = target.exists()
        if not done and (stop_after is None or computed < stop_after):
            results = run(
                point["scenario"], spec.replications, spec.seed, workers=workers, progress=progress
            )
            ds = results.dataset.assign_attrs(sweep=spec.name, point=json.dumps(point["label"]))
            with atomic_path(target) as tmp:
                ds.to_netcdf(tmp, engine="netcdf4")
            computed += 1
            done = True
            if on_point is not None:
                on_point(point, True)
        elif done and on_point is not None:
            on_point(point, False)
        rows.append({"id": point["id"], **point["label"], "done": done})
    table = pd.DataFrame(rows)
    atomic_write_text(folder / "points.csv", table.to_csv(index=False))
    return table


def open_sweep(out: str | Path) -> xr.Dataset:
    """The combined view of a sweep: every finished point on a ``point`` dimension.

    The point's labels (scenario, council and each parameter) are coordinates
    along ``point``; provenance attributes of the points are dropped.
    """
    folder = Path(out)
    table = pd.read_csv(folder / "points.csv", keep_default_na=False)
    table = table[table["done"].astype(str) == "True"]
    if table.empty:
        raise InputError(f"{folder}: no finished points")
    parts = []
    for row in table.itertuples(index=False):
        with xr.open_dataset(folder / "points" / f"{row.id}.nc", decode_times=time_coder()) as ds:
            parts.append(ds.load().drop_attrs(deep=False))
    combined = xr.concat(parts, dim="point")
    labels = {c: ("point", table[c].astype(str).to_list()) for c in table.columns if c != "done"}
    return combined.assign_coords(labels)
