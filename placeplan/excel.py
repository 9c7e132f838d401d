"""The Excel workbook of a run: fit to hand to a planner who never opens Python.

:func:`write_workbook` (reached as :meth:`placeplan.results.Results.to_excel`)
writes one workbook with an ``about`` sheet first (what each sheet holds), the
January headline, a summary, by-designation sheets, the build programme, the
assumptions with their sources, the measures with their units and long names,
one sheet per measure (every replication), and the provenance. Numbers carry
formats (whole numbers for children and places, £ for money, dates as dates,
percentages for probabilities), header rows are frozen and columns sized to
their contents. Labels of measures come from :mod:`placeplan.measures`, with the
scenario's thresholds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan import measures

if TYPE_CHECKING:
    from placeplan.results import Results

__all__ = ["BY_DESIGNATION", "FORMATS", "write_workbook"]

FORMATS: dict[str, str] = {
    "children": "#,##0",
    "places": "#,##0",
    "plans": "#,##0",
    "GBP": '"£"#,##0',
    "probability": "0%",
    "date": "yyyy-mm-dd",
}
"""Excel number formats by units."""

BY_DESIGNATION: tuple[str, ...] = (
    "specialist_demand",
    "capacity",
    "waiting",
    "waiting_over_3_terms",
    "waiting_over_52_weeks",
    "placed_out_of_area",
)
"""The measures given a by-designation sheet (median, 10th and 90th percentiles)."""

_STATISTICS = (("median", 0.5), ("p10", 0.1), ("p90", 0.9))


def _sheet_name(name: str) -> str:
    """A legal Excel sheet name (no brackets, colons, stars, slashes; at most 31 characters)."""
    return re.sub(r"[\[\]:*?/\\]", "_", name)[:31]


def _desig_sheet(name: str) -> str:
    return _sheet_name(f"{name} by desig")


_ERROR_COLUMNS = {
    "median_se": "median: Monte Carlo s.e. [children]",
    "p10_se": "10th percentile: Monte Carlo s.e. [children]",
    "p90_se": "90th percentile: Monte Carlo s.e. [children]",
    "p_none_se": "P(nobody): Monte Carlo s.e.",
    "mean": "mean [children]",
    "mean_se": "mean: Monte Carlo s.e. [children]",
}
"""The headline sheet's Monte Carlo columns (:func:`placeplan.mcerror.headline_errors`)."""


def _headline(results: Results) -> pd.DataFrame:
    from placeplan.mcerror import headline_errors
    from placeplan.report import january_headline

    h = january_headline(results)
    label = measures.get(measures.HEADLINE).long_name(measures.Thresholds.of(results.scenario))
    e = headline_errors(results) if len(h) else pd.DataFrame(columns=_ERROR_COLUMNS)
    return pd.DataFrame(
        {
            "January census": h["census"],
            f"{label}: median [children]": h["median"],
            "10th percentile [children]": h["p10"],
            "90th percentile [children]": h["p90"],
            "P(nobody waits that long)": h["p_none"],
            **{title: e[column].to_numpy() for column, title in _ERROR_COLUMNS.items()},
        }
    )


def _by_designation(results: Results, name: str) -> pd.DataFrame:
    ds = results.dataset
    da = ds[f"{name}_by_designation"]
    out = pd.DataFrame(
        {
            "census": pd.to_datetime(ds["time"].to_numpy()).date,
            "term": ds["term"].to_numpy() if "term" in ds.coords else "",
        }
    )
    stats = {stat: da.quantile(q, dim="replicate").to_numpy() for stat, q in _STATISTICS}
    for k, designation in enumerate(ds["designation"].to_numpy()):
        for stat, _ in _STATISTICS:
            out[f"{designation}: {stat}"] = stats[stat][:, k]
    return out


def _programme(results: Results) -> pd.DataFrame:
    first = next(iter(results.scenario.placement.localities))
    rows = [
        {
            "project": p.name,
            "designation": p.designation,
            "places": p.places,
            "locality": p.locality or first,
            "ages": f"{p.ages[0]}–{p.ages[1]}",
            "opens": p.opens,
            "cost [GBP]": np.nan if p.cost_gbp is None else p.cost_gbp,
            "slippage [terms late: probability]": ", ".join(
                f"{k}: {v:g}" for k, v in sorted(p.slippage.items())
            ),
            "expected slippage [terms]": sum(k * v for k, v in p.slippage.items()),
            "source": p.source,
        }
        for p in results.scenario.placement.build_programme
    ]
    columns = [
        "project",
        "designation",
        "places",
        "locality",
        "ages",
        "opens",
        "cost [GBP]",
        "slippage [terms late: probability]",
        "expected slippage [terms]",
        "source",
    ]
    return pd.DataFrame(rows, columns=columns)


def _assumptions(results: Results) -> pd.DataFrame:
    from placeplan.report import _assumptions as table

    frame = table(results)
    frame["value"] = [
        v if isinstance(v, int | float) and not isinstance(v, bool) else str(v)
        for v in frame["value"]
    ]
    return frame


def _measures(results: Results) -> pd.DataFrame:
    t = measures.Thresholds.of(results.scenario)
    return pd.DataFrame(
        [
            {
                "variable": m.name,
                "long name": m.long_name(t),
                "units": m.units,
                "by designation": "yes" if m.by_designation else "",
                "by locality": "yes" if m.by_locality else "",
                "from": "cohort projection" if m.source == "demand" else "referral queue",
                "level or total": "level at the census" if m.stock else "total since the start",
                "sheet": m.name[:31] if m.name in results.dataset else "",
            }
            for m in measures.MEASURES
        ]
    )


def _about(results: Results, sheets: dict[str, str]) -> pd.DataFrame:
    from placeplan.report import limitations, reproduce_command

    s = results.scenario
    p = results.provenance
    label = measures.get(measures.HEADLINE).long_name(measures.Thresholds.of(s))
    rows = [
        ("scenario", f"{s.title} ({s.name})"),
        ("description", s.description),
        ("the question", f"{label} for a special school place at each January census"),
        (
            "run",
            f"{p['replications']} replications, seed entropy {p['seed']['entropy']}, "
            f"{p['engine']} engine, placeplan {p['placeplan_version']}, {p['started']}",
        ),
        ("reproduce with", reproduce_command(p)),
        ("Monte Carlo error", " ".join(_monte_carlo_notes(results))),
        ("citation", results.citation()),
        ("", ""),
        ("sheet", "what it holds"),
        *sheets.items(),
        ("", ""),
        ("limitations", ""),
        *(("", text) for text in limitations(results)),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def _monte_carlo_notes(results: Results) -> list[str]:
    """What the headline's ± errors are and whether they meet the criterion.

    None without a January census (the headline sheet is then empty).
    """
    from placeplan.mcerror import headline_errors, notes
    from placeplan.report import january_headline

    return notes(headline_errors(results)) if len(january_headline(results)) else []


def _replicates(results: Results, name: str) -> pd.DataFrame:
    da = results.dataset[name]
    table = da.to_pandas().T
    table.index = pd.to_datetime(table.index).date
    table.index.name = f"time ({da.attrs.get('units', measures.get(name).units)})"
    table.columns = [f"replicate {r}" for r in table.columns]
    return table


def _provenance(results: Results) -> pd.DataFrame:
    from placeplan.results import _flatten

    ds = results.dataset
    rows = [("units of " + m.name, m.units) for m in measures.MEASURES if m.name in ds]
    rows += list(_flatten(results.provenance))
    return pd.DataFrame(rows, columns=["field", "value"])


def _format(ws, formats: dict[int, str], freeze: str = "A2", wrap: tuple[int, ...] = ()) -> None:
    """Number formats by column (1-based), frozen header, widths from the contents."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws.freeze_panes = freeze
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column in ws.iter_cols(min_row=1):
        idx = column[0].column
        fmt = formats.get(idx)
        width = 8
        for cell in column:
            if fmt and cell.row > 1 and cell.value is not None:
                cell.number_format = fmt
            if idx in wrap and cell.row > 1:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if cell.value is None:
                continue
            if cell.row == 1:
                text = max(str(cell.value).split(), key=len, default="")
                width = max(width, min(len(str(cell.value)), 24), len(text) + 2)
            elif fmt == FORMATS["date"]:
                width = max(width, 11)
            elif isinstance(cell.value, int | float):
                width = max(width, len(f"{cell.value:,.0f}") + 3)
            else:
                width = max(width, min(len(str(cell.value)) + 2, 60))
        ws.column_dimensions[get_column_letter(idx)].width = width


def _units_format(units: str) -> str:
    return FORMATS.get(units, "#,##0.00")


def write_workbook(results: Results, path: str | Path) -> Path:
    """Write the workbook of a run, atomically.

    Parameters
    ----------
    results : Results
        The run.
    path : str or pathlib.Path
        The ``.xlsx`` file to write.

    Returns
    -------
    pathlib.Path
        The file written.

    Notes
    -----
    Sheets, in order: ``about`` (the scenario, the question, the command that
    reproduces the run, whether the Monte Carlo error meets its criterion, what
    each sheet holds, the limitations), ``headline`` (the January censuses:
    median, 10th and 90th percentiles [children] and the probability that nobody
    waits longer than the threshold, each with its Monte Carlo standard error
    (:mod:`placeplan.mcerror`), and the mean with its error), ``summary`` (every
    total measure's mean and percentiles at every census), ``NAME by desig`` for
    the measures in :data:`BY_DESIGNATION` (median, 10th and 90th percentiles per
    designation per census), ``programme`` (the build programme: designation,
    places, locality, ages, opening date, cost [GBP], slippage, source),
    ``assumptions`` (the scenario's inputs with units and sources, as in the
    report), ``measures`` (name, long name, units, breakdowns), one sheet per
    total measure (censuses × replications) and ``provenance``.
    """
    from placeplan.io import atomic_path

    path = Path(path)
    ds = results.dataset
    totals = [m for m in measures.MEASURES if m.name in ds]
    desig = [  # measures the run has (fixed or Poisson referrals project no demand)
        n
        for n in BY_DESIGNATION
        if f"{n}_by_designation" in ds and np.isfinite(ds[f"{n}_by_designation"].to_numpy()).any()
    ]
    t = measures.Thresholds.of(results.scenario)
    sheets: dict[str, str] = {
        "headline": f"{measures.get(measures.HEADLINE).long_name(t)} at each January census: "
        "median, 10th and 90th percentiles over replications [children], the share of "
        "replications in which nobody waits that long, each figure's Monte Carlo standard "
        "error (how far it could move with another seed), and the mean with its error",
        "summary": "every measure at every census day: mean, 10th, 50th and 90th percentiles "
        "over replications (units in 'measures')",
        **{
            _desig_sheet(n): f"{measures.get(n).long_name(t)}, by designation: median, 10th and "
            f"90th percentiles over replications [{measures.get(n).units}]"
            for n in desig
        },
        "programme": "the build programme: projects, designation, places, locality, ages, "
        "opening date, cost [GBP], chance of opening late, source",
        "assumptions": "the scenario's inputs, with units and sources",
        "measures": "every measure: variable name, long name, units, breakdowns",
        **{
            _sheet_name(m.name): f"{m.long_name(t)} [{m.units}]: every replication at every "
            "census day"
            for m in totals
        },
        "provenance": "version, scenario file and hashes, seed, replications, timings, "
        "packages, data release",
    }
    summary = results.summary()
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        _about(results, sheets).to_excel(xl, sheet_name="about", index=False)
        _format(xl.sheets["about"], {}, wrap=(2,))
        xl.sheets["about"].column_dimensions["B"].width = 100

        _headline(results).to_excel(xl, sheet_name="headline", index=False)
        count = FORMATS["children"]
        error = "#,##0.0"  # one decimal: a small error does not show as 0
        _format(
            xl.sheets["headline"],
            {1: FORMATS["date"], 2: count, 3: count, 4: count, 5: FORMATS["probability"]}
            | {6: error, 7: error, 8: error, 9: "0.0%", 10: "#,##0.0", 11: error},
        )

        summary.to_excel(xl, sheet_name="summary", index=False)
        formats = {1: FORMATS["date"]}
        for k, column in enumerate(summary.columns, start=1):
            if column in ds.data_vars:
                formats[k] = _units_format(measures.get(column).units)
        _format(xl.sheets["summary"], formats, freeze="D2")

        for name in desig:
            frame = _by_designation(results, name)
            sheet = _desig_sheet(name)
            frame.to_excel(xl, sheet_name=sheet, index=False)
            fmt = _units_format(measures.get(name).units)
            formats = {1: FORMATS["date"], **{k: fmt for k in range(3, frame.shape[1] + 1)}}
            _format(xl.sheets[sheet], formats, freeze="C2")

        programme = _programme(results)
        programme.to_excel(xl, sheet_name="programme", index=False)
        _format(
            xl.sheets["programme"],
            {3: FORMATS["places"], 6: FORMATS["date"], 7: FORMATS["GBP"], 9: "0.00"},
            freeze="B2",
        )

        _assumptions(results).to_excel(xl, sheet_name="assumptions", index=False)
        _format(xl.sheets["assumptions"], {}, wrap=(4,))

        _measures(results).to_excel(xl, sheet_name="measures", index=False)
        _format(xl.sheets["measures"], {})

        for m in totals:
            sheet = _sheet_name(m.name)
            _replicates(results, m.name).to_excel(xl, sheet_name=sheet)
            fmt = _units_format(m.units)
            ncols = results.replications + 1
            _format(
                xl.sheets[sheet],
                {1: FORMATS["date"], **{k: fmt for k in range(2, ncols + 1)}},
                freeze="B2",
            )

        _provenance(results).to_excel(xl, sheet_name="provenance", index=False)
        _format(xl.sheets["provenance"], {})
    return path
