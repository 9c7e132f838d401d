"""The decision epochs of the placement model: term starts, panels, openings and snapshots.

Instants are day ordinals with a fixed time of day per kind, so that events on the
same day always happen in the same order, whatever the engine:

====================  ==========  ==============================================
kind                  time of day what happens
====================  ==========  ==============================================
build opening         0.00        new places count from this instant
referral (term start) 0.00        fixed referrals on the first day of a term
term start            0.25        children already agreed by a panel are matched
                                  and take their places up at once
panel meeting         0.50        referrals so far are agreed; children matched
snapshot (census)     0.99        the measures are recorded at the end of the day
====================  ==========  ==============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Literal

import numpy as np

from placeplan.calendar import TermCalendar
from placeplan.placement.kernel import day_starts, snapshot_index
from placeplan.placement.rules import take_up
from placeplan.scenario import PanelSpec
from placeplan.sorted_search import searchsorted

__all__ = [
    "AT_OPENING",
    "AT_PANEL",
    "AT_SNAPSHOT",
    "AT_TERM_START",
    "Schedule",
    "SnapshotClock",
    "make_schedule",
]

AT_OPENING = 0.0
AT_TERM_START = 0.25
AT_PANEL = 0.5
AT_SNAPSHOT = 0.99


@dataclass(frozen=True)
class SnapshotClock:
    """The snapshots, and any times as snapshot indices (:attr:`Schedule.clock`).

    A time ``x`` becomes the index of the first snapshot at or after it: "``x`` has
    come by snapshot ``k``" (``x <= now``) is ``k >= K(x)``, and "``x`` is still to
    come" (``x > now``) is ``k < K(x)``. Every measure counts each child or place over
    a span of snapshots ``[from, to)`` (:mod:`placeplan.placement.outputs`), so a
    replication is tallied in one pass over its children rather than one pass per
    snapshot.
    """

    times: np.ndarray  # snapshot days, ascending (read-only: every replication's)
    n: int  # snapshots
    first_day: int  # lookup table of kernel.snapshot_index
    starts: np.ndarray

    @classmethod
    def of(cls, times: np.ndarray) -> SnapshotClock:
        """The clock of these snapshot days (ascending), its arrays read-only."""
        times = np.array(times, dtype=float)
        if len(times) > 1 and (np.diff(times) < 0).any():  # pragma: no cover - the contract
            raise ValueError("snapshots must be in time order")
        clock = cls(times, len(times), *day_starts(times))
        clock.times.flags.writeable = clock.starts.flags.writeable = False
        return clock

    def k(self, when: np.ndarray) -> np.ndarray:
        """Index of the first snapshot at or after each time (``n``: none)."""
        when = np.ascontiguousarray(when, dtype=float)
        return snapshot_index(self.times, self.first_day, self.starts, when)


@dataclass(frozen=True)
class Schedule:
    """When things happen in a forecast (all day ordinals, sorted).

    Attributes
    ----------
    term_starts : numpy.ndarray
        Term-start matching instants within the forecast.
    panels : numpy.ndarray
        Panel meetings within the forecast (empty when panels sit only at term starts).
    snapshots : numpy.ndarray
        Snapshot instants (census days) within the forecast.
    snapshot_dates : list of datetime.date
        The snapshot days.
    next_term_start : numpy.ndarray
        Every term start from the forecast's first term to well after its end, at
        the term-start time of day: a child offered a place at a panel takes it up
        at the first of these after the panel.

    """

    term_starts: np.ndarray
    panels: np.ndarray
    snapshots: np.ndarray
    snapshot_dates: list[date]
    next_term_start: np.ndarray

    def decision_times(self, referred: np.ndarray) -> np.ndarray:
        """When a panel first agrees each referral: the first meeting at or after it.

        With no panel meetings, referrals are agreed at term starts. ``inf`` when no
        decision falls within the forecast.
        """
        meetings = self.panels if len(self.panels) else self.term_starts
        idx = searchsorted(meetings, referred, side="left")
        padded = np.append(meetings, np.inf)
        return padded[idx]

    def take_up(
        self, offered: float, start_places: Literal["next_term", "immediate"] = "next_term"
    ) -> float:
        """When a place offered at a panel at ``offered`` is taken up [days].

        :func:`placeplan.placement.rules.take_up` over :attr:`next_term_start`.
        """
        return take_up(offered, self.next_term_start_list, start_places)

    def epochs(
        self, start_places: Literal["next_term", "immediate"], end: float = np.inf
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every decision epoch before ``end`` in order, and when its places are taken up.

        Term starts (taken up at once) and panel meetings (:meth:`take_up`), sorted by
        instant, then take-up; computed once per schedule and rule [days].
        """
        key = (start_places, float(end))
        if key not in self._epochs:
            epochs = sorted(
                [
                    *((t, take_up(t, (), "immediate")) for t in self.term_starts.tolist()),
                    *((t, self.take_up(t, start_places)) for t in self.panels.tolist()),
                ]
            )
            epochs = [(t, u) for t, u in epochs if t < end]
            times = np.array([t for t, _ in epochs], dtype=float)
            take_ups = np.array([u for _, u in epochs], dtype=float)
            times.flags.writeable = take_ups.flags.writeable = False
            self._epochs[key] = (times, take_ups)
        return self._epochs[key]

    @cached_property
    def _epochs(self) -> dict:
        return {}

    @cached_property
    def clock(self) -> SnapshotClock:
        """The snapshots' clock, made once: the measures read it every replication."""
        return SnapshotClock.of(self.snapshots)

    @cached_property
    def next_term_start_list(self) -> list[float]:
        """:attr:`next_term_start` as a list (for the scalar rules)."""
        return self.next_term_start.tolist()


def make_schedule(
    calendar: TermCalendar,
    panels: PanelSpec,
    start: date,
    end: date,
    snapshots: str | float = "census",
) -> Schedule:
    """Lay out the epochs of a forecast from ``start`` (inclusive) to ``end`` (exclusive).

    Parameters
    ----------
    calendar : TermCalendar
        Term dates.
    panels : PanelSpec
        Panel cadence (``continuous`` panels have no meetings, and no term starts).
    start, end : datetime.date
        The forecast's first day and the first day after it.
    snapshots : "census" or float
        Census days (recorded at the end of the day), or every so many days from
        the start [days].
    """
    s, e = start.toordinal(), end.toordinal()
    continuous = panels.every_days == "continuous"
    term_days = [] if continuous else calendar.term_starts_between(start, end)
    term_starts = np.array([d.toordinal() + AT_TERM_START for d in term_days], dtype=float)
    later = calendar.term_starts_between(start, end + timedelta(days=800))
    next_term = np.array([d.toordinal() + AT_TERM_START for d in later] + [np.inf])
    if panels.every_days is None or continuous:
        meetings = np.zeros(0)
    else:
        every = int(panels.every_days)
        first = (panels.first or start).toordinal()
        if first < s:
            first += -(-(s - first) // every) * every
        meetings = np.arange(first, e, every, dtype=float) + AT_PANEL
    if snapshots == "census":
        days = calendar.census_days(start, end)
        instants = np.array([d.toordinal() + AT_SNAPSHOT for d in days], dtype=float)
    else:
        step = float(snapshots)
        instants = s + step * np.arange(1, int((e - s) / step) + 1)
        instants = instants[instants < e]
        days = [date.fromordinal(int(t)) for t in instants]
    return Schedule(
        term_starts=term_starts,
        panels=meetings,
        snapshots=instants,
        snapshot_dates=days,
        next_term_start=next_term.astype(float),
    )
