"""Which assumption moves the headline most: paired runs on common random numbers.

Every assumption a scenario gives as a distribution (:meth:`Scenario.assumptions`,
not ``fixed``) is held in turn at its ``low`` and ``high`` quantiles (the 10th and
90th percentiles by default) in every replication, all else drawn as usual; with
the same seed, each replication of the two runs shares every other random number
(:class:`placeplan.model.Model` pins; common random numbers). The swing of an
assumption is the mean, over replications, of the paired difference of the
headline (high − low), with its Monte Carlo standard error from the paired
differences. Assumptions are ranked by the size of their swing; the first is the
one that dominates, unless no swing stands out from Monte Carlo noise.

The headline is by default the mean number of children waiting longer than the
scenario's ``long_wait_terms`` at the last January census of the forecast (the
last snapshot when there is none); any measure of :mod:`placeplan.measures`, and
any snapshot, can be chosen instead.

:func:`sensitivity` computes it; :meth:`Sensitivity.figure` draws the tornado,
:meth:`Sensitivity.markdown` writes the short report, :meth:`Sensitivity.save`
writes them with the table into a folder, whole.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from placeplan import measures
from placeplan._version import __version__
from placeplan.errors import InputError
from placeplan.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "COLUMNS",
    "FILES",
    "LABELS",
    "Sensitivity",
    "Target",
    "check_replaceable",
    "label_of",
    "pick_snapshot",
    "resolve_target",
    "sensitivity",
]

LABELS: dict[str, str] = {
    "demand.new_plans_growth": "growth of new plans",
    "demand.specialist_share_trend": "trend of the special school share",
    "demand.new_plans_growth_damping": "damping of the growth of new plans",
    "demand.need_recoding": "re-recording of needs with age",
    "demand.starting_state.list_share_of_educated_elsewhere": (
        "share of 'educated elsewhere' on the list at the start"
    ),
    "demand.starting_state.list_mean_terms_waited": "time the list at the start has waited",
    "demand.ceasing_scale": "rate at which plans cease",
    "placement.out_of_area.rate": "rate of placements in independent schools while waiting",
}
"""Plain names of the assumptions (:data:`placeplan.streams.ASSUMPTIONS`)."""

FILES = ("sensitivity.csv", "tornado.png", "sensitivity.md", "provenance.json", "scenario.yaml")
"""What :meth:`Sensitivity.save` writes into its folder."""

COLUMNS = [
    "rank",
    "assumption",
    "label",
    "distribution",
    "value_low",
    "value_high",
    "headline_low",
    "headline_base",
    "headline_high",
    "swing",
    "swing_se",
    "distinguishable",
]
"""Columns of :attr:`Sensitivity.table`."""


def label_of(path: str) -> str:
    """The plain name of an assumption (its last key, spelled out, if it has none)."""
    return LABELS.get(path, path.rsplit(".", 1)[-1].replace("_", " "))


@dataclass(frozen=True)
class Sensitivity:
    """The swing of each uncertain assumption on a headline, ranked.

    Attributes
    ----------
    scenario : Scenario
        The scenario.
    table : pandas.DataFrame
        One row per assumption varied, largest swing first (:data:`COLUMNS`):
        ``rank``; ``assumption`` (dotted path) and ``label``; ``distribution``
        (:meth:`Uncertain.describe`); ``value_low`` and ``value_high``, the
        assumption at the low and high quantiles [its units]; ``headline_low``,
        ``headline_base`` and ``headline_high``, the mean headline with the
        assumption at its low quantile, drawn as usual, and at its high quantile
        [the measure's units]; ``swing`` = high − low, the mean paired difference
        [the measure's units], and ``swing_se``, its Monte Carlo standard error;
        ``distinguishable``, whether the swing stands out from Monte Carlo noise
        (its 95% interval excludes 0).
    fixed : tuple of str
        Assumptions the scenario fixes (not varied).
    measure : str
        The headline measure (a Dataset variable).
    at : datetime.date
        The snapshot of the headline.
    replications : int
        Paired replications of each run [1].
    seed : int
        The common seed.
    low, high : float
        The quantiles each assumption is held at.
    provenance : dict
        How it was computed: version, scenario hash, seed, the runs and their pins.
    paired : dict of str to numpy.ndarray
        Per assumption, the headline at the high quantile minus that at the low
        quantile in each replication [the measure's units].
    """

    scenario: Scenario
    table: pd.DataFrame
    fixed: tuple[str, ...]
    measure: str
    at: date
    replications: int
    seed: int
    low: float
    high: float
    provenance: dict[str, Any] = field(default_factory=dict)
    paired: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def dominant(self) -> str | None:
        """The assumption with the largest swing, if that swing stands out from noise."""
        if self.table.empty or not bool(self.table["distinguishable"].iloc[0]):
            return None
        return str(self.table["assumption"].iloc[0])

    @property
    def label(self) -> str:
        """The headline measure's long name, with the scenario's thresholds."""
        return measures.get(self.measure).long_name(measures.Thresholds.of(self.scenario))

    @property
    def units(self) -> str:
        """Units of the headline measure."""
        return measures.get(self.measure).units

    @property
    def when(self) -> str:
        """The headline snapshot in words: ``January 2030`` (census days) or a full date."""
        if self.scenario.calendar.snapshots == "census":
            return f"{self.at:%B %Y}"
        return f"{self.at.day} {self.at:%B %Y}"

    def _amount(self, value: float) -> str:
        if self.units == "GBP":
            return f"£{value:,.0f}"
        return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.1f}"

    def _pct(self, q: float) -> str:
        n = round(100 * q)
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"

    def lead(self) -> tuple[float, float, bool] | None:
        """How far the first swing exceeds the second in size, on the same replications.

        Returns
        -------
        (float, float, bool) or None
            The mean paired difference of the sizes (``|swing|`` of the first minus
            that of the second, each replication's differences signed as their
            means) [the measure's units], its Monte Carlo standard error, and whether
            it stands out from noise; None with fewer than two assumptions.
        """
        if len(self.table) < 2:
            return None
        first, second = (self.table["assumption"].iloc[k] for k in (0, 1))
        a, b = self.paired[first], self.paired[second]
        ahead = np.sign(a.mean()) * a - np.sign(b.mean()) * b
        return _swing(np.zeros_like(ahead), ahead)

    def sentence(self) -> str:
        """What the largest swing means, in one sentence or two (naming the dominant one)."""
        if self.table.empty:
            return "The scenario gives no assumption as a distribution: nothing was varied."
        top = self.table.iloc[0]
        what = f"{self.label[0].lower()}{self.label[1:]} in {self.when}"
        if top["swing"] == 0 and top["swing_se"] == 0:
            return (
                f"No assumption moves {what} at all: in each of the {self.replications} "
                "paired replications it is the same at every assumption's "
                f"{self._pct(self.low)} and {self._pct(self.high)} percentiles."
            )
        held = (
            f"holding it at its {self._pct(self.low)} and {self._pct(self.high)} percentiles "
            f"({top['value_low']:.4g} and {top['value_high']:.4g}) moves {what} from "
            f"{self._amount(top['headline_low'])} to {self._amount(top['headline_high'])} on "
            f"average (swing {top['swing']:+,.1f} {self.units}, Monte Carlo s.e. "
            f"{top['swing_se']:,.1f})"
        )
        named = f"the {top['label']} ({top['distribution']})"
        if self.dominant is None:
            return (
                f"No assumption moves {what} by more than Monte Carlo noise over "
                f"{self.replications} paired replications. The largest swing is that of "
                f"{named}: {held}."
            )
        text = f"The assumption that dominates is {named}: {held}."
        lead = self.lead()
        if lead is not None:
            second = self.table.iloc[1]
            text += (
                f" The next, the {second['label']}, swings it by "
                f"{second['swing']:+,.1f} {self.units}"
            )
            text += (
                "."
                if lead[2]
                else ", not told apart from the first by Monte Carlo noise: more "
                "replications would rank them."
            )
        return text

    def figure(self) -> Figure:
        """The tornado: the headline at each assumption's low and high quantile.

        One bar per assumption, largest swing at the top, from the headline with the
        assumption at its low quantile to that at its high quantile, split at the
        base run (every assumption drawn); swings within Monte Carlo noise are
        hatched. A footer names the scenario, replications, seed and version.
        """
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch

        rows = self.table.iloc[::-1]
        height = 2.4 + 0.55 * max(len(rows), 1)
        fig = Figure(figsize=(9.0, height), layout="constrained")
        ax = fig.add_subplot()
        base = float(self.table["headline_base"].iloc[0]) if len(rows) else 0.0
        colours = {"low": "#4878a8", "high": "#c8553d"}
        for y, row in enumerate(rows.itertuples(index=False)):
            hatch = None if row.distinguishable else "///"
            sides = [("low", row.headline_low), ("high", row.headline_high)]
            # the longer side first, so that one on the same side of the base shows over it
            for side, value in sorted(sides, key=lambda s: -abs(s[1] - base)):
                ax.barh(
                    y,
                    value - base,
                    left=base,
                    height=0.6,
                    color=colours[side],
                    hatch=hatch,
                    edgecolor="white" if hatch else colours[side],
                    linewidth=0.5,
                )
            # the assumption's value at each end of its bar
            ends = sorted([(row.headline_low, row.value_low), (row.headline_high, row.value_high)])
            for (x, v), ha, text in zip(
                ends, ("right", "left"), ("{:.3g} ", " {:.3g}"), strict=True
            ):
                ax.text(x, y, text.format(v), va="center", ha=ha, fontsize=8, color="0.25")
        ax.axvline(base, color="0.2", lw=1)
        ax.set_yticks(
            range(len(rows)),
            [f"{textwrap.fill(r.label, 40)}\n({r.distribution})" for r in rows.itertuples()],
        )
        ax.tick_params(axis="y", labelsize=8)
        ax.margins(x=0.12)
        ax.set_xlabel(
            textwrap.fill(
                f"{self.label}, {self.when} [{self.units}], mean over replications "
                f"(line: every assumption drawn, {self._amount(base)})",
                80,
            ),
            fontsize=9,
        )
        fig.suptitle(
            f"What moves the headline: each assumption held at its {self._pct(self.low)} "
            f"and {self._pct(self.high)} percentiles",
            fontsize=10,
        )
        ax.legend(
            handles=[
                Patch(color=colours["low"], label=f"at its {self._pct(self.low)} percentile"),
                Patch(color=colours["high"], label=f"at its {self._pct(self.high)} percentile"),
                Patch(facecolor="0.75", hatch="///", edgecolor="white", label="within MC noise"),
            ],
            fontsize=7,
            loc="best",
            framealpha=0.9,
        )
        footer = (
            f"{self.scenario.title} ({self.scenario.name}) · {self.replications} paired "
            f"replications · seed {self.seed} · placeplan {__version__} · scenario "
            f"{self.scenario.digest()[:12]}"
        )
        room = 0.12 / height
        fig.get_layout_engine().set(rect=(0, room, 1, 1 - room))
        fig.text(0.005, 0.004, footer, fontsize=6.5, color="0.35", ha="left", va="bottom")
        return fig

    def display_table(self) -> pd.DataFrame:
        """The table with units in its headers, numbers rounded, for people."""
        u = self.units
        t = self.table
        return pd.DataFrame(
            {
                "rank": t["rank"],
                "assumption": t["label"],
                "distribution": t["distribution"],
                f"at P{round(100 * self.low)}": t["value_low"].map(lambda v: f"{v:.4g}"),
                f"at P{round(100 * self.high)}": t["value_high"].map(lambda v: f"{v:.4g}"),
                f"headline at P{round(100 * self.low)} [{u}]": t["headline_low"].round(1),
                f"headline, all drawn [{u}]": t["headline_base"].round(1),
                f"headline at P{round(100 * self.high)} [{u}]": t["headline_high"].round(1),
                f"swing [{u}]": t["swing"].round(1),
                f"MC s.e. [{u}]": t["swing_se"].round(1),
                "beyond MC noise": t["distinguishable"].map({True: "yes", False: "no"}),
            }
        )

    def markdown(self) -> str:
        """The short report: the dominant assumption, what its swing means, the table."""
        from placeplan.report import md_escape

        frame = self.display_table()

        def cells(values) -> str:
            return "| " + " | ".join(md_escape(v, block=False) for v in values) + " |"

        s = self.scenario
        out = [
            f"# Sensitivity: {md_escape(s.title)}",
            "",
            md_escape(self.sentence()),
            "",
            md_escape(
                f"Headline: {self.label[0].lower()}{self.label[1:]} in {self.when}, the mean "
                f"over {self.replications} paired replications [{self.units}] (seed "
                f"{self.seed}). Each assumption given as a distribution was held at its "
                f"{self._pct(self.low)} and then its {self._pct(self.high)} percentile in "
                "every replication, every other assumption and random number drawn as in the "
                "base run (common random numbers); the swing is the mean paired difference "
                "(high − low) and its Monte Carlo standard error comes from the paired "
                "differences. A swing whose 95% interval includes 0 is not told apart from "
                "Monte Carlo noise."
            ),
            "",
            "![Tornado: the headline with each assumption at its low and high percentile]"
            "(tornado.png)",
            "",
        ]
        if len(frame):
            out += [cells(frame.columns), "|" + "---|" * len(frame.columns)]
            out += [cells(row) for row in frame.itertuples(index=False)]
            out.append("")
        if self.fixed:
            out += [
                md_escape(
                    "Fixed in this scenario, so not varied: "
                    + ", ".join(f"{label_of(p)} ({p})" for p in self.fixed)
                    + "."
                ),
                "",
            ]
        out += [
            md_escape(f"Reproduce with: {self.provenance.get('command', '')}"),
            "",
            md_escape(
                f"placeplan {__version__}; scenario {s.name}, SHA-256 {s.digest()}; "
                f"{len(self.provenance.get('runs', []))} runs, "
                f"{self.provenance.get('wall_time_s', 0):g} s."
            ),
            "",
        ]
        return "\n".join(out)

    def save(self, folder: str | Path) -> dict[str, Path]:
        """Write the table, the tornado, the report, the provenance and the scenario, whole.

        The folder is written into a staging folder and swapped in
        (:func:`placeplan.io.atomic_folder`); an existing folder is replaced, but only
        if it holds nothing but these files (:data:`FILES`).

        Raises
        ------
        InputError
            If ``folder`` exists and holds other files.
        """
        import yaml

        from placeplan.io import atomic_folder

        out = Path(folder)
        check_replaceable(out)
        with atomic_folder(out) as stage:
            self.table.to_csv(stage / "sensitivity.csv", index=False, float_format="%.6g")
            self.figure().savefig(stage / "tornado.png", format="png", dpi=150)
            (stage / "sensitivity.md").write_text(self.markdown(), encoding="utf-8")
            (stage / "provenance.json").write_text(
                json.dumps(self.provenance, indent=2) + "\n", encoding="utf-8"
            )
            resolved = yaml.safe_dump(
                self.scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True
            )
            header = f"# Resolved scenario (defaults filled)\n# SHA-256: {self.scenario.digest()}\n"
            (stage / "scenario.yaml").write_text(header + resolved, encoding="utf-8")
        names = {"table": "sensitivity.csv", "figure": "tornado.png", "report": "sensitivity.md"}
        names |= {"provenance": "provenance.json", "scenario": "scenario.yaml"}
        return {key: out / name for key, name in names.items()}


_TEMPORARY = re.compile(r"^\..+\.\d+\.[0-9a-f]{12}\.tmp$")


def check_replaceable(folder: Path) -> None:
    """Refuse to replace a folder holding anything but a sensitivity folder's files."""
    if not folder.is_dir():
        if folder.exists() or folder.is_symlink():
            raise InputError(f"cannot write {folder}: exists and is not a folder")
        return
    others = sorted(
        e.name for e in folder.iterdir() if e.name not in FILES and not _TEMPORARY.match(e.name)
    )
    if others:
        shown = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
        raise InputError(
            f"{folder}: exists and is not a sensitivity folder (it holds {shown}); it is "
            "replaced whole, so give a new folder"
        )


@dataclass(frozen=True)
class Target:
    """What ``placeplan sensitivity`` was asked about: a scenario, or a run's scenario.

    Attributes
    ----------
    scenario : Scenario
        The scenario.
    source : dict
        Where it came from: ``{"scenario": path}`` or ``{"run": folder, "run_id": id}``.
    seed : int or None
        The run's seed entropy (None for a scenario).
    replications : int or None
        The run's replications (None for a scenario).
    name : str
        The argument as given, to reproduce the command.
    """

    scenario: Scenario
    source: dict[str, Any]
    seed: int | None
    replications: int | None
    name: str


def resolve_target(run_or_scenario: str | Path) -> Target:
    """A run folder written by ``placeplan run`` (its scenario and seed), or a scenario.

    A run folder is read whole and checked (:func:`placeplan.results.open_results`);
    its resolved ``scenario.yaml`` is the scenario and its provenance gives the seed
    and replications. Anything else is a scenario file or a bundled name.

    Raises
    ------
    InputError
        If it is neither a whole run folder nor a valid scenario.
    """
    path = Path(run_or_scenario)
    if path.is_dir():
        from placeplan.results import open_results

        results = open_results(path)
        prov = results.provenance
        try:
            seed = int(prov["seed"]["entropy"])
        except (TypeError, ValueError):
            raise InputError(
                f"{path / 'provenance.json'}: seed.entropy: expected a whole number, "
                f"got {prov['seed']['entropy']!r}"
            ) from None
        if prov.get("pins"):
            raise InputError(
                f"{path}: a run with assumptions pinned ({', '.join(prov['pins'])}); give a "
                "run that draws every assumption, or its scenario"
            )
        return Target(
            results.scenario,
            {"run": str(path), "run_id": prov["run_id"]},
            seed,
            int(prov["replications"]),
            str(run_or_scenario),
        )
    from placeplan.experiment import load_user_scenario

    scenario, file = load_user_scenario(run_or_scenario)
    return Target(scenario, {"scenario": str(file)}, None, None, str(run_or_scenario))


def _snapshot_dates(scenario: Scenario) -> list[date]:
    from placeplan.model import Model

    return list(Model(scenario).schedule.snapshot_dates)


def pick_snapshot(scenario: Scenario, at: str | date | None = None) -> date:
    """The snapshot of the headline.

    Parameters
    ----------
    scenario : Scenario
        The scenario (its snapshots and horizon).
    at : str or datetime.date, optional
        ``None``: the last January census (the last snapshot if there is none);
        ``YYYY``: the January census of that year; ``YYYY-MM``: the snapshot in that
        month; ``YYYY-MM-DD`` (or a date): the snapshot nearest to it, the date
        within the forecast.

    Raises
    ------
    InputError
        If the date is not a date, is outside the forecast, or names a year or month
        with no snapshot.
    """
    dates = _snapshot_dates(scenario)
    if not dates:
        raise InputError(f"{scenario.name}: the forecast has no snapshot")
    span = f"the forecast runs from {scenario.start} to {scenario.end}"
    if at is None:
        januaries = [d for d in dates if d.month == 1]
        return (januaries or dates)[-1]
    if isinstance(at, str):
        text = at.strip()
        if re.fullmatch(r"\d{4}", text):
            found = [d for d in dates if d.year == int(text) and d.month == 1]
            if not found:
                raise InputError(f"--at {at}: no January census in {text} ({span})")
            return found[0]
        if re.fullmatch(r"\d{4}-\d{1,2}", text):
            year, month = (int(x) for x in text.split("-"))
            found = [d for d in dates if (d.year, d.month) == (year, month)]
            if not found:
                raise InputError(f"--at {at}: no snapshot in that month ({span})")
            return found[0]
        try:
            at = date.fromisoformat(text)
        except ValueError:
            raise InputError(
                f"--at {at!r}: expected a date YYYY-MM-DD, a month YYYY-MM or a year YYYY"
            ) from None
    if isinstance(at, datetime):
        at = at.date()
    if not isinstance(at, date):
        raise InputError(f"at: expected a date, got {at!r}")
    if not scenario.start <= at <= scenario.end:
        raise InputError(f"--at {at}: outside the forecast ({span})")
    return min(dates, key=lambda d: abs((d - at).days))


def _check_measure(measure: str) -> str:
    names = [m.name for m in measures.MEASURES]
    if measure not in names:
        raise InputError(f"--measure {measure!r}: no such measure; measures: {', '.join(names)}")
    return measure


def _check_quantiles(low: float, high: float) -> None:
    for name, q in (("low", low), ("high", high)):
        if isinstance(q, bool) or not isinstance(q, int | float) or not 0 < q < 1:
            raise InputError(f"{name}: expected a probability in (0, 1), got {q!r}")
    if not low < high:
        raise InputError(f"low {low} must be below high {high}")


def _swing(lo: np.ndarray, hi: np.ndarray) -> tuple[float, float, bool]:
    """Mean paired difference (hi − lo), its Monte Carlo s.e., and whether it beats noise."""
    from scipy import stats

    d = hi - lo
    n = len(d)
    mean = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(n))
    beyond = abs(mean) > stats.t.ppf(0.975, n - 1) * se
    return mean, se, bool(beyond)


def sensitivity(
    scenario: Scenario | Target | str | Path,
    replications: int | None = None,
    seed: int | None = None,
    *,
    measure: str = measures.HEADLINE,
    at: str | date | None = None,
    low: float = 0.1,
    high: float = 0.9,
    workers: int = 1,
    progress: bool = False,
    on_run: Callable[[str], None] | None = None,
    command: str | None = None,
    source: Mapping[str, Any] | None = None,
) -> Sensitivity:
    """Rank a scenario's uncertain assumptions by how far each moves the headline.

    For every assumption given as a distribution, two runs with it held at its
    ``low`` and ``high`` quantiles (:func:`placeplan.experiment.run` ``pins``),
    and a base run with everything drawn; all on the same seed, so each
    replication differs between runs only by the assumption held (common random
    numbers). ``2k + 1`` runs of ``replications`` each for ``k`` assumptions.

    Parameters
    ----------
    scenario : Scenario, Target, str or pathlib.Path
        A scenario, or a run folder, a scenario file or a bundled scenario's name
        (:func:`resolve_target`).
    replications : int, optional
        Paired replications of each run [1] (at least 2); by default the run's, or
        200.
    seed : int, optional
        The common seed; by default the run's, or 0.
    measure : str
        The headline measure (:data:`placeplan.measures.MEASURES`; by default
        children waiting longer than ``long_wait_terms``).
    at : str or datetime.date, optional
        The headline snapshot (:func:`pick_snapshot`; by default the last January
        census).
    low, high : float
        The quantiles each assumption is held at.
    workers : int
        Worker processes of each run; the numbers do not depend on it.
    progress : bool
        Progress bars.
    on_run : callable, optional
        Called with a description of each run before it starts.
    command : str, optional
        The command that reproduces this, for the report (built if omitted).
    source : mapping, optional
        Where the scenario came from, for the provenance (a run folder's or a
        file's own by default).

    Returns
    -------
    Sensitivity
        The ranked table (:attr:`Sensitivity.table`) and the dominant assumption
        (:attr:`Sensitivity.dominant`).

    Raises
    ------
    InputError
        If the scenario has no assumption given as a distribution, the measure is
        unknown, the date is outside the forecast, or an option is out of range.
    """
    from placeplan.experiment import run
    from placeplan.model import bounds_of

    if not isinstance(scenario, Scenario | Target):
        scenario = resolve_target(scenario)
    name = None
    if isinstance(scenario, Target):
        target = scenario
        scenario, name = target.scenario, target.name
        source = source or target.source
        replications = replications if replications is not None else target.replications
        seed = seed if seed is not None else target.seed
    replications = 200 if replications is None else replications
    seed = 0 if seed is None else seed
    command = command or _command(name, replications, seed, measure, at, low, high)
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 2:
        raise InputError(
            f"replications: expected a whole number of at least 2, got {replications!r}"
        )
    _check_measure(measure)
    _check_quantiles(low, high)
    when = pick_snapshot(scenario, at)
    assumptions = scenario.assumptions()
    varied = {p: d for p, d in assumptions.items() if not d.fixed}
    fixed = tuple(p for p, d in assumptions.items() if d.fixed)
    if not varied:
        listed = ", ".join(assumptions) or "none"
        raise InputError(
            f"{scenario.name}: no assumption is given as a distribution, so there is "
            f"nothing to vary (its assumptions, all fixed: {listed}); give one as "
            "{mean, sd}, {low, high} or {low, mode, high}"
        )
    started = datetime.now(UTC)
    clock = time.perf_counter()
    plan: list[tuple[str, str | None, dict[str, float]]] = [("base", None, {})]
    for path in varied:
        plan += [("low", path, {path: low}), ("high", path, {path: high})]
    headline: dict[tuple[str, str | None], np.ndarray] = {}
    runs = []
    for side, path, pins in plan:
        if on_run is not None:
            what = "every assumption drawn" if path is None else f"{label_of(path)} at {side}"
            on_run(what)
        results = run(
            scenario,
            replications,
            seed,
            workers=workers,
            progress=progress,
            pins=pins,
        )
        values = results.dataset[measure].sel(time=pd.Timestamp(when))
        headline[(side, path)] = values.to_numpy().astype(float)
        runs.append({"pins": pins, "wall_time_s": results.provenance["wall_time_s"]})
    base = float(headline[("base", None)].mean())
    rows = []
    for path, dist in varied.items():
        lo, hi = headline[("low", path)], headline[("high", path)]
        swing, se, beyond = _swing(lo, hi)
        bounds = bounds_of(path)
        rows.append(
            {
                "assumption": path,
                "label": label_of(path),
                "distribution": dist.describe(),
                "value_low": dist.ppf(low, *bounds),
                "value_high": dist.ppf(high, *bounds),
                "headline_low": float(lo.mean()),
                "headline_base": base,
                "headline_high": float(hi.mean()),
                "swing": swing,
                "swing_se": se,
                "distinguishable": beyond,
            }
        )
    table = pd.DataFrame(rows)
    order = np.lexsort((np.arange(len(table)), -table["swing"].abs().to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table = table[COLUMNS]
    provenance = {
        "placeplan_version": __version__,
        "scenario": {
            "name": scenario.name,
            "title": scenario.title,
            "resolved_sha256": scenario.digest(),
        },
        "source": dict(source or {}),
        "seed": seed,
        "replications": replications,
        "measure": measure,
        "at": str(when),
        "quantiles": {"low": low, "high": high},
        "runs": runs,
        "command": command,
        "started": started.isoformat(timespec="seconds"),
        "wall_time_s": round(time.perf_counter() - clock, 3),
    }
    paired = {path: headline[("high", path)] - headline[("low", path)] for path in varied}
    result = Sensitivity(
        scenario, table, fixed, measure, when, replications, seed, low, high, provenance, paired
    )
    table.attrs["dominant"] = result.dominant
    return result


def _command(
    name: str | None,
    replications: int,
    seed: int,
    measure: str,
    at: str | date | None,
    low: float,
    high: float,
) -> str:
    """The ``placeplan sensitivity`` command that computes this again."""
    words = ["placeplan", "sensitivity", name or "SENSITIVITY_FOLDER/scenario.yaml"]
    words += ["-n", str(replications), "--seed", str(seed)]
    if measure != measures.HEADLINE:
        words += ["--measure", measure]
    if at is not None:
        words += ["--at", str(at)]
    command = " ".join(shlex.quote(w) for w in words)
    if (low, high) != (0.1, 0.9):
        command += f" (with low={low:g}, high={high:g} in the Python API)"
    return command
