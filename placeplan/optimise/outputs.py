"""What the optimiser writes: the programme as a scenario, the frontier, the figure, the report.

Every file is written atomically (:mod:`placeplan.io`):

- ``programme.yaml``: the chosen programme as a scenario that ``extends`` the input
  (only ``name``, ``title``, ``description`` and ``placement.build_programme``
  differ), runnable with ``placeplan run``; ``unverified-programme.yaml`` instead
  when the choice failed its verification;
- ``evaluations.csv``: every programme of the search, with its estimate and interval;
- ``frontier.csv`` and ``frontier.png``: the least cost for each probability of
  meeting the target (search-stage estimates, common random numbers);
- ``finalists.csv``: the selection stage;
- ``report.md`` and ``result.json``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from placeplan.io import atomic_write_text
from placeplan.optimise.core import OptimiseResult, _gbp
from placeplan.optimise.evaluate import Evaluation, two_sided

__all__ = ["STEP_GBP", "evaluations_table", "frontier", "further_steps", "write_outputs"]

STEP_GBP = 10_000_000.0
"""The step of "what each further £10m buys" [GBP]."""


def _row(result: OptimiseResult, e: Evaluation) -> dict[str, Any]:
    low, high = two_sided(e.met, e.replications, 0.95)
    built = [i for i, o in enumerate(e.programme) if o >= 0]
    return {
        "cost_gbp": e.cost,
        "p_meet": e.p,
        "ci95_low": low,
        "ci95_high": high,
        "met": e.met,
        "replications": e.replications,
        "seed": e.seed,
        "projects": len(built),
        "places": sum(result.candidates.candidates[i].places for i in built),
        "programme": result.describe(e.programme),
    }


def evaluations_table(result: OptimiseResult) -> pd.DataFrame:
    """Every programme evaluated on the search seed, cheapest first."""
    pool = {result.feasibility.programme: result.feasibility, **result.search.evaluations}
    rows = [_row(result, e) for e in pool.values()]
    columns = list(_row(result, result.feasibility))
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["cost_gbp", "p_meet"], ascending=[True, False], ignore_index=True)


def frontier(table: pd.DataFrame) -> pd.DataFrame:
    """The programmes no cheaper-or-equal programme beats: the cost–probability frontier."""
    keep, best = [], -1.0
    for i, row in table.iterrows():
        if row["p_meet"] > best:
            keep.append(i)
            best = row["p_meet"]
    return table.loc[keep].reset_index(drop=True)


def further_steps(front: pd.DataFrame, start: float, step: float = STEP_GBP) -> pd.DataFrame:
    """What each further ``step`` buys from ``start``: the best estimate within each budget.

    Rows at ``start``, ``start + step``, … up to the dearest frontier programme (at most
    20 rows): the highest estimated probability of meeting the target within that
    capital, its gain on the row before, and the programme.
    """
    rows: list[dict[str, Any]] = []
    if front.empty:
        return pd.DataFrame(rows)
    top = float(front["cost_gbp"].max())
    budget, previous = start, None
    while len(rows) < 20:
        within = front[front["cost_gbp"] <= budget + 1e-6]
        if within.empty:
            p, programme, cost = 0.0, "nothing affordable", 0.0
        else:
            best = within.iloc[-1]
            p, programme, cost = float(best["p_meet"]), best["programme"], float(best["cost_gbp"])
        rows.append(
            {
                "budget_gbp": budget,
                "p_meet": p,
                "gain": None if previous is None else p - previous,
                "cost_gbp": cost,
                "programme": programme,
            }
        )
        previous = p
        if budget >= top:
            break
        budget += step
    return pd.DataFrame(rows)


def figure(result: OptimiseResult, table: pd.DataFrame, front: pd.DataFrame):
    """Cost against the estimated probability of meeting the target."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    ax.scatter(
        table["cost_gbp"] / 1e6, table["p_meet"], s=14, color="0.6", label="programmes evaluated"
    )
    ax.step(front["cost_gbp"] / 1e6, front["p_meet"], where="post", color="C0", label="frontier")
    ax.axhline(
        result.confidence,
        color="C3",
        linestyle="--",
        linewidth=1,
        label=f"confidence {result.confidence:.0%}",
    )
    if result.budget is not None:
        ax.axvline(result.budget / 1e6, color="0.3", linestyle=":", linewidth=1, label="budget")
    chosen = result.chosen
    if chosen is not None:
        row = table[table["programme"] == result.describe(chosen.programme)]
        if not row.empty:
            ax.scatter(
                row["cost_gbp"] / 1e6,
                row["p_meet"],
                s=80,
                marker="*",
                color="C1",
                zorder=3,
                label="chosen" if result.verified else "chosen, not verified",
            )
    ax.set_xlabel("Capital cost [£m]")
    ax.set_ylabel("Probability of meeting the target")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"{result.scenario.title}\n{result.target.text}", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def programme_yaml(result: OptimiseResult, folder: Path) -> tuple[str, dict[str, str]]:
    """The chosen programme as a scenario file extending the input, and any base it needs.

    A bundled scenario is extended by name; any other is written beside the programme
    as ``base.yaml`` (the input as resolved, its origin in a comment) and extended.
    """
    from placeplan.bundled import bundled_scenarios

    s, chosen = result.scenario, result.chosen
    assert chosen is not None
    extra: dict[str, str] = {}
    bundled = {p.resolve(): name for name, p in bundled_scenarios().items()}
    file = result.scenario_file.resolve() if result.scenario_file else None
    if file is not None and file in bundled:
        extends = bundled[file]
    else:
        origin = (
            f"{file} (SHA-256 {hashlib.sha256(file.read_bytes()).hexdigest()})"
            if file
            else "memory"
        )
        extra["base.yaml"] = (
            f"# The scenario optimised, as resolved from {origin}.\n"
            + yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
        )
        extends = "base.yaml"
    added = [
        result.candidates.project(i, o).model_dump(mode="json", exclude_defaults=True)
        for i, o in enumerate(chosen.programme)
        if o >= 0
    ]
    existing = [
        p.model_dump(mode="json", exclude_defaults=True) for p in s.placement.build_programme
    ]
    v = result.verification
    verdict = "VERIFIED" if result.verified else "NOT VERIFIED: it did not meet the target"
    header = [
        f"# Chosen by placeplan optimise: {result.target.text} with probability "
        f">= {result.confidence:g} ({verdict}).",
        f"# Added to {s.name}'s build programme: {result.describe(chosen.programme)}; "
        f"{_gbp(chosen.cost)}.",
    ]
    if v is not None:
        header.append(
            f"# Verification (seed {v.seed}): {v.met} of {v.replications} replications met "
            f"the target (lower bound {v.lower(result.level):.1%} at {result.level:.0%})."
        )
    header.append("# Only name, title, description and placement.build_programme differ.")
    body = {
        "extends": extends,
        "name": f"{s.name}-programme"[:60],
        "title": f"{s.title} — optimised programme",
        "description": f"{s.name} with the programme placeplan optimise chose for "
        f"'{result.target.text}' (confidence {result.confidence:g}): "
        f"{result.describe(chosen.programme)}.",
        "placement": {"build_programme": existing + added},
    }
    text = "\n".join(header) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
    return text, extra


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "(none)\n"
    head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
    return head + "".join(
        "| " + " | ".join(str(v) for v in row) + " |\n" for row in df.itertuples(index=False)
    )


def report(
    result: OptimiseResult,
    table: pd.DataFrame,
    front: pd.DataFrame,
    steps: pd.DataFrame,
    programme_file: str | None,
) -> str:
    """The report (markdown)."""
    s, r = result.scenario, result
    lines = [
        f"# Capital programme: {s.title}",
        "",
        f"**Target:** {r.target.describe(s)} (`{r.target.text}`), met with probability at "
        f"least {r.confidence:.0%}; bounds at {r.level:.0%} confidence."
        + (f" **Budget:** {_gbp(r.budget)}." if r.budget is not None else ""),
        "",
        "## Answer",
        "",
        r.message,
        "",
    ]
    chosen = r.chosen
    if chosen is not None:
        rows = []
        for i, o in enumerate(chosen.programme):
            if o < 0:
                continue
            c = r.candidates.candidates[i]
            rows.append(
                {
                    "project": c.name,
                    "designation": c.designation,
                    "places": c.places,
                    "ages": f"{c.ages[0]}–{c.ages[1]}",
                    "locality": c.locality or "(first)",
                    "opens": f"{r.candidates.opens[i][o]:%d %B %Y}",
                    "cost": _gbp(c.cost_gbp),
                    "slippage": ", ".join(
                        f"{k} terms late: {v:.0%}" for k, v in c.slippage.items()
                    ),
                    "source": c.source,
                }
            )
        lines += [
            f"### The programme{'' if r.verified else ' chosen (NOT verified)'}: "
            f"{_gbp(chosen.cost)}",
            "",
            _md_table(pd.DataFrame(rows)) if rows else "No new project: the scenario as it is.\n",
            f"Scenario file: `{programme_file}` (extends the input; run it with "
            f"`placeplan run {programme_file}`).\n"
            if programme_file
            else "",
        ]
    v = r.verification
    lines += ["## Verification", ""]
    if v is None:
        lines += ["No programme reached verification.", ""]
    else:
        low, high = two_sided(v.met, v.replications)
        lines += [
            f"The choice was re-run with {v.replications} replications on a fresh seed "
            f"({v.seed}; the search used {r.settings['seed']}, the selection "
            f"{r.settings['selection_seed']}): the target was met in **{v.met} of "
            f"{v.replications}** replications, P = {v.p:.1%} (95% interval {low:.1%}–"
            f"{high:.1%}); one-sided lower bound at {r.level:.0%}: **{v.lower(r.level):.1%}** "
            f"against the {r.confidence:.0%} required. "
            + (
                "It **meets** the target at the stated confidence."
                if r.verified
                else "It does **NOT** meet the target at the stated confidence."
            ),
            "",
        ]
    if chosen is not None or not steps.empty:
        lines += [
            "## What each further £10m buys",
            "",
            "The highest probability of meeting the target within each capital budget, from "
            "the frontier of the search (estimates on the search seed, "
            f"{r.settings['replications']} replications each; the probabilities beyond the "
            "choice are estimates, not verified):",
            "",
            _md_table(
                steps.assign(
                    budget=steps["budget_gbp"].map(_gbp),
                    p_meet=steps["p_meet"].map("{:.0%}".format),
                    gain=steps["gain"].map(lambda g: "" if pd.isna(g) else f"{g:+.0%}"),
                    cost=steps["cost_gbp"].map(_gbp),
                )[["budget", "p_meet", "gain", "cost", "programme"]]
            )
            if not steps.empty
            else "(none)\n",
            "![Cost against probability](frontier.png)",
            "",
        ]
    if r.selection is not None:
        sel = pd.DataFrame(
            [
                {
                    "programme": r.describe(e.programme),
                    "cost": _gbp(e.cost),
                    "met": f"{e.met}/{e.replications}",
                    "lower bound": f"{e.lower(r.selection.level):.1%}",
                    "chosen": "yes"
                    if chosen is not None and e.programme == chosen.programme
                    else "",
                }
                for e in r.selection.evaluations
            ]
        )
        lines += [
            "## Ranking and selection",
            "",
            f"{len(r.finalists)} finalists re-run with {r.settings['final_replications']} "
            f"replications each on one fresh seed ({r.settings['selection_seed']}, common to "
            f"all): lower bounds are one-sided Clopper–Pearson at the Bonferroni level "
            f"{r.selection.level:.4f}; the choice is the cheapest whose bound reaches "
            f"{r.confidence:.0%} (ties: later openings first).",
            "",
            _md_table(sel),
        ]
    lines += [
        "## How it was found",
        "",
        f"- Scenario: {s.name} ({r.scenario_file or 'given in memory'}); candidates: "
        f"{r.candidates.source} ({len(r.candidates)} projects, {r.settings['space']:,} "
        "possible programmes).",
        f"- Every candidate at its earliest term ({_gbp(r.feasibility.cost)}): "
        f"{r.feasibility.met} of {r.feasibility.replications} replications met the target.",
        f"- First guess: {r.guess.note or 'none'}.",
        f"- Search: {r.search.method or 'not run'}; {len(r.search.evaluations)} programmes "
        f"evaluated ({r.search.proposals} proposals), {r.settings['replications']} replications "
        f"each on seed {r.settings['seed']} (common random numbers).",
        f"- Evaluations: {r.computed} run, {r.found} found in the folder (resumed); "
        f"back end: {r.settings['backend']}; wall time {r.wall_s:.0f} s.",
        "- Costs are nominal capital costs as the candidates file gives them; a programme "
        "is the cheapest found, not proven cheapest, unless the search was exhaustive.",
        "",
    ]
    return "\n".join(lines)


def write_outputs(result: OptimiseResult, folder: str | Path) -> dict[str, Path]:
    """Write every output file into ``folder``; return them by name."""
    from placeplan.plot import save

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    table = evaluations_table(result)
    front = frontier(table)
    start = result.chosen.cost if result.chosen is not None else float(front["cost_gbp"].min())
    steps = further_steps(front, start)
    for name, df in (("evaluations.csv", table), ("frontier.csv", front)):
        files[name] = atomic_write_text(folder / name, df.to_csv(index=False))
    if result.selection is not None:
        sel = pd.DataFrame(
            [
                _row(result, e) | {"lower_bound": e.lower(result.selection.level)}
                for e in result.selection.evaluations
            ]
        )
        files["finalists.csv"] = atomic_write_text(
            folder / "finalists.csv", sel.to_csv(index=False)
        )
    files["frontier.png"] = save(figure(result, table, front), folder / "frontier.png")
    programme_file = None
    stale = "unverified-programme.yaml" if result.verified else "programme.yaml"
    (folder / stale).unlink(missing_ok=True)
    if result.chosen is not None and result.verification is not None:
        name = "programme.yaml" if result.verified else "unverified-programme.yaml"
        text, extra = programme_yaml(result, folder)
        for other, content in extra.items():
            files[other] = atomic_write_text(folder / other, content)
        files[name] = atomic_write_text(folder / name, text)
        programme_file = str(folder / name)
    files["report.md"] = atomic_write_text(
        folder / "report.md", report(result, table, front, steps, programme_file)
    )
    v = result.verification
    summary = {
        "status": result.status,
        "message": result.message,
        "target": result.target.text,
        "confidence": result.confidence,
        "level": result.level,
        "budget_gbp": result.budget,
        "chosen": None
        if result.chosen is None
        else {
            "programme": result.describe(result.chosen.programme),
            "cost_gbp": result.chosen.cost,
            "selection_met": result.chosen.met,
            "selection_replications": result.chosen.replications,
        },
        "verification": None
        if v is None
        else {
            "seed": v.seed,
            "met": v.met,
            "replications": v.replications,
            "p": v.p,
            "lower_bound": v.lower(result.level),
            "meets_target": result.verified,
        },
        "settings": result.settings,
        "computed": result.computed,
        "found": result.found,
        "wall_time_s": round(result.wall_s, 2),
        "programme_file": programme_file,
    }
    files["result.json"] = atomic_write_text(
        folder / "result.json", json.dumps(summary, indent=2, default=str)
    )
    return files
