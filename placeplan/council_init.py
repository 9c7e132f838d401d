"""``placeplan init``: a whole, sourced, runnable scenario for any English council.

:func:`scenario_for` builds the scenario as a plain mapping, every number with its
source (a ``source`` field, or a comment written beside it):

- **demand**: exactly what ``placeplan calibrate`` fits (:func:`placeplan.calibration.
  calibrate`, one hierarchical fit of every council, made once and reused), with
  the assumptions a fit does not make set to stated, generic defaults
  (:func:`default_assumptions`);
- **placement**, sized from SEN2: the council's places are its children with plans in
  state-funded special schools (LA maintained, academies and free schools) in the
  base January, split by the designation their primary need maps to
  (``demand.need_designation``); or, given a school register (a
  :class:`placeplan.gias.GiasPlacement`-like object), its designations, localities
  and schools, with its gaps written as comments;
- an empty build programme, with a commented example project.

Councils whose boundaries changed since 2019 are handled as SEN2 publishes them:
the successors (Bournemouth, Christchurch and Poole and Dorset from 2019, North and
West Northamptonshire from 2021, Cumberland and Westmorland and Furness from 2023)
are fitted on their own series from their first January (the hierarchical fit
leans on the national path where a council's own record is short); the councils
they replaced are refused, naming the successors. Buckinghamshire, North Yorkshire
and Somerset were re-coded without a change of area: any of their codes is taken.

:func:`write_scenario` writes the mapping as commented YAML, atomically.
"""

from __future__ import annotations

import copy
import math
import os
import re
import textwrap
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from placeplan import sen2
from placeplan.calendar import Term, TermCalendar
from placeplan.calibration import (
    CalibratedDemand,
    calibrate,
    command_line,
    demand_block,
)
from placeplan.errors import InputError
from placeplan.scenario import NEEDS

__all__ = [
    "DESIGNATIONS",
    "NEED_DESIGNATION",
    "PREDECESSORS",
    "RECODED_2023",
    "SUCCESSORS",
    "default_assumptions",
    "resolve_council",
    "scenario_for",
    "scenario_text",
    "slug",
    "write_scenario",
]

DESIGNATIONS: tuple[str, ...] = ("ASD", "SLD", "MLD", "SEMH", "PSI")
"""Designations of a scenario sized from SEN2: autism (ASD), severe and profound
learning difficulties (SLD), moderate learning difficulties (MLD), social, emotional
and mental health (SEMH), physical and sensory impairment (PSI)."""

NEED_DESIGNATION: dict[str, str | list[str]] = {
    "ASD": "ASD",
    "HI": "PSI",
    "MLD": ["MLD", "SLD"],
    "MSI": "PSI",
    "OTH": "MLD",
    "PD": ["PSI", "SLD"],
    "PMLD": "SLD",
    "SEMH": "SEMH",
    "SLCN": ["MLD", "ASD"],
    "SLD": "SLD",
    "SPLD": "MLD",
    "VI": "PSI",
}
"""Default ranked designations meeting each primary need (an assumption, sourced in
:data:`NEED_DESIGNATION_SOURCE`)."""

NEED_DESIGNATION_SOURCE = (
    "assumption: the five designations most English special schools carry (autism; "
    "severe and profound learning difficulties; moderate learning difficulties; social, "
    "emotional and mental health; physical and sensory impairment, as the SEN provision "
    "types of the DfE register of schools, GIAS, name them); each need is offered its "
    "own designation first; the fallbacks (a learning difficulty school may take "
    "children with autism or speech, language and communication needs; SLD schools "
    "take physical difficulties) are borrowed from Hertfordshire's Local Offer 'Types "
    "of special school'. Replace them with the council's own designations"
)

PREDECESSORS: dict[str, tuple[int, str]] = {
    "E10000006": (2023, "Cumberland (E06000063) and Westmorland and Furness (E06000064)"),
    "E10000021": (
        2021,
        "North Northamptonshire (E06000061) and West Northamptonshire (E06000062)",
    ),
    "E10000009": (
        2019,
        "Dorset (E06000059) and, for Christchurch, Bournemouth, Christchurch and Poole (E06000058)",
    ),
    "E06000028": (2019, "Bournemouth, Christchurch and Poole (E06000058)"),
    "E06000029": (2019, "Bournemouth, Christchurch and Poole (E06000058)"),
}
"""Councils abolished since 2019 (SEN2 code) -> (year replaced, their successors)."""

SUCCESSORS: dict[str, tuple[int, str]] = {
    "E06000058": (2019, "Bournemouth, Poole and Christchurch (part of Dorset county)"),
    "E06000059": (2019, "Dorset county less Christchurch"),
    "E06000061": (2021, "the north of Northamptonshire"),
    "E06000062": (2021, "the west of Northamptonshire"),
    "E06000063": (2023, "the north and west of Cumbria"),
    "E06000064": (2023, "the south and east of Cumbria"),
}
"""Councils formed since 2019 (SEN2 code) -> (year formed, what they took over)."""

RECODED_2023: dict[str, str] = {"E06000065": "E10000023", "E06000066": "E10000027"}
"""ONS codes of April 2023 for councils SEN2 still publishes under their county codes
(North Yorkshire, Somerset: unitary from April 2023, the same area) -> SEN2's code."""

_OWN = "placeplan init's defaults"


def slug(name: str) -> str:
    """A council's name as a scenario name's stem, e.g. ``"Bristol, City of"`` -> ``bristol``."""
    short = re.sub(r",\s*(?:city|county) of$", "", name.strip(), flags=re.IGNORECASE)
    return re.sub(r"[^a-z0-9]+", "-", short.casefold()).strip("-")


def resolve_council(council: str, sen2_dir: str | Path | None = None) -> dict[str, Any]:
    """The council ``council`` names, as SEN2 publishes it, or a clear refusal.

    Parameters
    ----------
    council : str
        Name, ONS code (current or SEN2's) or three-digit DfE LA number.
    sen2_dir : str or pathlib.Path, optional
        A folder of official SEN2 files instead of the shipped extract.

    Returns
    -------
    dict
        The council's row of :func:`placeplan.sen2.councils` (``code``, ``name``,
        ``old_la_code``, ``first_year``, ...).

    Raises
    ------
    InputError
        For an unknown name (listing near names), England or a region, or a council
        abolished since 2019 (naming its successors).
    """
    return _resolve(council, sen2_dir)[0]


def _resolve(council: str, sen2_dir: str | Path | None) -> tuple[dict[str, Any], sen2.SEN2Tables]:
    """:func:`resolve_council`, with the council's SEN2 tables."""
    wanted = str(council).strip()
    wanted = RECODED_2023.get(wanted.upper(), wanted)
    try:
        one = sen2.load(wanted, sen2_dir=sen2_dir)
    except KeyError as exc:
        raise InputError(f"--council {council}: {exc.args[0] if exc.args else exc}") from None
    row = one.areas.iloc[0].to_dict()
    if row["level"] != "la":
        what = "England" if row["level"] == "national" else "a region"
        raise InputError(
            f"--council {council}: {one.name} ({one.code}) is {what}, not a council: a "
            "scenario plans one council's special school places; give one of its councils "
            "(`placeplan data councils` lists them)"
        )
    if one.code in PREDECESSORS:
        year, successors = PREDECESSORS[one.code]
        raise InputError(
            f"--council {council}: {one.name} ({one.code}) was abolished in {year} and "
            f"replaced by {successors}; SEN2 publishes it up to January {row['last_year']} "
            "only, so no scenario can start from it today. Give a successor council"
        )
    return row, one


def _year_of(frame: Any, year: int) -> tuple[Any, int | None]:
    """The rows of ``year``, else those of the latest year published, and the year used."""
    if frame.empty:
        return frame, None
    years = frame["year"].astype(int)
    pick = year if (years == year).any() else int(years.max())
    return frame[years == pick], pick


def _count(value: Any) -> float:
    """A published count, 0 where it is missing or suppressed."""
    return 0.0 if _isna(value) else float(value)


def _isna(value: Any) -> bool:
    try:
        return bool(np.isnan(float(value)))
    except (TypeError, ValueError):
        return True


_NOT_STATE = ("total", "independent", "non-maintained", "non maintained")


def _state_rows(frame: Any) -> Any:
    """The rows of state-funded special schools of a need table by type of placement."""
    if frame.empty:
        return frame
    labels = frame["placement"].astype(str).str.lower()
    return frame[labels.str.startswith("special - ") & ~labels.str.contains("|".join(_NOT_STATE))]


def _by_need(rows: Any) -> dict[str, float]:
    return {n: sum(_count(v) for v in rows.loc[rows["need"] == n, "plans"]) for n in _ALL_NEEDS}


_ALL_NEEDS = (*NEEDS, "UNKNOWN")


def _state_total(t: sen2.SEN2Tables, year: int) -> tuple[float, int] | None:
    """Children in state-funded special schools in the latest January up to ``year``."""
    rows = t.plans_total[t.plans_total["year"].astype(int) <= year].sort_values("year")
    for row in reversed(list(rows.itertuples(index=False))):
        la = getattr(row, "special_la_maintained", None)
        academy = getattr(row, "special_academy_free", None)
        if _isna(academy):
            parts = [getattr(row, c, None) for c in ("special_academy", "special_free_school")]
            academy = None if any(_isna(x) for x in parts) else sum(float(x) for x in parts)
        if not _isna(la) and academy is not None and not _isna(academy):
            return float(la) + float(academy), int(row.year)
    return None


def state_funded_by_need(t: sen2.SEN2Tables, year: int) -> tuple[dict[str, float], float, str]:
    """Children with plans in the council's state-funded special schools by primary need.

    State-funded special schools are LA maintained, academies and free schools: the
    ``Special - ...`` placements of SEN2's need table by type of placement other than
    the total, independent and non-maintained ones (release 2025: ``Special - LA
    maintained`` and ``Special - Academy/free schools``; release 2026 splits the
    latter). Where the table does not give them for January ``year``, a need mix is
    scaled to the state-funded total of ``plans_total`` (``special_la_maintained +
    special_academy_free``) of the latest January published up to ``year``: the
    council's own mix of the latest January, else that of all its special schools,
    else England's (the council's need table is not published).

    Returns
    -------
    tuple
        Children by need (every need of SEN2, ``UNKNOWN`` included) [children], the
        total [children], and how they were counted (for the sources).

    Raises
    ------
    InputError
        If SEN2 publishes neither the council's need table nor its state-funded total.
    """
    frame, used = _year_of(t.placement_by_need, year)
    state = _state_rows(frame)
    total = _state_total(t, year)
    own = True
    counted = sum(_by_need(state).values()) if not state.empty else 0.0
    special = frame[frame["placement"] == "Special - total"] if not frame.empty else frame
    in_special = sum(_by_need(special).values()) if not special.empty else 0.0
    if counted > 0 and (total is None or counted >= 0.5 * total[0]):
        by_need = _by_need(state)
        parts = ", ".join(sorted(state["placement"].astype(str).unique()))
        how = f"SEN2 need table by type of placement (sen_needs_all_plans: {parts}), January {used}"
    elif counted == 0 and in_special > 0:
        by_need = _by_need(special)
        how = f"SEN2 need table, all special schools (Special - total), January {used}"
    else:
        own = False
        england, used = _year_of(
            sen2.load("E92000001", sen2_dir=t.sen2_dir).placement_by_need, year
        )
        by_need = _by_need(_state_rows(england))
        how = (
            f"England's need mix in state-funded special schools, January {used} (SEN2's need "
            f"table by type of placement for {t.name} "
            + (
                f"counts only {counted:,.0f} children in them, against {total[0]:,.0f} in its "
                f"caseload of January {total[1]}: incomplete)"
                if counted > 0 and total is not None
                else "is not published)"
            )
        )
    if total is None and not own:
        raise InputError(
            f"{t.name} ({t.code}): SEN2 publishes neither its children in special schools by "
            f"primary need nor its children in state-funded special schools up to January "
            f"{year}, so its places cannot be sized from SEN2"
        )
    counted = sum(by_need.values())
    if total is not None and (not own or used != year or "Special - total" in how):
        n, when = total
        by_need = {k: v * n / counted if counted > 0 else 0.0 for k, v in by_need.items()}
        how += (
            f", scaled to its {n:,.0f} children in state-funded special schools in January "
            f"{when} (plans_total: LA maintained + academy/free"
            + (f"; January {year} is not published" if when != year else "")
            + ")"
        )
    return by_need, float(sum(by_need.values())), how


def _routes(need_designation: Mapping[str, str | Sequence[str]]) -> dict[str, list[str]]:
    routes = {n: [d] if isinstance(d, str) else list(d) for n, d in need_designation.items()}
    for need in NEEDS:  # needs new to SEN2 (Down syndrome) are placed as OTH (DS_AS_OTH_SOURCE)
        routes.setdefault(need, routes.get(sen2.RECORDED_UNDER.get(need, "OTH"), ["MLD"]))
    return routes


def _largest_remainder(shares: dict[str, float], total: int) -> dict[str, int]:
    """Whole numbers in proportion to ``shares`` adding up to ``total``."""
    weight = sum(shares.values())
    if weight <= 0 or total <= 0:
        return dict.fromkeys(shares, 0)
    exact = {k: total * v / weight for k, v in shares.items()}
    out = {k: math.floor(v) for k, v in exact.items()}
    rest = total - sum(out.values())
    for k in sorted(exact, key=lambda k: (out[k] - exact[k], list(exact).index(k)))[:rest]:
        out[k] += 1
    return out


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _ceasing_shares(t: sen2.SEN2Tables) -> str:
    """The council's plans ceased each year as a share of the January caseload, in words."""
    ceased = t.ceased_total[t.ceased_total["reason"] == "total_ceased"]
    plans = t.plans_total.set_index(t.plans_total["year"].astype(int))["plans"]
    parts = []
    for row in ceased.itertuples(index=False):
        year = int(row.year)
        known = year in plans.index and not _isna(row.ceased) and not _isna(plans[year])
        if known and float(plans[year]) > 0:
            parts.append(f"{float(row.ceased) / float(plans[year]):.1%} ({year})")
    return ", ".join(parts)


def default_assumptions(t: sen2.SEN2Tables, until: int) -> dict[str, Any]:
    """The demand assumptions a fit does not make, as generic sourced defaults.

    Each is what the Hertfordshire baseline assumes, its source rewritten for any
    council, with the council's own SEN2 figures where they bear on it.

    Parameters
    ----------
    t : placeplan.sen2.SEN2Tables
        The council's SEN2 tables.
    until : int
        The base January.

    Returns
    -------
    dict
        A template demand section for :func:`placeplan.calibration.demand_block`.
    """
    shares = _ceasing_shares(t)
    totals, _ = _year_of(t.plans_total, until)
    ed = _count(totals["ed_elsewhere"].iloc[0]) if not totals.empty else math.nan
    return {
        "new_plans_growth_damping": {
            "mean": 0.85,
            "source": (
                "assumption: growth of new plans damped by 15% a year ahead, as in "
                "placeplan's bundled scenarios and backtests; the method is validated up to "
                "three years ahead only (benchmarks/BACKTEST.md), and growth of 7-15% a year "
                "kept for ten years would double new plans in five to ten"
            ),
        },
        "ceasing_scale": {
            "low": 0.6,
            "high": 1.4,
            "source": (
                f"assumption: {t.name}'s plans ceased at {shares or 'shares not published'} "
                "of the January caseload (SEN2 ceased plans over plans), and plans ceased at "
                "3.9%, 4.4% and 11.0% in Hertfordshire (2022-2024): the rates by age are "
                "averaged over 2023 and 2024, and ±40% spans the years seen"
            ),
        },
        "need_recoding": {
            "mean": 1.0,
            "source": (
                "assumption: each age keeps the need mix SEN2 publishes for it (a plan's "
                "recorded need follows its age: SLCN is common at 4, rare at 14)"
            ),
        },
        "referral_ages": [4, 15],
        "need_designation": copy.deepcopy(NEED_DESIGNATION),
        "need_designation_source": NEED_DESIGNATION_SOURCE,
        "starting_state": {
            "list_share_of_educated_elsewhere": {
                "low": 0.5,
                "high": 1.5,
                "source": (
                    f"assumption: SEN2 'educated elsewhere' ({_n(ed)} in January {until}) counts "
                    f"children {t.name} educates out of school, most of them awaiting a place; "
                    "children waiting in unsuitable mainstream schools are not counted at all, "
                    "and some educated elsewhere are not waiting for a special school. No "
                    "council publishes its list: ±50% spans both"
                ),
            },
            "list_mean_terms_waited": {
                "low": 1.0,
                "high": 3.0,
                "source": (
                    "assumption: no council publishes how long its list has waited. "
                    "Hertfordshire's 2019 hindcast (placeplan hindcast "
                    "scenarios/herts-hindcast-2019.yaml) estimates 2.04 terms (80% interval "
                    "1.67-2.49) at January 2025; borrowed as the centre and widened to one to "
                    "three terms, because other councils' lists, with other histories of "
                    "places, may have waited longer or shorter. A hindcast of this council "
                    "would replace it"
                ),
            },
        },
    }


def _fill_caseload(t: sen2.SEN2Tables, until: int, template: dict[str, Any]) -> None:
    """Give the starting state's counts where SEN2 does not publish the base January's.

    A few councils returned no placements for a January (Cambridgeshire and North East
    Lincolnshire in 2025): their children in special schools and educated elsewhere are
    then those of the latest January published, stated as such, and the list is the
    children educated elsewhere × 1 (the centre of the share drawn otherwise).
    """
    rows = t.plans_total.set_index(t.plans_total["year"].astype(int)).sort_index()
    at = rows.loc[until] if until in rows.index else None
    if at is not None and not _isna(at["special"]) and not _isna(at["ed_elsewhere"]):
        return
    earlier = rows[(rows.index < until) & rows["special"].notna() & rows["ed_elsewhere"].notna()]
    if earlier.empty:
        return  # validation names what is missing
    year = int(earlier.index[-1])
    last = earlier.iloc[-1]
    state = template["starting_state"]
    state.pop("list_share_of_educated_elsewhere", None)
    state["special_school_children"] = int(last["special"])
    state["list_size"] = int(last["ed_elsewhere"])
    state["source"] = (
        f"SEN2 January {year}, the latest January {t.name}'s placements are published for "
        f"(January {until}: not published): {int(last['special']):,} children with plans in "
        f"special schools of every type, and {int(last['ed_elsewhere']):,} educated elsewhere, "
        "the list at the start (× 1, the centre of the 0.5-1.5 share other councils draw: an "
        "assumption)"
    )


def _spring_start(year: int) -> date:
    """First day of the spring term of January ``year`` (the default term rule)."""
    return TermCalendar().term_start(year - 1, Term.SPRING)


def _ages_share(t: sen2.SEN2Tables, until: int, ages: tuple[int, int]) -> str:
    frame, used = _year_of(t.plans_by_age, until)
    if frame.empty or "special" not in frame:
        return "SEN2 publishes no special school pupils by age for this council"
    special = frame["special"].astype("Float64").fillna(0)
    total = float(special.sum())
    inside = float(special[(frame["age"] >= ages[0]) & (frame["age"] <= ages[1])].sum())
    if total <= 0:
        return "SEN2 counts no special school pupils by age for this council"
    return (
        f"ages {ages[0]}-{ages[1]} hold {inside / total:.1%} of {t.name}'s {_n(total)} children "
        f"with plans in special schools, January {used} (SEN2 plans by age)"
    )


def _independent(t: sen2.SEN2Tables, until: int) -> str:
    rows = t.plans_total.set_index(t.plans_total["year"].astype(int))
    parts = []
    for year in sorted({2019, until}):
        if year in rows.index:
            r = rows.loc[year]
            n = _count(r.get("special_independent")) + _count(r.get("special_non_maintained"))
            parts.append(f"{_n(n)} in January {year}")
    return " and ".join(parts)


_REGISTRY: OrderedDict[int, tuple[dict, dict[tuple, list[str]], str]] = OrderedDict()
"""Comments of the scenarios :func:`scenario_for` made, by ``id``: (a copy of the
mapping, comments by key path, the demand section's text). A mapping changed since
keeps only the comments of what did not change."""


def scenario_for(
    council: str,
    *,
    until: int = 2025,
    sen2_dir: str | Path | None = None,
    placement: Any = None,
    command: str | None = None,
) -> dict[str, Any]:
    """A whole, runnable scenario for one council, every number sourced.

    Parameters
    ----------
    council : str
        Council name, ONS code or DfE LA number.
    until : int
        Last January of data used: the scenario's base year and start.
    sen2_dir : str or pathlib.Path, optional
        A folder of official SEN2 files to read instead of the shipped extract (the
        scenario names it, absolute; :func:`write_scenario` makes it relative to the
        file written).
    placement : GiasPlacement-like, optional
        An object with ``designations``, ``localities``, ``schools``,
        ``independent_places``, ``gaps`` and ``source`` (:class:`placeplan.gias.
        GiasPlacement`): its designations, localities and schools replace those
        sized from SEN2, and its gaps and source are written as comments.
    command : str, optional
        The command line to record [default: ``placeplan init --council ...``].

    Returns
    -------
    dict
        The scenario as a plain mapping (YAML-ready; dates as :class:`datetime.date`).

    Raises
    ------
    InputError
        For an unknown council, England or a region, a council abolished since 2019,
        or a base year the council's SEN2 series cannot start from.
    """
    row, t = _resolve(council, sen2_dir)
    code, name = str(row["code"]), str(row["name"])
    if code in SUCCESSORS and until < SUCCESSORS[code][0] + 1:
        year, took = SUCCESSORS[code]
        raise InputError(
            f"--council {council}: {name} was formed in {year} from {took}; its SEN2 series "
            f"begins in January {year + 1 if year > 2019 else 2020}, so --until must be that "
            "year or later"
        )
    args = ["init", "--council", name, "--until", str(until)]
    if sen2_dir is not None:
        args += ["--sen2-dir", str(sen2_dir)]
    command = command or command_line(args)
    fitted = calibrate(code, until, sen2_dir)
    template = default_assumptions(t, until)
    _fill_caseload(t, until, template)
    comments: dict[tuple, list[str]] = {}
    if placement is None:
        placed = _sen2_placement(t, until, template, comments)
    else:
        placed = _given_placement(t, until, template, placement, comments)
    folder = None if sen2_dir is None else Path(sen2_dir).resolve()
    block = demand_block(
        fitted, template, command, sen2_dir=folder, kept_from=_OWN, fitted_by="placeplan init"
    )
    start = _spring_start(until)
    data: dict[str, Any] = {
        "name": f"{slug(name)}-baseline" if until == 2025 else f"{slug(name)}-from-{until}",
        "title": (f"{name} baseline" if until == 2025 else f"{name} from January {until}")
        + (
            " — places sized from SEN2, no build programme"
            if placement is None
            else " — places from the school register, no build programme"
        ),
        "description": (
            f"{name}'s special school places at January {until} ("
            + (
                "its children with plans in state-funded special schools, by designation"
                if placement is None
                else "the schools' places in the register given"
            )
            + f"), no new places, against demand projected from the January {until} SEN2 "
            "stock of plans. Written by placeplan init: add the council's own places and "
            "build programme."
        ),
        "council": {"code": code, "name": name},
        "start": start,
        "years": 10,
        "calendar": {"long_wait_terms": 3, "long_wait_weeks": 52},
        "demand": yaml.safe_load(block)["demand"],
        "placement": placed,
    }
    pathway, pathway_note = _pathway(code, name, until, sen2_dir, command)
    if pathway is not None:
        data["pathway"] = pathway
        comments[("pathway", "feed", "shift_referrals")] = [
            "false: the pathway does not move place referrals by default. Its backtest "
            "(benchmarks/PATHWAY_BACKTEST.md) does not beat naive forecasts of timeliness "
            "(persistence, England's change), so its forecast is not trusted to move them; "
            "set true to let it.",
        ]
    comments[("pathway",)] = pathway_note
    comments[("name",)] = _header(fitted, row, until, placement)
    comments[("start",)] = [f"first day of the spring term {until} (default term rule)"]
    comments[("years",)] = ["ten years: the horizon of a place planning strategy"]
    comments[("calendar", "long_wait_terms")] = [
        "a long wait: longer than three terms (a school year), the aim Hertfordshire's "
        "strategy states; placeplan's default. Set the council's own.",
    ]
    comments[("calendar", "long_wait_weeks")] = ["the second measure: waits over a year"]
    if code in SUCCESSORS:
        year, took = SUCCESSORS[code]
        comments[("council",)] = [
            f"{name} was formed in {year} from {took}. Its demand is fitted on its own "
            f"SEN2 series from January {fitted.diagnostics.get('first_january', 2019)}: the "
            "hierarchical fit weights its own trend by the years it has (new_plans_own_weight "
            "in the diagnostics) and leans on the national path for the rest.",
        ]
    elif code in RECODED_2023.values() or ";" in str(row.get("published_codes") or ""):
        published = str(row.get("published_codes") or code).replace(";", ", ")
        recoded = [k for k, v in RECODED_2023.items() if v == code]
        comments[("council",)] = [
            f"{name}: the same area under every code (SEN2 published it as {published}"
            + (f"; ONS re-coded it {recoded[0]} in April 2023" if recoded else "")
            + f"); placeplan uses SEN2's code {code}.",
        ]
    _REGISTRY[id(data)] = (copy.deepcopy(data), comments, block)
    while len(_REGISTRY) > 512:
        _REGISTRY.popitem(last=False)
    return data


def _pathway(
    code: str, name: str, until: int, sen2_dir: str | Path | None, command: str
) -> tuple[dict[str, Any] | None, list[str]]:
    """The EHC needs-assessment pathway calibrated on the flows up to ``until - 1``.

    Returns the section (``None`` if SEN2 publishes too little for the council) and
    the comment written above it.
    """
    from placeplan.pathway.calibrate import calibrate_pathway

    try:
        section = calibrate_pathway(code, until - 1, sen2_dir=sen2_dir, command=command)
    except InputError as exc:
        return None, [f"No pathway: section: {exc}"]
    section["feed"] = {
        "shift_referrals": False,
        "source": (
            "placeplan init: off by default, the pathway's backtest does not beat naive "
            "forecasts of timeliness (benchmarks/PATHWAY_BACKTEST.md)"
        ),
    }
    return section, [
        f"The EHC needs-assessment pathway, calibrated on {name}'s SEN2 requests, "
        f"assessments and 20-week timeliness up to {until - 1} (placeplan.pathway.calibrate). "
        "Its staff are an effective capacity, fitted: SEN2 publishes no staffing, so put "
        "in the council's own FTE (keeping fte × days_per_year) and its dated "
        "appointments under staff.<group>.changes.",
    ]


def _header(
    fitted: CalibratedDemand, row: Mapping[str, Any], until: int, placement: Any
) -> list[str]:
    name = fitted.name
    side = (
        "the school register given (see placement)"
        if placement is not None
        else "SEN2 (children with plans in the council's state-funded special schools)"
    )
    return [
        f"{name} baseline, written by `placeplan init` (placeplan.council_init).",
        "",
        "Every number says where it comes from: the SEN2 statistics (DfE 'Education, health "
        f"and care plans', {fitted.release}), the fit of `placeplan calibrate`, or "
        "'assumption' with the reasoning. Placement is sized from " + side + "; the build "
        "programme is empty: add the council's projects. Figures not in this file (the stock "
        "of plans by age and need, new plans, ceasing, the share of plans in special schools) "
        "are derived from SEN2 by placeplan.demand.cohort_inputs.",
        "",
        f"Council: {name}, ONS {fitted.code}, DfE LA number {row.get('old_la_code')}, "
        f"{row.get('region_name')}.",
    ]


def _sen2_placement(
    t: sen2.SEN2Tables, until: int, demand: Mapping[str, Any], comments: dict
) -> dict[str, Any]:
    """Placement sized from SEN2: places = children in state-funded special schools."""
    by_need, total, how = state_funded_by_need(t, until)
    routes = _routes(demand["need_designation"])
    own = {need: routes[need][0] for need in NEEDS}
    counts = dict.fromkeys(DESIGNATIONS, 0.0)
    for need in NEEDS:
        counts.setdefault(own[need], 0.0)
        counts[own[need]] += by_need.get(need, 0.0)
    known = sum(counts.values())
    unknown = by_need.get("UNKNOWN", 0.0)
    places = _largest_remainder(counts, round(total))
    designations = {}
    for d in counts:
        mapped = sorted(n for n in NEEDS if own[n] == d and by_need.get(n, 0) > 0)
        designations[d] = {
            "places": places[d],
            "source": (
                f"SEN2: {t.name}'s children with plans in state-funded special schools whose "
                f"primary need is placed here ({', '.join(mapped) or 'none'}): "
                f"{_n(counts[d])} of {_n(known)}"
                + (f" (the {_n(unknown)} of unknown need shared pro rata)" if unknown else "")
                + f", from the {how}; assumption: the council's places are its children in them"
            ),
        }
    comments[("placement",)] = [
        "",
        f"Places: {t.name}'s {_n(total)} children with plans in state-funded special schools "
        f"(LA maintained + academy/free) in January {until}, from the {how}, split by the "
        "designation each primary need is placed in first (demand.need_designation).",
        "Assumption: the council's places are its children in them. SEN2 counts the children "
        "whose plans the council maintains wherever they attend, so other councils' children "
        "in its schools are left out and its children in other councils' schools counted in; "
        "a register of the schools' own places (`--gias`, the DfE GIAS extract) replaces this.",
    ]
    if any(v == 0 for v in places.values()):
        empty = ", ".join(d for d, v in places.items() if v == 0)
        comments[("placement", "designations")] = [
            f"{empty}: no child of these needs is in a state-funded special school: no places "
            "(children of these needs wait, go out of area, or take the next designation named).",
        ]
    return {
        "designations": designations,
        "localities": {"council": {"share": 1.0}},
        **_placement_common(t, until, comments),
    }


def _placement_common(t: sen2.SEN2Tables, until: int, comments: dict) -> dict[str, Any]:
    comments[("placement", "localities")] = [
        "one locality, the whole council: SEN2 has no localities (--gias gives districts)"
    ]
    comments[("placement", "initial_occupancy")] = [
        "assumption: every place is filled at the start (places are sized from the children "
        "in them, and SEN2 counts children educated elsewhere in every council)",
    ]
    comments[("placement", "occupant_ages")] = [
        "reception to 18, where special schools' sixth forms end: " + _ages_share(t, until, (4, 18))
    ]
    comments[("placement", "panels")] = [
        "assumption: a provision panel every fortnight, places taken up at the next term "
        "(Hertfordshire's locality panels meet so; set the council's own)",
    ]
    comments[("placement", "out_of_area")] = [
        "Children waiting are placed in independent or non-maintained schools case by case, "
        "at a rate a year whatever the wait. The rate is borrowed from Hertfordshire, where "
        "the 2019 hindcast fitted 0.08-0.16 a year to SEN2's children in independent and "
        f"non-maintained special schools (111 in 2019, 332 in 2025). {t.name}: "
        + (_independent(t, until) or "not published")
        + "; a hindcast of this council would fit its own rate. Costs are not modelled here.",
    ]
    comments[("placement", "build_programme")] = [
        "No projects: add each capital project that opens places, e.g.",
        '- {name: "New ASD school", designation: ASD, places: 100, opens: 2026-09-01,',
        '   cost_gbp: 9100000, source: "council capital programme, 2025 (cite it)"}',
        "(designation one of the designations above; opens on or after the start).",
    ]
    return {
        "initial_occupancy": 1.0,
        "occupant_ages": [4, 18],
        "panels": {"every_days": 14, "start_places": "next_term"},
        "out_of_area": {
            "rate": {
                "low": 0.08,
                "high": 0.16,
                "source": (
                    "assumption borrowed from Hertfordshire: its 2019 hindcast fit to SEN2 "
                    "independent and non-maintained special school children, 2019-2025 "
                    "(placeplan hindcast scenarios/herts-hindcast-2019.yaml)"
                ),
            },
            "source": (
                f"SEN2 independent and non-maintained special schools; rate borrowed from "
                f"Hertfordshire's 2019 hindcast ({t.name}: {_independent(t, until)})"
            ),
        },
        "build_programme": [],
    }


def _given_placement(
    t: sen2.SEN2Tables, until: int, demand: dict[str, Any], placement: Any, comments: dict
) -> dict[str, Any]:
    """Placement from a school register: its designations, localities and schools."""
    designations = {k: dict(v) for k, v in dict(placement.designations).items()}
    gaps = [str(g) for g in getattr(placement, "gaps", ())]
    if not designations:
        raise InputError(
            f"{t.name}: the school register gives no special school places for the council"
        )
    for need, route in list(demand["need_designation"].items()):
        names = [route] if isinstance(route, str) else list(route)
        kept = [d for d in names if d in designations]
        if not kept:
            designations[names[0]] = {
                "places": 0,
                "source": "no school in the register has this designation: no places",
            }
            gaps.append(
                f"no school in the register is designated {names[0]}, the designation of "
                f"{need}: it is written with 0 places"
            )
            kept = [names[0]]
        demand["need_designation"][need] = kept[0] if len(kept) == 1 else kept
    source = str(getattr(placement, "source", "the school register"))
    comments[("placement",)] = [
        "",
        f"Places, schools and localities from {source}.",
        *(
            [f"Gaps in the register ({len(gaps)}), each as it was handled:"]
            + [f"- {g}" for g in gaps]
            if gaps
            else ["The register had no gaps for this council."]
        ),
    ]
    _, total, _ = state_funded_by_need(t, until)
    given = sum(int(d.get("places", 0)) for d in designations.values())
    comments[("placement", "designations")] = [
        f"{_n(given)} places in the register; SEN2 counts {_n(total)} of {t.name}'s children with",
        f"plans in state-funded special schools in January {until}.",
    ]
    independent = getattr(placement, "independent_places", None)
    common = _placement_common(t, until, comments)
    if independent is not None:
        comments[("placement", "out_of_area")].append(
            f"The register lists {_n(independent)} places in independent and non-maintained "
            f"special schools in {t.name}."
        )
    out: dict[str, Any] = {"designations": designations}
    out["localities"] = {k: dict(v) for k, v in dict(placement.localities).items()} or {
        "council": {"share": 1.0}
    }
    schools = [dict(s) for s in getattr(placement, "schools", ())]
    if schools:
        out["schools"] = schools
    out.update(common)
    proposed = [dict(project) for project in getattr(placement, "proposed", ())]
    if proposed:  # schools the register says will open after the start
        out["build_programme"] = proposed
        comments[("placement", "build_programme")] = [
            f"{len(proposed)} project(s): schools the register lists as proposed to open."
        ]
    return out


# --------------------------------------------------------------------------------------
# Writing: commented YAML
# --------------------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _scalar(value: Any) -> str:
    import json

    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False)


def _key(key: Any) -> str:
    import json

    text = str(key)
    return text if _PLAIN_KEY.match(text) else json.dumps(text, ensure_ascii=False)


def _flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _at(data: Any, path: tuple) -> Any:
    for key in path:
        if isinstance(data, Mapping) and key in data:
            data = data[key]
        else:
            return _MISSING
    return data


_MISSING = object()


def _comment(lines: Sequence[str], pad: str, width: int = 92) -> list[str]:
    """Comment lines at an indentation, each wrapped to ``width``; '' is a blank line."""
    out = []
    for line in lines:
        if not line:
            out.append("")
            continue
        out += textwrap.wrap(
            line,
            width,
            initial_indent=f"{pad}# ",
            subsequent_indent=f"{pad}# ",
            break_on_hyphens=False,
            break_long_words=False,
        )
    return out


def _emit(
    value: Mapping[str, Any],
    indent: int,
    path: tuple,
    comments: Mapping[tuple, list[str]],
    lines: list[str],
) -> None:
    pad = " " * indent
    for key, item in value.items():
        here = (*path, key)
        lines += _comment(comments.get(here, ()), pad)
        flat = _flow(item)
        nested = isinstance(item, Mapping) and item and len(pad) + len(flat) + len(str(key)) > 96
        if nested:
            lines.append(f"{pad}{_key(key)}:")
            _emit(item, indent + 2, here, comments, lines)
        elif isinstance(item, list) and item and isinstance(item[0], Mapping):
            lines.append(f"{pad}{_key(key)}:")
            lines += [f"{pad}  - {_flow(x)}" for x in item]
        else:
            lines.append(f"{pad}{_key(key)}: {flat}")


def scenario_text(data: Mapping[str, Any]) -> str:
    """A scenario mapping as YAML, with the comments :func:`scenario_for` wrote for it.

    Comments are kept only for the parts of ``data`` unchanged since
    :func:`scenario_for` made it; the demand section is written as
    :func:`placeplan.calibration.demand_block` wrote it while it is unchanged.
    """
    stored = _REGISTRY.get(id(data))
    original, comments, block = stored if stored is not None else ({}, {}, "")
    kept = {
        path: lines
        for path, lines in comments.items()
        if _at(original, path) is not _MISSING and _at(original, path) == _at(data, path)
    }
    if ("name",) in comments and ("name",) not in kept:
        kept[("name",)] = comments[("name",)]  # the header is about the whole file
    header = kept.pop(("name",), [])
    lines = [line or "#" for line in _comment(header, "")]
    for key, item in data.items():
        if key == "demand" and block and original.get("demand") == item:
            lines += ["", *block.rstrip("\n").splitlines(), ""]
            continue
        _emit({key: item}, 0, (), kept, lines)
    text = "\n".join(lines).rstrip("\n") + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)


def write_scenario(data: Mapping[str, Any], out: str | Path) -> Path:
    """Write a scenario mapping as commented YAML to ``out``, atomically.

    A ``demand.sen2_dir`` given as an absolute folder is written relative to the
    file's folder (as scenarios read it). The text is read back and compared with
    the mapping before it is written.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from placeplan.io import atomic_write_text

    out = Path(out)
    demand = data.get("demand") if isinstance(data, Mapping) else None
    folder = demand.get("sen2_dir") if isinstance(demand, Mapping) else None
    text_data: Mapping[str, Any] = data
    if isinstance(folder, str) and Path(folder).is_absolute():
        relative = Path(os.path.relpath(folder, out.parent.resolve())).as_posix()
        text = scenario_text(data).replace(_scalar(folder), _scalar(relative))
        text_data = {**data, "demand": {**demand, "sen2_dir": relative}}
    else:
        text = scenario_text(data)
    if yaml.safe_load(text) != _plain(text_data):  # pragma: no cover - a bug of the writer
        raise RuntimeError("placeplan init: the YAML written does not read back as the scenario")
    return atomic_write_text(out, text)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
