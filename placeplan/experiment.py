"""Running a scenario: replications with their own random streams, gathered into Results."""

from __future__ import annotations

import json
import platform
import sys
import time
import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from placeplan import measures, sen2
from placeplan._version import __version__
from placeplan.calendar import Term
from placeplan.childlog import child_log
from placeplan.model import Model, Replication
from placeplan.placement import Engine
from placeplan.results import Results, build_dataset
from placeplan.scenario import Scenario, load_scenario
from placeplan.streams import Streams, root_entropy

__all__ = ["MAX_REPLICATIONS", "load_user_scenario", "run"]

MAX_REPLICATIONS = 100_000
"""Most replications one run may ask for [1] (memory grows with them)."""

MAX_WORKERS = 256
"""Most worker processes [1]."""

_PACKAGES = ("numpy", "scipy", "simpy", "pandas", "xarray", "pydantic", "netCDF4", "pyyaml")


def _package_versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _extract_digest() -> str:
    """SHA-256 of the shipped SEN2 extract's manifest (which holds every file's hash)."""
    import hashlib

    return hashlib.sha256((sen2.extract_dir() / "MANIFEST.json").read_bytes()).hexdigest()


def _interpolate(januaries: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Values at snapshot instants, linear in time between Januaries."""
    if values.ndim == 1:
        return np.interp(at, januaries, values)
    return np.stack([np.interp(at, januaries, values[:, j]) for j in range(values.shape[1])], -1)


def _snapshot_arrays(
    model: Model,
    rep: Replication,
    logs: list,
    keep_log: bool,
    replicate: int,
    only: Collection[str] | None = None,
) -> dict[str, np.ndarray]:
    """The arrays one replication contributes to the Dataset (the rest is let go).

    ``only`` names the measures wanted (all if None); the placement measures not
    computed, and the pathway's variables, are left out.
    """
    if keep_log:
        logs.append(child_log(model, rep, replicate))
    at = model.schedule.snapshots
    d = rep.demand
    demand = {  # the cohort projection's measures: totals and by designation
        "ehcp_plans": (d.ehcp_plans, None),
        "specialist_demand": (d.specialist_demand, d.specialist_by_designation),
    }
    out: dict[str, np.ndarray] = {}
    if rep.pathway is not None and only is None:
        from placeplan.pathway.outputs import replication_arrays, years_of

        out.update(replication_arrays(rep, years_of(model.scenario), at))
    for m in measures.MEASURES:
        if only is not None and m.name not in only:
            continue
        if m.source == "placement":
            by_designation = rep.outcome.measures[m.name]
            out[m.name] = by_designation.sum(axis=-1)
        else:
            total, by_designation = demand[m.name]
            out[m.name] = _interpolate(d.januaries, total, at)
            if by_designation is not None:
                by_designation = _interpolate(d.januaries, by_designation, at)
        if m.by_designation:
            out[f"{m.name}_by_designation"] = by_designation
        if m.by_locality:
            out[f"{m.name}_by_locality"] = rep.outcome.measures[f"{m.name}_by_locality"]
    return out


class _Gathered:
    """Each variable's array over the replications, filled in as replications arrive.

    A replication's arrays are copied into row ``r`` of one array per variable and let
    go at once, so a run holds one copy of its results and no per-replication arrays
    (about 140,000 small arrays for 1,000 replications, whose headers and scattered
    heap cost more than their numbers). The result equals :func:`numpy.stack` of the
    replications in order: same values, same dtype (widened as ``numpy.stack`` would
    if a replication's dtype differs), same shape.
    """

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.filled: dict[str, int] = {}  # replications put, by variable

    def reserve(self, rows: int) -> None:
        """Make room for replications 0 … ``rows`` - 1 (a run that grows by rounds)."""
        for name, array in self.arrays.items():
            if len(array) < rows:
                grown = np.empty((rows, *array.shape[1:]), dtype=array.dtype)
                grown[: len(array)] = array
                self.arrays[name] = grown

    def put(self, first: int, parts: list[dict[str, np.ndarray]], rows: int) -> None:
        """Copy replications ``first`` … into their rows (``rows`` the run's size so far)."""
        for i, part in enumerate(parts):
            for name, value in part.items():
                array = self.arrays.get(name)
                if array is None:
                    array = np.empty((rows, *np.shape(value)), dtype=np.asarray(value).dtype)
                elif np.shape(value) != array.shape[1:]:
                    raise ValueError(
                        f"{name}: replication {first + i} has shape {np.shape(value)}, "
                        f"the others {array.shape[1:]}"
                    )
                else:
                    wider = np.result_type(array, value)
                    if wider != array.dtype:
                        array = array.astype(wider)
                self.arrays[name] = array
                array[first + i] = value
                self.filled[name] = self.filled.get(name, 0) + 1
            part.clear()

    def rows(self, count: int) -> dict[str, np.ndarray]:
        """The arrays of replications 0 … ``count`` - 1 (each of which must have been put)."""
        short = [name for name, n in self.filled.items() if n != count]
        if short:
            raise ValueError(f"variables {short} are missing from some of {count} replications")
        return {name: array[:count] for name, array in self.arrays.items()}


def _replicate_range(
    scenario: Scenario,
    entropy: int,
    engine: str,
    keep_log: bool,
    first: int,
    count: int,
    model: Model | None = None,
    pins: Mapping[str, float] | None = None,
    only: tuple[str, ...] | None = None,
) -> tuple[list[dict[str, np.ndarray]], list]:
    """Replications ``first`` … ``first + count - 1``: what each adds to the Dataset.

    A module-level function of plain arguments, so that worker processes and Dask
    can run it; each replication draws only from its own streams, so the result
    does not depend on where it runs. ``pins`` holds assumptions at quantiles
    (:class:`placeplan.model.Model`); ignored when ``model`` is given. ``only`` names
    the measures wanted (all if None).
    """
    model = model if model is not None else Model(scenario, pins)
    parts, logs = [], []
    for r in range(first, first + count):
        rep = model.replicate(Streams(entropy, r), engine, only)  # type: ignore[arg-type]
        parts.append(_snapshot_arrays(model, rep, logs, keep_log, r, only))
    return parts, logs


def _relative_half_width(headline: np.ndarray, januaries: np.ndarray) -> float:
    """Relative 95% half-width of the mean headline: long waits averaged over the Januaries.

    Each replication contributes one number, the mean over the January censuses of
    the headline (children waiting longer than ``long_wait_terms``); the half-width
    of the t-interval of their mean over its mean (0 when nobody ever waits that long).
    """
    from scipy import stats

    if not januaries.any():  # no January census in the horizon: every snapshot (as headline)
        januaries = np.ones_like(januaries, dtype=bool)
    values = np.array([row[januaries].mean() for row in headline], dtype=float)
    n, mean = len(values), values.mean()
    if mean <= 0:
        return 0.0
    half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return float(half / mean)


def load_user_scenario(
    path_or_name: str | Path, *, allow_outside: bool = False
) -> tuple[Scenario, Path]:
    """Resolve and load a scenario a user named: a file, or a bundled scenario's name.

    A run folder given instead of its scenario is named as such; anything else that
    is not a regular scenario file (a folder, a FIFO, a device such as
    ``/dev/zero``) is refused by the reader before it is opened
    (:mod:`placeplan.scenario_files`). ``allow_outside`` lets ``extends`` reach files
    outside the scenario's folder (:func:`placeplan.scenario.load_scenario`).

    Raises
    ------
    InputError
        If the name is no scenario, or the file is not a valid scenario.
    """
    from placeplan.bundled import resolve_scenario_path
    from placeplan.errors import InputError

    path = resolve_scenario_path(path_or_name)
    if path.is_dir() and (path / "provenance.json").exists():
        raise InputError(
            f"{path}: a run folder, not a scenario file (its scenario is {path / 'scenario.yaml'})"
        )
    return load_scenario(path, allow_outside=allow_outside), path


def _check_options(
    replications: int,
    engine: str,
    workers: int,
    precision: float | None,
    min_replications: int,
    max_replications: int,
    dask_timeout: float,
) -> None:
    """Refuse options no run can honour, before anything runs (InputError)."""
    import math

    from placeplan.errors import InputError

    def count(name: str, value: int, low: int, high: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise InputError(f"{name}: expected a whole number, got {value!r}")
        if not low <= value <= high:
            raise InputError(f"{name}: {value} is not between {low:,} and {high:,}")

    count("replications", replications, 1, MAX_REPLICATIONS)
    count("workers", workers, 1, MAX_WORKERS)
    if engine not in ("epoch", "reference"):
        raise InputError(f"engine: {engine!r} is not 'epoch' or 'reference'")
    if precision is not None:
        if not isinstance(precision, int | float) or not 0 < precision <= 1:
            raise InputError(f"precision: expected a fraction in (0, 1], got {precision!r}")
        count("min_replications", min_replications, 2, MAX_REPLICATIONS)
        count("max_replications", max_replications, min_replications, MAX_REPLICATIONS)
    if not isinstance(dask_timeout, int | float) or not (
        math.isfinite(dask_timeout) and dask_timeout > 0
    ):
        raise InputError(
            f"dask_timeout: expected a positive number of seconds, got {dask_timeout!r}"
        )


def _check_pins(pins: Mapping[str, float] | None) -> dict[str, float]:
    """The pins as a plain dict, or InputError naming an unknown path or a bad quantile."""
    import math

    from placeplan.errors import InputError
    from placeplan.streams import ASSUMPTIONS, assumption_slot

    out: dict[str, float] = {}
    for path, u in (pins or {}).items():
        try:
            assumption_slot(path)
        except KeyError:
            raise InputError(
                f"pins: no assumption {path!r}; assumptions: {', '.join(ASSUMPTIONS)}"
            ) from None
        if (
            isinstance(u, bool)
            or not isinstance(u, int | float)
            or not (math.isfinite(u) and 0 < u < 1)
        ):
            raise InputError(f"pins: {path}: expected a probability in (0, 1), got {u!r}")
        out[path] = float(u)
    return dict(sorted(out.items()))


def _check_only(names: Collection[str] | None) -> tuple[str, ...] | None:
    """The measures a run keeps, in the table's order (the headline always), or None: all.

    Raises
    ------
    ValueError
        For a name that is not a measure of the table.
    """
    if names is None:
        return None
    known = [m.name for m in measures.MEASURES]
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"measures_only: unknown measures {unknown}; known: {known}")
    wanted = set(names) | {measures.HEADLINE}
    return tuple(name for name in known if name in wanted)


def _chunks(replications: int, workers: int, dask: str | bool | None) -> list[tuple[int, int]]:
    """Split replications into (first, count) chunks: one each when serial, batches otherwise."""
    if workers <= 1 and not dask:
        return [(i, 1) for i in range(replications)]
    size = max(1, min(50, replications // (4 * max(workers, 2)) or 1))
    return [(i, min(size, replications - i)) for i in range(0, replications, size)]


def _execute(
    model, scenario, entropy, engine, keep_log, chunks, workers, dask, timeout=10.0, only=None
):
    """Yield (first replication, results) for each chunk, serially, on a pool or on Dask."""
    extra = {k: v for k, v in (("pins", model.pins), ("only", only)) if v}
    task = partial(_replicate_range, **extra) if extra else _replicate_range
    if dask:
        from placeplan.parallel import dask_map

        yield from dask_map(
            task,
            scenario,
            entropy,
            engine,
            keep_log,
            chunks,
            None if dask is True else str(dask),
            workers,
            timeout,
        )
    elif workers > 1:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(task, scenario, entropy, engine, keep_log, first, n): first
                for first, n in chunks
            }
            for future in as_completed(futures):
                yield futures[future], future.result()
    else:
        for first, n in chunks:
            yield (
                first,
                _replicate_range(scenario, entropy, engine, keep_log, first, n, model, only=only),
            )


def run(
    scenario: Scenario | str | Path,
    replications: int = 100,
    seed: int | None = None,
    *,
    engine: Engine = "epoch",
    progress: bool = False,
    scenario_file: str | Path | None = None,
    child_log: bool = False,
    workers: int = 1,
    dask: str | bool | None = None,
    precision: float | None = None,
    min_replications: int = 20,
    max_replications: int = 2000,
    dask_timeout: float = 10.0,
    pins: Mapping[str, float] | None = None,
    measures_only: Collection[str] | None = None,
) -> Results:
    """Run a scenario's replications and gather the results.

    Parameters
    ----------
    scenario : Scenario, str or pathlib.Path
        A scenario, a scenario file, or the name of a bundled scenario.
    replications : int
        Number of replications [1].
    seed : int, optional
        Root seed. The same scenario, seed and placeplan version give identical
        results; fresh entropy is drawn (and recorded) if omitted.
    engine : {"epoch", "reference"}
        Placement engine: the fast epoch engine, or the per-child reference model
        (same placements, far slower; for checking).
    progress : bool
        Show a progress bar on standard error.
    scenario_file : str or pathlib.Path, optional
        File the scenario was read from, recorded in the provenance (set
        automatically when ``scenario`` is a path or name).
    child_log : bool
        Keep one row per child and replication (:attr:`Results.children`).
    workers : int
        Worker processes (a process pool); 1 runs in this process.
    dask : str or bool, optional
        Run on ``dask.distributed``: True for a local cluster of ``workers``
        processes, or a scheduler address. Serial, pool and Dask runs of the same
        seed give identical Datasets.
    precision : float, optional
        Run replications (from ``min_replications``, growing by half each round,
        up to ``max_replications``) until the 95% confidence interval of the mean
        headline — children waiting longer than the scenario's ``long_wait_terms``,
        averaged over the January censuses — is within this fraction of that mean; ``replications``
        is then ignored. The number used, and the precision reached, are in the
        provenance.
    min_replications, max_replications : int
        Bounds when ``precision`` is given.
    dask_timeout : float
        Seconds to wait for the Dask scheduler at ``dask`` to answer [s].
    pins : mapping, optional
        Assumptions held at a quantile in every replication, by dotted path
        (:data:`placeplan.streams.ASSUMPTIONS`) → probability in (0, 1); every other
        draw is as in the unpinned run of the same seed (common random numbers).
        Recorded in the provenance (``pins``) and the Dataset's ``pins`` attribute.
    measures_only : collection of str, optional
        Compute and keep only these measures (names of
        :data:`placeplan.measures.MEASURES`; the headline is always kept), for callers
        that need a few, such as national runs and the optimiser; every measure if
        omitted. The measures kept are identical to a full run's. The EHC pathway's
        variables are left out, and the pathway is not run at all unless it moves
        place referrals (``pathway.feed.shift_referrals``).

    Returns
    -------
    Results

    Examples
    --------
    >>> import placeplan as pp
    >>> results = pp.run("herts-baseline", replications=20, seed=1)
    >>> results.headline()  # doctest: +SKIP

    """
    _check_options(
        replications, engine, workers, precision, min_replications, max_replications, dask_timeout
    )
    pins = _check_pins(pins)
    only = _check_only(measures_only)
    if not isinstance(scenario, Scenario):
        scenario, scenario_file = load_user_scenario(scenario)
    entropy = root_entropy(seed)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    model = Model(scenario, pins)
    gathered = _Gathered()
    done: dict[int, list] = {}  # child logs by first replication of their chunk
    target = replications if precision is None else max(min_replications, 2)
    cap = replications if precision is None else max(max_replications, target)
    bar = tqdm(total=target, desc=scenario.name, unit="rep", disable=not progress, file=sys.stderr)
    have = 0
    achieved: float | None = None
    while True:
        chunks = [(first + have, n) for first, n in _chunks(target - have, workers, dask)]
        gathered.reserve(target)
        for first, (parts_k, logs_k) in _execute(
            model, scenario, entropy, engine, child_log, chunks, workers, dask, dask_timeout, only
        ):
            gathered.put(first, parts_k, target)
            done[first] = logs_k
            bar.update(len(parts_k))
        have = target
        if precision is None:
            break
        januaries = np.array([d.month == 1 for d in model.schedule.snapshot_dates])
        achieved = _relative_half_width(gathered.rows(have)[measures.HEADLINE], januaries)
        if achieved <= precision or have >= cap:
            break
        target = min(cap, int(np.ceil(have * 1.5)))
        bar.total = target
        bar.refresh()
    bar.close()
    replications = have
    logs = [log for first in sorted(done) for log in done[first]]
    dates = model.schedule.snapshot_dates
    terms = []
    for d in dates:
        year, term = model.calendar.term_of(d)
        terms.append(f"{year}/{(year + 1) % 100:02d} {Term(term).name.lower()}")
    stacked = gathered.rows(replications)
    pathway = {k: stacked.pop(k) for k in [k for k in stacked if k.startswith("pathway_")]}
    dataset = build_dataset(
        dates,
        terms,
        scenario.designations,
        stacked,
        model.localities,
        measures.Thresholds.of(scenario),
    )
    if pathway:
        from placeplan.pathway.outputs import add_to_dataset, years_of

        dataset = add_to_dataset(dataset, pathway, years_of(scenario))
    wall = time.perf_counter() - clock
    provenance = _provenance(
        scenario,
        scenario_file,
        entropy,
        seed,
        replications,
        started,
        wall,
        model,
        engine,
        workers,
        dask,
        precision,
        achieved,
    )
    if pins:
        dataset.attrs["pins"] = json.dumps(pins, sort_keys=True)
    dataset.attrs.update(
        title=f"placeplan forecast: {scenario.title}",
        scenario=scenario.name,
        scenario_sha256=scenario.digest(),
        placeplan_version=__version__,
        seed_entropy=str(entropy),
        replications=replications,
        long_wait_terms=scenario.calendar.long_wait_terms,
        long_wait_weeks=scenario.calendar.long_wait_weeks,
        data_release=provenance["data"]["release"],
        licence_of_data=provenance["data"]["attribution"] or "none",
        provenance=json.dumps(provenance, sort_keys=True),
    )
    children = pd.concat(logs, ignore_index=True) if child_log else None
    return Results(dataset=dataset, scenario=scenario, provenance=provenance, children=children)


def _provenance(
    scenario: Scenario,
    scenario_file: str | Path | None,
    entropy: int,
    seed: int | None,
    replications: int,
    started: datetime,
    wall: float,
    model: Model,
    engine: str,
    workers: int = 1,
    dask: str | bool | None = None,
    precision: float | None = None,
    achieved_precision: float | None = None,
) -> dict[str, Any]:
    import hashlib

    file_info: dict[str, Any] = {"path": None, "sha256": None}
    if scenario_file is not None:
        path = Path(scenario_file)
        file_info = {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    from placeplan import sen2

    cohort = model.cohort
    sen2_dir = getattr(scenario.demand, "sen2_dir", None) if cohort is not None else None

    return {
        "run_id": uuid.uuid4().hex,
        "placeplan_version": __version__,
        "scenario": {
            "name": scenario.name,
            "title": scenario.title,
            "file": file_info,
            "resolved_sha256": scenario.digest(),
        },
        "seed": {"given": seed, "entropy": str(entropy)},
        "pins": dict(model.pins),
        "replications": replications,
        "engine": engine,
        "workers": workers,
        "backend": "dask" if dask else ("process pool" if workers > 1 else "serial"),
        "precision": None
        if precision is None
        else {
            "target": precision,
            "achieved": achieved_precision,
        },
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_time_s": round(wall, 3),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": _package_versions(),
        "starting_state": model.start_figures.provenance
        if model.start_figures is not None
        else None,
        "data": {
            "release": cohort.release if cohort is not None else "none (fixed demand)",
            "extract_manifest_sha256": _extract_digest()
            if cohort is not None and sen2.over_extract(sen2_dir)
            else None,
            **({"sen2_dir": sen2_dir, "files": sen2.source_files(sen2_dir)} if sen2_dir else {}),
            # needs new to SEN2 placed by another need's designations, with the source
            "new_needs": {
                need: {"as": like, "source": source}
                for need, (like, source) in scenario.demand.placed_as.items()
            }
            if cohort is not None
            else {},
            "attribution": cohort.attribution if cohort is not None else None,
            "borrowed": list(cohort.borrowed) if cohort is not None else [],
        },
    }
