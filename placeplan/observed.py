"""The published record a run can be set beside, and where it falls in the run.

Two kinds of observed points:

- **Published council figures** (:mod:`placeplan.published`): what a council says
  in its own documents, e.g. Hertfordshire's "fewer than 70 children waiting over a
  year" in March 2024. Each names the model measure it is compared with.
- **SEN2 queue signals** (:func:`sen2_signals`): children with EHC plans *educated
  elsewhere* and *awaiting provision* each January, for every council. They are
  *shadows* of the referral list, not the list: children educated elsewhere include
  those educated at home by choice and in alternative provision, and a child waiting
  for a special school place may sit in a mainstream school meanwhile (DOMAIN.md,
  "Observed queue signals"). They are compared with the simulated list (``waiting``)
  at the January census and always labelled as shadows.

:func:`compare` gives, for each point within a run, the simulated distribution at
its date (the latest snapshot on or before it; for a level over a period, the first
snapshot in the period; for a count over an interval, the measure summed over the
interval) and the band the published value falls in: below the 10th percentile,
10th–50th, 50th–90th, above the 90th; for bounds also the probability that the bound
holds. :func:`observed_section` writes that as Markdown for the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan import measures
from placeplan.calendar import Term, TermCalendar
from placeplan.errors import InputError
from placeplan.published import NEEDED, Published, load_published, published

if TYPE_CHECKING:
    from placeplan.results import Results

__all__ = [
    "BANDS",
    "COLUMNS",
    "SHADOWS",
    "agreement",
    "compare",
    "needed_measures",
    "observations",
    "observed_section",
    "observed_table",
    "sen2_signals",
]

SHADOWS: dict[str, str] = {
    "plans": "Children and young people with EHC plans",
    "special": "with EHC plans in special schools of every type",
    "special_independent": "with EHC plans in independent special schools",
    "special_non_maintained": "with EHC plans in non-maintained special schools",
    "ed_elsewhere": "with EHC plans educated elsewhere (awaiting provision among them)",
    "await_prov": "with EHC plans awaiting provision (published for January 2019–2022)",
}
"""The SEN2 signals of :func:`sen2_signals`, by column [plans]: observed shadows of
the referral list and of the places it waits for, not the list itself."""

_COMPARED_SIGNALS = {
    "ed_elsewhere": "DfE SEN2, educated elsewhere",
    "await_prov": "DfE SEN2, awaiting provision",
}
"""SEN2 signals set beside the simulated list (``waiting``) at the January census."""

BANDS = (
    "below the 10th percentile",
    "10th–50th percentile",
    "50th–90th percentile",
    "above the 90th percentile",
)
"""Where a published value falls in the simulated distribution."""

COLUMNS = (
    "id",
    "what",
    "source",
    "licence",
    "shadow",
    "kind",
    "relation",
    "value",
    "units",
    "measure",
    "date",
    "start",
    "end",
    "quote",
    "note",
)
"""Columns of the points :func:`observations` returns (and :func:`compare` takes)."""

MAX_GAP = timedelta(days=183)
"""Latest a snapshot may be before a point's date and still stand for it [days]."""

THRESHOLDS = {
    "waiting_over_52_weeks": ("threshold_weeks", 52.0),
    "waiting_over_3_terms": ("threshold_terms", 3),
}
"""Measures whose meaning follows the run's thresholds, and the threshold a
published figure of them means (the variable's attribute and its value)."""


# ------------------------------------------------------------------ SEN2 signals
def _january_census(year: int) -> date:
    """The January census day of a SEN2 year (third Thursday of January)."""
    return TermCalendar.census_day(year - 1, Term.SPRING)


def sen2_signals(
    area: str,
    known_until: int | date | None = None,
    *,
    sen2_dir: str | Path | None = None,
) -> pd.DataFrame:
    """SEN2 shadows of the referral list for one council, by January.

    Parameters
    ----------
    area : str
        ONS code, DfE LA number or name of the council (:func:`placeplan.sen2.load`).
    known_until : int or datetime.date, optional
        Keep only Januaries up to this year (an int) or census on or before this day
        (a date): the data known at a hindcast's origin.
    sen2_dir : str or pathlib.Path, optional
        Read the official SEN2 CSV files here instead of the extract shipped with
        placeplan.

    Returns
    -------
    pandas.DataFrame
        One row per January with SEN2 data: ``year``, ``census`` (the January census
        day), then [plans] ``plans``, ``special`` (special schools of every type),
        ``special_independent``, ``special_non_maintained``, ``ed_elsewhere``
        (educated elsewhere, awaiting provision included) and ``await_prov``
        (awaiting provision, January 2019–2022 only); missing where not published.
        ``attrs`` holds ``area``, ``name``, ``release``, ``attribution`` and
        ``description``: these are shadows of the list, not the list.

    Raises
    ------
    InputError
        If no council matches ``area``, the council has no SEN2 rows, or none on or
        before ``known_until``.
    """
    from placeplan import sen2

    try:
        tables = sen2.load(area, sen2_dir=sen2_dir)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    frame = tables.plans_total
    if frame.empty:
        raise InputError(f"{tables.name} ({tables.code}) has no SEN2 rows of plans by January")
    out = frame[["year", *SHADOWS]].copy()
    out["year"] = out["year"].astype(int)
    out.insert(1, "census", [_january_census(int(y)) for y in out["year"]])
    if known_until is not None:
        if isinstance(known_until, date):
            keep = out["census"] <= known_until
        else:
            keep = out["year"] <= int(known_until)
        out = out[keep]
        if out.empty:
            raise InputError(
                f"{tables.name} ({tables.code}): no SEN2 January on or before {known_until}; "
                f"the first is {int(frame['year'].min())}"
            )
    out = out.sort_values("year").reset_index(drop=True)
    out.attrs.update(
        area=tables.code,
        name=tables.name,
        release=tables.release,
        attribution=tables.attribution,
        description=(
            "SEN2 signals by January [plans]: shadows of the referral list and of the places "
            "it waits for, not the list itself"
        ),
    )
    return out


# ------------------------------------------------------------------ points
def _figure_points(record: Published) -> list[dict]:
    rows = []
    for f in record.figures:
        sources = record.source_of(f)
        rows.append(
            {
                "id": f.id,
                "what": f.what,
                "source": "; ".join(s.short for s in sources),
                "licence": " ".join(dict.fromkeys(s.licence for s in sources)),
                "shadow": False,
                "kind": f.kind,
                "relation": f.relation,
                "value": float(f.value),
                "units": f.units,
                "measure": f.measure,
                "date": f.at,
                "start": f.start,
                "end": f.end,
                "quote": " / ".join(f"“{q.text}”" for q in f.quotes),
                "note": " ".join(f.note.split()),
            }
        )
    return rows


def _signal_points(signals: pd.DataFrame) -> list[dict]:
    rows = []
    for column, short in _COMPARED_SIGNALS.items():
        for row in signals.itertuples(index=False):
            value = getattr(row, column)
            if pd.isna(value):
                continue
            rows.append(
                {
                    "id": f"sen2-{column.replace('_', '-')}-{row.year}",
                    "what": f"Children {SHADOWS[column]}, January {row.year}",
                    "source": short,
                    "licence": signals.attrs.get("attribution", ""),
                    "shadow": True,
                    "kind": "count",
                    "relation": "=",
                    "value": float(value),
                    "units": "children",
                    "measure": "waiting",
                    "date": row.census,
                    "start": None,
                    "end": None,
                    "quote": "",
                    "note": (
                        "A shadow of the referral list, not the list: set beside the "
                        "children waiting at the January census."
                    ),
                }
            )
    for row in signals.itertuples(index=False):
        independent = row.special_independent
        if pd.isna(independent):
            continue
        nm = 0 if pd.isna(row.special_non_maintained) else row.special_non_maintained
        rows.append(
            {
                "id": f"sen2-independent-{row.year}",
                "what": (
                    "Children with plans in independent or non-maintained special schools, "
                    f"January {row.year}"
                ),
                "source": "DfE SEN2, independent and non-maintained special schools",
                "licence": signals.attrs.get("attribution", ""),
                "shadow": False,
                "kind": "count",
                "relation": "=",
                "value": float(independent + nm),
                "units": "children",
                "measure": "placed_elsewhere",
                "date": row.census,
                "start": None,
                "end": None,
                "quote": "",
                "note": (
                    "Set beside the children placed elsewhere, which also counts other "
                    "councils' state-funded schools: a lower bound of it."
                ),
            }
        )
    return rows


def observations(
    area: str,
    *,
    figures: Published | str | Path | None = None,
    signals: bool = True,
    sen2_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Every observed point for a council: its published figures and its SEN2 signals.

    Parameters
    ----------
    area : str
        ONS code, DfE LA number or name of the council.
    figures : Published or path, optional
        The council's published figures; by default those bundled with placeplan
        (:func:`placeplan.published.published`; none for most councils).
    signals : bool
        Add the SEN2 educated-elsewhere and awaiting-provision series (shadows).
    sen2_dir : str or pathlib.Path, optional
        Official SEN2 CSV files to read instead of the shipped extract.

    Returns
    -------
    pandas.DataFrame
        One row per point, with the columns of :data:`COLUMNS`: ``kind`` is
        ``count`` (a level at ``date``, or in force from ``start`` to ``end``),
        ``bound`` (a level ``relation`` ``value`` at ``date``) or ``interval`` (events
        from ``start`` to ``end``); ``shadow`` marks the SEN2 signals.
    """
    if figures is None:
        record = published(area)
    elif isinstance(figures, Published):
        record = figures
    else:
        record = load_published(figures)
    rows = _figure_points(record) if record is not None else []
    if signals:
        rows += _signal_points(sen2_signals(area, sen2_dir=sen2_dir))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _points(results: Results, observed) -> pd.DataFrame:
    if observed is None:
        return observations(results.scenario.council.code)
    if isinstance(observed, Published):
        return observations(observed.area, figures=observed, signals=False)
    if isinstance(observed, str):
        return observations(observed)
    if isinstance(observed, pd.DataFrame):
        missing = [c for c in ("id", "kind", "relation", "value", "measure") if c not in observed]
        if missing:
            raise InputError(f"observed points lack the columns {', '.join(missing)}")
        out = observed.copy()
        for column in COLUMNS:
            if column not in out:
                out[column] = False if column == "shadow" else None
        return out
    raise TypeError(
        "observed is a DataFrame of points (observations()), a Published record, an area, "
        f"or None; got {type(observed).__name__}"
    )


# ------------------------------------------------------------------ comparison
def _day(value) -> date | None:
    if value is None or (not isinstance(value, date) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def _band(value: float, sims: np.ndarray, q: tuple[float, float, float]) -> tuple[str, float]:
    """Band of ``value`` among ``sims`` and its mid-rank percentile (ties count half)."""
    below = float(np.mean(sims < value))
    tied = float(np.mean(sims == value))
    rank = below + tied / 2
    p10, p50, p90 = q
    if value < p10:
        return BANDS[0], rank
    if value > p90:
        return BANDS[3], rank
    if value < p50 or (value == p50 and rank <= 0.5):
        return BANDS[1], rank
    return BANDS[2], rank


def _holds(sims: np.ndarray, relation: str, value: float) -> float:
    ops = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
    return float(np.mean(ops[relation](sims, value))) if relation in ops else float("nan")


def _flow_from_log(results: Results, measure: str, start: date, end: date) -> np.ndarray | None:
    """A measure of :data:`NEEDED` from the child log, per replication, or None."""
    children = results.children
    if children is None or measure != "placed_after_waiting_over_52_weeks":
        return None
    placed = pd.to_datetime(children["placed"])
    referred = pd.to_datetime(children["referred"])
    waited = (placed.dt.normalize() - referred.dt.normalize()).dt.days
    inside = (placed >= pd.Timestamp(start)) & (placed <= pd.Timestamp(end))
    hit = inside & (waited > 7 * 52)
    counts = children.loc[hit.to_numpy(), "replicate"].value_counts()
    reps = results.dataset["replicate"].to_numpy()
    return counts.reindex(reps, fill_value=0).to_numpy(dtype=float)


def _not_comparable(results: Results, measure: str) -> str | None:
    if measure not in THRESHOLDS or measure not in results.dataset:
        return None
    attr, wanted = THRESHOLDS[measure]
    got = results.dataset[measure].attrs.get(attr, wanted)
    if float(got) != float(wanted):
        unit = "weeks" if attr.endswith("weeks") else "terms"
        return f"not comparable: the run counts waits over {got:g} {unit}, the figure {wanted:g}"
    return None


def _missing(results: Results, measure: str) -> str | None:
    ds = results.dataset
    if measure in NEEDED:
        return (
            f"not simulated: needs the measure {measure!r} ({NEEDED[measure][0].lower()}), "
            "which runs do not record; a run with the child log gives it"
        )
    if measure not in ds or not np.isfinite(ds[measure].to_numpy()).any():
        return f"not simulated: this run has no {measure!r}"
    return None


def compare(results: Results, observed=None) -> pd.DataFrame:
    """Set a run beside the published record: each observed point within the run.

    Parameters
    ----------
    results : Results
        The run (a hindcast, for points in the past).
    observed : pandas.DataFrame, Published, str, optional
        Points (:func:`observations`), a council's published figures, or an area; by
        default the run's council, its bundled figures and SEN2 signals.

    Returns
    -------
    pandas.DataFrame
        One row per point within the run's span (from the scenario's start to the
        last snapshot): the point's columns, then ``compared_at`` (the snapshot, or the
        dates an interval is counted between), ``status`` (``"compared"``, or why
        not: ``"not simulated: ..."`` for a measure the run lacks, ``"not
        comparable: ..."`` for another long-wait threshold, ``"no snapshot ..."``),
        ``p10``, ``p50``, ``p90`` of the simulated measure [its units],
        ``percentile`` (where the value sits among replications, ties counting
        half), ``band`` (:data:`BANDS`) and ``p_holds`` (for bounds, the share of
        replications in which the bound holds). ``attrs["outside"]`` lists the
        points outside the run, ``attrs["span"]`` the span.

    Notes
    -----
    A level at a date is read at the latest snapshot on or before the date (at most
    :data:`MAX_GAP` before it); a level in force over a period at the first snapshot
    in it. A count over an interval is the measure's increase from the latest
    snapshot on or before the start (zero at the run's start) to the latest on or
    before the end, or for :data:`placeplan.published.NEEDED` measures, counted day
    by day from the child log.
    """
    points = _points(results, observed)
    ds = results.dataset
    times = [d.date() for d in pd.to_datetime(ds["time"].to_numpy())]
    first = min(results.scenario.start, times[0])
    last = times[-1]
    rows, outside = [], []
    for point in points.to_dict("records"):
        kind, measure = point["kind"], point["measure"]
        when, start, end = _day(point.get("date")), _day(point.get("start")), _day(point.get("end"))
        row = dict(point)
        row.update(compared_at="", status="compared", p10=np.nan, p50=np.nan, p90=np.nan)
        row.update(percentile=np.nan, band="", p_holds=np.nan)
        sims = None
        if kind == "interval":
            if start is None or end is None or start < first or end > last:
                outside.append(point["id"])
                continue
            row["compared_at"] = f"{start} to {end}"
            if measure in NEEDED:
                sims = _flow_from_log(results, measure, start, end)
                if sims is not None:
                    row["compared_at"] += " (child log)"
            elif not _missing(results, measure):
                k_end = max(i for i, t in enumerate(times) if t <= end)
                before = [i for i, t in enumerate(times) if t <= start]
                values = ds[measure].to_numpy()
                base = values[:, before[-1]] if before else 0.0
                sims = values[:, k_end] - base
                at = times[before[-1]] if before else first
                row["compared_at"] = f"{at} to {times[k_end]} (snapshots)"
        else:
            if when is not None:
                if when < times[0] or when > last:
                    outside.append(point["id"])
                    continue
                k = max(i for i, t in enumerate(times) if t <= when)
                if when - times[k] > MAX_GAP:
                    row["status"] = f"no snapshot within {MAX_GAP.days} days before {when}"
                    rows.append(row)
                    continue
            else:
                hi = end or date.max
                inside = [i for i, t in enumerate(times) if start <= t <= hi]
                if not inside:
                    outside.append(point["id"])
                    continue
                k = inside[0]
            row["compared_at"] = str(times[k])
            if not _missing(results, measure):
                sims = ds[measure].to_numpy()[:, k].astype(float)
        problem = _not_comparable(results, measure) or (
            _missing(results, measure) if sims is None else None
        )
        if problem:
            row["status"] = problem
            rows.append(row)
            continue
        q = tuple(float(x) for x in np.quantile(sims, [0.1, 0.5, 0.9]))
        value = float(point["value"])
        row["p10"], row["p50"], row["p90"] = q
        row["band"], row["percentile"] = _band(value, sims, q)
        row["p_holds"] = _holds(sims, point["relation"], value) if kind == "bound" else np.nan
        rows.append(row)
    columns = [*points.columns, "compared_at", "status", "p10", "p50", "p90"]
    out = pd.DataFrame(rows, columns=[*columns, "percentile", "band", "p_holds"])
    out.attrs["outside"] = outside
    out.attrs["span"] = (first, last)
    return out


# ------------------------------------------------------------------ report
_RELATION_WORDS = {
    "=": "",
    "about": "about ",
    "<": "fewer than ",
    "<=": "at most ",
    ">": "more than ",
    ">=": "at least ",
}


def _published_text(row) -> str:
    return f"{_RELATION_WORDS.get(row['relation'], '')}{row['value']:,.0f}"


def _when(row) -> str:
    if row["kind"] == "interval":
        return f"{_day(row['start'])} to {_day(row['end'])}"
    if _day(row.get("date")) is not None:
        return str(_day(row["date"]))
    end = _day(row.get("end"))
    return f"{_day(row['start'])} to {end}" if end else f"from {_day(row['start'])}"


def observed_table(results: Results, observed=None) -> pd.DataFrame:
    """The comparison as a table for people: one row per point within the run.

    Columns: ``published figure`` (shadows say so), ``source``, ``date``,
    ``published``, ``simulated median``, ``simulated 80% interval`` (10th–90th
    percentile), ``compared with`` (the measure, and the snapshot), ``band`` and
    ``P(bound holds)``.
    """
    table = compare(results, observed)
    rows = []
    for row in table.to_dict("records"):
        compared = row["status"] == "compared"
        label = (
            measures.get(row["measure"]).long_name()
            if row["measure"] not in NEEDED
            else NEEDED[row["measure"]][0]
        )
        rows.append(
            {
                "published figure": row["what"]
                + (" — a shadow of the list, not the list" if row["shadow"] else ""),
                "source": row["source"],
                "date": _when(row),
                "published": _published_text(row),
                "simulated median": f"{row['p50']:,.0f}" if compared else "—",
                "simulated 80% interval": f"{row['p10']:,.0f}–{row['p90']:,.0f}"
                if compared
                else "—",
                "compared with": f"{label} ({row['compared_at']})" if row["compared_at"] else label,
                "band": row["band"] if compared else row["status"].split(":")[0],
                "P(bound holds)": f"{row['p_holds']:.0%}"
                if compared and row["kind"] == "bound"
                else "",
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "published figure",
            "source",
            "date",
            "published",
            "simulated median",
            "simulated 80% interval",
            "compared with",
            "band",
            "P(bound holds)",
        ],
    )
    out.attrs.update(table.attrs)
    return out


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def band_counts(points: pd.DataFrame) -> tuple[int, int, int]:
    """How many compared points lie inside the simulated 80% interval, below it, above it."""
    band = points["band"]
    return (
        int(band.isin(BANDS[1:3]).sum()),
        int((band == BANDS[0]).sum()),
        int((band == BANDS[3]).sum()),
    )


def agreement(table: pd.DataFrame) -> str:
    """One plain sentence on how the run agrees with the published record.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`compare`'s table.
    """
    span = table.attrs.get("span")
    if table.empty:
        where = f" ({span[0]} to {span[1]})" if span else ""
        return (
            f"No published figure or SEN2 signal falls within this run{where}, so none can be "
            "set beside it; a hindcast from a past origin can."
        )
    done = table[table["status"] == "compared"]
    parts = []
    figures = done[~done["shadow"].astype(bool) & (done["kind"] != "bound")]
    if len(figures):
        inside, below, above = band_counts(figures)
        parts.append(
            f"of {_count(len(figures), 'published council figure')} within the run, "
            f"{inside} {'lies' if inside == 1 else 'lie'} inside the simulated 80% interval, "
            f"{below} below it and {above} above it"
        )
    for row in done[done["kind"] == "bound"].to_dict("records"):
        name = row["what"][0].lower() + row["what"][1:]
        parts.append(
            f"“{_published_text(row)}” ({name}) holds in {row['p_holds']:.0%} of replications"
        )
    shadows = done[done["shadow"].astype(bool)]
    if len(shadows):
        inside, below, above = band_counts(shadows)
        parts.append(
            f"the SEN2 shadows of the list (educated elsewhere, awaiting provision; not the "
            f"list itself) lie inside the simulated list's 80% interval at {inside} of "
            f"{_count(len(shadows), 'January', 'Januaries')}, below it at {below} and above it "
            f"at {above}"
        )
    missing = len(table) - len(done)
    if missing:
        parts.append(f"{_count(missing, 'point')} could not be compared (see the table)")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def observed_section(results: Results, observed=None) -> list[str]:
    """The report's section on the published record, as Markdown lines.

    A heading, a line on what is compared, the table of :func:`observed_table`, the
    sentence of :func:`agreement`, the measures a point needed that the run lacks,
    and the sources' licences and SEN2 attribution. Text is escaped with
    :func:`placeplan.report.md_escape`.
    """
    from placeplan.report import md_escape

    table = compare(results, observed)
    shown = observed_table(results, observed)
    out = [
        "## Against the published record",
        "",
        md_escape(
            "Each published figure within the run beside the simulated distribution at its "
            "date, and the band it falls in. The SEN2 educated-elsewhere and awaiting-provision "
            "counts are shadows of the referral list, not the list: they are set beside the "
            "children waiting at the January census."
        ),
        "",
    ]
    if len(shown):
        out.append("| " + " | ".join(md_escape(c, block=False) for c in shown.columns) + " |")
        out.append("|" + "---|" * len(shown.columns))
        for row in shown.itertuples(index=False):
            out.append("| " + " | ".join(md_escape(v, block=False) for v in row) + " |")
        out.append("")
    out += [md_escape(agreement(table)), ""]
    problems = table[table["status"] != "compared"]
    for row in problems.to_dict("records"):
        out += [md_escape(f"{row['what']}: {row['status']}."), ""]
    outside = table.attrs.get("outside", [])
    if outside:
        first, last = table.attrs["span"]
        out += [
            md_escape(
                f"Outside the run ({first} to {last}), not compared: "
                f"{_count(len(outside), 'point')} ({', '.join(outside)})."
            ),
            "",
        ]
    licences = sorted({str(x) for x in table["licence"] if isinstance(x, str) and x})
    if licences:
        out += ["Sources and licences:", ""]
        out += [f"- {md_escape(text)}" for text in licences]
        out.append("")
    return out


def needed_measures(table: pd.DataFrame) -> Sequence[str]:
    """The statuses of points not simulated: what the run would need to record."""
    return [s for s in table["status"] if s.startswith("not simulated")]
