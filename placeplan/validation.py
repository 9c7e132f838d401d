"""Every rule a scenario must keep, checked before a model exists.

The schema (`placeplan.scenario`) checks each value on its own: types, ranges and
unknown keys. `check` then checks the scenario as a whole, so that whatever `run`
would reject, validation (`placeplan validate`, `load_scenario`) rejects first,
naming the file, line and field:

- the forecast starts from 1995-09-01 to 2399-08-31, lasts at least a day, ends by
  2400-09-01, and records from 1 to 4,000 snapshots;
- every designation and locality named is defined, and schools' places add up to
  their designations'; a need's ranked designations and a designation's
  `also_serves` name each designation once (and `also_serves` not its own);
- build projects open on or after the start; the children on the list at the start
  were referred before it, and not before they were born; a cohort projection
  starts no earlier than 1 January of its base year; no term start is given twice;
- sizes fit in memory: at most 1,000,000 places (with the build programme), children
  on the list at the start, and referrals expected over the forecast; at most 2,000
  pools of places (school × designation, and build projects); growth and noise of
  new plans that, at six standard deviations, multiply them at most 10^8-fold over
  the forecast, and a special school share trend of at most e^50;
- the SEN2 figures a cohort projection needs exist for its area and base year.

Files are at most 1 MiB, regular files, nested at most 32 levels (through YAML
aliases too) with at most 200,000 values once aliases are expanded; keys are plain
values; `extends` chains are at most 8 deep, name at most 200 characters, and reach
only bundled scenarios or files in the scenario's folder or below it (unless
`--allow-extends-anywhere`). A `demand` section with another `model` than the one
it extends replaces that section whole.

Warnings (`file:line: field: warning: ...`, also `Scenario.warnings`) flag likely
mistakes: nobody ever leaves a place, without a cohort projection (write
`end_of_year: {}` and `mid_year_rate: 0` to say so on purpose), a build project
opening after the forecast, a designation nobody is referred to (no need maps to
it, or no referrals are given for it, and its places serve no other designation), no
January census in the forecast (an empty headline), temporary places closed before
the start, a waiting list referred up to or after the start, and a first panel after
the forecast.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from placeplan.calendar import TermCalendar
from placeplan.errors import ScenarioIssue, issue_at

if TYPE_CHECKING:
    from placeplan.demand.inputs import CohortInputs
    from placeplan.scenario import Scenario

__all__ = [
    "LAST_END",
    "MAX_GROWTH_FACTOR",
    "MAX_POOLS",
    "MAX_SNAPSHOTS",
    "check",
    "cohort_inputs_for",
]

LAST_END = date(2400, 9, 1)
"""The first day after the supported calendar: a forecast ends by then."""

MAX_SNAPSHOTS = 4000
"""Most snapshots in a forecast (daily snapshots for ten years need 3,653)."""

MAX_POOLS = 2000
"""Most pools of places (school × designation, plus build projects)."""

MAX_GROWTH_FACTOR = 1e8
"""Most that six standard deviations of growth and noise may multiply new plans by.

It keeps every Poisson mean and float finite. It is not what keeps a run within
memory: a replication whose draw expects more referrals than placeplan follows
(:data:`placeplan.scenario.MAX_CHILDREN`) stops the run with a clear error
(:func:`placeplan.demand.referrals.draw_cohort_demand`). A tighter bound here
refused councils' own calibrated growth (Leeds over ten years: 80,985-fold at six
standard deviations, which its central path never comes near).
"""

_SIGMAS = 6.0
"""Standard deviations of the growth bounds (a draw beyond: about 1 in 10^9)."""

_MAX_TREND_LOG = 50.0
"""Largest log change of the special school share over the forecast at six sd."""


def check(
    scenario: Scenario,
    *,
    source: str = "<dict>",
    lines: Mapping[tuple, Any] | None = None,
    check_data: bool = True,
) -> tuple[list[ScenarioIssue], list[ScenarioIssue]]:
    """Check a scenario that passed the schema as a whole.

    Parameters
    ----------
    scenario : Scenario
        A scenario built by the schema.
    source : str
        File name for the issues.
    lines : Mapping, optional
        Key path -> line (or ``(file, line)``), from
        :func:`placeplan.scenario_files.read_scenario_file`.
    check_data : bool
        Check the SEN2 figures a cohort projection needs (loads them once per area
        and base year).

    Returns
    -------
    errors, warnings : list of ScenarioIssue
        Every problem found, and every likely mistake.

    """
    found = _Findings(source, lines or {})
    _references(scenario, found)
    if _horizon(scenario, found):
        _calendar(scenario, found)
        _demand(scenario, found, check_data)
        _placement(scenario, found)
    return found.errors, found.warnings


class _Findings:
    def __init__(self, source: str, lines: Mapping[tuple, Any]):
        self.source, self.lines = source, lines
        self.errors: list[ScenarioIssue] = []
        self.warnings: list[ScenarioIssue] = []

    def error(self, path: tuple, message: str) -> None:
        self.errors.append(issue_at(path, message, self.source, self.lines))

    def warn(self, path: tuple, message: str) -> None:
        self.warnings.append(issue_at(path, message, self.source, self.lines, warning=True))


def _references(s: Scenario, found: _Findings) -> None:
    """Every designation and locality named is defined; schools add up to the designations."""
    from placeplan.scenario import CohortDemand, PoissonReferrals

    p = s.placement
    known, places = sorted(p.designations), sorted(p.localities)

    def designation(path: tuple, name: str) -> None:
        if name not in p.designations:
            found.error(path, f"unknown designation {name!r}; expected one of: {', '.join(known)}")

    def locality(path: tuple, name: str | None) -> None:
        if name is not None and name not in p.localities:
            found.error(path, f"unknown locality {name!r}; expected one of: {', '.join(places)}")

    def ranked(path: tuple, names: list[str]) -> None:
        """Each name a designation, named once."""
        first: dict[str, int] = {}
        for k, name in enumerate(names):
            if name in first:
                found.error(
                    (*path, k),
                    f"{name!r} is named twice (first as {path[-1]}[{first[name]}]); expected "
                    "each designation once",
                )
            else:
                designation((*path, k), name)
            first.setdefault(name, k)

    demand = s.demand
    if isinstance(demand, CohortDemand):
        for need, names in demand.need_designation.items():
            if isinstance(names, str):
                designation(("demand", "need_designation", need), names)
            else:
                ranked(("demand", "need_designation", need), names)
    elif isinstance(demand, PoissonReferrals):
        for name in demand.rate:
            designation(("demand", "rate", name), name)
    else:
        for name in demand.per_term:
            designation(("demand", "per_term", name), name)
    for name, spec in p.localities.items():
        for k, neighbour in enumerate(spec.neighbours):
            locality(("placement", "localities", name, "neighbours", k), neighbour)
    for i, project in enumerate(p.build_programme):
        designation(("placement", "build_programme", i, "designation"), project.designation)
        locality(("placement", "build_programme", i, "locality"), project.locality)
    if p.schools:
        totals = dict.fromkeys(p.designations, 0)
        for i, school in enumerate(p.schools):
            locality(("placement", "schools", i, "locality"), school.locality)
            for name, n in school.places.items():
                designation(("placement", "schools", i, "places", name), name)
                totals[name] = totals.get(name, 0) + n
        for name, spec in p.designations.items():
            if totals[name] != spec.places:
                found.error(
                    ("placement", "designations", name, "places"),
                    f"{spec.places} places, but the schools' {name} places add up to "
                    f"{totals[name]}; expected the same",
                )
    for name, spec in p.designations.items():
        where = ("placement", "designations", name, "also_serves")
        ranked(where, spec.also_serves)
        if name in spec.also_serves:
            found.error(
                (*where, spec.also_serves.index(name)),
                f"{name!r} is this designation itself; expected other designations, whose "
                "children its places may also serve",
            )
    for name in p.out_of_school:
        designation(("placement", "out_of_school", name), name)
    for k, name in enumerate(p.out_of_area.at_once):
        designation(("placement", "out_of_area", "at_once", k), name)
    for i, group in enumerate(p.initial_waiting):
        for name in group.children:
            designation(("placement", "initial_waiting", i, "children", name), name)


def _days(scenario: Scenario) -> int:
    return round(scenario.years * 365.25)


def _horizon(s: Scenario, found: _Findings) -> bool:
    """The forecast lasts a day at least and ends inside the calendar; False if not."""
    if _days(s) < 1:
        found.error(("years",), "the forecast must last at least one day (years >= 0.0014)")
        return False
    if s.start + timedelta(days=_days(s)) > LAST_END:
        found.error(
            ("years",),
            f"the forecast must end by {LAST_END} (the supported calendar); "
            f"from {s.start} it ends on {s.end}",
        )
        return False
    return True


def _calendar(s: Scenario, found: _Findings) -> None:
    seen: dict[tuple[int, str], int] = {}
    for i, t in enumerate(s.calendar.term_starts):
        key = (t.academic_year, t.term)
        if key in seen:
            found.error(
                ("calendar", "term_starts", i),
                f"the {t.term} term of {t.academic_year} is given twice "
                f"(first as term_starts[{seen[key]}])",
            )
        seen.setdefault(key, i)
    snapshots = s.calendar.snapshots
    where = ("calendar", "snapshots")
    if snapshots == "census":
        census = TermCalendar.census_days(TermCalendar(), s.start, s.end)
        if not census:
            found.error(
                where,
                f"no census day falls in the forecast ({s.start} to {s.end}); make it longer "
                "or give snapshots every so many days",
            )
        elif not any(d.month == 1 for d in census):
            found.warn(
                where,
                "no January census day falls in the forecast: the headline (each January) "
                "will be empty",
            )
        return
    count = int(_days(s) / float(snapshots))
    if count < 1:
        found.error(
            where,
            f"no snapshot falls in the forecast: the first is {snapshots:g} days after the "
            f"start, and the forecast lasts {_days(s)} days",
        )
    elif count > MAX_SNAPSHOTS:
        found.error(
            where,
            f"{count:,} snapshots; expected at most {MAX_SNAPSHOTS:,} (snapshots of at least "
            f"{_days(s) / MAX_SNAPSHOTS:.4g} days for this forecast)",
        )


def _demand(s: Scenario, found: _Findings, check_data: bool) -> None:
    from placeplan.scenario import CohortDemand, FixedReferrals

    demand = s.demand
    if isinstance(demand, CohortDemand):
        _cohort(s, demand, found, check_data)
        return
    if isinstance(demand, FixedReferrals):
        calendar = s.calendar.build()
        n_terms = calendar.term_index(s.end) - calendar.term_index(s.start) + 1
        total = 0
        for values in demand.per_term.values():
            total += sum(values[:n_terms]) + values[-1] * max(n_terms - len(values), 0)
        given, where = demand.per_term, ("demand", "per_term")
        expected = total
    else:
        given, where = demand.rate, ("demand", "rate")
        expected = sum(demand.rate.values()) * s.years
    if expected > _max_children():
        found.error(
            where,
            f"about {expected:,.0f} referrals expected over the forecast; expected at most "
            f"{_max_children():,} (a forecast must fit in memory)",
        )
    serving = _serving(s)
    for name in s.designations:
        values = given.get(name)
        if name in serving:
            continue
        if values is None or not np.any(np.asarray(values, dtype=float) > 0):
            found.warn(
                ("placement", "designations", name),
                f"nobody is referred to this designation ({'.'.join(where)} gives no "
                "referrals for it)",
            )


def _serving(s: Scenario) -> set[str]:
    """The designations whose places also serve another's children."""
    return {name for name, spec in s.placement.designations.items() if spec.also_serves}


def _max_children() -> int:
    from placeplan.scenario import MAX_CHILDREN

    return MAX_CHILDREN


def _cohort(s: Scenario, demand: Any, found: _Findings, check_data: bool) -> None:
    first = date(demand.base_year, 1, 1)
    if s.start < first:
        found.error(
            ("start",),
            f"the cohort projection starts in January {demand.base_year} "
            f"(demand.base_year); expected a start on or after {first}",
        )
    september = date(demand.base_year, 9, 1)
    if s.start >= september:
        found.error(
            ("start",),
            f"the state at the start is the SEN2 January {demand.base_year} caseload "
            f"(demand.base_year); expected a start before {september}, or a later base_year",
        )
    leaving = s.placement.leaving
    if leaving.end_of_year or leaving.mid_year_rate or leaving.list_rate is not None:
        found.error(
            ("placement", "leaving"),
            "with demand.model cohort, children stop needing a place at the cohort "
            "projection's own rates (SEN2 ceasing by age and the share needing a place "
            "by age), one source for both; expected no placement.leaving",
        )
    years = max(s.end.year - demand.base_year + 3, 1)
    damping = min(demand.new_plans_growth_damping.extreme(_SIGMAS), 1.0)
    reach = years if damping == 1 else (1 - damping**years) / (1 - damping)
    growth = demand.new_plans_growth
    log_factor = (
        growth.extreme(_SIGMAS) * reach
        + _SIGMAS * (demand.new_plans_noise_sd * math.sqrt(years) + demand.new_plans_transient_sd)
        + max(demand.new_plans_anchor, 0.0)
    )
    if log_factor > math.log(MAX_GROWTH_FACTOR):
        found.error(
            ("demand", "new_plans_growth"),
            f"at six standard deviations, growth and noise multiply new plans "
            f"{_fold(log_factor)} over the forecast; expected at most "
            f"{MAX_GROWTH_FACTOR:,.0f}-fold (lower the growth, its sd, the noise or the years)",
        )
    trend = demand.specialist_share_trend
    if trend.extreme(_SIGMAS) * years > _MAX_TREND_LOG:
        found.error(
            ("demand", "specialist_share_trend"),
            f"at six standard deviations the special school share changes by a factor "
            f"e^{trend.extreme(_SIGMAS) * years:.0f} over the forecast; "
            f"expected at most e^{_MAX_TREND_LOG:.0f}",
        )
    used = {name for names in demand.designation_routes.values() for name in names}
    used |= _serving(s)
    for name in s.designations:
        if name not in used:
            found.warn(
                ("placement", "designations", name),
                "no need maps to this designation (demand.need_designation), and its places "
                "serve no other (also_serves): nobody is referred to its places",
            )
    if check_data:
        _sen2(s, demand, found)


def _fold(log_factor: float) -> str:
    return f"{math.exp(log_factor):,.0f}-fold" if log_factor < 700 else "beyond any number"


def _sen2(s: Scenario, demand: Any, found: _Findings) -> None:
    from placeplan.sen2 import SEN2FormatError

    area = demand.sen2_area or s.council.code
    where = ("demand", "sen2_area") if demand.sen2_area else ("council", "code")
    if demand.sen2_dir is not None and not Path(demand.sen2_dir).is_dir():
        found.error(("demand", "sen2_dir"), f"folder not found: {demand.sen2_dir}")
        return
    try:
        inputs = cohort_inputs_for(area, demand.base_year, demand.sen2_dir)
    except (OSError, SEN2FormatError) as exc:
        found.error(("demand", "sen2_dir"), f"cannot read SEN2 files: {exc}")
        return
    except KeyError as exc:
        reason = exc.args[0] if exc.args else "unknown area"
        found.error(where, f"no SEN2 figures for {area!r}: {reason}")
        return
    except ValueError as exc:
        found.error(
            ("demand", "base_year"),
            f"the SEN2 figures of {area!r} cannot start a projection in January "
            f"{demand.base_year}: {exc}",
        )
        return
    _release_read(demand, inputs, found)
    _starting_state(s, demand, inputs, found)
    if not found.errors:
        _central_path(s, demand, inputs, found)


def _release_read(demand: Any, inputs: CohortInputs, found: _Findings) -> None:
    """Name a SEN2 release other than the shipped one, and a fit made on other data."""
    read_from = "demand.sen2_dir" if demand.sen2_dir else "the SEN2 extract shipped with placeplan"
    fitted = demand.calibration.release if demand.calibration is not None else None
    if fitted is not None and fitted != inputs.release:
        found.warn(
            ("demand", "calibration", "release"),
            f"fitted on {fitted}, but the run reads {inputs.release} ({read_from}); "
            "expected the data the fit was made on: calibrate again, or set demand.sen2_dir "
            "to the folder it was fitted on",
        )
    if demand.sen2_dir is not None:
        from placeplan.sen2_diff import diff

        found.warn(("demand", "sen2_dir"), diff(demand.sen2_dir).summary())


def _starting_state(s: Scenario, demand: Any, inputs: CohortInputs, found: _Findings) -> None:
    """Refuse a starting state that SEN2 cannot give and the scenario does not."""
    given = demand.starting_state
    area = inputs.area
    year = inputs.base_year
    if given.special_school_children is None and not math.isfinite(inputs.caseload["special"]):
        found.error(
            ("demand", "starting_state", "special_school_children"),
            f"SEN2 publishes no count of children in special schools for {area} in "
            f"January {year}; expected demand.starting_state.special_school_children",
        )
    typed = bool(s.placement.initial_waiting)
    if given.list_size is None and not typed and not math.isfinite(inputs.caseload["ed_elsewhere"]):
        found.error(
            ("demand", "starting_state", "list_size"),
            f"SEN2 publishes no count of children educated elsewhere for {area} in "
            f"January {year}, from which the list at the start is derived; expected "
            "demand.starting_state.list_size (or placement.initial_waiting)",
        )
    if typed and given.list_size is not None:
        found.error(
            ("demand", "starting_state", "list_size"),
            "the list at the start is given twice (placement.initial_waiting too); "
            "expected one of them",
        )


def _central_path(s: Scenario, demand: Any, inputs: CohortInputs, found: _Findings) -> None:
    """Refuse demand whose central path (no uncertainty) already expects too many children.

    A run refuses any replication whose draw expects more referrals than placeplan
    follows; where even the central estimates do, every replication would, so
    validation says so first.
    """
    from placeplan.demand.referrals import draw_cohort_demand
    from placeplan.errors import InputError
    from placeplan.scenario import Uncertain

    central = demand.model_copy(
        update={
            name: Uncertain(mean=getattr(demand, name).centre)
            for name in (
                "new_plans_growth",
                "specialist_share_trend",
                "new_plans_growth_damping",
                "need_recoding",
            )
        }
        | {
            "new_plans_noise_sd": 0.0,
        }
    )
    rng = np.random.default_rng(0)
    try:
        draw_cohort_demand(central, inputs, s.designations, s.start, s.end, rng, rng)
    except InputError as exc:
        found.error(("demand", "new_plans_growth"), f"at the central estimates, {exc}")


@lru_cache(maxsize=16)
def cohort_inputs_for(area: str, base_year: int, sen2_dir: str | None = None) -> CohortInputs:
    """The cohort projection's SEN2 inputs, derived once per area and base year.

    Shared by validation and :attr:`placeplan.model.Model.cohort`, so a checked
    scenario's run pays nothing more; the arrays are read-only.

    ``sen2_dir`` is a folder of official SEN2 files (``demand.sen2_dir``), or None
    for the extract shipped with placeplan.

    Raises
    ------
    KeyError
        If SEN2 has no such area.
    ValueError
        If its figures cannot start a projection in ``base_year``.
    OSError, placeplan.sen2.SEN2FormatError
        If ``sen2_dir`` cannot be read.

    """
    from placeplan.demand.inputs import cohort_inputs

    inputs = cohort_inputs(area, base_year, sen2_dir=sen2_dir)
    for value in vars(inputs).values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return inputs


def _placement(s: Scenario, found: _Findings) -> None:
    from placeplan.scenario import MAX_CHILDREN, MAX_PLACES

    p = s.placement
    total = sum(d.places for d in p.designations.values()) + sum(
        b.places for b in p.build_programme
    )
    if total > MAX_PLACES:
        found.error(
            ("placement", "designations"),
            f"{total:,} places with the build programme; expected at most {MAX_PLACES:,}",
        )
    pools = (sum(len(x.places) for x in p.schools) if p.schools else len(p.designations)) + len(
        p.build_programme
    )
    if pools > MAX_POOLS:
        found.error(
            ("placement", "schools"),
            f"{pools:,} pools of places (school × designation, and projects); expected at "
            f"most {MAX_POOLS:,}",
        )
    for i, school in enumerate(p.schools):
        if school.temporary_until is not None and school.temporary_until <= s.start:
            found.warn(
                ("placement", "schools", i, "temporary_until"),
                f"{school.temporary_until} is not after the start ({s.start}): these places "
                "are closed to new pupils throughout the forecast",
            )
    for i, project in enumerate(p.build_programme):
        where = ("placement", "build_programme", i, "opens")
        if project.opens < s.start:
            found.error(
                where,
                f"opens on {project.opens}, before the forecast starts ({s.start}); count its "
                "places in placement.designations instead",
            )
        elif project.opens >= s.end:
            found.warn(
                where,
                f"opens on {project.opens}, after the forecast ends ({s.end}): its places "
                "play no part",
            )
    _waiting(s, found, MAX_CHILDREN)
    leaving = p.leaving
    nobody_leaves = leaving.mid_year_rate == 0 and not any(
        v > 0 for v in leaving.end_of_year.values()
    )
    explicit = {"end_of_year", "mid_year_rate"} <= leaving.model_fields_set
    cohort = getattr(s.demand, "model", None) == "cohort"  # leaves at the projection's rates
    if nobody_leaves and not explicit and not cohort:
        found.warn(
            ("placement", "leaving"),
            "nobody ever leaves a place (no end_of_year probabilities, mid_year_rate 0); "
            "if that is meant, write `end_of_year: {}` and `mid_year_rate: 0` explicitly",
        )
    every = p.panels.every_days
    if isinstance(every, int) and p.panels.first is not None and p.panels.first >= s.end:
        found.warn(
            ("placement", "panels", "first"),
            f"the first panel ({p.panels.first}) is after the forecast ends ({s.end}): no "
            "panel meets; referrals are decided at term starts only",
        )


def _waiting(s: Scenario, found: _Findings, max_children: int) -> None:
    groups = s.placement.initial_waiting
    total = sum(sum(g.children.values()) for g in groups)
    if total > max_children:
        found.error(
            ("placement", "initial_waiting"),
            f"{total:,} children on the list at the start; expected at most {max_children:,}",
        )
    start_year = TermCalendar.academic_year(s.start)
    for i, group in enumerate(groups):
        where = ("placement", "initial_waiting", i)
        if group.referred_from >= s.start:
            found.error(
                (*where, "referred_from"),
                f"{group.referred_from} is not before the start ({s.start}): children on the "
                "list at the start were referred before it",
            )
            continue
        if group.referred_to >= s.start:
            found.warn(
                (*where, "referred_to"),
                f"{group.referred_to} is not before the start ({s.start}); referrals are "
                "taken up to the day before the start",
            )
        years_ago = start_year - TermCalendar.academic_year(group.referred_from)
        if years_ago > group.age[0]:
            found.error(
                (*where, "age"),
                f"children aged {group.age[0]} at the start referred on "
                f"{group.referred_from} would have been referred before they were born "
                f"(aged {group.age[0] - years_ago}); expected a youngest age of at least "
                f"{years_ago}, or a later referred_from",
            )
