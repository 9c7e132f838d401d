"""A national run: every English council forecast, ranked by long waits and shortfall.

Each council's scenario is written by :func:`placeplan.council_init.scenario_for`
(sourced from SEN2 and, where given, the school register) or read from a folder of
the planner's own scenario files, one per council. Every council is run with its own
seed, derived from the national seed and the council's ONS code
(:func:`council_seed`), so a council's figures do not depend on which other councils
are run, in what order, or on how many workers: serial, process pool and Dask runs
give identical tables.

Each council's replications are reduced to a few quantiles as soon as they finish
(:func:`summarise`), so memory stays that of one council per worker. Each summary is
written at once to ``parts/`` in the output folder, keyed by the council's scenario,
the replications, the seed and the placeplan version: a national run that is killed
and started again computes only the councils missing.

Measures, at each January census:

- *long waits*: children waiting longer than the scenario's long-wait threshold
  (``calendar.long_wait_terms``) [children];
- *shortfall of places*: children needing a special school place (in one, placed
  elsewhere, or waiting) less the council's special school places [places]; positive
  when the council's places are too few for its children, whether those children
  wait or are placed elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from placeplan._version import __version__
from placeplan.errors import InputError, ScenarioError
from placeplan.io import atomic_path, atomic_write_text
from placeplan.parallel import backend

__all__ = [
    "QUANTILES",
    "National",
    "council_seed",
    "councils",
    "national_run",
    "open_national",
    "summarise",
]

QUANTILES = (0.1, 0.5, 0.9)
"""Quantiles kept of each measure: the median and the 80% interval."""

_STATS = ("p10", "median", "p90", "mean")
_MEASURES = {
    "long_waits": "Children waiting longer than the long-wait threshold [children]",
    "shortfall": "Children needing a special school place less the council's places [places]",
    "waiting": "Children waiting for a special school place [children]",
    "need": "Children needing a special school place [children]",
    "capacity": "The council's special school places [places]",
    "ehcp_plans": "EHC plans [plans]",
}


def council_seed(seed: int, code: str) -> int:
    """The seed of one council in a national run of root ``seed``.

    Parameters
    ----------
    seed : int
        The national run's seed.
    code : str
        The council's ONS code, e.g. ``E10000015``.

    Returns
    -------
    int
        A 64-bit seed, the same whichever councils are run with it.
    """
    number = int(code[1:]) if code[1:].isdigit() else int.from_bytes(code.encode(), "big")
    words = np.random.SeedSequence([seed, number]).generate_state(2, np.uint32)
    return int(words[0]) << 32 | int(words[1])


def councils(until: int = 2025, sen2_dir: str | Path | None = None) -> pd.DataFrame:
    """The councils a national run covers: SEN2 local authorities with data in ``until``.

    Parameters
    ----------
    until : int
        The January the councils' scenarios start from.
    sen2_dir : str or pathlib.Path, optional
        A folder of official SEN2 files (see :func:`placeplan.sen2.load`).

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name`` and ``region_name`` of each council, by code.
    """
    from placeplan import sen2

    areas = sen2.councils(sen2_dir)
    current = areas[(areas["level"] == "la") & (areas["last_year"] >= until)]
    return current[["code", "name", "region_name"]].sort_values("code").reset_index(drop=True)


def largest_first(
    codes: Sequence[str], until: int, sen2_dir: str | Path | None = None
) -> list[str]:
    """The councils in the order a national run starts them: most plans first.

    A council's run takes time in proportion to its children, so starting the largest
    first leaves the small ones to fill the workers at the end, and the workers finish
    together (longest processing time first). The order changes no council's figures.

    Parameters
    ----------
    codes : sequence of str
        ONS codes.
    until : int
        The January whose plans (SEN2 ``plans_total``) rank them.
    sen2_dir : str or pathlib.Path, optional
        A folder of official SEN2 files.

    Returns
    -------
    list of str
        The codes, most plans first (ties, and councils without the figure, by code).
    """
    from placeplan import sen2

    totals = sen2.load(sen2_dir=sen2_dir).plans_total
    plans = totals[totals["year"] == until].groupby("code")["plans"].max().dropna().astype(float)
    known = plans.to_dict()
    return sorted(codes, key=lambda c: (-known.get(c, 0.0), c))


def _januaries(times: np.ndarray) -> np.ndarray:
    """Indices of the January censuses among a run's snapshot times."""
    return np.flatnonzero(pd.DatetimeIndex(times).month == 1)


MEASURES_READ = ("waiting_over_3_terms", "waiting", "need", "capacity", "ehcp_plans")
"""The measures :func:`summarise` reads: a national run computes only these."""


def summarise(dataset: xr.Dataset) -> dict[str, Any]:
    """Reduce one council's run to quantiles of each measure at each January census.

    Parameters
    ----------
    dataset : xarray.Dataset
        A run's results (:attr:`placeplan.Results.dataset`).

    Returns
    -------
    dict
        ``censuses`` (ISO dates) and, for each measure of the module documentation,
        a ``[census, stat]`` list of lists (stats ``p10``, ``median``, ``p90``,
        ``mean``).
    """
    jan = _januaries(dataset["time"].values)
    arrays = {
        "long_waits": dataset[f"waiting_over_{int(dataset.attrs['long_wait_terms'])}_terms"],
        "shortfall": dataset["need"] - dataset["capacity"],
        "waiting": dataset["waiting"],
        "need": dataset["need"],
        "capacity": dataset["capacity"],
        "ehcp_plans": dataset["ehcp_plans"],
    }
    out: dict[str, Any] = {
        "censuses": [str(t)[:10] for t in dataset["time"].to_numpy()[jan]],
        "replications": int(dataset.sizes["replicate"]),
    }
    for name, values in arrays.items():
        v = values.transpose("replicate", "time").to_numpy()[:, jan].astype(float)
        q = np.quantile(v, QUANTILES, axis=0)
        out[name] = np.column_stack([q[0], q[1], q[2], v.mean(axis=0)]).round(3).tolist()
    return out


@dataclass(frozen=True)
class _Task:
    """One council of a national run (picklable, for a worker process)."""

    code: str
    name: str
    scenario: dict[str, Any] | None
    source: str
    replications: int
    seed: int
    until: int
    sen2_dir: str | None
    parts: str


def _key(task: _Task, data: dict[str, Any]) -> str:
    """What a council's part depends on: its scenario, replications, seed and version."""
    text = json.dumps(
        [data, task.replications, council_seed(task.seed, task.code), __version__],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _one_council(task: _Task) -> dict[str, Any]:
    """Run one council (or read its finished part); a refusal is returned, not raised."""
    from placeplan.experiment import run
    from placeplan.scenario import scenario_from_dict

    head = {"code": task.code, "name": task.name, "source": task.source}
    try:
        if task.scenario is None:
            from placeplan.council_init import scenario_for

            data = scenario_for(task.code, until=task.until, sen2_dir=task.sen2_dir)
        else:
            data = task.scenario
        key = _key(task, data)
        part = Path(task.parts) / f"{task.code}.json"
        if part.is_file():
            try:
                done = json.loads(part.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                done = {}
            if done.get("key") == key:
                return {**done, "resumed": True}
        scenario = scenario_from_dict(data, source=task.source)
        began = time.perf_counter()
        results = run(
            scenario,
            task.replications,
            seed=council_seed(task.seed, task.code),
            measures_only=MEASURES_READ,
        )
        seconds = time.perf_counter() - began
    except (InputError, ScenarioError) as exc:
        return {**head, "refused": str(exc).strip()}
    summary = {
        **head,
        "key": key,
        "title": scenario.title,
        "scenario_sha256": results.dataset.attrs.get("scenario_sha256", ""),
        "seed": council_seed(task.seed, task.code),
        "seconds": round(seconds, 3),
        **summarise(results.dataset),
    }
    with atomic_path(part) as tmp:
        tmp.write_text(json.dumps(summary), encoding="utf-8")
    return {**summary, "resumed": False}


@dataclass(frozen=True)
class National:
    """A national run's results.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per council run, ranked by median long waits at the ranking census:
        each measure's median and 80% interval there, long waits per 1,000 plans,
        and the ranks by long waits and by shortfall.
    dataset : xarray.Dataset
        Every measure ``[council, census, stat]``.
    refused : pandas.DataFrame
        Councils not run (``code``, ``name``, ``reason``).
    year : int
        The January the councils are ranked at.
    provenance : dict
        Settings, versions and each council's scenario digest and seed.
    """

    table: pd.DataFrame
    dataset: xr.Dataset
    refused: pd.DataFrame
    year: int
    provenance: dict[str, Any]

    def plot(self, top: int = 25):
        """Two panels: the ``top`` councils by long waits, and by shortfall of places.

        Each bar is the median at the ranking census and each whisker the 80% interval.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(13, 0.32 * min(top, len(self.table)) + 1.6))
        for ax, measure, label in (
            (axes[0], "long_waits", "children waiting longer than the threshold"),
            (axes[1], "shortfall", "shortfall of special school places"),
        ):
            rows = self.table.sort_values(f"{measure}_median", ascending=False).head(top)
            rows = rows.iloc[::-1]
            y = np.arange(len(rows))
            median = rows[f"{measure}_median"].to_numpy()
            low = median - rows[f"{measure}_p10"].to_numpy()
            high = rows[f"{measure}_p90"].to_numpy() - median
            ax.barh(y, median, color="#4c72b0", alpha=0.8)
            ax.errorbar(median, y, xerr=[low, high], fmt="none", ecolor="black", capsize=2)
            ax.set_yticks(y, rows["name"].tolist(), fontsize=8)
            ax.axvline(0, color="grey", linewidth=0.8)
            ax.set_xlabel(f"{label}, January {self.year} (median, 80% interval)")
        runs = int(self.provenance["replications"])
        fig.suptitle(
            f"Councils ranked at January {self.year}: {len(self.table)} councils, "
            f"{runs:,} replications each (placeplan {__version__})"
        )
        fig.tight_layout()
        return fig

    def save(self, out: str | Path) -> dict[str, Path]:
        """Write the national run's files to ``out``, each atomically.

        ``national.csv`` (the table), ``national.nc`` (the dataset), ``refused.csv``,
        ``national.png`` (the figure) and ``provenance.json``.

        Returns
        -------
        dict of str to pathlib.Path
        """
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        files = {
            "table": folder / "national.csv",
            "dataset": folder / "national.nc",
            "refused": folder / "refused.csv",
            "figure": folder / "national.png",
            "provenance": folder / "provenance.json",
        }
        atomic_write_text(files["table"], self.table.to_csv(index=False, lineterminator="\n"))
        atomic_write_text(files["refused"], self.refused.to_csv(index=False, lineterminator="\n"))
        with atomic_path(files["dataset"]) as tmp:
            self.dataset.to_netcdf(tmp, engine="scipy")
        atomic_write_text(files["provenance"], json.dumps(self.provenance, indent=2) + "\n")
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig = self.plot()
        with atomic_path(files["figure"]) as tmp:
            fig.savefig(tmp, format="png", dpi=110)
        plt.close(fig)
        return files


def _assemble(done: list[dict[str, Any]], year: int, settings: dict[str, Any]) -> National:
    """The table, dataset and refusals of every council's summary."""
    ran = sorted((d for d in done if "refused" not in d), key=lambda d: d["code"])
    refused = pd.DataFrame(
        sorted(
            (
                {"code": d["code"], "name": d["name"], "reason": d["refused"]}
                for d in done
                if "refused" in d
            ),
            key=lambda r: r["code"],
        ),
        columns=["code", "name", "reason"],
    )
    if not ran:
        raise InputError("no council could be run: " + "; ".join(refused["reason"].head(3)))
    censuses = sorted({c for d in ran for c in d["censuses"]})
    years = [int(c[:4]) for c in censuses]
    if year not in years:
        raise InputError(
            f"--year {year}: the councils' January censuses run {years[0]}–{years[-1]}"
        )
    data = {}
    for measure, label in _MEASURES.items():
        values = np.full((len(ran), len(censuses), len(_STATS)), np.nan)
        for i, d in enumerate(ran):
            cols = [censuses.index(c) for c in d["censuses"]]
            values[i, cols, :] = np.asarray(d[measure], dtype=float)
        data[measure] = (("council", "census", "stat"), values, {"long_name": label})
    dataset = xr.Dataset(
        data,
        coords={
            "council": [d["code"] for d in ran],
            "council_name": ("council", [d["name"] for d in ran]),
            "census": pd.DatetimeIndex(censuses).to_numpy(dtype="datetime64[ns]"),
            "stat": list(_STATS),
        },
        attrs={"placeplan_version": __version__, "ranking_year": year},
    )
    at = years.index(year)
    table = pd.DataFrame(
        {"code": dataset["council"].to_numpy(), "name": dataset["council_name"].to_numpy()}
    )
    for measure in ("long_waits", "shortfall", "waiting", "need", "capacity", "ehcp_plans"):
        for s, stat in enumerate(_STATS[:3]):
            table[f"{measure}_{stat}"] = dataset[measure].to_numpy()[:, at, s]
    table["long_waits_per_1000_plans"] = (
        1000 * table["long_waits_median"] / table["ehcp_plans_median"]
    ).round(2)
    table["rank_long_waits"] = (
        table["long_waits_median"].rank(ascending=False, method="min").astype(int)
    )
    table["rank_shortfall"] = (
        table["shortfall_median"].rank(ascending=False, method="min").astype(int)
    )
    table = table.sort_values(["rank_long_waits", "code"], kind="stable").reset_index(drop=True)
    provenance = {
        **settings,
        "placeplan_version": __version__,
        "ranking_year": year,
        "councils_run": len(ran),
        "councils_refused": len(refused),
        "councils": {
            d["code"]: {
                "name": d["name"],
                "scenario": d["source"],
                "scenario_sha256": d["scenario_sha256"],
                "seed": d["seed"],
                "run_seconds": d["seconds"],
            }
            for d in ran
        },
    }
    return National(table, dataset, refused, year, provenance)


def national_run(
    councils_: Sequence[str] | None = None,
    *,
    replications: int = 1000,
    seed: int = 0,
    year: int | None = None,
    scenarios: dict[str, tuple[dict[str, Any], str]] | None = None,
    until: int = 2025,
    sen2_dir: str | Path | None = None,
    workers: int = 1,
    dask: str | bool | None = None,
    dask_timeout: float = 10.0,
    parts: str | Path,
    progress: bool = False,
) -> National:
    """Forecast every council (or those named) and rank them.

    Parameters
    ----------
    councils_ : sequence of str, optional
        Council names or ONS codes; every council of :func:`councils` if omitted.
    replications : int
        Replications per council [1].
    seed : int
        The national seed; each council's is :func:`council_seed`.
    year : int, optional
        The January to rank at; five years after ``until`` if omitted.
    scenarios : dict, optional
        The planner's own scenarios by ONS code: ``(data, source)``, the scenario as a
        mapping and the file it came from. Other councils' are written by
        :func:`placeplan.council_init.scenario_for`.
    until : int
        The January the councils' scenarios start from (the SEN2 base year).
    sen2_dir : str or pathlib.Path, optional
        A folder of official SEN2 files.
    workers : int
        Worker processes (one council at a time each).
    dask : str or bool, optional
        Run on dask.distributed: True for a local cluster, or a scheduler address.
    dask_timeout : float
        Seconds to wait for the scheduler [s].
    parts : str or pathlib.Path
        Folder of the councils' finished summaries (resumed from if present).
    progress : bool
        Show a progress bar (councils) on standard error.

    Returns
    -------
    National
    """
    import sys

    from tqdm import tqdm

    from placeplan import sen2

    known = councils(until, sen2_dir)
    if councils_:
        tables = sen2.councils(sen2_dir)
        chosen = []
        for c in councils_:
            try:
                code = sen2._resolve(c, tables)
            except KeyError as exc:
                raise InputError(str(exc.args[0] if exc.args else exc)) from None
            if code not in set(known["code"]):
                raise InputError(
                    f"{c}: not a council with SEN2 data in January {until} (a region, "
                    "England, or a council that no longer exists)"
                )
            chosen.append(code)
        known = known[known["code"].isin(chosen)]
    own = scenarios or {}
    stray = sorted(set(own) - set(known["code"]))
    if stray:
        raise InputError(f"scenarios for councils not in this run: {', '.join(stray)}")
    from placeplan.scenario import scenario_from_dict

    for data, source in own.values():  # the planner's own files fail now, not as refusals
        scenario_from_dict(data, source=source)
    order = largest_first(list(known["code"]), until, sen2_dir)
    known = known.set_index("code").loc[order].reset_index()
    tasks = [
        _Task(
            code=row.code,
            name=row.name,
            scenario=own[row.code][0] if row.code in own else None,
            source=own[row.code][1] if row.code in own else f"placeplan init --council {row.code}",
            replications=replications,
            seed=seed,
            until=until,
            sen2_dir=None if sen2_dir is None else str(Path(sen2_dir).resolve()),
            parts=str(Path(parts)),
        )
        for row in known.itertuples()
    ]
    done = []
    bar = tqdm(total=len(tasks), unit="council", disable=not progress, file=sys.stderr)
    with backend(workers, dask, dask_timeout) as runner:
        for result in runner.map_unordered(_one_council, tasks):
            done.append(result)
            bar.set_postfix_str(result["name"][:24], refresh=False)
            bar.update()
    bar.close()
    settings = {
        "command_settings": {
            "replications": replications,
            "seed": seed,
            "until": until,
            "sen2_dir": None if sen2_dir is None else str(sen2_dir),
            "workers": workers,
            "backend": "dask" if dask else ("process pool" if workers > 1 else "serial"),
        },
        "replications": replications,
        "resumed": sorted(d["code"] for d in done if d.get("resumed")),
    }
    return _assemble(done, until + 5 if year is None else year, settings)


def open_national(folder: str | Path) -> National:
    """Read a national run's folder back.

    Parameters
    ----------
    folder : str or pathlib.Path
        A folder written by :meth:`National.save`.

    Returns
    -------
    National
    """
    path = Path(folder)
    try:
        provenance = json.loads((path / "provenance.json").read_text(encoding="utf-8"))
        table = pd.read_csv(path / "national.csv", dtype={"code": str})
        refused = pd.read_csv(path / "refused.csv", dtype={"code": str})
        with xr.open_dataset(path / "national.nc", engine="scipy") as ds:
            dataset = ds.load()
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a national run folder ({exc})") from None
    return National(table, dataset, refused, int(provenance["ranking_year"]), provenance)
