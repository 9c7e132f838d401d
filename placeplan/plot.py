"""Figures of a run (matplotlib), reached as ``results.plot.*``.

Every figure has a title, axes labelled with units, and a footer naming the
scenario, the replications, the seed and the placeplan version, so that a figure
pasted into a paper says on its face what produced it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from placeplan.compare import Comparison
    from placeplan.results import Results

__all__ = ["Plots", "comparison", "save"]


def _figure(width: float = 8.0, height: float = 4.5) -> tuple[Figure, object]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _footer(fig: Figure, results: Results) -> None:
    p = results.provenance
    text = (
        f"{results.scenario.title} ({results.scenario.name}) · {results.replications} "
        f"replications · seed {p['seed']['given']} (entropy {p['seed']['entropy']}) · "
        f"placeplan {p['placeplan_version']} · scenario {p['scenario']['resolved_sha256'][:12]}"
    )
    fig.get_layout_engine().set(rect=(0, 0.035, 1, 0.965))  # room for the footer
    fig.text(0.005, 0.004, text, fontsize=6.5, color="0.35", ha="left", va="bottom")


def save(fig: Figure, path: str | Path) -> Path:
    """Write a figure (PNG or SVG, by the file's suffix) atomically."""
    from placeplan.io import atomic_path

    path = Path(path)
    if path.suffix.lower() not in {".png", ".svg"}:
        raise ValueError(f"{path}: figures are written as .png or .svg")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix[1:].lower(), dpi=150)
    return path


class Plots:
    """The figures of one run; ``results.plot``."""

    def __init__(self, results: Results):
        self.results = results

    def fan(self, variable: str = "waiting_over_3_terms") -> Figure:
        """Fan chart: median, 50% and 80% bands of a measure over time.

        For long waits the strategy's aim — nobody waiting longer than three terms —
        is marked at zero.
        """
        ds = self.results.dataset
        da = ds[variable]
        q = da.quantile([0.1, 0.25, 0.5, 0.75, 0.9], dim="replicate")
        t = pd.to_datetime(ds["time"].to_numpy())
        fig, ax = _figure()
        ax.fill_between(
            t,
            q.sel(quantile=0.1),
            q.sel(quantile=0.9),
            alpha=0.25,
            color="C0",
            label="80% of replications",
        )
        ax.fill_between(
            t,
            q.sel(quantile=0.25),
            q.sel(quantile=0.75),
            alpha=0.45,
            color="C0",
            label="50% of replications",
        )
        ax.plot(t, q.sel(quantile=0.5), color="C0", lw=2, label="median")
        if variable.startswith("waiting_over"):
            ax.axhline(0, color="C3", lw=1.2, ls="--", label="aim: nobody")
        ax.set_title(da.attrs.get("long_name", variable))
        ax.set_xlabel("census day")
        ax.set_ylabel(f"{variable.replace('_', ' ')} [{da.attrs.get('units', '')}]")
        ax.legend(loc="upper left", fontsize=8)
        _footer(fig, self.results)
        return fig

    def demand_capacity(self) -> Figure:
        """Children needing a place against places, by designation, with build openings marked."""
        ds = self.results.dataset
        names = list(ds["designation"].to_numpy())
        fig = _figure(10, 2.6 * ((len(names) + 1) // 2))[0]
        fig.clear()
        axes = fig.subplots((len(names) + 1) // 2, 2, squeeze=False, sharex=True).ravel()
        t = pd.to_datetime(ds["time"].to_numpy())
        openings = [
            (p.opens, p.designation, p.places)
            for p in self.results.scenario.placement.build_programme
        ]
        for ax, name in zip(axes, names, strict=False):
            demand = ds["specialist_demand_by_designation"].sel(designation=name)
            capacity = ds["capacity_by_designation"].sel(designation=name)
            ax.fill_between(
                t,
                demand.quantile(0.1, "replicate"),
                demand.quantile(0.9, "replicate"),
                alpha=0.25,
                color="C1",
            )
            ax.plot(t, demand.median("replicate"), color="C1", label="children needing a place")
            ax.step(t, capacity.median("replicate"), where="post", color="C0", label="places")
            for when, designation, places in openings:
                if designation == name:
                    ax.axvline(pd.Timestamp(when), color="0.5", ls=":", lw=1)
                    ax.annotate(
                        f"+{places}",
                        (pd.Timestamp(when), ax.get_ylim()[1]),
                        fontsize=7,
                        va="top",
                        color="0.4",
                    )
            ax.set_title(name, fontsize=10)
            ax.set_ylabel("[children], [places]", fontsize=8)
        for ax in axes[len(names) :]:
            ax.set_visible(False)
        axes[0].legend(fontsize=7, loc="upper left")
        fig.suptitle(
            "Children needing a special school place against places, by designation "
            "(median, 80% band; dotted: build openings)",
            fontsize=10,
        )
        _footer(fig, self.results)
        return fig

    def terms_waited(self) -> Figure:
        """Distribution of terms waited by children still waiting, at the last census.

        Needs the child log (``run(..., child_log=True)``).
        """
        children = self.results.children
        if children is None:
            raise ValueError("terms_waited needs the child log: run with child_log=True")
        from placeplan.calendar import TermCalendar

        cal = TermCalendar()
        last = pd.to_datetime(self.results.dataset["time"].to_numpy()[-1]).date()
        waiting = children[children["outcome"] == "waiting"]
        referred = pd.to_datetime(waiting["referred"]).dt.date
        terms = np.array([cal.whole_terms_waited(r, last) for r in referred if r <= last])
        fig, ax = _figure()
        bins = np.arange(0, max(terms.max(initial=0), 4) + 2) - 0.5
        ax.hist(
            terms, bins=bins, weights=np.full(len(terms), 1 / self.results.replications), color="C0"
        )
        ax.axvline(2.5, color="C3", ls="--", lw=1.2, label="three terms")
        ax.set_title(f"Whole terms waited by children still waiting on {last}")
        ax.set_xlabel("whole terms since the end of the term of referral [terms]")
        ax.set_ylabel("children, mean per replication [children]")
        ax.legend(fontsize=8)
        _footer(fig, self.results)
        return fig

    def own_locality(self) -> Figure:
        """Children placed in a school of their own locality, by locality, at the last census."""
        ds = self.results.dataset.isel(time=-1)
        placed = ds["placed_by_locality"].mean("replicate")
        own = ds["placed_in_own_locality_by_locality"].mean("replicate")
        names = list(ds["locality"].to_numpy())
        share = np.divide(
            own.to_numpy(), placed.to_numpy(), out=np.zeros(len(names)), where=placed.to_numpy() > 0
        )
        fig, ax = _figure()
        ax.bar(names, share * 100, color="C2")
        ax.set_ylim(0, 100)
        ax.set_title(
            "Children placed since the start in their own locality "
            f"(to {pd.Timestamp(ds['time'].item()).date()})"
        )
        ax.set_xlabel("locality of the child")
        ax.set_ylabel("placed in own locality [%]")
        _footer(fig, self.results)
        return fig


def comparison(c: Comparison, variable: str = "waiting_over_3_terms") -> Figure:
    """Paired differences of each option from the first, with 95% intervals, at each January."""
    table = c.differences(variable)
    fig, ax = _figure()
    for k, (option, rows) in enumerate(table.groupby("option", sort=False)):
        t = pd.to_datetime(rows["census"])
        low = rows["difference"] - rows["ci_low"]
        high = rows["ci_high"] - rows["difference"]
        ax.errorbar(
            t + pd.Timedelta(days=20 * k),
            rows["difference"],
            yerr=[low, high],
            fmt="o-",
            capsize=3,
            label=option,
        )
    ax.axhline(0, color="0.3", lw=1)
    ax.set_title(f"Difference from {c.names[0]}: {variable.replace('_', ' ')} (95% intervals)")
    ax.set_xlabel("January census")
    units = c.results[0].dataset[variable].attrs.get("units", "")
    ax.set_ylabel(f"option − {c.names[0]} [{units}]")
    ax.legend(fontsize=8)
    _footer(fig, c.results[0])
    return fig
