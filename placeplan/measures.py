"""One table of measures: every output of a run, declared once.

Each :class:`Measure` names a variable of the results Dataset, its units, its long
name (built from the scenario's own long-wait thresholds), where it comes from,
and whether it is also recorded by designation and by locality. The engines'
outputs, the Dataset, the CLI, plots, the report and the Excel workbook all read
this table, much as PyPSA drives its I/O and docs from one attribute table.

Variable *names* are a contract (``waiting_over_3_terms`` and
``waiting_over_52_weeks`` keep their names whatever the thresholds, so that code
and files written against one scenario read another); *labels* follow the
scenario: with ``long_wait_terms: 1`` the headline reads "Children waiting longer
than one term", and the threshold is also recorded in the variable's attributes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "HEADLINE",
    "MEASURES",
    "Measure",
    "Thresholds",
    "by_locality",
    "get",
    "placement_measures",
    "spell_terms",
    "spell_weeks",
    "variables",
]

Source = Literal["placement", "demand"]


@dataclass(frozen=True)
class Thresholds:
    """The long-wait thresholds labels are built from.

    Attributes
    ----------
    terms : int
        Whole terms past the end of the term of referral [terms].
    weeks : float
        Weeks since referral [weeks].
    """

    terms: int = 3
    weeks: float = 52.0

    @classmethod
    def of(cls, scenario) -> Thresholds:
        """The thresholds of a :class:`~placeplan.scenario.Scenario` (or its ``calendar``)."""
        calendar = getattr(scenario, "calendar", scenario)
        return cls(int(calendar.long_wait_terms), float(calendar.long_wait_weeks))


_NUMBERS = (
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)


def spell_terms(terms: int) -> str:
    """``3`` -> ``"three terms"``; ``1`` -> ``"one term"`` (numerals past twelve)."""
    word = _NUMBERS[terms] if 0 <= terms < len(_NUMBERS) else str(terms)
    return f"{word} term" if terms == 1 else f"{word} terms"


def spell_weeks(weeks: float) -> str:
    """``52`` -> ``"52 weeks"``; ``1`` -> ``"1 week"``; ``26.5`` -> ``"26.5 weeks"``."""
    text = f"{weeks:g}"
    return f"{text} week" if weeks == 1 else f"{text} weeks"


@dataclass(frozen=True)
class Measure:
    """One output measure.

    Attributes
    ----------
    name : str
        Variable name in the Dataset (totals); ``NAME_by_designation`` and
        ``NAME_by_locality`` hold the breakdowns where recorded.
    units : str
        Units (``children``, ``places``, ``plans``, ``GBP``).
    label : str
        Long name, a template that may use ``{terms}`` and ``{weeks}``
        (:meth:`long_name` fills them from the thresholds).
    source : {"placement", "demand"}
        The placement model's measures (from :func:`placeplan.placement.problem.measure`)
        or the cohort projection's.
    by_designation : bool
        Also recorded by designation.
    by_locality : bool
        Also recorded by locality (of the school for places, of the child otherwise).
    kind : {"count", "amount"}
        Whole numbers (counts of children or places) or amounts (money, plans
        interpolated between Januaries).
    stock : bool
        A level at the snapshot (True) rather than a total since the start.
    """

    name: str
    units: str
    label: str
    source: Source = "placement"
    by_designation: bool = True
    by_locality: bool = False
    kind: Literal["count", "amount"] = "count"
    stock: bool = True

    def long_name(self, thresholds: Thresholds | None = None) -> str:
        """The measure's long name with the scenario's thresholds spelled out."""
        t = thresholds or Thresholds()
        return self.label.format(terms=spell_terms(t.terms), weeks=spell_weeks(t.weeks))

    def attrs(self, thresholds: Thresholds | None = None) -> dict[str, str | int | float]:
        """Attributes of the Dataset variable: ``units``, ``long_name`` (and the threshold)."""
        t = thresholds or Thresholds()
        out: dict[str, str | int | float] = {
            "units": self.units,
            "long_name": self.long_name(t),
        }
        if "{terms}" in self.label:
            out["threshold_terms"] = t.terms
        if "{weeks}" in self.label:
            out["threshold_weeks"] = t.weeks
        return out


MEASURES: tuple[Measure, ...] = (
    Measure(
        "ehcp_plans",
        "plans",
        "EHC plans (cohort projection, between Januaries linear)",
        source="demand",
        by_designation=False,
        kind="amount",
    ),
    Measure(
        "specialist_demand",
        "children",
        "Children needing a special school place (cohort projection)",
        source="demand",
        kind="amount",
    ),
    Measure(
        "need",
        "children",
        "Children needing a special school place (in one, placed elsewhere, or waiting)",
    ),
    Measure("pupils", "children", "Children in the council's special school places"),
    Measure(
        "placed_elsewhere",
        "children",
        "Children placed in independent, non-maintained, other councils' or out-of-area schools",
    ),
    Measure("capacity", "places", "Special school places", by_locality=True),
    Measure(
        "occupied",
        "places",
        "Places taken (pupils in them, or offered and held)",
        by_locality=True,
    ),
    Measure("vacancies", "places", "Places free", by_locality=True),
    Measure(
        "referred",
        "children",
        "Children referred since the start, the list at the start included",
        stock=False,
    ),
    Measure(
        "placed",
        "children",
        "Children referred who have taken up a place since the start",
        by_locality=True,
        stock=False,
    ),
    Measure("waiting", "children", "Children waiting for a special school place", by_locality=True),
    Measure(
        "waiting_over_3_terms",
        "children",
        "Children waiting longer than {terms}",
        by_locality=True,
    ),
    Measure(
        "waiting_over_52_weeks",
        "children",
        "Children waiting longer than {weeks}",
        by_locality=True,
    ),
    Measure(
        "left_while_waiting",
        "children",
        "Children who left the list (aged out, moved away) before a place",
        stock=False,
    ),
    Measure(
        "aged_out_while_waiting",
        "children",
        "Children who left the list before a place because of their age",
        stock=False,
    ),
    Measure(
        "placed_out_of_area",
        "children",
        "Children placed out of area since the start (instead of waiting)",
        by_locality=True,
        stock=False,
    ),
    Measure(
        "out_of_area",
        "children",
        "Children in out-of-area places placed since the start",
        by_locality=True,
    ),
    Measure(
        "out_of_area_cost",
        "GBP",
        "Cost of out-of-area places since the start",
        kind="amount",
        stock=False,
    ),
    Measure(
        "placed_in_own_locality",
        "children",
        "Children placed since the start in a school of their own locality",
        by_locality=True,
        stock=False,
    ),
)
"""Every measure of a run, in the order they are reported."""

HEADLINE = "waiting_over_3_terms"
"""The measure the planner's question is about (its label follows ``long_wait_terms``)."""

_BY_NAME = {m.name: m for m in MEASURES}


def get(name: str) -> Measure:
    """The measure of a Dataset variable (``NAME``, ``NAME_by_designation``, ``NAME_by_locality``).

    Raises
    ------
    KeyError
        If no measure has that name.
    """
    base = name.removesuffix("_by_designation").removesuffix("_by_locality")
    try:
        return _BY_NAME[base]
    except KeyError:
        raise KeyError(f"no measure {name!r}; measures: {', '.join(_BY_NAME)}") from None


def placement_measures() -> tuple[str, ...]:
    """Names of the placement model's measures, recorded by designation."""
    return tuple(m.name for m in MEASURES if m.source == "placement")


def by_locality() -> tuple[str, ...]:
    """Names of the measures also recorded by locality."""
    return tuple(m.name for m in MEASURES if m.by_locality)


def variables(n_localities: int = 1) -> Iterator[tuple[str, Measure, str | None]]:
    """Every Dataset variable: ``(variable name, measure, breakdown dimension or None)``."""
    for m in MEASURES:
        yield m.name, m, None
        if m.by_designation:
            yield f"{m.name}_by_designation", m, "designation"
        if m.by_locality:
            yield f"{m.name}_by_locality", m, "locality"
