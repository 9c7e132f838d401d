"""A hindcast: a scenario run from a past origin with the data known then, set beside the record.

:func:`hindcast` runs a cohort scenario whose start is in the past (its demand
projected from the SEN2 January of ``demand.base_year``, with only the levels known
then: :func:`placeplan.demand.inputs.cohort_inputs`), keeping the child log, and
compares it with every observed point within the run (:func:`observations`): the
council's published figures (:mod:`placeplan.published`), the SEN2 educated-elsewhere
and awaiting-provision series, and their sum up to January 2022 (the *waiting
signal* of :mod:`placeplan.demand.need_share`, the series that stays comparable
across SEN2's 2023 change). :meth:`Hindcast.save` writes the run folder, as
``placeplan run`` does, plus ``hindcast.md`` and fan charts with the observed points.

The state at the last January census of the run (:func:`census_state`) is what a
forecast from then would start from: the list's size, and how long its children
have already waited. The waits are not observed anywhere, so :func:`warm_start`
turns the hindcast's distribution of them into a scenario distribution (a warm
start *in distribution*); the list's size is observed in SEN2, so a forecast takes
it from data, and the hindcast only says whether it agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from placeplan.demand.need_share import AWAIT_FOLDED_FROM
from placeplan.demand.start import TERM_DAYS
from placeplan.errors import InputError
from placeplan.observed import (
    BANDS,
    MAX_GAP,
    _day,
    _published_text,
    band_counts,
    compare,
    sen2_signals,
)
from placeplan.observed import observations as published_observations
from placeplan.results import Results
from placeplan.scenario import CohortDemand, Scenario

__all__ = [
    "MIN_CONSISTENT",
    "SHARE_WIDTH",
    "WAITING_SIGNAL",
    "Hindcast",
    "census_state",
    "check_hindcast",
    "hindcast",
    "observations",
    "warm_start",
]

WAITING_SIGNAL = "DfE SEN2, waiting signal (educated elsewhere + awaiting provision)"
"""Source label of the waiting signal's points (January 2019–2022)."""

Z90 = 1.2815515655446004
"""The standard normal's 90th percentile."""


# ------------------------------------------------------------------ checks and points
def _area(scenario: Scenario) -> str:
    """The SEN2 area the demand is projected from."""
    demand = scenario.demand
    assert isinstance(demand, CohortDemand)
    return demand.sen2_area or scenario.council.code


def check_hindcast(scenario: Scenario) -> pd.DataFrame:
    """Refuse a scenario a hindcast cannot run or compare; return the council's SEN2 signals.

    The observed points are the council's (``council.code``: its published figures
    and SEN2 signals); the demand may come from another SEN2 area
    (``demand.sen2_area``).

    Raises
    ------
    InputError
        If demand is not a cohort projection (a hindcast starts from the council's
        SEN2 data), the council has no SEN2 rows, or no published January census falls
        more than half a year after the start (the January of the start is the state
        the run starts from: there would be nothing to compare).
    """
    demand = scenario.demand
    if not isinstance(demand, CohortDemand):
        raise InputError(
            f"{scenario.name}: a hindcast projects demand from the council's SEN2 data known "
            f"at its origin; expected demand.model: cohort, got {demand.model!r}"
        )
    signals = sen2_signals(scenario.council.code)
    latest = signals["census"].max()
    if (latest - scenario.start).days <= MAX_GAP.days:
        raise InputError(
            f"{scenario.name}: starts on {scenario.start}; the latest published January "
            f"census is {latest} (SEN2 January {int(signals['year'].max())}), the state the run "
            "starts from, so no published January falls after it. A hindcast starts in the "
            "past, at least half a year before the latest published January (use `placeplan "
            "run` for a forecast)"
        )
    return signals


def _waiting_signal_points(signals: pd.DataFrame) -> list[dict[str, Any]]:
    """Educated elsewhere + awaiting provision, each January before SEN2 folded them (2023)."""
    rows = []
    for row in signals.itertuples(index=False):
        if row.year >= AWAIT_FOLDED_FROM or pd.isna(row.ed_elsewhere) or pd.isna(row.await_prov):
            continue
        rows.append(
            {
                "id": f"sen2-waiting-signal-{row.year}",
                "what": (
                    f"Children with EHC plans educated elsewhere or awaiting provision (the "
                    f"waiting signal), January {row.year}"
                ),
                "source": WAITING_SIGNAL,
                "licence": signals.attrs.get("attribution", ""),
                "shadow": True,
                "kind": "count",
                "relation": "=",
                "value": float(row.ed_elsewhere) + float(row.await_prov),
                "units": "children",
                "measure": "waiting",
                "date": row.census,
                "start": None,
                "end": None,
                "quote": "",
                "note": (
                    "A shadow of the referral list, not the list. Up to January 2022 SEN2 "
                    "counted awaiting provision apart from educated elsewhere; from 2023 "
                    "within it: their sum is the series comparable across the change."
                ),
            }
        )
    return rows


def observations(area: str, signals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every observed point of a council, with the waiting signal up to January 2022.

    :func:`placeplan.observed.observations` (published figures, SEN2 educated elsewhere
    and awaiting provision), plus educated elsewhere + awaiting provision for each
    January before 2023 (:data:`WAITING_SIGNAL`); from 2023 educated elsewhere is that
    signal already.

    Raises
    ------
    InputError
        If no council matches ``area`` or it has no SEN2 rows.
    """
    points = published_observations(area)
    signals = sen2_signals(area) if signals is None else signals
    extra = pd.DataFrame(_waiting_signal_points(signals), columns=points.columns)
    return pd.concat([points, extra], ignore_index=True) if len(extra) else points


# ------------------------------------------------------------------ the state at a census
def _census_snapshot(results: Results, when: date | None = None) -> tuple[date, date]:
    """The last January census within the run (or ``when``), and the snapshot read for it."""
    from placeplan.observed import _january_census

    times = [d.date() for d in pd.to_datetime(results.dataset["time"].to_numpy())]
    if when is None:
        censuses = [
            _january_census(y)
            for y in range(results.scenario.start.year, times[-1].year + 1)
            if times[0] <= _january_census(y) <= times[-1]
        ]
        if not censuses:
            raise InputError(f"{results.scenario.name}: no January census within the run")
        when = censuses[-1]
    before = [t for t in times if t <= when]
    if not before or when - before[-1] > MAX_GAP:
        raise InputError(f"no snapshot within {MAX_GAP.days} days before {when}")
    return when, before[-1]


def census_state(results: Results, when: date | None = None) -> pd.DataFrame:
    """The list at a January census in each replication: its size and how long it has waited.

    Read from the child log at the snapshot :func:`placeplan.observed.compare` reads
    for that census (the latest on or before it): children referred by then, not yet
    in a place, not gone from the list nor placed out of area. The log holds days, so
    the snapshot is read at the start of its day (as weekly snapshots are taken):
    children referred or placed that day come after it, children leaving the list
    that day (at its start) before it.

    Parameters
    ----------
    results : Results
        A run with the child log (a hindcast).
    when : datetime.date, optional
        The census; the last January census within the run if omitted.

    Returns
    -------
    pandas.DataFrame
        One row per replication: ``replicate``, ``waiting`` [children] (from the
        child log), ``waiting_dataset`` (the run's ``waiting`` at the snapshot, for
        checking) and ``mean_terms_waited`` (mean time since referral of the children
        waiting, in terms of :data:`placeplan.demand.start.TERM_DAYS` days, as
        ``demand.starting_state.list_mean_terms_waited`` takes it) [terms];
        ``attrs`` hold ``census`` and ``snapshot``.
    """
    if results.children is None:
        raise InputError("the state at a census is read from the child log; run with it")
    census, snapshot = _census_snapshot(results, when)
    log = results.children
    at = pd.Timestamp(snapshot)
    referred = pd.to_datetime(log["referred"])
    placed = pd.to_datetime(log["placed"])
    left = pd.to_datetime(log["left"])
    # the log holds days; the snapshot is read at the start of its day: referred and
    # placed that day come after it, leaving the list (at 00:00) before it
    waiting = (
        (referred < at)
        & (placed.isna() | (placed >= at))
        & (placed.notna() | left.isna() | (left > at))
    )
    days = (at - referred).dt.days.where(waiting)
    frame = pd.DataFrame(
        {"replicate": log["replicate"], "waiting": waiting.astype(int), "days": days}
    )
    grouped = frame.groupby("replicate")
    reps = results.dataset["replicate"].to_numpy()
    out = pd.DataFrame({"replicate": reps})
    out["waiting"] = grouped["waiting"].sum().reindex(reps, fill_value=0).to_numpy()
    ds_waiting = results.dataset["waiting"].sel(time=np.datetime64(snapshot, "s"))
    out["waiting_dataset"] = ds_waiting.to_numpy().astype(int)
    out["mean_terms_waited"] = (grouped["days"].mean() / TERM_DAYS).reindex(reps).to_numpy()
    out.attrs.update(census=census, snapshot=snapshot)
    return out


SHARE_WIDTH = 1.0
"""Widest 80% interval of the list's share of educated elsewhere that the hindcast gives
as a distribution [1]: the width of placeplan's default assumption (0.5–1.5). A wider
one would not narrow the assumption, so the hindcast does not support it."""


MIN_CONSISTENT = 20
"""Fewest replications whose list agrees with the data to take the waits from them [1];
with fewer, the waits come from every replication (and the notes say so)."""


def _default_share() -> tuple[float, float]:
    """The default ``list_share_of_educated_elsewhere`` as (low, high) [1]."""
    from placeplan.scenario import StartingState

    share = StartingState().list_share_of_educated_elsewhere
    return float(share.ppf(0.0, 0.0, 20.0)), float(share.ppf(1.0, 0.0, 20.0))


def warm_start(
    state: pd.DataFrame,
    signal: float | None,
    command: str,
    share_width: float = SHARE_WIDTH,
    list_share: tuple[float, float] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The starting state a forecast from the census takes from the hindcast, and why.

    A warm start in distribution: ``list_mean_terms_waited`` becomes a normal
    distribution whose median and 10th and 90th percentiles are the hindcast's (the
    waits are observed nowhere: they come from the historical run). The forecast's
    list is SEN2's count times ``list_share`` (the count is observed: it comes from
    data), and a list's waits grow with its size, so the waits are taken from the
    replications whose list at the census lies in that range — the hindcast's waits
    *given* a list the data allows (at least :data:`MIN_CONSISTENT` of them; else from
    every replication, and the notes say so).

    ``list_share_of_educated_elsewhere`` is given only if the hindcast supports it:
    the SEN2 count lies inside the hindcast's 80% interval of the list, and that
    interval, as a share of the count, is at most ``share_width`` wide. Otherwise
    the share stays an assumption.

    Parameters
    ----------
    state : pandas.DataFrame
        :func:`census_state`.
    signal : float or None
        SEN2 educated elsewhere at that census [children].
    command : str
        The hindcast's command line, cited in the sources.
    share_width : float
        Widest 80% interval of the share worth giving (:data:`SHARE_WIDTH`) [1].
    list_share : tuple of float, optional
        The forecast's list as a share of the count, (low, high) [1]; placeplan's
        default ``list_share_of_educated_elsewhere`` (0.5–1.5) if omitted.

    Returns
    -------
    dict, list of str
        The ``starting_state`` entries, and sentences on what was and was not taken.
    """
    census = state.attrs.get("census")
    notes: list[str] = []
    out: dict[str, Any] = {}
    low, high = list_share if list_share is not None else _default_share()
    every = state.dropna(subset=["mean_terms_waited"])
    chosen, given = every, f"all {len(every)} replications with a list"
    if signal is not None and np.isfinite(signal) and signal > 0:
        fits = every[(every["waiting"] >= low * signal) & (every["waiting"] <= high * signal)]
        lo_n, hi_n = low * signal, high * signal
        if len(fits) >= MIN_CONSISTENT:
            chosen = fits
            given = (
                f"the {len(fits)} of {len(every)} replications whose list was "
                f"{lo_n:,.0f}–{hi_n:,.0f} children ({low:g}–{high:g} times SEN2 educated "
                f"elsewhere, {signal:,.0f}), as a forecast from the census starts it"
            )
        else:
            notes.append(
                f"Only {len(fits)} replications had a list of {lo_n:,.0f}–{hi_n:,.0f} "
                f"children ({low:g}–{high:g} times SEN2 educated elsewhere) at the census, "
                f"fewer than {MIN_CONSISTENT}: the waits come from every replication, whose "
                "lists may be larger or smaller than the data allow (run more replications)."
            )
    terms = chosen["mean_terms_waited"].to_numpy(dtype=float)
    if len(terms) >= 2:
        p10, p50, p90 = np.quantile(terms, [0.1, 0.5, 0.9])
        sd = max((p90 - p10) / (2 * Z90), 0.01)
        out["list_mean_terms_waited"] = {
            "mean": round(float(p50), 2),
            "sd": round(float(sd), 2),
            "source": (
                f"hindcast: `{command}`; at the {census} census the children on the list "
                f"had waited {p50:.2f} terms on average (median; 80% interval "
                f"{p10:.2f}–{p90:.2f}) over {given}: a normal with that median and "
                "10th–90th percentiles. The waits are observed nowhere, so they come from "
                "the historical run (a warm start in distribution)."
            ),
        }
    else:
        notes.append("too few replications with a list to give the waits a distribution")
    sizes = state["waiting"].to_numpy(dtype=float)
    lo, mid, hi = np.quantile(sizes, [0.1, 0.5, 0.9])
    if signal is not None and np.isfinite(signal) and signal > 0:
        share_lo, share_hi = lo / signal, hi / signal
        if lo <= signal <= hi and share_hi - share_lo <= share_width:
            out["list_share_of_educated_elsewhere"] = {
                "low": round(float(share_lo), 2),
                "high": round(float(share_hi), 2),
                "source": (
                    f"hindcast: `{command}`; the simulated list at the {census} census was "
                    f"{mid:,.0f} (80% interval {lo:,.0f}–{hi:,.0f}), {share_lo:.2f}–"
                    f"{share_hi:.2f} times SEN2 educated elsewhere ({signal:,.0f}), which "
                    "lies inside it"
                ),
            }
        else:
            if lo <= signal <= hi:
                why = (
                    f"holds SEN2 educated elsewhere ({signal:,.0f}) but is wider than "
                    f"{share_width:g} as a share of it, so it would not narrow the assumed share"
                )
            else:
                where = "below" if signal < lo else "above"
                why = (
                    f"does not hold SEN2 educated elsewhere ({signal:,.0f}), which lies {where} it"
                )
            notes.append(
                f"List share not taken from the hindcast: the simulated list at the {census} "
                f"census ({mid:,.0f}, 80% interval {lo:,.0f}–{hi:,.0f}; {share_lo:.2f}–"
                f"{share_hi:.2f} times educated elsewhere) {why}. The list's size stays "
                "SEN2's count times the assumed share: the count is observed, so it comes "
                "from data."
            )
    return out, notes


# ------------------------------------------------------------------ the hindcast
@dataclass(frozen=True)
class Hindcast:
    """A hindcast: the run, its comparison with the record, and the state it ends in.

    Attributes
    ----------
    results : Results
        The run, with its child log.
    points : pandas.DataFrame
        The observed points (:func:`observations`).
    table : pandas.DataFrame
        :func:`placeplan.observed.compare` of the run with the points.
    borrowed : tuple of str
        Shapes the cohort inputs borrow from after the origin
        (:attr:`placeplan.demand.inputs.CohortInputs.borrowed`).
    state : pandas.DataFrame
        :func:`census_state` at the last January census within the run.
    command : str
        The command line that ran it (cited in the warm start's sources).
    """

    results: Results
    points: pd.DataFrame
    table: pd.DataFrame
    borrowed: tuple[str, ...]
    state: pd.DataFrame
    command: str

    @property
    def signal_at_census(self) -> float | None:
        """SEN2 educated elsewhere at the census of :attr:`state` [children]."""
        census = self.state.attrs.get("census")
        rows = self.points[
            (self.points["source"] == "DfE SEN2, educated elsewhere")
            & (self.points["date"].map(_day) == census)
        ]
        return float(rows["value"].iloc[0]) if len(rows) else None

    def warm_start(self) -> tuple[dict[str, Any], list[str]]:
        """:func:`warm_start` of this hindcast's state."""
        return warm_start(self.state, self.signal_at_census, self.command)

    def sentence(self) -> str:
        """One plain sentence on how the hindcast agrees with the published record."""
        return agreement_sentence(self.table)

    def markdown(self) -> str:
        """``hindcast.md``: the comparison, the agreement, the borrowings, the warm start."""
        return hindcast_markdown(self)

    def save(self, directory: str | Path, figure_format: str = "png") -> dict[str, Path]:
        """Write the run folder (as ``placeplan run``), ``hindcast.md`` and the figures.

        The run folder is written whole first (:meth:`Results.save`); ``hindcast.md``
        and ``figures/`` then go into it, each file atomically, as ``placeplan plot``
        and ``placeplan report`` do.
        """
        from placeplan.io import atomic_write_text
        from placeplan.plot import save

        out = Path(directory)
        files = self.results.save(out)
        files["hindcast"] = atomic_write_text(out / "hindcast.md", self.markdown())
        for name, fig in self.results.plot.figures(observed=self.points).items():
            files[f"figure {name}"] = save(fig, out / "figures" / f"{name}.{figure_format}")
        return files


def hindcast(
    scenario: Scenario,
    replications: int = 200,
    seed: int | None = None,
    *,
    workers: int = 1,
    progress: bool = False,
    scenario_file: str | Path | None = None,
    command: str | None = None,
) -> Hindcast:
    """Run a scenario from a past origin and set it beside the published record.

    Parameters
    ----------
    scenario : Scenario
        A validated cohort scenario starting before the latest published January
        census (:func:`check_hindcast`).
    replications : int
        Replications [1].
    seed : int, optional
        Root seed (fresh entropy, recorded, if omitted).
    workers : int
        Worker processes.
    progress : bool
        Show a progress bar.
    scenario_file : str or pathlib.Path, optional
        The scenario's file, for the provenance.
    command : str, optional
        The command line, cited in the warm start's sources.

    Returns
    -------
    Hindcast

    Raises
    ------
    InputError
        As :func:`check_hindcast`.
    """
    from placeplan.experiment import run
    from placeplan.validation import cohort_inputs_for

    signals = check_hindcast(scenario)
    points = observations(scenario.council.code, signals)
    results = run(
        scenario,
        replications,
        seed,
        progress=progress,
        scenario_file=scenario_file,
        child_log=True,
        workers=workers,
    )
    cohort = cohort_inputs_for(_area(scenario), scenario.demand.base_year)  # type: ignore[union-attr]
    table = compare(results, points)
    state = census_state(results)
    text = command or f"placeplan hindcast {scenario_file or scenario.name}"
    return Hindcast(results, points, table, cohort.borrowed, state, text)


# ------------------------------------------------------------------ words
def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _where(band: str) -> str:
    return {
        BANDS[0]: "below the simulated 80% interval",
        BANDS[1]: "inside it, below the median",
        BANDS[2]: "inside it, above the median",
        BANDS[3]: "above the simulated 80% interval",
    }.get(band, band)


def agreement_sentence(table: pd.DataFrame) -> str:
    """One sentence: the council's own figures, then the SEN2 waiting signal, by band.

    The places figures are the scenario's own input and are left out (they agree by
    construction); the waiting signal is educated elsewhere + awaiting provision up to
    2022 and educated elsewhere from 2023, so one series across SEN2's change.
    """
    done = table[table["status"] == "compared"]
    parts = []
    figures = done[~done["shadow"].astype(bool) & (done["measure"] != "capacity")]
    for row in figures.to_dict("records"):
        what = row["what"][0].lower() + row["what"][1:]
        if row["kind"] == "bound":
            parts.append(
                f"“{_published_text(row)}” ({what}) holds in {row['p_holds']:.0%} of "
                f"replications (simulated median {row['p50']:,.0f})"
            )
        else:
            parts.append(
                f"{_published_text(row)} ({what}) lies {_where(row['band'])} (simulated "
                f"median {row['p50']:,.0f}, 80% interval {row['p10']:,.0f}–{row['p90']:,.0f})"
            )
    signal = done[
        (done["source"] == WAITING_SIGNAL)
        | (
            (done["source"] == "DfE SEN2, educated elsewhere")
            & (pd.to_datetime(done["date"]).dt.year >= AWAIT_FOLDED_FROM)
        )
    ]
    start = table.attrs.get("span", (None,))[0]
    if start is not None and len(signal):  # the January of the start is the start's own list
        first = pd.to_datetime(signal["date"]).dt.date - start
        signal = signal[first.map(lambda d: d.days > 183)]
    if len(signal):
        inside, below, above = band_counts(signal)
        parts.append(
            f"SEN2's waiting signal (a shadow of the list, not the list) lies inside the "
            f"simulated list's 80% interval at {inside} of "
            f"{_count(len(signal), 'January', 'Januaries')} after the start, below it at "
            f"{below} and above it at {above}"
        )
    missing = table[table["status"] != "compared"]
    if len(missing):
        parts.append(f"{_count(len(missing), 'point')} could not be compared (see the table)")
    if not parts:
        return "No published figure or SEN2 signal falls within the hindcast."
    text = "Against the published record, " + "; ".join(parts)
    return text + "."


def _cell(value: object) -> str:
    from placeplan.report import md_escape

    return md_escape(value, block=False)


def hindcast_markdown(h: Hindcast) -> str:
    """The hindcast report as Markdown (every scenario text escaped)."""
    import yaml

    from placeplan.report import md_escape

    r = h.results
    s = r.scenario
    demand = s.demand
    assert isinstance(demand, CohortDemand)
    prov = r.provenance
    origin = demand.base_year
    calibrated = demand.calibration.origin if demand.calibration else None
    lines = [
        f"# Hindcast: {md_escape(s.title)}",
        "",
        md_escape(
            f"{s.name}, from {s.start} to {s.end}: the cohort projection starts from SEN2's "
            f"January {origin} and uses only levels known then"
            + (
                f"; demand calibrated on SEN2 up to January {calibrated}"
                if calibrated is not None
                else "; demand parameters as the scenario gives them (not calibrated by "
                "placeplan calibrate)"
            )
            + f". {r.replications} replications, seed {prov['seed']['given']} (entropy "
            f"{prov['seed']['entropy']}), placeplan {prov['placeplan_version']}; "
            f"{prov['data']['release']}."
        ),
        "",
        "## Against the published record",
        "",
        md_escape(
            "Each observed point within the run beside the simulated distribution at its "
            "date: the median and 80% interval (10th–90th percentile) of the replications, "
            "and the band the published value falls in. SEN2 counts (educated elsewhere, "
            "awaiting provision, and up to 2022 their sum, the waiting signal) are shadows "
            "of the referral list, not the list: they are set beside the children waiting "
            "at the snapshot read for the January census. The places figures are the "
            "scenario's own input (they agree by construction)."
        ),
        "",
        "| date | observed | published | simulated median | simulated 80% interval | band "
        "| P(bound holds) | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in h.table.to_dict("records"):
        compared = row["status"] == "compared"
        when = (
            f"{_day(row['start'])} to {_day(row['end'])}"
            if row["kind"] == "interval" or _day(row.get("date")) is None
            else str(_day(row["date"]))
        )
        what = row["what"] + (" (shadow)" if row["shadow"] else "")
        cells = [
            when,
            what,
            _published_text(row),
            f"{row['p50']:,.0f}" if compared else "—",
            f"{row['p10']:,.0f}–{row['p90']:,.0f}" if compared else "—",
            row["band"] if compared else row["status"],
            f"{row['p_holds']:.0%}" if compared and row["kind"] == "bound" else "",
            row["source"],
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", md_escape(h.sentence()), ""]
    outside = h.table.attrs.get("outside", [])
    if outside:
        first, last = h.table.attrs["span"]
        lines += [
            md_escape(
                f"Outside the run ({first} to {last}), not compared: "
                f"{_count(len(outside), 'point')} ({', '.join(outside)})."
            ),
            "",
        ]
    lines += [
        "## Borrowed from after the origin",
        "",
        md_escape(
            f"SEN2 publishes some breakdowns only after January {origin}. Their shapes are "
            "borrowed from the earliest later publication and scaled to the levels known "
            "then (placeplan.demand.inputs.cohort_inputs); every level — plans, new plans, "
            "special school children, ceasing, the queue signals — is of January "
            f"{origin} or before:"
        ),
        "",
    ]
    lines += [f"- {md_escape(b, block=False)}" for b in h.borrowed] or ["- nothing"]
    lines += [
        "",
        md_escape(
            "The scenario's own assumptions (places by designation, the phasing of "
            "openings, the list at the start) are in scenario.yaml, each with its source."
        ),
        "",
    ]
    state = h.state
    census, snapshot = state.attrs["census"], state.attrs["snapshot"]
    sizes = np.quantile(state["waiting"], [0.1, 0.5, 0.9])
    terms = state["mean_terms_waited"].dropna()
    q = np.quantile(terms, [0.1, 0.5, 0.9]) if len(terms) else [np.nan] * 3
    signal = h.signal_at_census
    both = state.dropna(subset=["mean_terms_waited"])
    both = both[both["waiting"] > 0]
    corr = (
        float(np.corrcoef(np.log(both["waiting"]), both["mean_terms_waited"])[0, 1])
        if len(both) > 2 and both["mean_terms_waited"].std() > 0
        else float("nan")
    )
    lines += [
        f"## The state at the {census} census: a warm start for a forecast from then",
        "",
        md_escape(
            f"Read from the child log at the snapshot of {snapshot}. Children on the list: "
            f"median {sizes[1]:,.0f}, 80% interval {sizes[0]:,.0f}–{sizes[2]:,.0f}"
            + (
                f" (SEN2 educated elsewhere, the shadow: {signal:,.0f})"
                if signal is not None
                else ""
            )
            + f". Mean time their children had already waited: median {q[1]:.2f} terms, "
            f"80% interval {q[0]:.2f}–{q[2]:.2f} (a term is {TERM_DAYS:.2f} days, as "
            "demand.starting_state.list_mean_terms_waited counts it)."
        ),
        "",
        md_escape(
            "Warm start in distribution, not weighting: how long the list has waited is "
            "observed nowhere, so a forecast from the census takes it from the historical "
            "run, as a distribution over the replications; the list's size is observed "
            "(SEN2), so a forecast takes it from data (SEN2's count times the assumed "
            "share). A longer list has waited longer"
            + (
                f" (correlation of the log list size and the mean wait over the "
                f"replications: {corr:.2f})"
                if np.isfinite(corr)
                else ""
            )
            + ", so the waits are read from the replications whose list lies within the "
            "range the forecast starts from: the two halves of the starting state agree. "
            "Weighting every replication by its agreement with published counts would "
            "need a likelihood for counts that are only shadows of the list."
        ),
        "",
    ]
    entries, notes = h.warm_start()
    if entries:
        text = yaml.safe_dump(
            {"demand": {"starting_state": entries}},
            sort_keys=False,
            allow_unicode=True,
            width=88,
        )
        lines += ["```yaml", text.rstrip(), "```", ""]
    lines += [md_escape(n) + "\n" for n in notes]
    lines += [
        "## Files",
        "",
        md_escape(
            "The run folder (results.nc, summary.csv, provenance.json, scenario.yaml, "
            "children.csv.gz, MANIFEST.json) as placeplan run writes it; figures/ holds the "
            "fan charts with the observed points drawn on them."
        ),
        "",
    ]
    licences = sorted({str(x) for x in h.table["licence"] if isinstance(x, str) and x})
    if licences:
        lines += ["Sources and licences:", ""]
        lines += [f"- {md_escape(t, block=False)}" for t in licences]
        lines.append("")
    return "\n".join(lines)
