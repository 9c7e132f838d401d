"""Candidate projects of a capital programme: the file, its schema and the opening options.

A candidates file (YAML or TOML, read like a scenario file: safe loading, the line of
every key) lists projects a council could build. Each names its places (designation,
ages, locality), its capital cost, the earliest and latest term it could open in and
the risk that it opens late. Unknown keys are errors; every error names the file, the
line and the field (``herts-candidates.yaml:12: candidates.0.cost_gbp: ...``).

An opening term is a date (the first term that starts on or after it, for
``earliest``; the last that starts on or before it, for ``latest``) or
``{academic_year: 2026, term: autumn}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from placeplan.calendar import Term, TermCalendar
from placeplan.errors import ScenarioError, ScenarioIssue, issue_at
from placeplan.scenario import MAX_PLACES, AgeRange, BuildProject, Day, Scenario
from placeplan.scenario_files import read_scenario_file

__all__ = [
    "MAX_CANDIDATES",
    "MAX_OPTIONS",
    "Candidate",
    "CandidateFile",
    "CandidateSet",
    "TermRef",
    "load_candidates",
]

MAX_CANDIDATES = 60
"""Most candidate projects in one file [1]."""

MAX_OPTIONS = 60
"""Most opening terms one candidate may have [terms] (20 years of three terms)."""

TermName = Literal["autumn", "spring", "summer"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class TermRef(_Model):
    """A term named by its academic year and which term."""

    academic_year: int = Field(ge=1990, le=2399, description="Year the academic year starts.")
    term: TermName = Field(description="Which term.")


Opening = Day | TermRef


class Candidate(_Model):
    """A project the council could build: places, cost, when it could open, and its risk."""

    name: str = Field(min_length=1, max_length=200, description="Project name (unique).")
    designation: str = Field(description="Designation of the new places.")
    places: int = Field(
        ge=1, le=MAX_PLACES, description="Places opened.", json_schema_extra={"units": "places"}
    )
    ages: AgeRange = Field(
        (0, 25),
        description="Youngest and oldest SEN2 age the places take (the age phase).",
        json_schema_extra={"units": "years"},
    )
    locality: str | None = Field(None, description="Locality; the scenario's first if null.")
    cost_gbp: float = Field(
        ge=0, le=1e12, description="Capital cost.", json_schema_extra={"units": "GBP"}
    )
    earliest: Opening = Field(description="Earliest opening: a date or {academic_year, term}.")
    latest: Opening | None = Field(
        None, description="Latest opening: a date or {academic_year, term}; earliest if null."
    )
    terms: tuple[TermName, ...] = Field(
        ("autumn", "spring", "summer"),
        min_length=1,
        description="Terms of the year the project may open in (e.g. only autumn).",
    )
    slippage: dict[Annotated[int, Field(ge=0, le=30)], Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: {0: 1.0},
        description="Probability of opening each number of terms late (0: on time).",
        json_schema_extra={"units": "terms"},
    )
    source: str = Field(
        min_length=1, description="Where the project and its cost come from, or 'assumption: ...'."
    )

    @model_validator(mode="after")
    def _check(self) -> Candidate:
        total = sum(self.slippage.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"slippage probabilities add up to {total:g}, not 1")
        return self


class CandidateFile(_Model):
    """A candidates file."""

    title: str = Field("", description="What the list is.")
    description: str = Field("", description="Where it comes from.")
    candidates: tuple[Candidate, ...] = Field(
        max_length=MAX_CANDIDATES, description="The candidate projects (may be empty)."
    )


@dataclass(frozen=True)
class CandidateSet:
    """Candidates checked against a scenario, each with the terms it may open in.

    Attributes
    ----------
    candidates : tuple of Candidate
        In the file's order.
    options : tuple of tuple of int
        For each candidate, the global term indices it may open in
        (:meth:`placeplan.calendar.TermCalendar.term_index`), earliest first.
    opens : tuple of tuple of datetime.date
        The first day of each of those terms.
    source : str
        The file read.
    """

    candidates: tuple[Candidate, ...]
    options: tuple[tuple[int, ...], ...]
    opens: tuple[tuple[date, ...], ...]
    source: str

    def __len__(self) -> int:
        return len(self.candidates)

    def project(self, i: int, option: int) -> BuildProject:
        """Candidate ``i`` opening at its ``option``-th term, as a scenario's build project."""
        c = self.candidates[i]
        return BuildProject(
            name=c.name,
            designation=c.designation,
            places=c.places,
            locality=c.locality,
            ages=c.ages,
            opens=self.opens[i][option],
            cost_gbp=c.cost_gbp,
            slippage=c.slippage,
            source=c.source,
        )

    def space_size(self) -> int:
        """Number of programmes: each candidate left out or opened in one of its terms [1]."""
        size = 1
        for opts in self.options:
            size *= 1 + len(opts)
        return size


def _first_index(calendar: TermCalendar, at: Opening, earliest: bool) -> int:
    if isinstance(at, TermRef):
        return 3 * at.academic_year + int(Term[at.term.upper()])
    index = calendar.term_index(at)
    if earliest and calendar.start_of_index(index) < at:
        index += 1  # the first term that starts on or after the date
    return index


def _options(
    c: Candidate, calendar: TermCalendar, first: int, last: int
) -> tuple[list[int], str | None]:
    lo = _first_index(calendar, c.earliest, True)
    hi = _first_index(calendar, c.latest if c.latest is not None else c.earliest, False)
    if c.latest is None:
        hi = lo
    if hi < lo:
        return [], "the latest opening is before the earliest"
    allowed = {int(Term[t.upper()]) for t in c.terms}
    out = [k for k in range(max(lo, first), min(hi, last) + 1) if k % 3 in allowed]
    if not out:
        start, end = calendar.start_of_index(first), calendar.start_of_index(last)
        return [], (
            f"no opening term between earliest and latest in the terms allowed "
            f"({', '.join(c.terms)}) from the forecast's first term ({start}) to its last "
            f"({end})"
        )
    if len(out) > MAX_OPTIONS:
        return [], f"{len(out)} opening terms; at most {MAX_OPTIONS}"
    return out, None


def load_candidates(path: str | Path, scenario: Scenario) -> CandidateSet:
    """Read a candidates file and check it against the scenario it is for.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.yaml``/``.yml`` or ``.toml`` file.
    scenario : Scenario
        The scenario the projects would be added to: designations and localities
        must be its own, and opening terms inside its forecast.

    Returns
    -------
    CandidateSet

    Raises
    ------
    ScenarioError
        Every problem, each with the file, line and field.
    """
    path = Path(path)
    source = str(path)
    data, lines = read_scenario_file(path)
    if "extends" in lines or (isinstance(data, dict) and "extends" in data):
        raise ScenarioError.single(source, "a candidates file extends nothing", 1, "extends")
    try:
        spec = CandidateFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError.from_validation(
            exc, source=source, lines=lines, model=CandidateFile, data=data
        ) from None
    calendar = scenario.calendar.build()
    first = calendar.term_index(scenario.start)
    if calendar.start_of_index(first) < scenario.start:
        first += 1
    last = calendar.term_index(scenario.end)
    if calendar.start_of_index(last) >= scenario.end:
        last -= 1
    issues: list[ScenarioIssue] = []
    seen: dict[str, int] = {}
    options: list[tuple[int, ...]] = []
    opens: list[tuple[date, ...]] = []
    localities = set(scenario.placement.localities)
    for i, c in enumerate(spec.candidates):
        loc = ("candidates", i)
        if c.name in seen:
            issues.append(
                issue_at(
                    (*loc, "name"), f"{c.name!r} is also candidate {seen[c.name]}", source, lines
                )
            )
        seen.setdefault(c.name, i)
        if c.designation not in scenario.designations:
            issues.append(
                issue_at(
                    (*loc, "designation"),
                    f"{c.designation!r} is no designation of {scenario.name}; expected one of: "
                    f"{', '.join(scenario.designations)}",
                    source,
                    lines,
                )
            )
        if c.locality is not None and c.locality not in localities:
            issues.append(
                issue_at(
                    (*loc, "locality"),
                    f"{c.locality!r} is no locality of {scenario.name}; expected one of: "
                    f"{', '.join(localities)}",
                    source,
                    lines,
                )
            )
        opts, problem = _options(c, calendar, first, last)
        if problem is not None:
            field = "latest" if c.latest is not None else "earliest"
            issues.append(issue_at((*loc, field), problem, source, lines))
        options.append(tuple(opts))
        opens.append(tuple(calendar.start_of_index(k) for k in opts))
    if issues:
        raise ScenarioError(issues)
    return CandidateSet(tuple(spec.candidates), tuple(options), tuple(opens), source)
