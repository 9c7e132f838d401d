"""``placeplan calibrate``: a scenario's demand section fitted to a council's SEN2 series.

The fit is :func:`placeplan.demand.calibrate.fit` over every council at once (so that
each council's estimates borrow strength from the others), read off for one
council. The section is written as YAML with its diagnostics; given a template
scenario, the template's top-level ``demand:`` block is replaced and everything
else — comments included — is kept as it was.
"""

from __future__ import annotations

import json
import re
import shlex
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from placeplan import sen2
from placeplan._version import __version__
from placeplan.calendar import Term, TermCalendar
from placeplan.demand.calibrate import Fit, Shrinkage, fit
from placeplan.demand.panel import YEARS, Panel, panel
from placeplan.errors import InputError
from placeplan.scenario import LAST_BASE_YEAR, NEEDS

__all__ = [
    "DEFAULT_NEED_DESIGNATION",
    "FIRST_ORIGIN",
    "NO_TREND_SD",
    "CalibratedDemand",
    "NationalFit",
    "calibrate",
    "check_template_council",
    "command_line",
    "demand_block",
    "national_fit",
    "replace_demand_block",
]

DEFAULT_NEED_DESIGNATION: dict[str, str] = {
    "ASD": "ASD",
    "SLD": "SLD",
    "PMLD": "SLD",
    "MLD": "MLD",
    "SPLD": "MLD",
    "SLCN": "MLD",
    "OTH": "MLD",
    "SEMH": "SEMH",
    "PD": "PSI",
    "HI": "PSI",
    "VI": "PSI",
    "MSI": "PSI",
}
"""Default designation meeting each primary need (an assumption; see the baseline scenario)."""

METHOD = (
    "SEN2 series of every council; new plans: log new plans over the last 7 calendar "
    "years = a national path (year effects every council shares, two-way fixed-effects "
    "OLS; forward a random walk with its mean step as drift) + the council's own trend, "
    "shrunk by Paule-Mandel random-effects meta-analysis (statsmodels), + the council's "
    "own noise around its trend (placeplan.demand.hierarchy); "
    "specialist share trend: mean yearly change since 2019 of the log share of plans "
    "needing a special school, (special schools of every type + educated elsewhere + "
    "awaiting provision up to 2022) / plans, shrunk by Paule-Mandel likewise "
    "(placeplan.demand.calibrate, placeplan.demand.need_share)"
)

FIRST_ORIGIN = 2019
"""First January a scenario can be calibrated to: SEN2's series of placements and
queue signals begins then. Before 2024 the scenario starts from plans by age band
(single-year shapes borrowed from later publications, named in the run's
provenance: :func:`placeplan.demand.inputs.cohort_inputs`)."""

NO_TREND_SD = 0.03
"""Standard deviation of the special school share trend when no council's is known
[per year]: an assumption (at an origin of 2019 SEN2 has one January of the need
share, so no trend of it), wide enough that the share may move by about ±15% over
five years at one standard deviation."""


@dataclass(frozen=True)
class CalibratedDemand:
    """Fitted demand parameters of one council, with diagnostics."""

    code: str
    name: str
    until: int
    release: str
    growth: float
    growth_se: float
    growth_noise: float
    transient_sd: float
    anchor: float
    ceasing_noise: float
    share_trend: float
    share_trend_se: float
    diagnostics: dict[str, float | int | str]
    share_trend_note: str = ""


def _round(x: float, digits: int = 4) -> float:
    return float(np.round(float(x), digits))


def _between(how: Shrinkage) -> str:
    """How the between-council variance of a shrinkage was estimated."""
    if not np.isfinite(how.between_var):
        return "not estimated: fewer than three councils have a trend at this origin"
    return (
        f"estimated (Paule-Mandel): {how.between_var:.2e}; median weight of a council's own "
        f"trend {how.weight_median:.2f}"
    )


@dataclass(frozen=True, eq=False)
class NationalFit:
    """The demand fit of every council at one origin, from one SEN2 source.

    Attributes
    ----------
    until : int
        The origin: last January of data used.
    tables : placeplan.sen2.SEN2Tables
        Every area's SEN2 tables.
    panel : placeplan.demand.panel.Panel
        The councils' series.
    fit : placeplan.demand.calibrate.Fit
        The fit of every council (:func:`placeplan.demand.calibrate.fit`).
    """

    until: int
    tables: sen2.SEN2Tables
    panel: Panel
    fit: Fit


def _sen2_key(sen2_dir: str | Path | None) -> tuple:
    """What identifies a SEN2 source: its folder and its files' names, sizes and times."""
    if sen2_dir is None:
        return ()
    folder = Path(sen2_dir).resolve()
    files = sorted(
        (str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in folder.rglob("*") if f.is_file()
    )
    return (str(folder), tuple(files))


def national_fit(until: int = 2025, sen2_dir: str | Path | None = None) -> NationalFit:
    """Fit every council's demand at once on SEN2 up to January ``until`` (cached).

    The fit is hierarchical (each council borrows strength from the others), so one
    fit serves every council: :func:`calibrate` reads a council off it. The result
    is cached per origin and SEN2 source (a folder's files, by name, size and time).

    Parameters
    ----------
    until : int
        Last January of data used.
    sen2_dir : str or pathlib.Path, optional
        A folder of official SEN2 files instead of the shipped extract.

    Raises
    ------
    InputError
        For an origin outside SEN2's Januaries of special school children, or data
        that cannot be fitted.
    """
    if not FIRST_ORIGIN <= until <= LAST_BASE_YEAR:
        raise InputError(
            f"--until {until}: a scenario starts from SEN2's January caseload of special "
            f"school children and queue signals, published from January {FIRST_ORIGIN}; "
            f"placeplan reads releases up to January {LAST_BASE_YEAR}; use `placeplan "
            "backtest` for the plans series from earlier origins"
        )
    return _national_fit(until, sen2_dir, _sen2_key(sen2_dir))


@lru_cache(maxsize=4)
def _national_fit(until: int, sen2_dir: str | Path | None, key: tuple) -> NationalFit:
    tables = sen2.load(sen2_dir=sen2_dir)
    if not (tables.plans_total["year"] == until).any():
        last = int(tables.plans_total["year"].max())
        raise InputError(
            f"the SEN2 release(s) read ({tables.release}) publish plans up to January "
            f"{last}, not {until}; for a later January pass --sen2-dir with the newer "
            "release's CSV files"
        )
    p = panel("la", tables)
    try:
        f = fit(p, until)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return NationalFit(until, tables, p, f)


def calibrate(
    council: str, until: int = 2025, sen2_dir: str | Path | None = None
) -> CalibratedDemand:
    """Fit the demand parameters of one council on SEN2 up to January ``until``.

    The fit of every council is made once per origin and SEN2 source and reused
    (:func:`national_fit`). A council formed after 2019 (Bournemouth, Christchurch
    and Poole and Dorset in 2019, North and West Northamptonshire in 2021,
    Cumberland and Westmorland and Furness in 2023) is fitted on its own series
    from its first January: the hierarchical fit weights its own trend by the
    years it has, and the diagnostics that need January 2019 say so.

    Parameters
    ----------
    council : str
        Council name or ONS code.
    until : int
        Last January of data used; the scenario's base year. From 2024, the first
        January with plans by single year of age.
    sen2_dir : str or pathlib.Path, optional
        A folder of official SEN2 files to use instead of the shipped extract.

    Returns
    -------
    CalibratedDemand

    Raises
    ------
    InputError
        For an unknown council, or a year without the data the scenario needs.
    """
    national = national_fit(until, sen2_dir)
    tables, p, f = national.tables, national.panel, national.fit
    if str(council) in p.codes:  # a council's own code: no need to search the areas
        code = str(council)
        name = str(p.names[int(np.flatnonzero(p.codes == code)[0])])
    else:
        try:
            one = sen2.load(council, sen2_dir=sen2_dir)
        except KeyError as exc:
            raise InputError(str(exc.args[0] if exc.args else exc)) from None
        code, name = str(one.code), str(one.name)
    matches = np.flatnonzero(p.codes == code)
    if not len(matches):
        raise InputError(f"{name} ({code}) is not a council with SEN2 series")
    i = int(matches[0])
    if not np.isfinite(f.growth[i]) or not np.isfinite(f.plans0[i]):
        raise InputError(f"{name}: the SEN2 series up to {until} are too short to fit")
    share_trend, share_trend_se, note = _share_trend(f, i, name, until)
    o = p.year(until)
    start = p.year(2019)
    known = np.flatnonzero(
        np.isfinite(p.plans[i, start : o + 1]) & np.isfinite(p.need[i, start : o + 1])
    )
    first = start + int(known[0]) if len(known) else start
    began = f"not known: {name}'s SEN2 series begins in January {YEARS[first]}"
    shrink, shrink_placed = f.share_shrinkage, f.share_shrinkage_placements
    g = f.growth_fit
    diagnostics: dict[str, float | int | str] = {
        "plans_at_origin": int(p.plans[i, o]),
        "new_plans_last_year": int(p.new[i, o - 1]),
        "new_plans_years": f"{g.years[0]}-{g.years[-1]}",
        "new_plans_national_drift": _round(g.national_drift),
        "new_plans_national_drift_sd": _round(g.national_drift_se),
        "new_plans_national_step_sd": _round(g.national_step_sd),
        "new_plans_own_trend": _round(g.own_trend[i]),
        "new_plans_own_trend_unshrunk": _known(g.own_trend_raw[i], until),
        "new_plans_own_weight": _round(g.own_weight[i]),
        "new_plans_between_council_sd": _round(np.sqrt(g.between_var)),
        "new_plans_councils_fitted": g.councils_used,
        "ceasing_rate_identity": _round(f.cease[i]),
        "need_share_2019": _round(p.need[i, start] / p.plans[i, start])
        if first == start
        else began,
        "need_share_at_origin": _round(f.share0[i]),
        "waiting_signal_2019": int(p.waiting[i, start]) if first == start else began,
        "waiting_signal_at_origin": _count(p.waiting[i, o], until),
        "need_share_trend_unshrunk": _known(f.share_trend_raw[i], until),
        "need_share_trend_median_council": _known(shrink.centre, until),
        "need_share_yearly_deviation_sd": _known(
            f.share_noise[i] if np.isfinite(f.share_trend_raw[i]) else np.nan, until
        ),
        "need_share_between_council_sd": _known(np.sqrt(shrink.between_var), until),
        "need_share_between_council_variance": _between(shrink),
        "special_share_2019": (
            _round(p.special[i, start] / p.plans[i, start]) if first == start else began
        ),
        "special_share_at_origin": _round(f.share0_placements[i]),
        "special_share_trend_placements": _known(
            f.share_trend_placements[i] if np.isfinite(shrink_placed.centre) else np.nan, until
        ),
        "special_share_trend_placements_sd": _known(
            f.share_trend_placements_se[i] if np.isfinite(shrink_placed.centre) else np.nan, until
        ),
        "special_share_trend_placements_unshrunk": _known(f.share_trend_placements_raw[i], until),
        "special_share_trend_placements_median_council": _known(shrink_placed.centre, until),
        "special_share_between_council_variance": _between(shrink_placed),
    }
    if first != start:
        diagnostics["first_january"] = int(YEARS[first])
        diagnostics["need_share_first_january"] = _round(p.need[i, first] / p.plans[i, first])
        diagnostics["waiting_signal_first_january"] = int(p.waiting[i, first])
    return CalibratedDemand(
        code=code,
        name=name,
        until=until,
        release=tables.release,
        growth=_round(f.growth[i]),
        growth_se=_round(f.growth_se[i]),
        growth_noise=_round(f.growth_noise[i]),
        transient_sd=_round(f.transient_sd[i]),
        anchor=_round(f.anchor[i]),
        ceasing_noise=_round(f.cease_noise[i]),
        share_trend=share_trend,
        share_trend_se=share_trend_se,
        diagnostics=diagnostics | ({"need_share_trend_fallback": note} if note else {}),
        share_trend_note=note,
    )


def check_template_council(
    template: Any, fitted: CalibratedDemand, path: str | Path, sen2_dir: str | Path | None = None
) -> None:
    """Refuse a template written for another council than the one calibrated.

    ``placeplan calibrate --template`` replaces the demand section only: the name,
    title, council block, places, schools and build programme stay the template's.
    A template of another council would make a scenario that mixes two councils, so
    it is refused, pointing to ``placeplan init``, which writes a whole scenario for
    the council.

    Parameters
    ----------
    template : Any
        The template's parsed content.
    fitted : CalibratedDemand
        The fit of the council asked for.
    path : str or pathlib.Path
        The template file, for the message.
    sen2_dir : str or pathlib.Path, optional
        The SEN2 source, to resolve the template's council code (a re-coding of the
        same council is the same council).

    Raises
    ------
    InputError
        If the template's ``council.code`` names another council.
    """
    council = template.get("council") if isinstance(template, dict) else None
    if not isinstance(council, dict) or not isinstance(council.get("code"), str):
        return
    code = council["code"]
    try:
        resolved = str(sen2.load(code, sen2_dir=sen2_dir).code)
    except KeyError:
        resolved = code
    if resolved == fitted.code:
        return
    name = council.get("name") or code
    raise InputError(
        f"{path}: council: the template is a scenario of {name} ({code}), but --council "
        f"names {fitted.name} ({fitted.code}). calibrate replaces the demand section only, so "
        f"the name, title, places, schools and build programme would stay {name}'s. Write a "
        f"scenario of {fitted.name} with `placeplan init --council "
        f"{shlex.quote(fitted.name)} --out FILE.yaml` (its demand is this same fit), or give "
        f"a template of {fitted.name}."
    )


def _count(value: float, until: int) -> int | str:
    """A count of the origin's January, or that it is not published."""
    if np.isfinite(value):
        return int(value)
    return f"not published for January {until}"


def _known(value: float, until: int) -> float | str:
    """A diagnostic rounded, or why it is not known at the origin."""
    if np.isfinite(value):
        return _round(value)
    return f"not known at {until}: no council has two Januaries of the share from 2019"


def _share_trend(f, i: int, name: str, until: int) -> tuple[float, float, str]:
    """The council's share trend and its sd, or a stated fallback, and the fallback's note.

    A council without two Januaries of the need share takes the median council's
    trend (with the between-council sd); where no council has a trend (an origin of
    2019: one January of the need share), no change with sd :data:`NO_TREND_SD`, an
    assumption.
    """
    if np.isfinite(f.share_trend_raw[i]):
        return _round(f.share_trend[i]), _round(f.share_trend_se[i]), ""
    how = f.share_shrinkage
    if np.isfinite(how.centre):
        return (
            _round(how.centre),
            _round(np.sqrt(how.between_var)),
            f"{name} has no two Januaries of the need share from 2019 to {until}: the trend "
            "is the median council's, its sd the between-council sd",
        )
    return (
        0.0,
        NO_TREND_SD,
        f"at an origin of {until} SEN2 has one January of the need share (its series of "
        "placements and queue signals begins in 2019), so no council's trend, nor the "
        "median council's, is known: assumption of no change, sd "
        f"{NO_TREND_SD:g} a year (placeplan.calibration.NO_TREND_SD)",
    )


def _flow(value: Any) -> str:
    """A value as one line of YAML (JSON is YAML)."""
    return json.dumps(value, ensure_ascii=False)


def demand_block(
    c: CalibratedDemand,
    template: dict[str, Any] | None,
    command: str,
    sen2_dir: Path | None = None,
    *,
    kept_from: str = "the template",
    fitted_by: str = "placeplan calibrate",
) -> str:
    """The YAML text of a top-level ``demand:`` section.

    Parameters
    ----------
    c : CalibratedDemand
        The fit.
    template : dict, optional
        A template's demand section: its assumptions that are not fitted
        (``need_designation`` and its source, ``referral_ages``, ``need_recoding``,
        ``new_plans_growth_damping``) are kept.
    command : str
        The command line, recorded in the section.
    sen2_dir : pathlib.Path, optional
        The SEN2 folder the fit read, relative to the scenario's folder: written as
        ``demand.sen2_dir`` so that runs read the same data.
    kept_from : str
        Where the assumptions that are not fitted come from, as the comments say it.
    fitted_by : str
        The command named in the section's ``source``.
    """
    t = template or {}
    designation = t.get("need_designation", DEFAULT_NEED_DESIGNATION)
    ages = list(t.get("referral_ages", (4, 15)))
    lines = [
        "demand:",
        f"  # Fitted by `{command}` (placeplan {__version__})",
        f"  # on {c.release}: do not edit the fitted values by hand, run the command again.",
        "  model: cohort",
        f"  sen2_area: {c.code}          # {c.name}",
        f"  base_year: {c.until}",
        *(
            [
                "  # the SEN2 release the fit read (relative to this file): runs read it too",
                f"  sen2_dir: {_flow(sen2_dir.as_posix())}",
            ]
            if sen2_dir is not None
            else []
        ),
        "  # yearly log growth of new plans (estimate and its standard error): the national",
        "  # path's drift plus the council's own trend, weighted by its own data (hierarchical",
        "  # fit on every council; the weight is in the diagnostics)",
        f"  new_plans_growth: {{mean: {c.growth}, sd: {c.growth_se}}}",
        "  # sd of the national path's yearly shock, shared by every council (accumulates)",
        f"  new_plans_noise_sd: {c.growth_noise}",
        "  # sd of the council's own yearly deviation around its trend (does not accumulate)",
        f"  new_plans_transient_sd: {c.transient_sd}",
        "  # the council's fitted level of new plans in the last year, less the published one",
        f"  new_plans_anchor: {c.anchor}",
        f"  # damping of growth per year ahead (assumption, kept from {kept_from})",
        f"  new_plans_growth_damping: {_flow(t.get('new_plans_growth_damping', 1.0))}",
        f"  # multiplier of the SEN2 ceasing rates by age (assumption, kept from {kept_from})",
        f"  ceasing_scale: {_flow(t.get('ceasing_scale', 1.0))}",
        "  # sd of a year's deviation of the share of plans ceasing (stock identity, the",
        "  # council's last three years, half own, half median council)",
        f"  ceasing_noise_sd: {c.ceasing_noise}",
        "  # share of continuing plans re-recorded to the need mix of their age (assumption)",
        f"  need_recoding: {_flow(t.get('need_recoding', 1.0))}",
        "  # yearly change of the log share of plans needing a special school since 2019,",
        "  # shrunk towards the median council. Need = children in special schools of every",
        "  # type (incl. independent, non-maintained) + the waiting signal (educated elsewhere,",
        "  # plus awaiting provision up to 2022, after which SEN2 counts it within educated",
        "  # elsewhere), over plans: not placements alone, which places cap. The trend of",
        "  # placements is in the diagnostics (special_share_trend_placements).",
        *(
            "  # " + line
            for line in textwrap.wrap(f"Fallback: {c.share_trend_note}.", 84)
            if c.share_trend_note
        ),
        f"  specialist_share_trend: {{mean: {c.share_trend}, sd: {c.share_trend_se}}}",
        f"  referral_ages: {_flow(ages)}   # assumption",
        "  need_designation:   # assumption: the designation meeting each primary need",
    ]
    lines += [
        f"    {need}: {names if isinstance(names, str) else _flow(list(names))}"
        for need, names in ((n, designation[n]) for n in NEEDS if n in designation)
    ]
    if "need_designation_source" in t:
        lines.append(f"  need_designation_source: {_flow(t['need_designation_source'])}")
    lines += [
        "  # The state at the start is derived from the SEN2 January caseload of base_year",
        "  # (the run's provenance records each number): children in special schools of every",
        "  # type fill the council's places, the rest are placed elsewhere, and the list is the",
        "  # children educated elsewhere × a share drawn per replication. Children stop needing",
        "  # a place at the projection's own rates: there are no separate leaving rates.",
    ]
    if t.get("starting_state"):
        dumped = yaml.safe_dump(
            {"starting_state": t["starting_state"]}, sort_keys=False, allow_unicode=True, width=86
        )
        lines += ["  " + line for line in dumped.splitlines()]
    lines += [
        f"  source: {_flow(f'{c.release}; fitted by {fitted_by}')}",
        "  calibration:",
        f"    method: {_flow(METHOD)}",
        f"    command: {_flow(command)}",
        f"    origin: {c.until}",
        f"    release: {_flow(c.release)}",
        f"    placeplan_version: {_flow(__version__)}",
        "    diagnostics:",
    ]
    lines += [f"      {k}: {_flow(v)}" for k, v in c.diagnostics.items()]
    return "\n".join(lines) + "\n"


_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def replace_demand_block(text: str, block: str) -> str:
    """Replace the top-level ``demand:`` section of a YAML text, keeping all else.

    Comment lines just before the next top-level key stay with that key.
    """
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if re.match(r"^demand\s*:", line)]
    if len(starts) != 1:
        raise InputError("the template must have exactly one top-level `demand:` section")
    start = starts[0]
    end = next((i for i in range(start + 1, len(lines)) if _TOP_KEY.match(lines[i])), len(lines))
    while end > start + 1 and lines[end - 1].startswith("#"):
        end -= 1
    tail = lines[end:]
    separator = ["\n"] if tail and lines[end - 1].strip() == "" else []
    return "".join(lines[:start]) + block + "".join(separator + tail)


def move_start(text: str, until: int, calendar: TermCalendar) -> str:
    """Set a scenario text's top-level ``start:`` to the spring term of ``until``.

    A scenario starts from the January caseload of its base year, so a template
    calibrated to another January must start in that one: the first day of the
    spring term of January ``until`` (``calendar``'s term dates). A start already in
    January ``until`` or later that year is kept.
    """
    spring = calendar.term_start(until - 1, Term.SPRING)
    found = re.search(r"^start\s*:\s*(\d{4})-(\d{2})-(\d{2})[^\n]*$", text, flags=re.M)
    if found is None:
        raise InputError("the template must have a top-level `start:` date")
    if int(found.group(1)) == until:
        return text
    line = f"start: {spring.isoformat()}          # first day of the spring term {until}"
    return text[: found.start()] + line + text[found.end() :]


def command_line(args: list[str]) -> str:
    """The command as a user would type it."""
    return " ".join(["placeplan", *(shlex.quote(a) for a in args)])
