"""The target a programme must meet, and its grammar.

::

    TARGET  := MEASURE "<=" COUNT WHEN MONTH
    MEASURE := long_waits | waits_over_52_weeks | waiting | out_of_area
    COUNT   := a whole number of children (0: nobody)
    WHEN    := "by" | "at" | "from"
    MONTH   := YYYY-MM (the census in that month) or YYYY-MM-DD (that snapshot)

``long_waits`` are the children waiting longer than the scenario's ``long_wait_terms``
(the headline, ``waiting_over_3_terms``); ``waits_over_52_weeks`` those waiting longer
than its ``long_wait_weeks``; ``waiting`` everyone on the list; ``out_of_area`` the
children placed out of area since the start. ``by`` and ``at`` mean at that census;
``from`` at that census and at every later January census of the forecast. A
replication meets the target when the measure is at most COUNT at every census
named. Spaces and case do not matter: ``"long_waits<=0 by 2028-01"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from placeplan.errors import InputError
from placeplan.scenario import Scenario

__all__ = ["MEASURES", "Target", "parse_target"]

MEASURES = {
    "long_waits": "waiting_over_3_terms",
    "waits_over_52_weeks": "waiting_over_52_weeks",
    "waiting": "waiting",
    "out_of_area": "out_of_area",
}
"""Target measures and the Dataset variables they read."""

_GRAMMAR = re.compile(
    r"^\s*(?P<measure>[a-z_0-9]+)\s*<=\s*(?P<count>\d{1,7})\s+(?P<when>by|at|from)\s+"
    r"(?P<year>\d{4})-(?P<month>\d{2})(?:-(?P<day>\d{2}))?\s*$",
    re.IGNORECASE,
)

_HELP = (
    'expected MEASURE <= COUNT by|at|from YYYY-MM, e.g. "long_waits<=0 by 2028-01"; '
    f"measures: {', '.join(MEASURES)}"
)


@dataclass(frozen=True)
class Target:
    """A target: a measure at most ``count`` at the censuses ``dates``.

    Attributes
    ----------
    text : str
        As the user wrote it.
    measure : str
        The target measure's name (a key of :data:`MEASURES`).
    variable : str
        The Dataset variable read.
    count : int
        Most children allowed [children].
    dates : tuple of datetime.date
        The snapshots at which it must hold.
    """

    text: str
    measure: str
    variable: str
    count: int
    dates: tuple[date, ...]

    def describe(self, scenario: Scenario) -> str:
        """The target in words, with the scenario's thresholds."""
        from placeplan.measures import spell_terms, spell_weeks

        what = {
            "long_waits": f"children waiting longer than "
            f"{spell_terms(scenario.calendar.long_wait_terms)}",
            "waits_over_52_weeks": f"children waiting longer than "
            f"{spell_weeks(scenario.calendar.long_wait_weeks)}",
            "waiting": "children waiting",
            "out_of_area": "children placed out of area since the start",
        }[self.measure]
        limit = "nobody" if self.count == 0 else f"at most {self.count:,}"
        when = (
            f"at the census of {self.dates[0]:%d %B %Y}"
            if len(self.dates) == 1
            else f"at every January census from {self.dates[0]:%d %B %Y} to "
            f"{self.dates[-1]:%d %B %Y}"
        )
        return f"{what}: {limit}, {when}"


def snapshot_dates(scenario: Scenario) -> list[date]:
    """The scenario's snapshot days, as a run records them."""
    from placeplan.placement.schedule import make_schedule

    calendar = scenario.calendar.build()
    return make_schedule(
        calendar,
        scenario.placement.panels,
        scenario.start,
        scenario.end,
        scenario.calendar.snapshots,
    ).snapshot_dates


def parse_target(text: str, scenario: Scenario) -> Target:
    """Read a target against a scenario's snapshots.

    Raises
    ------
    InputError
        If the text does not follow the grammar (module docstring), names an unknown
        measure, or a month with no snapshot in the forecast.
    """
    if not isinstance(text, str) or len(text) > 200:
        raise InputError(f"--target: {_HELP}")
    m = _GRAMMAR.match(text)
    if m is None:
        raise InputError(f"--target {text!r}: {_HELP}")
    measure = m["measure"].lower()
    if measure not in MEASURES:
        raise InputError(f"--target {text!r}: no measure {measure!r}; {_HELP}")
    year, month = int(m["year"]), int(m["month"])
    if not 1 <= month <= 12:
        raise InputError(f"--target {text!r}: month {month} is not 1–12")
    dates = [d for d in snapshot_dates(scenario)]
    if m["day"] is not None:
        try:
            day = date(year, month, int(m["day"]))
        except ValueError:
            raise InputError(f"--target {text!r}: no such day") from None
        found = [d for d in dates if d == day]
    else:
        found = [d for d in dates if (d.year, d.month) == (year, month)]
    if not found:
        months = sorted({f"{d:%Y-%m}" for d in dates})
        shown = ", ".join(months[:4] + (["…"] if len(months) > 6 else []) + months[-2:])
        raise InputError(
            f"--target {text!r}: no snapshot of {scenario.name} in {year}-{month:02d}; "
            f"its snapshots are in {shown}"
        )
    at = found[0]
    chosen = [at]
    if m["when"].lower() == "from":
        chosen += [d for d in dates if d > at and d.month == 1]
    return Target(text.strip(), measure, MEASURES[measure], int(m["count"]), tuple(chosen))
