"""The citable report: one self-contained HTML file (figures embedded), and Markdown.

The report gives the headline answer, the build programme, the assumptions with
their sources, the model's limitations (written from the scenario), a model
description covering the STRESS-DES reporting items (objectives, logic, data,
experimentation, implementation, code access), the provenance and a suggested
citation. All text taken from the scenario is escaped: as HTML entities in the
HTML page, and as HTML entities and backslash escapes in Markdown, so that a
title such as ``<script>`` or ``*bold* [link](x)`` shows as typed. Labels of
measures come from :mod:`placeplan.measures`, with the scenario's thresholds.
"""

from __future__ import annotations

import base64
import html
import io
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from placeplan import measures
from placeplan.results import Results

__all__ = [
    "january_headline",
    "limitations",
    "md_escape",
    "report_html",
    "report_markdown",
    "reproduce_command",
    "write_report",
]

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


_MD_INLINE = re.compile(r"([\\`*_\[\]|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")


def md_escape(text: object, block: bool = True) -> str:
    r"""Text from a scenario made inert in Markdown: it shows as typed.

    HTML's ``&``, ``<`` and ``>`` become entities (so ``<script>`` is text, not a
    tag); Markdown's emphasis, code, link, table and strike-through characters
    (``\ ` * _ [ ] | ~``) are escaped with a backslash; a heading, quote, list
    or rule marker at the start is escaped (unless ``block`` is False: text inside
    a table cell, where line starts do not apply); line breaks become spaces.
    """
    flat = " ".join(str(text).split())
    flat = html.escape(flat, quote=False)
    flat = _MD_INLINE.sub(r"\\\1", flat)

    def mark(m: re.Match) -> str:
        lead, marker = m.group(1), m.group(2)
        return lead + (marker + "\\" if marker[0].isdigit() else "\\" + marker)

    return _MD_LINE_START.sub(mark, flat) if block else flat


def _thresholds(results: Results) -> measures.Thresholds:
    return measures.Thresholds.of(results.scenario)


def _label(results: Results, variable: str = measures.HEADLINE) -> str:
    """Long name of a measure with this run's thresholds ("longer than one term")."""
    return measures.get(variable).long_name(_thresholds(results))


def reproduce_command(provenance: dict[str, Any]) -> str:
    """The command that reproduces a run, naming its scenario as it was given.

    A bundled scenario is named by its bundled name, another file by the path
    recorded in the provenance; a run of a scenario object (no file) by the run
    folder's ``scenario.yaml``, the resolved scenario, which reproduces any run
    exactly.
    """
    from placeplan.bundled import bundled_scenarios

    recorded = (provenance.get("scenario", {}).get("file") or {}).get("path")
    scenario = "RUN_FOLDER/scenario.yaml"
    if recorded:
        scenario = recorded
        try:
            where = Path(recorded).resolve()
            for name, path in bundled_scenarios().items():
                if path.resolve() == where:
                    scenario = name
                    break
        except OSError:  # an unreadable recorded path: keep it as recorded
            pass
    command = (
        f"placeplan run {shlex.quote(scenario)} -n {provenance['replications']} "
        f"--seed {provenance['seed']['entropy']}"
    )
    if provenance.get("engine", "epoch") != "epoch":
        command += f" --engine {provenance['engine']}"
    return command


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


def january_headline(results: Results) -> pd.DataFrame:
    """:meth:`Results.headline`, or its empty table when the run has no January census.

    Runs whose snapshots are every so many days (the validation scenarios) may
    have no January census; the report and the workbook then say so instead of
    failing.
    """
    months = pd.to_datetime(results.dataset["time"].to_numpy()).month
    if not (months == 1).any():
        return pd.DataFrame(columns=["census", "median", "p10", "p90", "p_none"])
    return results.headline()


def _no_january(results: Results) -> str:
    return (
        "This run has no January census (snapshots "
        f"{_snapshot_text(results)}), so there is no January headline: read the "
        "figures and the workbook instead."
    )


def _headline(results: Results) -> pd.DataFrame:
    """The January table of the report: each figure with its Monte Carlo error (±).

    The errors come from :func:`placeplan.mcerror.headline_errors`, which picks the
    same censuses as :meth:`Results.headline`.
    """
    from placeplan.mcerror import headline_errors, with_se

    h = january_headline(results)
    columns = ["January census", "median [children]", "80% interval [children]"]
    chance = f"P(nobody waits longer than {measures.spell_terms(_thresholds(results).terms)})"
    if not len(h):
        return pd.DataFrame(columns=[*columns, chance])
    e = headline_errors(results)
    rows = [
        (
            str(row.census),
            with_se(row.median, err.median_se),
            f"{with_se(row.p10, err.p10_se)} – {with_se(row.p90, err.p90_se)}",
            with_se(row.p_none, err.p_none_se, percent=True),
        )
        for row, err in zip(h.itertuples(index=False), e.itertuples(index=False), strict=True)
    ]
    return pd.DataFrame(rows, columns=[*columns, chance])


def _monte_carlo_notes(results: Results) -> list[str]:
    """Sentences under the headline table: what ± is, and whether the errors are small enough."""
    from placeplan.mcerror import headline_errors, notes

    if not len(january_headline(results)):
        return []
    return notes(headline_errors(results))


def _programme(results: Results) -> pd.DataFrame:
    rows = [
        {
            "project": p.name,
            "designation": p.designation,
            "places": p.places,
            "locality": p.locality or next(iter(results.scenario.placement.localities)),
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
            "locality",
            "opens",
            "cost [GBP]",
            "slippage [terms: probability]",
            "source",
        ],
    )


def _leaving_rows(results: Results) -> list[tuple[Any, ...]]:
    """How children leave, and (cohort) who needs a place at the start, with derivations."""
    p = results.scenario.placement
    start = results.provenance.get("starting_state")
    if start is None:
        return [
            (
                "leaving at the end of the year, by age",
                dict(p.leaving.end_of_year),
                "probability",
                p.leaving.source,
            ),
            ("leaving a place mid-year", p.leaving.mid_year_rate, "per year", p.leaving.source),
        ]
    labels = {
        "special_school_children": "special school children at the start",
        "council_pupils": "in the council's places at the start",
        "placed_elsewhere": "placed elsewhere at the start",
        "list": "on the list at the start",
        "list_mean_terms_waited": "mean time the list at the start has waited",
    }
    units = {"list_mean_terms_waited": "terms"}
    rows: list[tuple[Any, ...]] = [
        (
            "leaving need",
            "at the end of an academic year, with the cohort projection's probabilities",
            "",
            "SEN2 ceasing by age and the share needing a place by age (one source)",
        )
    ]
    for key, item in start.items():
        rows.append(
            (
                labels.get(key, key.replace("_", " ")),
                item["value"],
                units.get(key, "children"),
                f"{item['derivation']} ({item['source']})",
            )
        )
    return rows


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
                f"{d.new_plans_growth:g}",
                "per year",
                d.source,
            ),
            ("damping of that growth", f"{d.new_plans_growth_damping:g}", "1", "assumption"),
            ("year-to-year variation of new plans", d.new_plans_noise_sd, "per year", d.source),
            (
                "trend of the special school share (log, a year)",
                f"{d.specialist_share_trend:g}",
                "per year",
                d.source,
            ),
            (
                "re-recording of needs with age",
                f"{d.need_recoding:g}",
                "per year",
                "assumption",
            ),
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
        *_leaving_rows(results),
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


def _snapshot_text(results: Results) -> str:
    snapshots = results.scenario.calendar.snapshots
    if snapshots == "census":
        return "census days (first Thursday of October, third Thursdays of January and May)"
    return f"every {float(snapshots):g} days"


def _model_description(results: Results) -> list[tuple[str, str]]:
    s = results.scenario
    p = results.provenance
    t = _thresholds(results)
    headline = _label(results).lower()
    whole = f"{t.terms} whole term has" if t.terms == 1 else f"{t.terms} whole terms have"
    return [
        (
            "Objectives",
            "To estimate, under the scenario's investment in special school places, "
            "how many children will be waiting for a place longer than "
            f"{measures.spell_terms(t.terms)} at each January census, with the uncertainty "
            "of that estimate.",
        ),
        (
            "Model logic",
            "A cohort projection of EHC plans by age and primary need (ageing, new "
            "plans, ceasing, needs re-recorded with age) gives the children newly needing a "
            "special school place; a discrete-event model (SimPy) of the referral queue "
            "decides, at term starts and panel meetings, which waiting child is offered "
            "which free place (first come, first served within a designation; own "
            "locality first), when pupils leave, and when build projects open. "
            f"{headline[0].upper()}{headline[1:]}: at least {whole} passed since the end "
            "of the term of referral (the scenario's calendar.long_wait_terms).",
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
            f"{_snapshot_text(results)}.",
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
            "forecasts are backtested on the published SEN2 series of every council. The "
            "waits themselves have not been checked against a council's recorded waits "
            "(see Limitations).",
        ),
        (
            "Code access",
            "placeplan is open source under the MIT licence. Reproduce with: "
            f"{reproduce_command(p)} (placeplan {p['placeplan_version']}); the resolved "
            "scenario.yaml in the run folder reproduces every figure of this report exactly, "
            "even if the scenario file has changed since.",
        ),
    ]


def limitations(results: Results) -> list[str]:
    """What the model leaves out, for this scenario: one plain sentence or two each.

    Written from the scenario (its localities, demand model, starting list, need
    mapping, school age ranges, out-of-area policy, horizon) and from what placeplan
    does not yet do; the report prints them under "Limitations".
    """
    s = results.scenario
    p = s.placement
    d = s.demand
    out: list[str] = []
    if len(p.localities) == 1:
        only = next(iter(p.localities))
        out.append(
            f"One locality ({only}): the whole area is treated as one place, so "
            "'own locality first' has no effect, journeys are not modelled, and every "
            "placement counts as in the child's own locality."
        )
    else:
        out.append(
            f"{len(p.localities)} localities with fixed shares of referrals; where in a "
            "locality a child lives, and journey times, are not modelled."
        )
    cohort = getattr(d, "model", None) == "cohort"
    if p.initial_waiting:
        n = sum(sum(g.children.values()) for g in p.initial_waiting)
        sources = sorted({g.source for g in p.initial_waiting if g.source})
        out.append(
            f"The list at the start ({n} children in {len(p.initial_waiting)} groups) is "
            "typed into the scenario, not read from the council's case records; referral "
            "dates and ages within each group are drawn evenly over its ranges"
            + (f" (source: {'; '.join(sources)})." if sources else ".")
        )
    elif cohort and d.starting_state.list_size is not None:
        out.append(
            f"The list at the start ({d.starting_state.list_size} children) is given in "
            "the scenario; how long they have already waited is drawn "
            f"({d.starting_state.list_mean_terms_waited:g} terms on average)."
        )
    elif cohort:
        start = d.starting_state
        out.append(
            "SEN2 publishes no waiting list: the list at the start is the council's "
            "children with plans educated elsewhere in the January caseload × a share "
            f"drawn per replication ({start.list_share_of_educated_elsewhere:g}), and how "
            f"long they have already waited is an assumption ({start.list_mean_terms_waited:g} "
            "terms on average). Children waiting in unsuitable mainstream schools are not "
            "counted by SEN2 at all."
        )
    else:
        out.append("Nobody is on the referral list at the start.")
    if cohort:
        out.append(
            "The trend of the share of plans needing a special school "
            f"({d.specialist_share_trend:+g} a year, log) is fitted to need measured as "
            "children in special schools of every type plus those educated elsewhere "
            "(plus awaiting provision, published to 2022): children waiting unrecorded "
            "make it a lower bound."
        )
        out.append(
            "Children stop needing a place at the cohort projection's own rates, all at "
            "the end of an academic year (moves mid-year are not modelled); a child's "
            "primary need never changes, so re-recording in the projection shows as "
            "children leaving one need and newly needing another. Children placed "
            "elsewhere (independent, non-maintained, other councils' schools) stay there "
            "until their need ends and never return to the council's places."
        )
        routes = d.designation_routes
        designations = sorted(set(d.own_designation.values()))
        ranked = sorted(need for need, names in routes.items() if len(names) > 1)
        serving = {
            name: spec.also_serves
            for name, spec in s.placement.designations.items()
            if spec.also_serves
        }
        if ranked or serving:
            fallbacks = [f"{need} → {', '.join(routes[need])}" for need in ranked]
            fallbacks += [f"{name} places also serve {', '.join(v)}" for name, v in serving.items()]
            out.append(
                "Each primary need maps to its own designation "
                f"({len(routes)} needs onto {', '.join(designations)}), and places of "
                f"another may serve it once every child has been offered their own "
                f"({'; '.join(fallbacks)}; {d.need_designation_source}); secondary needs are "
                "not otherwise distinguished."
            )
        else:
            out.append(
                "Each primary need maps to one designation "
                f"({len(routes)} needs onto {', '.join(designations)}); secondary "
                "needs, and children of one need suited to different schools, are not "
                "distinguished."
            )
        for need, (like, source) in d.placed_as.items():
            out.append(
                f"Children whose primary need is {need} (a need SEN2 records from reporting "
                f"year 2026) are placed by the designations of {like} (demand.new_needs: "
                f"{source})."
            )
        if s.years > 3:
            out.append(
                "The demand method is backtested on SEN2 up to three years ahead; this "
                f"forecast runs {s.years:g} years, and its later years rest on the damping "
                f"of growth ({d.new_plans_growth_damping:g} a year, an assumption)."
            )
    else:
        out.append(
            f"Referrals follow the scenario's '{getattr(d, 'model', 'given')}' demand model "
            "as given, not a projection of EHC plans."
        )
    oldest = p.occupant_ages[1]
    narrow = [x.name for x in (*p.schools, *p.build_programme) if x.ages[1] < oldest]
    if narrow:
        out.append(
            f"{len(narrow)} school(s) or project(s) ({', '.join(narrow[:3])}"
            f"{', …' if len(narrow) > 3 else ''}) take pupils younger than {oldest}: their "
            "pupils leave at the end of the year they reach its oldest age and are not "
            "referred again for a place elsewhere, so transfers between phases are not "
            "counted as demand."
        )
    else:
        out.append(
            "Every place takes pupils of any age, as if every school were all-through: "
            "transfers between phases are not modelled (children ageing out of a "
            "primary-only school would not be referred again)."
        )
    ooa = p.out_of_area
    if ooa.after_terms is None and not ooa.at_once:
        out.append(
            "Nobody is placed out of area or in other provision while waiting: every "
            "child waits for one of the council's own places (or leaves the list)."
        )
    else:
        out.append(
            f"Out-of-area places cost a flat £{ooa.yearly_cost_gbp:,.0f} a year each; "
            "their supply is unlimited and children placed there stay there."
        )
    out.append(
        "Every referral is agreed; refusals, tribunals, parental preference and places "
        "held for children from other councils are not modelled."
    )
    out.append(
        "Councils publish no waiting list: simulated waits can be set only beside the "
        "SEN2 shadows of the list (educated elsewhere, awaiting provision) and the few "
        "figures councils have published (`placeplan hindcast` runs a scenario from a "
        "past origin and does so)."
    )
    return out


def _figures(results: Results, compare: Sequence[Results]) -> list[tuple[str, Any]]:
    from placeplan.compare import Comparison
    from placeplan.plot import comparison

    plots = results.plot
    available = plots.available()
    figures = [(plots.describe(name), getattr(plots, name)()) for name in available]
    if compare:
        c = Comparison([results, *compare])
        figures.append((f"Options compared: {c.label().lower()}", comparison(c)))
    return figures


def _record(results: Results) -> tuple[pd.DataFrame, str] | None:
    """The published record within the run, as a table and a sentence (None: nothing).

    Needs the council's SEN2 rows or bundled published figures; a scenario with neither
    (a made-up council code) has no record to set the run beside.
    """
    from placeplan.observed import agreement, compare, observed_table

    try:
        table = compare(results)
    except (KeyError, ValueError, LookupError):
        return None
    if not len(table):
        return None
    sentence = agreement(table)
    d = results.scenario.demand
    typed = results.scenario.placement.initial_waiting
    if getattr(d, "model", None) == "cohort" and d.starting_state.list_size is None and not typed:
        sentence += (
            f" The list at the start is derived from the January {d.base_year} "
            "educated-elsewhere count, so agreement at that census is by construction."
        )
    return observed_table(results), sentence


def _pathway_section(results: Results) -> tuple[str, pd.DataFrame, str, pd.DataFrame] | None:
    """The EHC pathway's headline: text, the table by year, the feed's text and table."""
    from placeplan.pathway.outputs import FEED_TEXT, feed_table, headline

    spec = results.scenario.pathway
    if spec is None:
        return None
    table = headline(results)
    target = spec.target_pct_within_20_weeks
    intro = (
        "The share of new EHC plans issued within 20 weeks of the request, by calendar "
        "year (median over replications and 80% interval)"
        + (
            f", against the target of {target:g}% ({spec.target_source}); P(>= target) is "
            "the share of replications reaching it"
            if target is not None
            else ""
        )
        + ". Also the plans issued, the median time to plan, and the open requests older "
        "than 20 weeks at the January census."
    )
    shown = pd.DataFrame(
        {
            "year": table["year"],
            "within 20 weeks, median [%]": table["median"].round(1),
            "80% interval [%]": [
                f"{a:.1f} – {b:.1f}" for a, b in zip(table["p10"], table["p90"], strict=True)
            ],
            **({"P(>= target)": (100 * table["p_target"]).round(0)} if target is not None else {}),
            "plans issued": table["plans_issued"].round(0),
            "median weeks to plan": table["weeks_to_plan_median"].round(1),
            "open > 20 weeks (January)": table["backlog_over_20_weeks_january"],
        }
    )
    return intro, shown, FEED_TEXT, feed_table(results)


def report_html(results: Results, compare: Sequence[Results] = ()) -> str:
    """The report as one self-contained HTML page (figures embedded as PNG data)."""
    from placeplan.compare import Comparison

    s = results.scenario
    figures = _figures(results, compare)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(s.title)} — placeplan forecast</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(s.title)}</h1><p>{_e(s.description)}</p>",
        f"<h2>The answer</h2><p>{_e(_label(results))} for a special school "
        "place at each January census, and the probability that nobody does.</p>",
        _table(_headline(results), numeric=["median [children]"])
        if len(_headline(results))
        else f"<p>{_e(_no_january(results))}</p>",
        *(f"<p>{_e(text)}</p>" for text in _monte_carlo_notes(results)),
    ]
    pathway = _pathway_section(results)
    if pathway is not None:
        intro, table, feed, moved = pathway
        parts += [
            "<h2>The EHC needs-assessment pathway</h2>",
            f"<p>{_e(intro)}</p>",
            _table(table),
            f"<p>{_e(feed)}</p>",
            _table(moved) if len(moved) else "",
        ]
    record = _record(results)
    if record is not None:
        table, sentence = record
        parts += [
            "<h2>Against the published record</h2>",
            "<p>Each published figure within the run beside the simulated distribution at "
            "its date, and the band it falls in. SEN2 educated elsewhere and awaiting "
            "provision are shadows of the referral list, set beside the children waiting "
            "at the January census.</p>",
            _table(table) if len(table) else "",
            f"<p>{_e(sentence)}</p>",
        ]
    for title, fig in figures:
        parts.append(
            f"<figure><img alt='{_e(title)}' src='data:image/png;base64,{_png(fig)}'>"
            f"<figcaption>{_e(title)}</figcaption></figure>"
        )
    if compare:
        c = Comparison([results, *compare])
        parts += [
            "<h2>Options compared</h2>",
            f"<p>{_e(_comparison_text(c))}</p>",
            _table(c.table()),
        ]
    parts += [
        "<h2>The build programme</h2>",
        _table(_programme(results)),
        "<h2>Assumptions</h2>",
        _table(_assumptions(results)),
        "<h2>Limitations</h2><ul>",
        *(f"<li>{_e(text)}</li>" for text in limitations(results)),
        "</ul>",
        "<h2>The model (STRESS-DES)</h2>",
        *(f"<h3>{_e(k)}</h3><p>{_e(v)}</p>" for k, v in _model_description(results)),
        "<h2>Provenance</h2>",
        _table(pd.DataFrame(_provenance_rows(results), columns=["field", "value"])),
        f"<h2>How to cite</h2><p class='cite'>{_e(results.citation())}</p>",
        f"<footer>Made by placeplan {_e(results.provenance['placeplan_version'])}.</footer>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _comparison_text(c) -> str:
    return (
        f"{c.label()}: each option minus {c.titles[0]} ({c.names[0]}), at each January "
        f"census, over {c.results[0].replications} paired replications (common random "
        "numbers). P(better), P(same) and P(worse) are the shares of replications in which "
        "the option has fewer, as many, or more such children than the reference; they add "
        "up to 100%, and ties are counted as the same, not as better."
    )


def _provenance_rows(results: Results) -> list[tuple[str, str]]:
    from placeplan.results import _flatten

    return list(_flatten(results.provenance))


def report_markdown(results: Results, compare: Sequence[Results] = ()) -> str:
    """The report as Markdown, for papers (tables, no embedded figures).

    Every piece of text is escaped with :func:`md_escape`, so that scenario text
    (titles, descriptions, names, sources) shows as typed and never as markup.
    """

    def cells(values) -> str:
        return "| " + " | ".join(md_escape(v, block=False) for v in values) + " |"

    def md(frame: pd.DataFrame) -> str:
        lines = [cells(frame.columns), "|" + "---|" * len(frame.columns)]
        lines += [cells(row) for row in frame.itertuples(index=False)]
        return "\n".join(lines)

    s = results.scenario
    out = [
        f"# {md_escape(s.title)}",
        "",
        md_escape(s.description),
        "",
        "## The answer",
        "",
        md_escape(
            f"{_label(results)} for a special school place at each January census, "
            "and the probability that nobody does."
        ),
        "",
        md(_headline(results)) if len(_headline(results)) else md_escape(_no_january(results)),
        "",
    ]
    for text in _monte_carlo_notes(results):
        out += [md_escape(text), ""]
    pathway = _pathway_section(results)
    if pathway is not None:
        intro, table, feed, moved = pathway
        out += ["## The EHC needs-assessment pathway", "", md_escape(intro), "", md(table), ""]
        out += [md_escape(feed), ""] + ([md(moved), ""] if len(moved) else [])
    record = _record(results)
    if record is not None:
        from placeplan import observed

        section = observed.observed_section(results)
        plain = md_escape(observed.agreement(observed.compare(results)))
        out += [md_escape(record[1]) if line == plain else line for line in section]
    if compare:
        from placeplan.compare import Comparison

        c = Comparison([results, *compare])
        out += ["## Options compared", "", md_escape(_comparison_text(c)), "", md(c.table()), ""]
    out += ["## The build programme", "", md(_programme(results)), ""]
    out += ["## Assumptions", "", md(_assumptions(results)), ""]
    out += ["## Limitations", ""]
    out += [f"- {md_escape(text)}" for text in limitations(results)]
    out += ["", "## The model (STRESS-DES)", ""]
    for k, v in _model_description(results):
        out += [f"**{md_escape(k)}.** {md_escape(v)}", ""]
    out += ["## How to cite", "", md_escape(results.citation()), ""]
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
