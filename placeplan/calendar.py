"""The English school calendar: academic years, terms, census days and waits in terms.

An *academic year* ``Y`` runs from 1 September ``Y`` to 31 August ``Y + 1``. It has
three terms, each running from its first day to the day before the next term's
first day, so that holidays belong to the term they follow (the summer holiday to
the summer term, Christmas to the autumn term, Easter to the spring term):

- autumn: from 1 September;
- spring: from the first weekday on or after 4 January (by default);
- summer: from the Monday a week after Easter Monday (by default).

Terms are numbered globally by :meth:`TermCalendar.term_index`: ``3 * Y + t`` with
``t`` 0 (autumn), 1 (spring), 2 (summer), so that differences of indices count
term boundaries crossed.

*Waiting longer than three terms* (DOMAIN.md): at a snapshot date, at least three
whole terms have passed since the end of the term in which the child was referred.
The terms wholly between the referral's term and the snapshot's term are the whole
terms that have passed, so a child referred in term ``k`` counts from the first day
of term ``k + 4``.

Census days follow the DfE school census: the first Thursday of October, the third
Thursday of January and the third Thursday of May.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import IntEnum
from functools import cached_property

import numpy as np

from placeplan.sorted_search import searchsorted

__all__ = [
    "Term",
    "TermCalendar",
    "easter_sunday",
]

_FIRST_YEAR = 1990
_LAST_YEAR = 2400


class Term(IntEnum):
    """The three terms of an English school year, in order."""

    AUTUMN = 0
    SPRING = 1
    SUMMER = 2

    @property
    def label(self) -> str:
        """Capitalised name, e.g. ``"Autumn"``."""
        return self.name.capitalize()


def easter_sunday(year: int) -> date:
    """Date of Easter Sunday in the Gregorian calendar.

    Parameters
    ----------
    year : int
        Calendar year.

    Returns
    -------
    datetime.date
        Easter Sunday of ``year`` (anonymous Gregorian algorithm).

    """
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th given weekday (0 = Monday) of a month."""
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (n - 1))


@dataclass(frozen=True)
class TermCalendar:
    """Term dates and the arithmetic of waits measured in terms.

    Parameters
    ----------
    term_starts : Mapping[tuple[int, int], datetime.date], optional
        Explicit first days of terms that override the default rules, keyed by
        ``(academic_year, term)``; e.g. ``{(2024, 2): date(2025, 4, 22)}``. The
        first day of the autumn term cannot be moved from 1 September, which is
        where the academic year starts.

    Notes
    -----
    The default spring and summer starts are rules that match most English
    councils' published term dates to within a week; a council's own dates can be
    given as overrides. Whole-term counts depend only on the order of term starts.

    """

    term_starts: Mapping[tuple[int, int], date] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for (year, term), start in self.term_starts.items():
            term = Term(term)
            if term is Term.AUTUMN and start != date(year, 9, 1):
                raise ValueError(
                    f"the autumn term of {year}/{year + 1 - 2000:02d} must start on 1 September"
                )
            if term is Term.SPRING and not date(year + 1, 1, 1) <= start <= date(year + 1, 2, 28):
                raise ValueError(f"spring term start {start} is not in January or February")
            if term is Term.SUMMER and not date(year + 1, 3, 1) <= start <= date(year + 1, 6, 1):
                raise ValueError(f"summer term start {start} is not between March and May")

    # ------------------------------------------------------------------ dates
    def term_start(self, academic_year: int, term: Term | int) -> date:
        """First day of a term.

        Parameters
        ----------
        academic_year : int
            The year in which the academic year starts (2024 for 2024/25).
        term : Term or int
            Which term.

        Returns
        -------
        datetime.date
            The term's first day.

        """
        term = Term(term)
        override = self.term_starts.get((academic_year, int(term)))
        if override is not None:
            return override
        if term is Term.AUTUMN:
            return date(academic_year, 9, 1)
        if term is Term.SPRING:
            start = date(academic_year + 1, 1, 4)
            while start.weekday() >= 5:
                start += timedelta(days=1)
            return start
        return easter_sunday(academic_year + 1) + timedelta(days=8)

    @cached_property
    def _start_ordinals(self) -> list[int]:
        """Ordinal of the first day of every term from 1990/91 to 2400/01."""
        return [
            self.term_start(year, term).toordinal()
            for year in range(_FIRST_YEAR, _LAST_YEAR + 1)
            for term in Term
        ]

    def _check(self, d: date) -> None:
        if not date(_FIRST_YEAR, 9, 1) <= d < date(_LAST_YEAR + 1, 9, 1):
            raise ValueError(f"{d} is outside the supported calendar ({_FIRST_YEAR}–{_LAST_YEAR})")

    @staticmethod
    def academic_year(d: date) -> int:
        """The academic year containing a date (2024 for any day of 2024/25)."""
        return d.year if d.month >= 9 else d.year - 1

    def term_index(self, d: date) -> int:
        """Global index ``3 * academic_year + term`` of the term containing ``d``."""
        self._check(d)
        pos = bisect.bisect_right(self._start_ordinals, d.toordinal()) - 1
        return 3 * _FIRST_YEAR + pos

    def term_of(self, d: date) -> tuple[int, Term]:
        """The academic year and term containing a date."""
        year, term = divmod(self.term_index(d), 3)
        return year, Term(term)

    def start_of_index(self, index: int) -> date:
        """First day of the term with global index ``index``."""
        year, term = divmod(index, 3)
        return self.term_start(year, term)

    def end_of_index(self, index: int) -> date:
        """Last day of the term with global index ``index`` (holidays included)."""
        return self.start_of_index(index + 1) - timedelta(days=1)

    def term_indices(self, ordinals: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`term_index` over proleptic Gregorian day ordinals.

        Parameters
        ----------
        ordinals : numpy.ndarray
            Day ordinals (``date.toordinal()``), integer or float (fractions of a
            day are floored).

        Returns
        -------
        numpy.ndarray
            Global term indices, int64.

        """
        starts = np.asarray(self._start_ordinals, dtype=np.int64)
        days = np.floor(np.asarray(ordinals, dtype=float)).astype(np.int64)
        if days.size and (days.min() < starts[0] or days.max() >= starts[-1] + 400):
            raise ValueError("date outside the supported calendar")
        return 3 * _FIRST_YEAR + searchsorted(starts, days, side="right") - 1

    def term_starts_between(self, start: date, end: date) -> list[date]:
        """First days of terms in ``[start, end)``, in order."""
        out = []
        index = self.term_index(start)
        while (d := self.start_of_index(index)) < end:
            if d >= start:
                out.append(d)
            index += 1
        return out

    # ------------------------------------------------------------- censuses
    @staticmethod
    def census_day(academic_year: int, term: Term | int) -> date:
        """DfE school census day of a term.

        The first Thursday of October (autumn), the third Thursday of January
        (spring) and the third Thursday of May (summer).
        """
        term = Term(term)
        if term is Term.AUTUMN:
            return _nth_weekday(academic_year, 10, 3, 1)
        if term is Term.SPRING:
            return _nth_weekday(academic_year + 1, 1, 3, 3)
        return _nth_weekday(academic_year + 1, 5, 3, 3)

    def census_days(self, start: date, end: date) -> list[date]:
        """Census days in ``[start, end)``, in order."""
        return list(self._iter_census(start, end))

    def _iter_census(self, start: date, end: date) -> Iterator[date]:
        for year in range(self.academic_year(start), self.academic_year(end) + 1):
            for term in Term:
                d = self.census_day(year, term)
                if start <= d < end:
                    yield d

    # ---------------------------------------------------------------- waits
    def terms_between(self, earlier: date, later: date) -> int:
        """Term boundaries crossed from ``earlier`` to ``later`` [terms].

        Monotone in ``later`` and additive:
        ``terms_between(a, b) + terms_between(b, c) == terms_between(a, c)``.
        Negative when ``later`` is in an earlier term.
        """
        return self.term_index(later) - self.term_index(earlier)

    def whole_terms_waited(self, referred: date, at: date) -> int:
        """Whole terms passed since the end of the term of referral [terms].

        Parameters
        ----------
        referred : datetime.date
            Date of referral.
        at : datetime.date
            Snapshot date, not before ``referred``.

        Returns
        -------
        int
            The number of terms lying wholly between the term of referral and
            the term of the snapshot (0 within the term of referral and the next).

        """
        if at < referred:
            raise ValueError(f"snapshot {at} is before referral {referred}")
        return max(0, self.terms_between(referred, at) - 1)

    def waiting_longer_than(self, referred: date, at: date, terms: int = 3) -> bool:
        """Whether a child still waiting at ``at`` has waited longer than ``terms`` terms.

        True when at least ``terms`` whole terms have passed since the end of the
        term in which the child was referred (DOMAIN.md).
        """
        return self.whole_terms_waited(referred, at) >= terms

    @staticmethod
    def waiting_over_weeks(referred: date, at: date, weeks: float = 52) -> bool:
        """Whether more than ``weeks`` weeks have passed between referral and ``at``."""
        return (at - referred).days > 7 * weeks
