"""Figures of a run (matplotlib), reached as ``results.plot.*``.

Every figure has a title, axes labelled with units, and a footer naming the
scenario, the replications, the seed and the placeplan version, so that a figure
pasted into a paper says on its face what produced it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan import measures
from placeplan.placement.schedule import AT_SNAPSHOT

if TYPE_CHECKING:
    from matplotlib.axes import Axes
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
    width = fig.get_figwidth()
    lines = textwrap.wrap(text, width=int(width * 19)) or [""]
    room = 0.03 * len(lines) * 4.5 / fig.get_figheight()
    fig.get_layout_engine().set(rect=(0, room, 1, 1 - room))  # room for the footer
    fig.text(0.005, 0.004, "\n".join(lines), fontsize=6.5, color="0.35", ha="left", va="bottom")


def _dates(ax: Axes) -> None:
    """Date ticks that never crowd: a few per axis, concise labels."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _label(results: Results, variable: str) -> str:
    """Long name of a measure with the run's thresholds ("longer than one term")."""
    return measures.get(variable).long_name(measures.Thresholds.of(results.scenario))


def save(fig: Figure, path: str | Path) -> Path:
    """Write a figure (PNG or SVG, by the file's suffix) atomically."""
    from placeplan.io import atomic_path

    path = Path(path)
    if path.suffix.lower() not in {".png", ".svg"}:
        raise ValueError(f"{path}: figures are written as .png or .svg")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix[1:].lower(), dpi=150)
    return path


_CAPTIONS = {
    "fan": "{headline} at each January census (median, 50% and 80% of replications)",
    "demand_capacity": "Children needing a place, and places, by designation",
    "terms_waited": "Whole terms waited by children still waiting at the last January census",
    "own_locality": "Children placed in a school of their own locality, by locality",
}


class Plots:
    """The figures of one run; ``results.plot``.

    Not every figure applies to every run: :meth:`available` names those that do
    (the terms-waited figure needs the child log, the locality figure more than one
    locality), and :meth:`figures` draws them, with the file names
    ``placeplan plot`` uses.
    """

    def __init__(self, results: Results):
        self.results = results

    def available(self) -> list[str]:
        """Names of the figure methods that apply to this run, in report order.

        ``fan`` and ``demand_capacity`` always; ``terms_waited`` with the child log;
        ``own_locality`` with more than one locality.
        """
        names = ["fan", "demand_capacity"]
        if self.results.children is not None:
            names.append("terms_waited")
        if self.results.dataset.sizes.get("locality", 1) > 1:
            names.append("own_locality")
        return names

    def describe(self, name: str) -> str:
        """A caption for a figure method, with the scenario's thresholds."""
        headline = _label(self.results, measures.HEADLINE)
        return _CAPTIONS[name].format(headline=headline)

    def figures(self, observed=None) -> dict[str, Figure]:
        """Every figure that applies, by file stem (as ``placeplan plot`` writes them).

        ``fan-waiting-over-3-terms`` (the headline, January censuses), ``fan-waiting``
        (everyone waiting, every census), ``demand-and-places``, and where they apply
        ``terms-waited`` and ``placed-in-own-locality``.

        Parameters
        ----------
        observed : pandas.DataFrame, Published or str, optional
            Published points (:func:`placeplan.observed.observations`) to draw on the
            fan charts of their measures. A measure with a point inside the run that
            has no fan chart above gets one (``fan-waiting-over-52-weeks``,
            ``fan-capacity``).
        """
        out = {
            "fan-waiting-over-3-terms": self.fan(observed=observed),
            "fan-waiting": self.fan("waiting", observed=observed),
            "demand-and-places": self.demand_capacity(),
        }
        if observed is not None:
            drawn = {measures.HEADLINE, "waiting"}
            for variable in _plottable(self.results, observed)["measure"].drop_duplicates():
                if variable not in drawn:
                    out[f"fan-{variable.replace('_', '-')}"] = self.fan(variable, observed=observed)
        available = self.available()
        if "terms_waited" in available:
            out["terms-waited"] = self.terms_waited()
        if "own_locality" in available:
            out["placed-in-own-locality"] = self.own_locality()
        return out

    def _januaries(self) -> np.ndarray:
        t = pd.to_datetime(self.results.dataset["time"].to_numpy())
        return np.asarray(t.month == 1)

    def fan(
        self, variable: str = measures.HEADLINE, january: bool | None = None, observed=None
    ) -> Figure:
        """Fan chart: median, 50% and 80% bands of a measure over time.

        Parameters
        ----------
        variable : str
            A total measure of the Dataset.
        january : bool, optional
            Draw only the January censuses, where the headline is read (SEN2's
            census). By default True for the headline and False otherwise; with no
            January census in the run every snapshot is drawn. When every snapshot
            is drawn, the January censuses are marked with dots.

        observed : pandas.DataFrame, Published or str, optional
            Published points (:func:`placeplan.observed.observations`, a council's
            :class:`~placeplan.published.Published` figures, or an area) drawn where
            they are of this measure, a level, and within the plotted span: a
            diamond for a count, a hollow triangle for a bound (pointing down for
            "fewer than", up for "more than"), a hollow circle for a SEN2 shadow of
            the list; the legend says "published: <source>".

        For long waits the strategy's aim — nobody waiting longer than the
        threshold — is marked at zero.
        """
        ds = self.results.dataset
        da = ds[variable]
        jan = self._januaries()
        if january is None:
            january = variable == measures.HEADLINE
        january = bool(january and jan.any())
        if january:
            da = da.isel(time=np.flatnonzero(jan))
        q = da.quantile([0.1, 0.25, 0.5, 0.75, 0.9], dim="replicate")
        t = pd.to_datetime(da["time"].to_numpy())
        fig, ax = _figure()
        ax.fill_between(
            t,
            q.sel(quantile=0.1),
            q.sel(quantile=0.9),
            alpha=0.25,
            color="C0",
            lw=0,
            label="80% of replications",
        )
        ax.fill_between(
            t,
            q.sel(quantile=0.25),
            q.sel(quantile=0.75),
            alpha=0.45,
            color="C0",
            lw=0,
            label="50% of replications",
        )
        median = q.sel(quantile=0.5).to_numpy()
        if january:
            ax.plot(t, median, "o-", color="C0", lw=2, ms=4, label="median")
        else:
            ax.plot(t, median, color="C0", lw=2, label="median")
            if jan.any():
                ax.plot(
                    t[jan], median[jan], "o", color="C0", ms=3.5, label="median, January census"
                )
        drawn = 0
        if observed is not None:
            points = _plottable(self.results, observed, variable, (t[0], t[-1]))
            _draw_observed(ax, points)
            drawn = len(points)
        label = _label(self.results, variable)
        if variable.startswith("waiting_over"):
            ax.axhline(0, color="C3", lw=1.2, ls="--", label="aim: nobody waits that long")
        when = "at each January census" if january else "at each census day"
        ax.set_title("\n".join(textwrap.wrap(f"{label} {when}", 80)), fontsize=11)
        ax.set_xlabel("January census" if january else "census day")
        ax.set_ylabel(f"[{measures.get(variable).units}]")
        ax.set_ylim(bottom=min(0.0, float(q.min())) - 0.5)  # after the points: they set the top
        _dates(ax)
        # published points may sit anywhere: then the legend goes where it hides least
        ax.legend(loc="best" if drawn else "upper left", fontsize=8, framealpha=0.9)
        _footer(fig, self.results)
        return fig

    def demand_capacity(self) -> Figure:
        """Children needing a place against places, by designation, with build openings marked."""
        ds = self.results.dataset
        names = list(ds["designation"].to_numpy())
        rows = (len(names) + 1) // 2
        fig = _figure(10, 1.2 + 2.4 * rows)[0]
        fig.clear()
        axes = fig.subplots(rows, 2, squeeze=False, sharex=True).ravel()
        t = pd.to_datetime(ds["time"].to_numpy())
        openings: dict[tuple[str, pd.Timestamp], int] = {}
        for project in self.results.scenario.placement.build_programme:
            key = (project.designation, pd.Timestamp(project.opens))
            openings[key] = openings.get(key, 0) + project.places
        span = (t[-1].date() - t[0].date()).days or 1
        handles = []
        projected = bool(np.isfinite(ds["specialist_demand_by_designation"].to_numpy()).any())
        for ax, name in zip(axes, names, strict=False):
            capacity = ds["capacity_by_designation"].sel(designation=name)
            handles = []
            if projected:  # a cohort projection (fixed or Poisson referrals have none)
                demand = ds["specialist_demand_by_designation"].sel(designation=name)
                band = ax.fill_between(
                    t,
                    demand.quantile(0.1, "replicate"),
                    demand.quantile(0.9, "replicate"),
                    alpha=0.25,
                    color="C1",
                    lw=0,
                    label="children needing a place, 80% of replications",
                )
                (line,) = ax.plot(
                    t,
                    demand.median("replicate"),
                    color="C1",
                    label="children needing a place, median",
                )
                handles = [line, band]
            (step,) = ax.step(
                t, capacity.median("replicate"), where="post", color="C0", label="places, median"
            )
            handles.append(step)
            last = None
            level = 0
            for (designation, when), places in sorted(openings.items(), key=lambda x: x[0][1]):
                if designation != name:
                    continue
                ax.axvline(when, color="0.5", ls=":", lw=1)
                close = last is not None and (when.date() - last.date()).days < 0.12 * span
                level = level + 1 if close else 0
                ax.annotate(
                    f"+{places}",
                    (when, 0.97 - 0.11 * (level % 3)),
                    xycoords=("data", "axes fraction"),
                    xytext=(2, 0),
                    textcoords="offset points",
                    fontsize=7,
                    va="top",
                    color="0.3",
                )
                last = when
            ax.set_title(name, fontsize=10)
            ax.set_ylabel("[children], [places]" if projected else "[places]", fontsize=8)
            ax.tick_params(labelsize=8)
            ax.margins(y=0.18)
            _dates(ax)
        for ax in axes[len(names) :]:
            ax.set_visible(False)
        for ax in axes[: len(names)]:
            ax.tick_params(labelbottom=True)
        if len(names) % 2:  # the empty panel holds the legend
            axes[len(names)].legend(handles=handles, loc="center", fontsize=8, frameon=False)
            axes[len(names)].set_axis_off()
            axes[len(names)].set_visible(True)
        else:
            fig.legend(
                handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False
            )
        what = (
            "Children needing a special school place against places, by designation"
            if projected
            else "Places by designation (this demand model projects no children needing a place)"
        )
        fig.suptitle(
            "\n".join(
                textwrap.wrap(f"{what} (dotted: build openings, with the places they add)", 110)
            ),
            fontsize=10,
        )
        _footer(fig, self.results)
        return fig

    def terms_waited(self) -> Figure:
        """Distribution of terms waited by children still waiting, at the last January census.

        Terms are counted on the scenario's own calendar, and the threshold line is
        the scenario's ``calendar.long_wait_terms``: a child waits longer than it
        once that many whole terms have passed since the end of the term of
        referral. Without a January census the last snapshot is used. Needs the
        child log (``run(..., child_log=True)``).
        """
        children = self.results.children
        if children is None:
            raise ValueError("terms_waited needs the child log: run with child_log=True")
        scenario = self.results.scenario
        cal = scenario.calendar.build()
        threshold = scenario.calendar.long_wait_terms
        times = pd.to_datetime(self.results.dataset["time"].to_numpy())
        jan = self._januaries()
        last = (times[jan][-1] if jan.any() else times[-1]).date()
        day = pd.Timestamp(last) + pd.Timedelta(days=AT_SNAPSHOT)  # the census instant
        referred = pd.to_datetime(children["referred"])
        placed = pd.to_datetime(children["placed"])
        left = pd.to_datetime(children["left"])
        waiting = (referred <= day) & ~(placed <= day) & ~(left <= day)  # NaT: not (yet)
        # as the measures count: referred by the census instant, not placed or gone by it
        terms = np.array(
            [cal.whole_terms_waited(r, last) for r in referred[waiting].dt.date], dtype=int
        )
        fig, ax = _figure()
        top = max(int(terms.max(initial=0)), threshold + 1)
        bins = np.arange(0, top + 2) - 0.5
        weights = np.full(len(terms), 1 / self.results.replications)
        short = terms < threshold
        ax.hist(
            [terms[short], terms[~short]],
            bins=bins,
            weights=[weights[short], weights[~short]],
            color=["C0", "C3"],
            stacked=True,
            label=["not yet", _label(self.results, measures.HEADLINE).lower()],
        )
        ax.axvline(threshold - 0.5, color="C3", ls="--", lw=1.2)
        ax.set_title(f"Whole terms waited by children still waiting on {last}", fontsize=11)
        ax.set_xlabel("whole terms since the end of the term of referral [terms]")
        ax.set_ylabel("children, mean per replication [children]")
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
        ax.legend(fontsize=8)
        _footer(fig, self.results)
        return fig

    def own_locality(self) -> Figure:
        """Children placed in a school of their own locality, by locality, at the last census.

        Raises
        ------
        ValueError
            With one locality: every placement is then in the child's own
            locality, and the figure would say nothing (:meth:`available` leaves it out).
        """
        ds = self.results.dataset.isel(time=-1)
        names = list(ds["locality"].to_numpy())
        if len(names) < 2:
            raise ValueError(
                f"own_locality needs more than one locality; this scenario has one ({names[0]})"
            )
        placed = ds["placed_by_locality"].mean("replicate")
        own = ds["placed_in_own_locality_by_locality"].mean("replicate")
        share = np.divide(
            own.to_numpy(), placed.to_numpy(), out=np.zeros(len(names)), where=placed.to_numpy() > 0
        )
        fig, ax = _figure(max(6.0, 1.0 + 0.8 * len(names)), 4.5)
        ax.bar(names, share * 100, color="C2")
        ax.set_ylim(0, 100)
        ax.set_title(
            "Children placed since the start in their own locality "
            f"(to {pd.Timestamp(ds['time'].item()).date()})",
            fontsize=11,
        )
        ax.set_xlabel("locality of the child")
        ax.set_ylabel("placed in own locality [%]")
        if len(names) > 6:
            ax.tick_params(axis="x", labelrotation=30)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
        _footer(fig, self.results)
        return fig


_UP = (">", ">=")
_DOWN = ("<", "<=")


def _plottable(
    results: Results,
    observed,
    variable: str | None = None,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Published levels (counts and bounds) of ``variable`` within the run, with a ``day``.

    A level at a date is drawn on that date, one in force over a period on the
    run's first snapshot in the period (where :func:`placeplan.observed.compare`
    reads it); counts over an interval are not levels and are left to the report's
    table. Only points within ``span`` (default: the run's snapshots).
    """
    from placeplan.observed import _day, _points

    points = _points(results, observed)
    points = points[points["kind"].isin(["count", "bound"])].copy()
    if variable is not None:
        points = points[points["measure"] == variable]
    times = pd.to_datetime(results.dataset["time"].to_numpy())
    if span is None:
        span = (times[0], times[-1])

    def at(row) -> pd.Timestamp | None:
        if _day(row["date"]) is not None:
            return pd.Timestamp(_day(row["date"]))
        start = pd.Timestamp(_day(row["start"]))
        end = pd.Timestamp(_day(row["end"]) or pd.Timestamp.max.date())
        inside = times[(times >= start) & (times <= end)]
        return inside[0] if len(inside) else None

    day = [at(row) for row in points.to_dict("records")]
    points["day"] = pd.to_datetime(pd.Series(day, index=points.index, dtype=object))
    inside = (points["day"] >= span[0]) & (points["day"] <= span[1])
    return points[inside & points["measure"].isin(list(results.dataset.data_vars))]


def _draw_observed(ax: Axes, points: pd.DataFrame) -> None:
    """Markers for published points, one legend entry per source and kind of point.

    The legend names a point's first source (the report's table names them all).
    """
    colours = {}
    for (source, relation, shadow), rows in points.groupby(
        ["source", "relation", "shadow"], sort=False
    ):
        colour = colours.setdefault(source, f"C{3 + len(colours) % 6}")
        if shadow:
            style = {"marker": "o", "mfc": "none", "mew": 1.6, "ms": 7}
            kind = " (a shadow of the list)"
        elif relation in _DOWN:
            style = {"marker": "v", "mfc": "none", "mew": 1.6, "ms": 9}
            kind = " (upper bound)"
        elif relation in _UP:
            style = {"marker": "^", "mfc": "none", "mew": 1.6, "ms": 9}
            kind = " (lower bound)"
        else:
            style = {"marker": "D", "ms": 6, "mec": "white", "mew": 0.8}
            kind = ""
        ax.plot(
            rows["day"],
            rows["value"].astype(float),
            ls="none",
            color=colour,
            zorder=5,
            gid="observed",
            label="\n".join(textwrap.wrap(f"published: {source.split('; ')[0]}{kind}", 48)),
            **style,
        )


def comparison(c: Comparison, variable: str = measures.HEADLINE) -> Figure:
    """Paired differences of each option from the first, with 95% intervals, at each January."""
    table = c.differences(variable)
    fig, ax = _figure(10.0, 4.5)
    options = list(dict.fromkeys(table["option"]))
    step = 20 if len(options) < 4 else 60 / len(options)
    for k, (_, rows) in enumerate(table.groupby("option", sort=False)):
        t = pd.to_datetime(rows["census"])
        low = rows["difference"] - rows["ci_low"]
        high = rows["ci_high"] - rows["difference"]
        ax.errorbar(
            t + pd.Timedelta(days=step * k),
            rows["difference"],
            yerr=[low, high],
            fmt="o-",
            capsize=3,
            ms=4,
            label="\n".join(textwrap.wrap(rows["option_title"].iloc[0], 32)),
        )
    ax.axhline(0, color="0.3", lw=1)
    label = c.label(variable)
    title = f"{label}: difference from {c.titles[0]} ({c.names[0]}), with 95% intervals"
    ax.set_title("\n".join(textwrap.wrap(title, 80)), fontsize=10)
    ax.set_xlabel("January census")
    units = measures.get(variable).units
    ax.set_ylabel(f"option − reference [{units}]")
    _dates(ax)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, frameon=False)
    _footer(fig, c.results[0])
    return fig
