"""The scenario: every input of a forecast, validated in one place and frozen.

A scenario file (YAML or TOML) is read into :class:`Scenario`, a tree of frozen
pydantic models. Unknown keys are errors. Every parameter has a description and,
where it has one, a unit in its JSON Schema (``placeplan schema``).
"""

from __future__ import annotations

import hashlib
import json
import math
import weakref
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from placeplan.calendar import Term, TermCalendar
from placeplan.errors import ScenarioError, ScenarioIssue
from placeplan.scenario_files import read_scenario_file

__all__ = [
    "DEFAULT_NEW_NEEDS",
    "DS_AS_OTH_SOURCE",
    "NEEDS",
    "NEW_NEEDS",
    "PATHWAY_STAGES",
    "BacklogStage",
    "BuildProject",
    "CalendarSpec",
    "Calibration",
    "CohortDemand",
    "Council",
    "DemandLever",
    "DesignationSpec",
    "FixedReferrals",
    "InitialWaiting",
    "LeavingSpec",
    "LocalitySpec",
    "NewNeed",
    "OutOfArea",
    "PanelSpec",
    "PathwayBacklog",
    "PathwayFeed",
    "PathwayOutcomes",
    "PathwayRequests",
    "PathwaySpec",
    "PathwayStage",
    "PathwayStages",
    "PlacementSpec",
    "PoissonReferrals",
    "Scenario",
    "SchoolSpec",
    "StaffChange",
    "StaffGroup",
    "StartingState",
    "Uncertain",
    "load_scenario",
    "scenario_from_dict",
]

NEEDS: tuple[str, ...] = (
    "ASD",
    "HI",
    "MLD",
    "MSI",
    "OTH",
    "PD",
    "PMLD",
    "SEMH",
    "SLCN",
    "SLD",
    "SPLD",
    "VI",
    "DS",
)
"""Primary need codes of SEN2 (DfE), in the order used throughout placeplan.

Down syndrome (``DS``) is a primary need from SEN2 reporting year 2026; earlier
releases count those children under ``OTH`` (release 2025, data guidance, footnote 1
of the need files). It comes last so that the arrays of the earlier needs keep their
positions.
"""

Need = Literal[
    "ASD", "HI", "MLD", "MSI", "OTH", "PD", "PMLD", "SEMH", "SLCN", "SLD", "SPLD", "VI", "DS"
]

LAST_BASE_YEAR = 2026
"""Latest January a cohort projection may start from: that of SEN2 reporting year 2026
(published June 2026; the shipped extract ends at January 2025)."""

NEW_NEEDS: tuple[str, ...] = ("DS",)
"""Primary needs SEN2 added after placeplan's first scenarios were written: a scenario
may leave them out of ``demand.need_designation`` and place them by another need's
designations (``demand.new_needs``)."""

DS_AS_OTH_SOURCE = (
    "DfE, 'Education, health and care plans', reporting year 2025, data guidance, "
    "footnote 1 of the primary-need files: 'EHC plans where the primary need is Down "
    "Syndrome are included under \"other difficulty/disability\"'. Placed by OTH's "
    "designations, children with Down syndrome are placed as they were while SEN2 "
    "counted them under OTH (reporting year 2026 made Down syndrome a primary need)"
)
"""Source of the default mapping of Down syndrome (``DS``) to OTH's designations."""

SEN2Age = Annotated[int, Field(ge=0, le=25)]
"""An age as SEN2 counts it: at 31 August before the academic year, 0–25 [years]."""


def _ordered(ages: tuple[int, int]) -> tuple[int, int]:
    if ages[0] > ages[1]:
        raise ValueError(f"expected (youngest, oldest) with youngest <= oldest, got {list(ages)}")
    return ages


AgeRange = Annotated[tuple[SEN2Age, SEN2Age], AfterValidator(_ordered)]
"""Youngest and oldest SEN2 age, both included [years]."""


def _units(units: str) -> dict[str, str]:
    return {"units": units}


FIRST_DAY = date(1990, 9, 1)
"""First day of the supported calendar (the autumn term 1990)."""

LAST_DAY = date(2399, 8, 31)
"""Last day a date in a scenario may be (the summer term 2399); forecasts end by 2400."""

MAX_PLACES = 1_000_000
"""Most places of one designation, school or project, and in all [places]."""

MAX_CHILDREN = 1_000_000
"""Most children on the list at the start, and expected referrals in a forecast [children]."""

MAX_RATE = 1_000_000.0
"""Highest referral rate of a designation [children per year]."""

MAX_ROUTE = 100
"""Most designations a need's ranked list, or a designation's ``also_serves``, names."""

Day = Annotated[
    date,
    Field(ge=FIRST_DAY, le=LAST_DAY, json_schema_extra={"range": f"{FIRST_DAY} to {LAST_DAY}"}),
]
"""A date inside the supported calendar."""


class _Model(BaseModel):
    """Base of every scenario model: frozen, unknown keys are errors, numbers are finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Uncertain(_Model):
    """A parameter known only with uncertainty, drawn once per replication.

    Written in one of four forms:

    - a plain number, or ``{mean: m}``: fixed;
    - ``{mean: m, sd: s}``: normal;
    - ``{low: a, high: b}``: uniform between ``a`` and ``b``;
    - ``{low: a, mode: c, high: b}``: triangular.

    Each replication draws one uniform ``u`` for the parameter from its own stream
    (:meth:`placeplan.streams.Streams.assumption`) and takes the ``u``-quantile
    (:meth:`ppf`), so pinning ``u`` (as ``placeplan sensitivity`` does, at the 10th
    and 90th percentiles) moves one assumption while every other draw stays the
    same. A normal is clipped to the parameter's bounds.
    """

    mean: float | None = Field(None, description="Central estimate (fixed or normal form).")
    sd: float = Field(
        0.0, ge=0, le=1e6, description="Standard deviation; 0 makes the parameter fixed."
    )
    low: float | None = Field(None, description="Lowest value (uniform or triangular form).")
    mode: float | None = Field(None, description="Most likely value (triangular form).")
    high: float | None = Field(None, description="Highest value (uniform or triangular form).")
    source: str = Field("", description="Where the distribution comes from, or 'assumption: ...'.")

    @model_validator(mode="before")
    @classmethod
    def _number(cls, data: object) -> object:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"mean": data}
        return data

    @model_validator(mode="after")
    def _form(self) -> Uncertain:
        ranged = self.low is not None or self.high is not None
        if self.mean is not None and (ranged or self.mode is not None):
            raise ValueError("give either mean (and sd) or low and high (and mode), not both")
        if self.mean is None:
            if self.low is None or self.high is None:
                raise ValueError("give a number, {mean, sd}, {low, high} or {low, mode, high}")
            if self.sd:
                raise ValueError("sd goes with mean, not with low and high")
            if not self.low <= self.high:
                raise ValueError(f"low {self.low} is above high {self.high}")
            if self.mode is not None and not self.low <= self.mode <= self.high:
                raise ValueError(f"mode {self.mode} is outside [{self.low}, {self.high}]")
        return self

    @property
    def fixed(self) -> bool:
        """True if the parameter takes one value in every replication."""
        if self.mean is not None:
            return self.sd == 0
        return self.low == self.high

    @property
    def centre(self) -> float:
        """The central value: the mean, the mode, or the midpoint."""
        if self.mean is not None:
            return self.mean
        assert self.low is not None and self.high is not None
        return self.mode if self.mode is not None else (self.low + self.high) / 2

    @property
    def bounds(self) -> tuple[float, float]:
        """Lowest and highest value a draw can take (±inf for a normal)."""
        if self.mean is not None:
            return (self.mean, self.mean) if self.sd == 0 else (-math.inf, math.inf)
        assert self.low is not None and self.high is not None
        return self.low, self.high

    def ppf(self, u: float, lo: float = -math.inf, hi: float = math.inf) -> float:
        """The ``u``-quantile of the distribution, clipped to ``[lo, hi]``.

        Parameters
        ----------
        u : float
            Probability in (0, 1).
        lo, hi : float
            The parameter's own bounds.
        """
        if self.mean is not None:
            if self.sd == 0:
                x = self.mean
            else:
                from statistics import NormalDist

                x = self.mean + self.sd * NormalDist().inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        else:
            a, b = float(self.low), float(self.high)  # type: ignore[arg-type]
            if self.mode is None or a == b:
                x = a + u * (b - a)
            else:
                c = (self.mode - a) / (b - a)
                x = a + (b - a) * (math.sqrt(u * c) if u < c else 1 - math.sqrt((1 - u) * (1 - c)))
        return min(max(x, lo), hi)

    def __format__(self, spec: str) -> str:
        """A fixed value formats as its number; a distribution as :meth:`describe`."""
        return format(self.centre, spec) if self.fixed else self.describe()

    def extreme(self, sigmas: float = 6.0) -> float:
        """The largest magnitude a draw can reach (``|mean| + sigmas × sd`` for a normal)."""
        if self.mean is not None:
            return abs(self.mean) + sigmas * self.sd
        return max(abs(float(self.low)), abs(float(self.high)))  # type: ignore[arg-type]

    def describe(self) -> str:
        """The distribution in words, e.g. ``uniform 0.5–1.5`` or ``normal 0.12 ± 0.01``."""
        if self.mean is not None:
            return f"{self.mean:g}" if self.sd == 0 else f"normal {self.mean:g} ± {self.sd:g}"
        if self.mode is None:
            return f"uniform {self.low:g}–{self.high:g}"
        return f"triangular {self.low:g}–{self.high:g}, mode {self.mode:g}"


def uncertain_within(lo: float, hi: float, name: str) -> AfterValidator:
    """A validator keeping every value an :class:`Uncertain` can take inside ``[lo, hi]``.

    A normal may have tails beyond the bounds (its draws are clipped to them), but its
    mean must lie inside.
    """

    def check(value: Uncertain) -> Uncertain:
        a, b = (value.mean, value.mean) if value.mean is not None else value.bounds
        if not (lo <= a and b <= hi):
            raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}]; got {value.describe()}")
        return value

    return AfterValidator(check)


class Council(_Model):
    """The local authority the scenario plans for."""

    code: str = Field(pattern=r"^E\d{8}$", description="ONS code of the council, e.g. E10000015.")
    name: str = Field(min_length=1, description="Council name, e.g. Hertfordshire.")


class TermStart(_Model):
    """An explicit first day of term, overriding the default rule."""

    academic_year: int = Field(ge=1990, le=2399, description="Year the academic year starts.")
    term: Literal["autumn", "spring", "summer"] = Field(description="Which term.")
    starts: date = Field(
        description=(
            "First day of the term: 1 September (autumn), in January or February "
            "(spring), or from 1 March to 1 June (summer) of that academic year."
        )
    )

    @model_validator(mode="after")
    def _check(self) -> TermStart:
        year = self.academic_year
        if self.term == "autumn" and self.starts != date(year, 9, 1):
            raise ValueError(f"the autumn term of {year} must start on {date(year, 9, 1)}")
        if self.term == "spring" and not date(year + 1, 1, 1) <= self.starts <= date(
            year + 1, 2, 28
        ):
            raise ValueError(
                f"the spring term of {year} must start in January or February {year + 1}"
            )
        if self.term == "summer" and not date(year + 1, 3, 1) <= self.starts <= date(
            year + 1, 6, 1
        ):
            raise ValueError(
                f"the summer term of {year} must start between 1 March and 1 June {year + 1}"
            )
        return self


class CalendarSpec(_Model):
    """Term dates, snapshots and the definition of a long wait."""

    term_starts: tuple[TermStart, ...] = Field(
        (), max_length=2000, description="Council term dates overriding the default rules."
    )
    long_wait_terms: int = Field(
        3,
        ge=1,
        le=12,
        description=(
            "A child still waiting counts as waiting longer than this many terms once "
            "this many whole terms have passed since the end of the term of referral."
        ),
        json_schema_extra=_units("terms"),
    )
    snapshots: Literal["census"] | Annotated[float, Field(ge=1)] = Field(
        "census",
        description=(
            "When the measures are recorded: at the end of each census day ('census'), or "
            "every so many days from the start (a number of at least 1; e.g. 365.25 for "
            "yearly; at most 4,000 snapshots in a forecast)."
        ),
        json_schema_extra=_units("days"),
    )
    long_wait_weeks: float = Field(
        52,
        gt=0,
        le=1000,
        description="Threshold of the second long-wait measure.",
        json_schema_extra=_units("weeks"),
    )

    def build(self) -> TermCalendar:
        """The :class:`~placeplan.calendar.TermCalendar` these settings describe."""
        return TermCalendar(
            {(t.academic_year, int(Term[t.term.upper()])): t.starts for t in self.term_starts}
        )


class Calibration(_Model):
    """How a demand section was fitted (written by ``placeplan calibrate``)."""

    method: str = Field(description="The calibration method.")
    command: str = Field(description="The command that wrote the section.")
    origin: int = Field(description="Last January of data used.")
    release: str = Field(description="The SEN2 release(s) fitted on.")
    placeplan_version: str = Field(description="placeplan version that fitted it.")
    diagnostics: dict[str, float | int | str] = Field(
        default_factory=dict, description="Fit diagnostics (raw estimates, years used, …)."
    )


class StartingState(_Model):
    """Children needing a special school place at the start, derived from SEN2.

    Each number is derived from the SEN2 January caseload of the base year (see
    :mod:`placeplan.demand.start`) unless given here, and the run's provenance
    records its derivation.
    """

    special_school_children: int | None = Field(
        None,
        ge=0,
        le=MAX_CHILDREN,
        description=(
            "Children with plans in special schools of every type (state-funded, "
            "independent, non-maintained) at the start; SEN2 `special_total` if omitted."
        ),
        json_schema_extra=_units("children"),
    )
    placed_elsewhere: int | None = Field(
        None,
        ge=0,
        le=MAX_CHILDREN,
        description=(
            "Of those, children placed outside the council's own places (independent, "
            "non-maintained, other councils' schools); the special school children less "
            "the places filled if omitted."
        ),
        json_schema_extra=_units("children"),
    )
    list_size: int | None = Field(
        None,
        ge=0,
        le=MAX_CHILDREN,
        description=(
            "Children on the referral list at the start; SEN2 `ed_elsewhere` × "
            "list_share_of_educated_elsewhere (drawn per replication) if omitted."
        ),
        json_schema_extra=_units("children"),
    )
    list_share_of_educated_elsewhere: Annotated[
        Uncertain, uncertain_within(0, 20, "list_share_of_educated_elsewhere")
    ] = Field(
        Uncertain(
            low=0.5,
            high=1.5,
            source=(
                "assumption: SEN2 'educated elsewhere' counts children out of school the "
                "council educates otherwise; some are not waiting for a special school "
                "place, and children waiting in unsuitable mainstream schools are not "
                "counted at all"
            ),
        ),
        description=(
            "Children on the list at the start per child with a plan 'educated elsewhere' "
            "in the SEN2 January caseload."
        ),
    )
    list_mean_terms_waited: Annotated[
        Uncertain, uncertain_within(0, 30, "list_mean_terms_waited")
    ] = Field(
        Uncertain(
            low=1.0,
            high=3.0,
            source=(
                "assumption: no council publishes how long its list has waited; "
                "Hertfordshire's March 2024 figures (fewer than 70 over a year) fit a "
                "mean of one to three terms"
            ),
        ),
        description=(
            "Mean time the children on the list at the start have already waited: each "
            "child's wait is exponential with this mean, drawn per replication."
        ),
        json_schema_extra=_units("terms"),
    )
    source: str = Field("", description="Where overrides come from.")


class DemandLever(_Model):
    """A policy that changes demand from a date, with uncertainty (e.g. a reform).

    From ``from_date`` on, new plans are multiplied by ``new_plans_factor`` (who gets
    a plan), and the children newly needing a special school place by
    ``specialist_need_factor`` (who needs a place); children already needing one
    keep that need (in the year of the date, the factors apply to the part of the
    year after it).
    """

    name: str = Field(description="What the lever is.")
    from_date: Day = Field(alias="from", description="The day it takes effect.")
    new_plans_factor: Annotated[Uncertain, uncertain_within(0, 5, "new_plans_factor")] = Field(
        Uncertain(mean=1.0), description="Multiplier of new plans from the date on."
    )
    specialist_need_factor: Annotated[
        Uncertain, uncertain_within(0, 5, "specialist_need_factor")
    ] = Field(
        Uncertain(mean=1.0),
        description=(
            "Multiplier of the children newly needing a special school place from the date "
            "on; those already needing one keep their need."
        ),
    )
    source: str = Field("", description="Where the lever and its figures come from.")

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True
    )


class NewNeed(_Model):
    """How children of a primary need new to SEN2 are placed: by another need's designations."""

    as_: Need = Field(
        alias="as",
        description=(
            "The need whose designations (``demand.need_designation``) place children of this one."
        ),
    )
    source: str = Field(
        min_length=1,
        description="Where the choice comes from, or 'assumption: ...' with the reasoning.",
    )

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True
    )


DEFAULT_NEW_NEEDS: dict[str, NewNeed] = {"DS": NewNeed(as_="OTH", source=DS_AS_OTH_SOURCE)}
"""Default placing of each of :data:`NEW_NEEDS` (sourced: :data:`DS_AS_OTH_SOURCE`)."""


class CohortDemand(_Model):
    """Demand from a cohort projection of EHC plans by age × primary need, from SEN2."""

    model: Literal["cohort"] = Field(description="Demand model: a cohort projection.")
    sen2_area: str | None = Field(
        None,
        description="ONS code of the SEN2 area to calibrate on; the council's when omitted.",
    )
    sen2_dir: str | None = Field(
        None,
        min_length=1,
        max_length=4096,
        description=(
            "A folder of official SEN2 files (as `--sen2-dir` takes them, e.g. a newer "
            "release) to read instead of the extract shipped with placeplan; relative to "
            "the scenario file that names it. The run's provenance records its files and "
            "their SHA-256."
        ),
    )
    base_year: int = Field(
        2025,
        ge=2019,
        le=LAST_BASE_YEAR,
        description=(
            "January of the SEN2 stock the projection starts from (2026 needs a release "
            "of 2026 or later: demand.sen2_dir)."
        ),
    )
    new_plans_growth: Annotated[Uncertain, uncertain_within(-1, 1, "new_plans_growth")] = Field(
        description=(
            "Yearly growth of new plans, on the log scale (0.05 is about 5% a year): "
            "the drift of the logarithm of new plans. Over the forecast, six standard "
            "deviations of growth and noise may multiply new plans at most 10,000-fold."
        ),
        json_schema_extra=_units("per year"),
    )
    new_plans_growth_damping: Annotated[
        Uncertain, uncertain_within(1e-6, 1, "new_plans_growth_damping")
    ] = Field(
        Uncertain(mean=1.0),
        description=(
            "Damping of that growth: in the k-th year after the latest published year the "
            "drift is growth × damping^(k-1); 1 keeps the growth for ever."
        ),
    )
    new_plans_noise_sd: float = Field(
        0.0,
        ge=0,
        le=1,
        description=(
            "Year-to-year variation of new plans: sd of each year's step of the log of new "
            "plans around the drift (the steps add up, as in a random walk). Calibrated: "
            "the national path's yearly shocks, which every council shares."
        ),
        json_schema_extra=_units("per year"),
    )
    new_plans_transient_sd: float = Field(
        0.0,
        ge=0,
        le=2,
        description=(
            "The council's own year-to-year noise of new plans around its trend: sd of "
            "each year's deviation of the log of new plans (deviations do not add up)."
        ),
        json_schema_extra=_units("1 (log)"),
    )
    new_plans_anchor: float = Field(
        0.0,
        ge=-3,
        le=3,
        description=(
            "Where the growth of new plans starts from, relative to the latest published "
            "year: the council's fitted level that year less the published value, on the "
            "log scale (0: from the published value)."
        ),
        json_schema_extra=_units("1 (log)"),
    )
    ceasing_noise_sd: float = Field(
        0.0,
        ge=0,
        le=0.5,
        description=(
            "Year-to-year variation of ceasing: sd of a year's deviation of the share of "
            "plans ceasing (the stock identity) from its mean; every age's rate moves in "
            "proportion. Calibrated from the council's own years."
        ),
        json_schema_extra=_units("per year"),
    )
    need_recoding: Annotated[Uncertain, uncertain_within(0, 1, "need_recoding")] = Field(
        Uncertain(mean=1.0),
        description=(
            "Share of continuing plans each year whose recorded primary need follows the "
            "base-year need mix of their new age (1: each age keeps its base-year mix; "
            "0: a plan's need never changes)."
        ),
        json_schema_extra=_units("per year"),
    )
    ceasing_scale: Annotated[Uncertain, uncertain_within(0, 5, "ceasing_scale")] = Field(
        Uncertain(mean=1.0),
        description=(
            "Multiplier of the SEN2 ceasing rates by age (averaged over the years "
            "published): how fast plans, and with them the need for a place, end. 1 keeps "
            "the published average."
        ),
    )
    specialist_share_trend: Annotated[
        Uncertain, uncertain_within(-1, 1, "specialist_share_trend")
    ] = Field(
        Uncertain(mean=0.0),
        description=(
            "Yearly relative change in the share of plans needing a special school place "
            "(in one, waiting for one, or placed in an independent or out-of-area school; "
            "log scale; 0.01 is about +1% a year)."
        ),
        json_schema_extra=_units("per year"),
    )
    referral_ages: AgeRange = Field(
        (4, 15),
        description="Youngest and oldest SEN2 age (at 31 August) referred for a place.",
        json_schema_extra=_units("years"),
    )
    need_designation: dict[
        Need, str | Annotated[list[str], Field(min_length=1, max_length=MAX_ROUTE)]
    ] = Field(
        description=(
            "Which special school designation meets each primary need: a designation, or a "
            "ranked list of designations whose places can serve it (e.g. `MLD: [MLD, SLD]`). "
            "The first is the child's own designation (its places first; the child is "
            "counted under it); the others are offered, in order, only after every child "
            "waiting has been offered places of their own designation."
        )
    )
    need_designation_source: str = Field(
        "assumption: each primary need is met by the designations named for it, in the order given",
        description=(
            "Where the designations of each need and their order come from, or "
            "'assumption: ...' with the reasoning."
        ),
    )
    new_needs: dict[Literal["DS"], NewNeed] = Field(
        DEFAULT_NEW_NEEDS,
        description=(
            "Primary needs new to SEN2 (Down syndrome, DS, from reporting year 2026) that "
            "`need_designation` does not name: placed by the designations of the need "
            "given as `as`. Default: DS as OTH, under which SEN2 counted it before 2026. "
            "A need named in `need_designation` is placed as named there."
        ),
    )
    levers: tuple[DemandLever, ...] = Field(
        (),
        max_length=20,
        description="Dated policy levers on demand (e.g. the 2026 Schools White Paper).",
    )
    starting_state: StartingState = Field(
        StartingState(),
        description=(
            "Children needing a special school place at the start: in the council's "
            "places, placed elsewhere, and on the list (derived from SEN2 unless given)."
        ),
    )
    source: str = Field("", description="Where the parameters come from.")
    calibration: Calibration | None = Field(
        None, description="How the fitted parameters were fitted, if by placeplan calibrate."
    )

    @property
    def designation_routes(self) -> dict[str, tuple[str, ...]]:
        """The ranked designations of each primary need, the need's own first.

        Every need of :data:`NEEDS`, in that order: a need that ``need_designation``
        does not name takes the designations of the need ``new_needs`` places it as.
        """
        given = {
            need: (names,) if isinstance(names, str) else tuple(names)
            for need, names in self.need_designation.items()
        }
        return {
            need: given[need] if need in given else given[self.new_needs[need].as_]
            for need in NEEDS
        }

    @property
    def placed_as(self) -> dict[str, tuple[str, str]]:
        """Needs placed by another need's designations: need -> (that need, source)."""
        return {
            need: (self.new_needs[need].as_, self.new_needs[need].source)
            for need in NEEDS
            if need not in self.need_designation
        }

    @property
    def own_designation(self) -> dict[str, str]:
        """The designation of each primary need: the first it names."""
        return {need: names[0] for need, names in self.designation_routes.items()}

    @model_validator(mode="after")
    def _check(self) -> CohortDemand:
        missing = [n for n in NEEDS if n not in self.need_designation and n not in self.new_needs]
        if missing:
            raise ValueError(f"need_designation lacks the needs {', '.join(missing)}")
        for need, spec in self.new_needs.items():
            if need not in self.need_designation and spec.as_ not in self.need_designation:
                raise ValueError(
                    f"new_needs.{need}.as is {spec.as_}, which need_designation does not "
                    f"name; expected one of {', '.join(self.need_designation)}"
                )
        lo, hi = self.referral_ages
        if not 0 <= lo <= hi <= 25:
            raise ValueError("referral_ages must satisfy 0 <= youngest <= oldest <= 25")
        return self


class FixedReferrals(_Model):
    """Deterministic referrals: a fixed number in each term (for validation and teaching)."""

    model: Literal["fixed"] = Field(description="Demand model: fixed referrals per term.")
    per_term: dict[str, tuple[Annotated[int, Field(ge=0, le=100_000)], ...]] = Field(
        description=(
            "Referrals in each term from the start term on, by designation; the last "
            "value repeats to the horizon."
        ),
        json_schema_extra=_units("children per term"),
    )
    arrival: Literal["term_start", "spread"] = Field(
        "term_start",
        description="Referrals arrive on the first day of the term, or spread evenly over it.",
    )
    age: int = Field(
        7,
        ge=0,
        le=25,
        description="SEN2 age of the children when referred.",
        json_schema_extra=_units("years"),
    )

    @model_validator(mode="after")
    def _check(self) -> FixedReferrals:
        for key, values in self.per_term.items():
            if not values:
                raise ValueError(f"per_term.{key} needs at least one value")
        return self


class PoissonReferrals(_Model):
    """Referrals as a Poisson process at a constant rate (to check against queueing theory)."""

    model: Literal["poisson"] = Field(description="Demand model: Poisson referrals.")
    rate: dict[str, Annotated[float, Field(ge=0, le=MAX_RATE)]] = Field(
        description="Referrals a year, by designation.",
        json_schema_extra=_units("children per year"),
    )
    age: int = Field(
        7,
        ge=0,
        le=25,
        description="SEN2 age of the children when referred.",
        json_schema_extra=_units("years"),
    )


Demand = Annotated[CohortDemand | FixedReferrals | PoissonReferrals, Field(discriminator="model")]


class DesignationSpec(_Model):
    """Special school places of one designation at the start of the forecast."""

    places: int = Field(
        ge=0, le=MAX_PLACES, description="Places at the start.", json_schema_extra=_units("places")
    )
    source: str = Field("", description="Where the figure comes from, or 'assumption: ...'.")
    also_serves: list[str] = Field(
        default_factory=list,
        max_length=MAX_ROUTE,
        description=(
            "Other designations whose children these places may also serve, after their own "
            "designation's places (and the designations their need names), once every child "
            "waiting has been offered places of their own designation."
        ),
    )
    also_serves_source: str = Field(
        "", description="Where `also_serves` comes from, or 'assumption: ...'."
    )


class PanelSpec(_Model):
    """When provision panels decide on referrals."""

    every_days: Annotated[int, Field(ge=1, le=366)] | Literal["continuous"] | None = Field(
        14,
        description=(
            "Days between panel meetings; null: referrals are decided at term starts only; "
            "'continuous': a child is offered a place the moment one is free (no panels, "
            "no terms: the queueing-theory limit)."
        ),
        json_schema_extra=_units("days"),
    )
    first: Day | None = Field(
        None, description="Date of the first meeting on or after the start; the start if null."
    )
    start_places: Literal["next_term", "immediate"] = Field(
        "next_term",
        description=(
            "When a child offered a place at a panel takes it up: at the next term start, "
            "or at once. Children matched at a term start take the place up at once."
        ),
    )


class LeavingSpec(_Model):
    """When children leave special school places, or the referral list."""

    end_of_year: dict[Annotated[int, Field(ge=0, le=25)], Annotated[float, Field(ge=0, le=1)]] = (
        Field(
            default_factory=dict,
            description=(
                "Probability of leaving at the end of the academic year, by SEN2 age in "
                "that year; 1 is the age-out age."
            ),
        )
    )
    mid_year_rate: float = Field(
        0.0,
        ge=0,
        le=50,
        description=(
            "Rate of leaving a place at other times (moving away, other provision), from "
            "taking the place up: exponential stays."
        ),
        json_schema_extra=_units("per year"),
    )
    list_rate: float | None = Field(
        None,
        ge=0,
        le=50,
        description=(
            "Rate of leaving the referral list before a place (moving away, other "
            "provision), from referral; the mid-year rate if null."
        ),
        json_schema_extra=_units("per year"),
    )
    source: str = Field("", description="Where the rates come from.")


class InitialWaiting(_Model):
    """A group of children already on the referral list at the start."""

    children: dict[str, Annotated[int, Field(ge=0, le=MAX_CHILDREN)]] = Field(
        description="Children waiting at the start, by designation.",
        json_schema_extra=_units("children"),
    )
    referred_from: Day = Field(
        description="Earliest referral date of those waiting (before the start)."
    )
    referred_to: Day = Field(
        description="Latest referral date of those waiting (the day before the start at most)."
    )
    age: AgeRange = Field(
        (4, 14),
        description="Range of SEN2 ages of those waiting.",
        json_schema_extra=_units("years"),
    )
    source: str = Field("", description="Where the figures come from.")

    @model_validator(mode="after")
    def _check(self) -> InitialWaiting:
        if self.referred_to < self.referred_from:
            raise ValueError("referred_to is before referred_from")
        if self.age[0] > self.age[1]:
            raise ValueError("age range must be (youngest, oldest)")
        return self


class LocalitySpec(_Model):
    """A planning area (for Hertfordshire, a DSPL area) where children live and schools are."""

    share: float = Field(
        gt=0,
        le=1e6,
        description="Share of referrals from this locality (shares are normalised).",
    )
    neighbours: tuple[str, ...] = Field(
        (), description="Localities whose schools are offered next, in order, before the rest."
    )


Ages = Annotated[AgeRange, Field(description="Youngest and oldest SEN2 age taken.")]


class SchoolSpec(_Model):
    """A special school: its places by designation, age range and locality."""

    name: str = Field(min_length=1, description="School name.")
    locality: str = Field(description="Locality of the school.")
    places: dict[str, Annotated[int, Field(ge=0, le=MAX_PLACES)]] = Field(
        description="Places at the start by designation.", json_schema_extra=_units("places")
    )
    ages: AgeRange = Field(
        (0, 25),
        description="Youngest and oldest SEN2 age the school takes (any, by default).",
        json_schema_extra=_units("years"),
    )
    temporary_until: Day | None = Field(
        None,
        description=(
            "For temporary places (bulge classes, satellites): the day their places close "
            "to new pupils; pupils already there stay."
        ),
    )
    source: str = Field("", description="Where the figures come from.")


class BuildProject(_Model):
    """A capital project that opens special school places."""

    name: str = Field(min_length=1, description="Project name.")
    designation: str = Field(description="Designation of the new places.")
    places: int = Field(
        ge=1, le=MAX_PLACES, description="Places opened.", json_schema_extra=_units("places")
    )
    locality: str | None = Field(
        None, description="Locality of the new places; the first locality if null."
    )
    ages: AgeRange = Field(
        (0, 25),
        description="Youngest and oldest SEN2 age the new places take (any, by default).",
        json_schema_extra=_units("years"),
    )
    opens: Day = Field(
        description="Planned first day the places can be used (on or after the start)."
    )
    cost_gbp: float | None = Field(
        None, ge=0, le=1e12, description="Capital cost.", json_schema_extra=_units("GBP")
    )
    slippage: dict[Annotated[int, Field(ge=0, le=30)], Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: {0: 1.0},
        description=(
            "Probability of opening each number of terms late (0: on time), drawn per "
            "replication; a late project opens on the first day of that later term."
        ),
        json_schema_extra=_units("terms"),
    )
    source: str = Field("", description="Where the project comes from, or 'assumption: ...'.")

    @model_validator(mode="after")
    def _check(self) -> BuildProject:
        total = sum(self.slippage.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"slippage probabilities add up to {total:g}, not 1")
        return self


class OutOfArea(_Model):
    """The fallback: an out-of-area independent or non-maintained special school place."""

    after_terms: int | None = Field(
        None,
        ge=0,
        le=12,
        description=(
            "A child still waiting once this many whole terms have passed since the end of "
            "the term of referral is placed out of area, on the first day of the next term; "
            "null: never after a wait."
        ),
        json_schema_extra=_units("terms"),
    )
    at_once: tuple[str, ...] = Field(
        (), description="Designations whose children are placed out of area on referral."
    )
    rate: Annotated[Uncertain, uncertain_within(0, 10, "out_of_area.rate")] = Field(
        Uncertain(mean=0.0),
        description=(
            "Rate at which a child on the list is placed in an independent or out-of-area "
            "school while waiting, whatever the wait (exponential, from referral or the "
            "start): the route councils take case by case; 0: none."
        ),
        json_schema_extra=_units("per year"),
    )
    yearly_cost_gbp: float = Field(
        0.0,
        ge=0,
        le=1e9,
        description="Cost of one out-of-area place for a year.",
        json_schema_extra=_units("GBP per year"),
    )
    source: str = Field("", description="Where the policy and cost come from.")


class PlacementSpec(_Model):
    """Special school places, panels, leaving and the build programme."""

    designations: dict[str, DesignationSpec] = Field(
        min_length=1,
        max_length=50,
        description=(
            "Designations of special school places, with the places at the start (in the "
            "first locality, for all ages, unless `schools` give them school by school)."
        ),
    )
    localities: dict[str, LocalitySpec] = Field(
        default_factory=lambda: {"county": LocalitySpec(share=1.0)},
        min_length=1,
        max_length=50,
        description=(
            "Localities: a child is offered a place in their own locality first, then in "
            "its neighbours, then anywhere in the county."
        ),
    )
    schools: tuple[SchoolSpec, ...] = Field(
        (),
        max_length=500,
        description=(
            "Schools with places by designation, age range and locality; when given, their "
            "places by designation must add up to `designations`."
        ),
    )
    initial_occupancy: float = Field(
        1.0, ge=0, le=1, description="Share of places filled at the start."
    )
    occupant_ages: AgeRange = Field(
        (4, 18),
        description=(
            "Range of SEN2 ages of the pupils in places at the start (spread as the "
            "council's special school pupils are, for a cohort scenario; evenly otherwise)."
        ),
        json_schema_extra=_units("years"),
    )
    panels: PanelSpec = Field(PanelSpec(), description="Provision panels.")
    leaving: LeavingSpec = Field(LeavingSpec(), description="Leaving places and the list.")
    initial_waiting: tuple[InitialWaiting, ...] = Field(
        (),
        max_length=1000,
        description=(
            "Children on the referral list at the start, in groups by when they were referred."
        ),
    )
    build_programme: tuple[BuildProject, ...] = Field(
        (), max_length=500, description="Capital projects."
    )
    out_of_area: OutOfArea = Field(
        OutOfArea(), description="When children are placed out of area, and at what cost."
    )
    priority: Literal["first_come_first_served", "out_of_school_first"] = Field(
        "first_come_first_served",
        description=(
            "Order in which waiting children are offered places: by referral (first come, "
            "first served — the same as longest wait first), or children out of school "
            "first, each group by referral."
        ),
    )
    out_of_school: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict,
        description="Share of the children referred who are out of school, by designation.",
    )


# ------------------------------------------------------------------ the EHC pathway
PATHWAY_STAGES: tuple[str, ...] = ("decision", "assessment", "plan")
"""Stages of the EHC needs-assessment pathway, in order (:class:`PathwayStages`)."""

MAX_REQUESTS = 1_000_000.0
"""Highest rate of requests for an assessment [requests per year]."""


class PathwayRequests(_Model):
    """Requests for an EHC needs assessment: a Poisson process whose yearly rate grows."""

    per_year: float = Field(
        ge=0,
        le=MAX_REQUESTS,
        description="Requests received in the base year.",
        json_schema_extra=_units("requests per year"),
    )
    base_year: int = Field(ge=1990, le=2399, description="Calendar year of `per_year`.")
    growth: Annotated[Uncertain, uncertain_within(-1, 1, "pathway.requests.growth")] = Field(
        Uncertain(mean=0.0),
        description=(
            "Yearly growth of requests on the log scale (0.05 is about 5% a year): the "
            "rate in calendar year y is per_year × exp(growth × (y − base_year)), drawn "
            "once per replication."
        ),
        json_schema_extra=_units("per year"),
    )
    ages: dict[SEN2Age, Annotated[float, Field(ge=0, le=1e9)]] | None = Field(
        None,
        description=(
            "Relative number of requests at each SEN2 age; by default the council's SEN2 "
            "new plans by age when the scenario has a cohort demand, else ages 0–25 as "
            "England's new plans of 2024 are spread (placeplan.pathway.requests)."
        ),
        json_schema_extra=_units("requests"),
    )
    source: str = Field("", description="Where the figures come from.")

    @model_validator(mode="after")
    def _check(self) -> PathwayRequests:
        if self.ages is not None and not sum(self.ages.values()) > 0:
            raise ValueError("ages must give some age a positive weight")
        return self


class PathwayOutcomes(_Model):
    """How requests end: withdrawn, refused, not issued after assessment, or a plan."""

    withdrawn: Annotated[Uncertain, uncertain_within(0, 1, "pathway.outcomes.withdrawn")] = Field(
        Uncertain(mean=0.0),
        description="Share of requests withdrawn before the decision (at its end).",
    )
    assess: Annotated[Uncertain, uncertain_within(0, 1, "pathway.outcomes.assess")] = Field(
        description="Of the requests decided, the share the council decides to assess."
    )
    issue: Annotated[Uncertain, uncertain_within(0, 1, "pathway.outcomes.issue")] = Field(
        description="Of the assessments, the share ending in a plan issued."
    )
    source: str = Field("", description="Where the shares come from.")


class PathwayStage(_Model):
    """One stage of the pathway: a FIFO queue served by one staff group.

    A case's time in the stage is its wait for a member of the staff group, their
    work on it, then the stage's fixed minimum (advice deadlines, consultation) and
    the case's own delay beyond it (``delay_weeks``, ``delay_cv``).
    """

    staff: str = Field(min_length=1, description="The staff group (a key of `pathway.staff`).")
    work_days: float = Field(
        gt=0,
        le=365,
        description="Mean work on one case: days of one full-time person's time.",
        json_schema_extra=_units("days"),
    )
    work_cv: float = Field(
        1.0,
        ge=0,
        le=5,
        description=(
            "Coefficient of variation of the work on a case (gamma distributed): 1 is "
            "exponential, 0 the same work on every case."
        ),
    )
    min_weeks: float = Field(
        0.0,
        ge=0,
        le=104,
        description=(
            "Fixed time after the work before the case moves on (statutory advice "
            "deadlines, consultation with schools and parents)."
        ),
        json_schema_extra=_units("weeks"),
    )
    delay_weeks: Annotated[Uncertain, uncertain_within(0, 260, "delay_weeks")] = Field(
        Uncertain(mean=0.0),
        description=(
            "Mean time each case spends in the stage beyond its minimum, for what the "
            "staff group does not control (health and social care advice, parents' "
            "consultation, permitted exceptions): drawn per case, log-normal with "
            "coefficient of variation `delay_cv`; 0 (the default) adds none. An "
            "Uncertain is drawn once per replication."
        ),
        json_schema_extra=_units("weeks"),
    )
    delay_cv: float = Field(
        1.0,
        ge=0,
        le=5,
        description=(
            "Coefficient of variation of a case's delay (log-normal): 0 gives every "
            "case the same delay."
        ),
    )
    source: str = Field("", description="Where the figures come from, or 'assumption: ...'.")


class PathwayStages(_Model):
    """The three stages, in order: the decision to assess, the assessment, the plan."""

    decision: PathwayStage = Field(description="From request to the decision whether to assess.")
    assessment: PathwayStage = Field(
        description="From the decision to assess to the decision whether to issue a plan."
    )
    plan: PathwayStage = Field(description="From the decision to issue to the final plan.")


class StaffChange(_Model):
    """A dated change of a staff group: appointments (+) or leavers (−)."""

    name: str = Field(min_length=1, description="What the change is.")
    from_date: Day = Field(alias="from", description="Day the change is made (appointed, left).")
    fte: float = Field(
        ge=-10_000,
        le=10_000,
        description="Staff added (positive) or leaving (negative).",
        json_schema_extra=_units("FTE"),
    )
    lead_weeks: float = Field(
        0.0,
        ge=0,
        le=520,
        description=(
            "Time from the date until the change takes effect on casework (recruitment, "
            "training); a leaver's lead time is their notice."
        ),
        json_schema_extra=_units("weeks"),
    )
    source: str = Field("", description="Where the change comes from, or 'assumption: ...'.")

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True
    )

    @property
    def effective(self) -> date:
        """First day the change acts on casework: the date plus the lead time."""
        return self.from_date + timedelta(days=round(self.lead_weeks * 7))


class StaffGroup(_Model):
    """A group of staff serving one or more stages (caseworkers, psychologists)."""

    fte: float = Field(
        ge=0,
        le=10_000,
        description=(
            "Staff working on the pathway before the changes listed (changes effective "
            "before the start are in force from the start)."
        ),
        json_schema_extra=_units("FTE"),
    )
    days_per_year: Annotated[Uncertain, uncertain_within(1, 366, "days_per_year")] = Field(
        description=(
            "Working days one full-time person gives this pathway's casework in a year "
            "(what calibration fits as the effective capacity)."
        ),
        json_schema_extra=_units("days per FTE per year"),
    )
    changes: tuple[StaffChange, ...] = Field(
        (), max_length=200, description="Dated appointments and leavers."
    )
    source: str = Field("", description="Where the figures come from, or 'assumption: ...'.")


class BacklogStage(_Model):
    """Open cases waiting in one stage at the start."""

    cases: int = Field(
        0, ge=0, le=MAX_CHILDREN, description="Open cases.", json_schema_extra=_units("requests")
    )
    mean_weeks_open: float = Field(
        0.0,
        ge=0,
        le=520,
        description=(
            "Mean time since those cases' requests (each drawn exponential with this "
            "mean): they enter the stage's queue at the start, in order of their request."
        ),
        json_schema_extra=_units("weeks"),
    )


class PathwayBacklog(_Model):
    """Cases open at the start, by the stage they are waiting in."""

    decision: BacklogStage = Field(BacklogStage(), description="Awaiting the decision to assess.")
    assessment: BacklogStage = Field(BacklogStage(), description="Being assessed.")
    plan: BacklogStage = Field(BacklogStage(), description="Awaiting their final plan.")
    source: str = Field("", description="Where the figures come from, or 'assumption: ...'.")


class PathwayFeed(_Model):
    """How the pathway moves the place referrals that come from new plans (cohort demand)."""

    shift_referrals: bool = Field(
        True,
        description=(
            "With cohort demand: move each referral for a place that comes from a new plan "
            "by the change in the pathway's time to plan (placeplan.pathway.feed)."
        ),
    )
    baseline_weeks_to_plan: float | None = Field(
        None,
        ge=0,
        le=520,
        description=(
            "Mean time to plan the cohort projection's new plans already embed; the "
            "replication's own mean for plans issued in the forecast's first calendar "
            "year if null."
        ),
        json_schema_extra=_units("weeks"),
    )
    source: str = Field("", description="Where the baseline comes from, or 'assumption: ...'.")


class PathwaySpec(_Model):
    """The EHC needs-assessment pathway: requests, decisions, assessments and plans.

    Requests arrive as a Poisson process; each passes the decision stage (withdrawn,
    refused, or assessed), an assessment (a plan, or not), and the plan stage. Each
    stage is a queue served by a staff group (:class:`PathwayStage`), first come, first
    served unless ``discipline`` says otherwise; see
    :mod:`placeplan.pathway`.
    """

    requests: PathwayRequests = Field(description="Requests for an assessment.")
    outcomes: PathwayOutcomes = Field(description="Shares of the ways a request ends.")
    stages: PathwayStages = Field(description="The stages and their staff groups.")
    staff: dict[str, StaffGroup] = Field(
        min_length=1, max_length=20, description="Staff groups, by name."
    )
    backlog: PathwayBacklog = Field(PathwayBacklog(), description="Open cases at the start.")
    discipline: Literal["fifo", "deadline_first"] = Field(
        "fifo",
        description=(
            "Order in which a staff group takes its waiting cases: 'fifo', first come, "
            "first served; 'deadline_first', the oldest request still under 20 weeks old, "
            "else the oldest request (the council works to the statutory deadline)."
        ),
    )
    target_pct_within_20_weeks: float | None = Field(
        None,
        ge=0,
        le=100,
        description="The council's target share of new plans issued within 20 weeks.",
        json_schema_extra=_units("%"),
    )
    target_source: str = Field("", description="Where the target comes from.")
    feed: PathwayFeed = Field(PathwayFeed(), description="The pathway's effect on place referrals.")
    calibration: Calibration | None = Field(
        None, description="How the section was fitted, if by placeplan (pathway calibration)."
    )
    source: str = Field("", description="Where the section comes from.")

    @model_validator(mode="after")
    def _check(self) -> PathwaySpec:
        import re

        for name in self.staff:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
                raise ValueError(
                    f"staff group {name!r}: expected a name of letters, digits and _ "
                    "starting with a letter"
                )
        for stage in PATHWAY_STAGES:
            group = getattr(self.stages, stage).staff
            if group not in self.staff:
                raise ValueError(
                    f"stages.{stage}.staff is {group!r}, which pathway.staff does not name; "
                    f"expected one of {', '.join(self.staff)}"
                )
        for name, group in self.staff.items():
            fte = group.fte
            for change in sorted(group.changes, key=lambda c: c.effective):
                fte += change.fte
                if fte < -1e-9:
                    raise ValueError(
                        f"staff.{name}: the change {change.name!r} (effective "
                        f"{change.effective}) leaves {fte:g} FTE, below none"
                    )
        return self


class Scenario(_Model):
    """Everything a forecast depends on, apart from the seed and the replications.

    Examples
    --------
    >>> import placeplan as pp
    >>> s = pp.load_scenario("herts-baseline")
    >>> s.council.name
    'Hertfordshire'

    """

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="Short identifier (lower case, no spaces)."
    )
    title: str = Field(min_length=1, description="Human-readable title.")
    description: str = Field("", description="What the scenario represents.")
    council: Council
    start: date = Field(
        ge=date(1995, 9, 1),
        le=LAST_DAY,
        json_schema_extra={"range": f"1995-09-01 to {LAST_DAY}"},
        description=(
            "First day of the forecast (for cohort demand, not before 1 January of the base year)."
        ),
    )
    years: float = Field(
        gt=0,
        le=350,
        description="Length of the forecast (at least a day; ending by 1 September 2400).",
        json_schema_extra=_units("years"),
    )
    calendar: CalendarSpec = Field(CalendarSpec(), description="Term dates and long waits.")
    demand: Demand
    placement: PlacementSpec
    pathway: PathwaySpec | None = Field(
        None,
        description=(
            "The EHC needs-assessment pathway (requests to plans, its staff and its "
            "20-week timeliness); none by default."
        ),
    )

    @property
    def warnings(self) -> tuple[ScenarioIssue, ...]:
        """Likely mistakes found when this scenario was loaded (file, line, field, message).

        Not errors: the scenario runs. Kept beside the scenario, not in it, so they
        play no part in equality or the digest; copies do not carry them. See
        :mod:`placeplan.validation`.
        """
        return _WARNINGS.get(id(self), ())

    @property
    def end(self) -> date:
        """First day after the forecast."""
        return self.start + timedelta(days=round(self.years * 365.25))

    @property
    def designations(self) -> tuple[str, ...]:
        """Designation codes in the scenario's order."""
        return tuple(self.placement.designations)

    def assumptions(self) -> dict[str, Uncertain]:
        """Every parameter that may be a distribution, by dotted path (fixed ones too).

        The paths are those of :data:`placeplan.streams.ASSUMPTIONS`; a parameter is
        listed when this scenario's demand model has it.
        """
        from placeplan.streams import ASSUMPTIONS, LEVER_FIELDS

        out: dict[str, Uncertain] = {}
        levers = getattr(self.demand, "levers", ())
        paths = [*ASSUMPTIONS] + [
            f"demand.levers.{i}.{field}" for i in range(len(levers)) for field in LEVER_FIELDS
        ]
        if self.pathway is not None:
            paths += [f"pathway.staff.{name}.days_per_year" for name in self.pathway.staff]
        for path in paths:
            value: Any = self
            for key in path.split("."):
                if isinstance(value, dict):
                    value = value.get(key)
                else:
                    value = value[int(key)] if key.isdigit() else getattr(value, key, None)
                if value is None:
                    break
            if isinstance(value, Uncertain):
                out[path] = value
        return out

    def canonical_json(self) -> str:
        """The resolved scenario as canonical JSON (sorted keys, defaults filled)."""
        data = self.model_dump(mode="json")
        if data.get("pathway") is None:  # scenarios without a pathway keep their digest
            data.pop("pathway", None)
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """SHA-256 of :meth:`canonical_json`: identifies the model inputs exactly."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def scenario_from_dict(
    data: Any, *, source: str = "<dict>", lines: dict | None = None, check_data: bool = True
) -> Scenario:
    """Validate a plain mapping as a :class:`Scenario`: the schema, then every rule.

    The schema (types, ranges, unknown keys) is checked first; a scenario that
    passes it is then checked as a whole by :func:`placeplan.validation.check`
    (dates against the forecast, sizes against memory, the SEN2 figures cohort
    demand needs). Likely mistakes are kept as :attr:`Scenario.warnings`.

    Parameters
    ----------
    data : Any
        The parsed file content.
    source : str
        Name used in error messages (normally the file path).
    lines : dict, optional
        Map from key paths to line numbers, for error messages.
    check_data : bool
        Check that the SEN2 figures a cohort projection needs exist (loads them
        once per area and base year, about a second the first time).

    Raises
    ------
    ScenarioError
        Listing every problem with its file, line and field path.

    """
    from placeplan.validation import check

    lines = lines or {}
    data = _with_sen2_dir_resolved(data, source, lines)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError.from_validation(
            exc, source=source, lines=lines, model=Scenario, data=data
        ) from None
    errors, warnings = check(scenario, source=source, lines=lines, check_data=check_data)
    if errors:
        raise ScenarioError(errors)
    if warnings:
        _WARNINGS[id(scenario)] = tuple(warnings)
        weakref.finalize(scenario, _WARNINGS.pop, id(scenario), None)
    return scenario


def _with_sen2_dir_resolved(data: Any, source: str, lines: dict) -> Any:
    """``demand.sen2_dir`` made absolute: relative to the file that names it.

    A key inherited through ``extends`` is relative to the file it is written in
    (``lines`` records it); a mapping not read from a file is relative to the working
    folder. The other keys are left as they are.
    """
    demand = data.get("demand") if isinstance(data, dict) else None
    if not isinstance(demand, dict) or not isinstance(demand.get("sen2_dir"), str):
        return data
    folder = Path(demand["sen2_dir"]).expanduser()
    if not folder.is_absolute():
        where = lines.get(("demand", "sen2_dir"))
        written_in = where[0] if isinstance(where, tuple) else source
        base = Path(written_in).parent if Path(written_in).is_file() else Path.cwd()
        folder = base / folder
    return {**data, "demand": {**demand, "sen2_dir": str(folder.resolve())}}


_WARNINGS: dict[int, tuple[ScenarioIssue, ...]] = {}
"""Warnings of the scenarios loaded and still alive, by ``id``."""


def load_scenario(
    path_or_name: str | Path, *, allow_outside: bool = False, check_data: bool = True
) -> Scenario:
    """Read and validate a scenario file, or a bundled scenario by name.

    Parameters
    ----------
    path_or_name : str or pathlib.Path
        A ``.yaml``, ``.yml`` or ``.toml`` file, or the name of a bundled scenario
        (see :func:`placeplan.bundled_scenarios`), e.g. ``"herts-baseline"``.
    allow_outside : bool
        Let ``extends`` name a file outside the scenario's folder (by default only
        bundled scenarios and files in the scenario's folder or below it).
    check_data : bool
        Check that the SEN2 figures a cohort projection needs exist.

    Returns
    -------
    Scenario
        The validated, frozen scenario; likely mistakes are in ``.warnings``.

    Raises
    ------
    ScenarioError
        When the file cannot be read or is invalid; the message names the file,
        the line, the field and what was expected.

    """
    from placeplan.bundled import resolve_scenario_path

    path = resolve_scenario_path(path_or_name)
    data, lines = read_scenario_file(path, allow_outside=allow_outside)
    return scenario_from_dict(data, source=str(path), lines=lines, check_data=check_data)
