"""The citable report: one self-contained HTML file (figures embedded), and Markdown.

The report gives the headline answer, the build programme, the assumptions with
their sources, a model description covering the STRESS-DES reporting items
(objectives, logic, data, experimentation, implementation, code access), the
provenance and a suggested citation. All text taken from the scenario is escaped.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from placeplan.results import Results

__all__ = ["report_html", "report_markdown", "write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right}
img{max-width:100%;height:auto;border:1px solid #eee}
.cite{background:#f7f7f2;padding:.75rem;border-left:4px solid #aa8}
footer{margin-top:3rem;font-size:.8rem;color:#666}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _table(frame: pd.DataFrame, numeric: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for col, value in zip(frame.columns, row, strict=True):
            cls = ' class="n"' if col in numeric else ""
            cells.append(f"<td{cls}>{_e(value)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _headline(results: Results) -> pd.DataFrame:
    h = results.headline()
    return pd.DataFrame(
        {
            "January census": [str(c) for c in h["census"]],
            "median [children]": h["median"].round(0).astype(int),
            "80% interval [children]": [
                f"{a:.0f} – {b:.0f}" for a, b in zip(h["p10"], h["p90"], strict=True)
            ],
            "P(nobody waits longer)": [f"{p:.0%}" for p in h["p_none"]],
        }
    )


def _programme(results: Results) -> pd.DataFrame:
    rows = [
        {
            "project": p.name,
            "designation": p.designation,
            "places": p.places,
            "opens": str(p.opens),
            "cost [GBP]": "" if p.cost_gbp is None else f"{p.cost_gbp:,.0f}",
            "slippage [terms: probability]": ", ".join(
                f"{k}: {v:g}" for k, v in p.slippage.items()
            ),
            "source": p.source,
        }
        for p in results.scenario.placement.build_programme
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "project",
            "designation",
            "places",
            "opens",
            "cost [GBP]",
            "slippage [terms: probability]",
            "source",
        ],
    )


def _assumptions(results: Results) -> pd.DataFrame:
    s = results.scenario
    p = s.placement
    rows = [
        (f"places: {name}", spec.places, "places", spec.source)
        for name, spec in p.designations.items()
    ]
    d = s.demand
    if hasattr(d, "new_plans_growth"):
        rows += [
            (
                "growth of new plans (log, a year)",
                f"{d.new_plans_growth.mean:g} ± {d.new_plans_growth.sd:g}",
                "per year",
                d.source,
            ),
            ("damping of that growth", d.new_plans_growth_damping, "1", "assumption"),
            ("year-to-year variation of new plans", d.new_plans_noise_sd, "per year", d.source),
            (
                "trend of the special school share (log, a year)",
                f"{d.specialist_share_trend.mean:g} ± {d.specialist_share_trend.sd:g}",
                "per year",
                d.source,
            ),
            ("re-recording of needs with age", d.need_recoding, "per year", "assumption"),
            ("referral ages", f"{d.referral_ages[0]}–{d.referral_ages[1]}", "years", "assumption"),
        ]
    rows += [
        (
            "panels",
            p.panels.every_days if p.panels.every_days else "term starts",
            "days",
            "scenario",
        ),
        ("places taken up", p.panels.start_places, "", "scenario"),
        (
            "leaving at the end of the year, by age",
            dict(p.leaving.end_of_year),
            "probability",
            p.leaving.source,
        ),
        ("leaving a place mid-year", p.leaving.mid_year_rate, "per year", p.leaving.source),
        ("out of area after", p.out_of_area.after_terms, "terms", p.out_of_area.source),
        ("out-of-area cost", p.out_of_area.yearly_cost_gbp, "GBP per year", p.out_of_area.source),
        ("priority", p.priority, "", "scenario"),
    ]
    for group in p.initial_waiting:
        rows.append(
            (
                f"on the list at the start (referred {group.referred_from} to {group.referred_to})",
                sum(group.children.values()),
                "children",
                group.source,
            )
        )
    return pd.DataFrame(rows, columns=["assumption", "value", "units", "source"])


def _model_description(results: Results) -> list[tuple[str, str]]:
    s = results.scenario
    p = results.provenance
    return [
        (
            "Objectives",
            "To estimate, under the scenario's investment in special school places, "
            "how many children will be waiting for a place longer than three school terms at each "
            "January census, with the uncertainty of that estimate.",
        ),
        (
            "Model logic",
            "A cohort projection of EHC plans by age and primary need (ageing, new "
            "plans, ceasing, needs re-recorded with age) gives the children newly needing a "
            "special school place; a discrete-event model (SimPy) of the referral queue "
            "decides, at term starts and panel meetings, which waiting child is offered "
            "which free place (first come, first served within a designation; own "
            "locality first), when pupils leave, and when build projects open. Waiting "
            "longer than three terms: at least three whole terms have passed since the end "
            "of the term of referral.",
        ),
        (
            "Data",
            f"{p['data']['release']}. {p['data'].get('attribution') or ''} Other inputs "
            "and their sources are listed under Assumptions.",
        ),
        (
            "Experimentation",
            f"{p['replications']} replications, each with its own random "
            f"streams from the seed's entropy {p['seed']['entropy']} (parameters, referrals, "
            "exits, the list at the start, slippage drawn separately; scenarios compared on "
            f"common random numbers). Forecast from {s.start} for {s.years:g} years; measures at "
            "census days (first Thursday of October, third Thursdays of January and May).",
        ),
        (
            "Implementation",
            f"placeplan {p['placeplan_version']} (Python {p['python']}; "
            + ", ".join(f"{k} {v}" for k, v in p["packages"].items())
            + f"); {p['engine']} engine; run {p['started']}, {p['wall_time_s']} s.",
        ),
        (
            "Verification and validation",
            "Checked in its test suite against the deterministic "
            "FIFO limit, Erlang C, a queue with growing capacity (exact Kolmogorov solution) and "
            "Little's identity; a per-child reference model gives identical placements; demand "
            "forecasts are backtested on the published SEN2 series of every council.",
        ),
        (
            "Code access",
            "placeplan is open source under the MIT licence; the scenario file, "
            "seed and version below reproduce every figure of this report.",
        ),
    ]


def report_html(results: Results, compare: Sequence[Results] = ()) -> str:
    """The report as one self-contained HTML page (figures embedded as PNG data)."""
    from placeplan.compare import Comparison
    from placeplan.plot import comparison

    s = results.scenario
    figures = [
        ("Children waiting longer than three terms", results.plot.fan()),
        ("Children needing a place, and places, by designation", results.plot.demand_capacity()),
    ]
    if results.children is not None:
        figures.append(("Terms waited at the last census", results.plot.terms_waited()))
    if compare:
        figures.append(("Options compared", comparison(Comparison([results, *compare]))))
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(s.title)} — placeplan forecast</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(s.title)}</h1><p>{_e(s.description)}</p>",
        "<h2>The answer</h2><p>Children waiting longer than three terms for a special school "
        "place at each January census, and the probability that nobody does.</p>",
        _table(_headline(results), numeric=["median [children]"]),
    ]
    for title, fig in figures:
        parts.append(
            f"<figure><img alt='{_e(title)}' src='data:image/png;base64,{_png(fig)}'>"
            f"<figcaption>{_e(title)}</figcaption></figure>"
        )
    if compare:
        table = Comparison([results, *compare]).differences().round(1)
        parts += ["<h2>Options compared</h2>", _table(table)]
    parts += [
        "<h2>The build programme</h2>",
        _table(_programme(results)),
        "<h2>Assumptions</h2>",
        _table(_assumptions(results)),
        "<h2>The model (STRESS-DES)</h2>",
        *(f"<h3>{_e(k)}</h3><p>{_e(v)}</p>" for k, v in _model_description(results)),
        "<h2>Provenance</h2>",
        _table(pd.DataFrame(_provenance_rows(results), columns=["field", "value"])),
        f"<h2>How to cite</h2><p class='cite'>{_e(results.citation())}</p>",
        f"<footer>Made by placeplan {_e(results.provenance['placeplan_version'])}.</footer>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _provenance_rows(results: Results) -> list[tuple[str, str]]:
    from placeplan.results import _flatten

    return list(_flatten(results.provenance))


def report_markdown(results: Results, compare: Sequence[Results] = ()) -> str:
    """The report as Markdown, for papers (tables, no embedded figures)."""

    def cells(values) -> str:
        return (
            "| " + " | ".join(str(v).replace("|", "\\|").replace("\n", " ") for v in values) + " |"
        )

    def md(frame: pd.DataFrame) -> str:
        lines = [cells(frame.columns), "|" + "---|" * len(frame.columns)]
        lines += [cells(row) for row in frame.itertuples(index=False)]
        return "\n".join(lines)

    s = results.scenario
    out = [f"# {s.title}", "", s.description, "", "## The answer", "", md(_headline(results)), ""]
    if compare:
        from placeplan.compare import Comparison

        out += [
            "## Options compared",
            "",
            md(Comparison([results, *compare]).differences().round(1)),
            "",
        ]
    out += ["## The build programme", "", md(_programme(results)), ""]
    out += ["## Assumptions", "", md(_assumptions(results)), "", "## The model (STRESS-DES)", ""]
    for k, v in _model_description(results):
        out += [f"**{k}.** {v}", ""]
    out += ["## How to cite", "", results.citation(), ""]
    return "\n".join(out)


def write_report(results: Results, out: str | Path, compare: Sequence[Results] = ()) -> Path:
    """Write the report, as HTML (``.html``) or Markdown (``.md``), atomically."""
    from placeplan.io import atomic_write_text

    out = Path(out)
    if out.suffix.lower() in {".html", ".htm"}:
        return atomic_write_text(out, report_html(results, compare))
    if out.suffix.lower() == ".md":
        return atomic_write_text(out, report_markdown(results, compare))
    raise ValueError(f"{out}: the report is written as .html or .md")
