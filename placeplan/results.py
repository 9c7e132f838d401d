"""Results: the xarray Dataset of a run, with summaries and the run folder on disk."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from placeplan import measures
from placeplan.io import atomic_path
from placeplan.scenario import Scenario

__all__ = ["HEADLINE", "VARIABLES", "Results", "open_results"]

VARIABLES: dict[str, tuple[str, str]] = {
    m.name: (m.units, m.long_name()) for m in measures.MEASURES
}
"""Variables of the results Dataset: units and long name at the default thresholds.

Derived from :data:`placeplan.measures.MEASURES`; a run's own long names (which
follow its scenario's thresholds) are in its Dataset's attributes."""

HEADLINE = measures.HEADLINE
"""The measure the planner's question is about."""

_STATISTICS = {"mean": None, "p10": 0.1, "p50": 0.5, "p90": 0.9}


@dataclass(frozen=True)
class Results:
    """The outcome of a run: a Dataset over ``replicate`` × ``time`` (× ``designation``).

    Attributes
    ----------
    dataset : xarray.Dataset
        Every measure of every replication at every snapshot, with units and
        long names; provenance in its attributes.
    scenario : Scenario
        The scenario that was run.
    provenance : dict
        Version, scenario hash, seed entropy, replications, timings, packages, data.
    children : pandas.DataFrame, optional
        The child log, one row per child and replication, when the run kept it
        (:func:`placeplan.childlog.child_log`).

    """

    dataset: xr.Dataset
    scenario: Scenario
    provenance: dict[str, Any]
    children: pd.DataFrame | None = None

    @property
    def plot(self):
        """The figures of this run (:class:`placeplan.plot.Plots`): ``results.plot.fan()``."""
        from placeplan.plot import Plots

        return Plots(self)

    @property
    def replications(self) -> int:
        """Number of replications [1]."""
        return int(self.dataset.sizes["replicate"])

    def summary(self, variables: list[str] | None = None) -> pd.DataFrame:
        """Mean and 10th, 50th and 90th percentiles of each measure at each snapshot.

        Parameters
        ----------
        variables : list of str, optional
            Measures to summarise (all totals by default).

        Returns
        -------
        pandas.DataFrame
            One row per snapshot and statistic (``mean``, ``p10``, ``p50``, ``p90``),
            columns ``time``, ``term``, ``statistic`` and one per measure.

        """
        ds = self.dataset
        names = variables or [m.name for m in measures.MEASURES if m.name in ds]
        frames = []
        with warnings.catch_warnings():  # measures a model lacks (e.g. plans) are all NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            blocks = {
                stat: ds[names].mean("replicate")
                if q is None
                else ds[names].quantile(q, dim="replicate").drop_vars("quantile")
                for stat, q in _STATISTICS.items()
            }
        for stat, block in blocks.items():
            frame = block.to_dataframe().reset_index()
            frame.insert(2 if "term" in frame else 1, "statistic", stat)
            frames.append(frame)
        out = pd.concat(frames, ignore_index=True)
        out["time"] = pd.to_datetime(out["time"]).dt.date
        keep = ["time", "term", "statistic", *names]
        out = out[[c for c in keep if c in out]]
        order = {s: i for i, s in enumerate(_STATISTICS)}
        out = out.sort_values(
            ["time", "statistic"],
            key=lambda c: c.map(order) if c.name == "statistic" else c,
            kind="stable",
        )
        return out.reset_index(drop=True)

    def pathway_summary(self) -> pd.DataFrame:
        """The EHC pathway's figures by year: mean and 10th, 50th, 90th percentiles.

        See :func:`placeplan.pathway.outputs.summary`; empty without a pathway.
        """
        from placeplan.pathway.outputs import summary

        return summary(self.dataset)

    def citation(self) -> str:
        """A citation of this forecast: what produced it, enough to reproduce it.

        Returns
        -------
        str
            One paragraph naming placeplan and its version, the scenario and the
            SHA-256 of its resolved content, the seed's entropy, the replications,
            the engine and the data release, with the date of the run, and the
            command that reproduces it (:func:`placeplan.report.reproduce_command`:
            the bundled name or the scenario file recorded in the provenance).
        """
        from placeplan.report import reproduce_command

        p = self.provenance
        scenario = p["scenario"]
        return (
            f"{scenario['title']} ({scenario['name']}): forecast of children waiting for "
            f"special school places, {p['replications']} replications, seed entropy "
            f"{p['seed']['entropy']}, {p['engine']} engine, run {p['started'][:10]}. "
            f"placeplan {p['placeplan_version']} (MIT licence). Scenario SHA-256 "
            f"{scenario['resolved_sha256']}. Data: {p['data']['release']}"
            + (f"; {p['data']['attribution']}" if p["data"].get("attribution") else "")
            + f". Reproduce with: {reproduce_command(p)} (placeplan {p['placeplan_version']}), "
            "or exactly from the run folder's resolved scenario.yaml."
        )

    def quantiles(
        self, variable: str = HEADLINE, q: tuple[float, ...] = (0.1, 0.5, 0.9)
    ) -> pd.DataFrame:
        """Quantiles over replications of one measure at each snapshot.

        Parameters
        ----------
        variable : str
            A variable of the Dataset (totals, or ``*_by_designation`` /
            ``*_by_locality``, which keep their extra column).
        q : tuple of float
            Quantiles in [0, 1].

        Returns
        -------
        pandas.DataFrame
            Indexed by snapshot (and designation or locality), one column per quantile.
        """
        da = self.dataset[variable].quantile(list(q), dim="replicate")
        return pd.DataFrame(
            {f"q{x:g}": da.sel(quantile=x).drop_vars("quantile").to_series() for x in q}
        )

    def prob(self, condition, variable: str = HEADLINE) -> pd.Series:
        """Share of replications in which a condition holds, at each snapshot.

        Parameters
        ----------
        condition : callable
            Applied to the variable's DataArray (``replicate`` × ``time``), it returns
            a boolean DataArray; e.g. ``lambda w: w == 0``.
        variable : str
            The variable the condition is about.

        Returns
        -------
        pandas.Series
            The probability at each snapshot [1].

        Examples
        --------
        Probability that nobody waits longer than the long-wait threshold in terms,
        at each census:

        >>> results.prob(lambda w: w == 0)  # doctest: +SKIP
        """
        held = condition(self.dataset[variable])
        return held.mean("replicate").to_series().rename(f"P({variable} condition)")

    def headline(self, variable: str = HEADLINE) -> pd.DataFrame:
        """Children waiting longer than the long-wait threshold at each January census.

        The threshold is the scenario's ``calendar.long_wait_terms`` (the label is
        ``measures.get(HEADLINE).long_name(Thresholds.of(scenario))``). A horizon
        with no January snapshot (say, snapshots every ten years from September)
        gives a row for every snapshot instead, and says so in
        ``table.attrs["census"]``.

        Returns
        -------
        pandas.DataFrame
            One row per January census (or per snapshot, see above): ``median``,
            ``p10``, ``p90`` [children] and ``p_none``, the share of replications in
            which nobody waits that long. ``attrs["census"]`` names the rows:
            ``"January"`` or ``"every snapshot (no January census in the horizon)"``.

        """
        da = self.dataset[variable]
        months = pd.to_datetime(da["time"].to_numpy()).month
        picked = np.flatnonzero(months == 1)
        census = "January"
        if picked.size == 0:
            picked = np.arange(da.sizes["time"])
            census = "every snapshot (no January census in the horizon)"
        rows = da.isel(time=picked)
        table = pd.DataFrame(
            {
                "census": pd.to_datetime(rows["time"].to_numpy()).date,
                "median": rows.median("replicate").to_numpy(),
                "p10": rows.quantile(0.1, dim="replicate").to_numpy(),
                "p90": rows.quantile(0.9, dim="replicate").to_numpy(),
                "p_none": (rows == 0).mean("replicate").to_numpy(),
            }
        )
        table.attrs["census"] = census
        return table

    def to_excel(self, path: str | Path) -> Path:
        """Write a workbook a planner can open, atomically (:mod:`placeplan.excel`).

        Sheets: ``about`` (what each sheet holds, how to reproduce the run, the
        limitations), ``headline`` (the January table, labelled with the
        scenario's threshold), ``summary`` (every measure's mean and 10th/50th/90th
        percentiles), ``NAME by desig`` (median, 10th and 90th percentiles per
        designation per census for the main measures), ``programme`` (the build
        programme), ``assumptions`` (the inputs and their sources), ``measures``
        (units and long names), one sheet per total measure (snapshots ×
        replications) and ``provenance``. Children and places are whole numbers,
        money in £, dates as dates, probabilities as percentages; header rows are
        frozen.
        """
        from placeplan.excel import write_workbook

        return write_workbook(self, path)

    def to_netcdf(self, path: str | Path) -> Path:
        """Write the Dataset to a NetCDF4 file, atomically."""
        path = Path(path)
        with atomic_path(path) as tmp:
            self.dataset.to_netcdf(tmp, engine="netcdf4")
        return path

    def save(self, directory: str | Path) -> dict[str, Path]:
        """Write the run folder whole: its files always belong to this one run.

        The folder holds ``results.nc``, ``summary.csv``, ``provenance.json``,
        ``scenario.yaml`` (the resolved scenario), ``children.csv.gz`` with the
        child log, and ``MANIFEST.json`` (the run id and every file's SHA-256).
        They are written into a staging folder beside it, which then replaces the
        folder (:func:`placeplan.run_folder.write_run_folder`): a run killed at any
        moment leaves the previous run folder or this one, never a mixture. An
        existing folder must be a run folder (or empty).

        Returns
        -------
        dict of str to pathlib.Path
            The files written (without the manifest).

        """
        from placeplan.run_folder import write_run_folder

        return write_run_folder(self, directory)


def time_coder() -> xr.coders.CFDatetimeCoder:
    """How run files' times are decoded: to ``datetime64[s]``, which reaches past 2262."""
    return xr.coders.CFDatetimeCoder(time_unit="s")


def build_dataset(
    times: list,
    terms: list[str],
    designations: tuple[str, ...],
    arrays: dict[str, np.ndarray],
    localities: tuple[str, ...] = ("county",),
    thresholds: measures.Thresholds | None = None,
) -> xr.Dataset:
    """Assemble the Dataset from stacked arrays.

    Parameters
    ----------
    times : list of datetime.date
        Snapshot days.
    terms : list of str
        Term label of each snapshot (e.g. ``"2024/25 spring"``).
    designations : tuple of str
        Designation names.
    arrays : dict
        ``name -> [replicate, time]`` totals, ``name_by_designation ->
        [replicate, time, designation]`` and ``name_by_locality -> [replicate, time,
        locality]``.
    localities : tuple of str
        Locality names.
    thresholds : placeplan.measures.Thresholds, optional
        The scenario's long-wait thresholds (``Thresholds.of(scenario)``), which the
        long names and the ``threshold_terms`` / ``threshold_weeks`` attributes
        follow; the defaults (three terms, 52 weeks) if omitted.

    Raises
    ------
    KeyError
        For an array that is no variable of the table of measures.
    """
    coords = {
        "replicate": np.arange(next(iter(arrays.values())).shape[0]),
        # seconds, not nanoseconds: datetime64[ns] ends in 2262, before long validation runs do
        "time": np.array([np.datetime64(t, "s") for t in times], dtype="datetime64[s]"),
        "designation": list(designations),
        "locality": list(localities),
    }
    data_vars = {}
    known = {v: dim for v, _, dim in measures.variables()}
    for name, values in arrays.items():
        if name not in known:
            raise KeyError(f"{name!r} is not a variable of the table of measures")
        dim = known[name]
        dims = ("replicate", "time") if dim is None else ("replicate", "time", dim)
        attrs = measures.get(name).attrs(thresholds)
        if dim is not None:
            attrs["long_name"] += f", by {dim}"
        data_vars[name] = xr.Variable(dims, values, attrs)
    ds = xr.Dataset(data_vars, coords=coords)
    ds = ds.assign_coords(term=("time", list(terms)))
    ds["time"].attrs.update(long_name="Snapshot (census day)")
    ds["replicate"].attrs.update(long_name="Replication")
    ds["designation"].attrs.update(long_name="Special school designation")
    ds["locality"].attrs.update(long_name="Locality (of the school for places, else the child)")
    return ds


def _flatten(tree: dict[str, Any], prefix: str = ""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", "" if value is None else str(value)


def open_results(directory: str | Path) -> Results:
    """Load a run folder written by :meth:`Results.save` (or ``placeplan run``).

    Every file is checked against the folder's manifest, and the run id and the
    scenario's hash in each against the others
    (:func:`placeplan.run_folder.read_run_folder`).

    Parameters
    ----------
    directory : str or pathlib.Path
        The run folder.

    Returns
    -------
    Results
        With the Dataset loaded into memory, the resolved scenario and the provenance.

    Raises
    ------
    InputError
        If the folder is not a whole run folder: the message names the file and
        what is wrong with it (missing, damaged, of another run).
    """
    from placeplan.run_folder import read_run_folder

    return read_run_folder(directory)
