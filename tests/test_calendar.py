"""Properties of the term calendar (DOMAIN.md definitions)."""

import itertools
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from placeplan.calendar import Term, TermCalendar, easter_sunday

CAL = TermCalendar()
dates = st.dates(min_value=date(2000, 9, 1), max_value=date(2099, 8, 31))


@given(dates)
def test_every_date_lies_in_exactly_one_term(d):
    year, term = CAL.term_of(d)
    containing = [
        (y, t)
        for y in (year - 1, year, year + 1)
        for t in Term
        if CAL.term_start(y, t) <= d <= CAL.end_of_index(3 * y + t)
    ]
    assert containing == [(year, term)]


@given(dates, dates, dates)
def test_terms_between_is_additive(a, b, c):
    assert CAL.terms_between(a, b) + CAL.terms_between(b, c) == CAL.terms_between(a, c)


@given(dates, st.integers(0, 2000), st.integers(0, 2000))
def test_terms_between_is_monotone(a, x, y):
    lo, hi = sorted((x, y))
    b, c = a + timedelta(days=lo), a + timedelta(days=hi)
    if c > date(2099, 8, 31):
        return
    assert 0 <= CAL.terms_between(a, b) <= CAL.terms_between(a, c)


@given(dates)
def test_terms_are_ordered_and_about_a_year_long(d):
    year = CAL.academic_year(d)
    starts = [CAL.term_start(year, t) for t in Term] + [CAL.term_start(year + 1, Term.AUTUMN)]
    assert starts == sorted(starts)
    assert all(60 <= (b - a).days <= 170 for a, b in itertools.pairwise(starts))


@given(dates)
def test_vectorised_term_index_agrees(d):
    assert CAL.term_indices(np.array([d.toordinal()]))[0] == CAL.term_index(d)


def test_known_term_boundaries():
    # Academic year 2024/25: autumn from 1 Sep 2024, spring from Mon 6 Jan 2025,
    # summer from a week after Easter Monday (Easter Sunday 20 April 2025).
    assert easter_sunday(2024) == date(2024, 3, 31)
    assert easter_sunday(2025) == date(2025, 4, 20)
    assert CAL.term_start(2024, Term.SPRING) == date(2025, 1, 6)
    assert CAL.term_start(2024, Term.SUMMER) == date(2025, 4, 28)
    assert CAL.term_of(date(2024, 12, 31)) == (2024, Term.AUTUMN)  # Christmas holiday
    assert CAL.term_of(date(2025, 8, 31)) == (2024, Term.SUMMER)  # summer holiday
    assert CAL.term_of(date(2025, 9, 1)) == (2025, Term.AUTUMN)


def test_census_days():
    assert CAL.census_day(2024, Term.AUTUMN) == date(2024, 10, 3)
    assert CAL.census_day(2024, Term.SPRING) == date(2025, 1, 16)
    assert CAL.census_day(2024, Term.SUMMER) == date(2025, 5, 15)
    days = CAL.census_days(date(2025, 1, 1), date(2026, 1, 31))
    assert days == [date(2025, 1, 16), date(2025, 5, 15), date(2025, 10, 2), date(2026, 1, 15)]


def test_waiting_longer_than_three_terms_boundary():
    # Referred in the autumn term 2024: three whole terms (spring, summer 2025 and
    # autumn 2025) must pass, so the wait counts from the first day of spring 2026.
    referred = date(2024, 9, 20)
    spring_2026 = CAL.term_start(2025, Term.SPRING)
    assert not CAL.waiting_longer_than(referred, spring_2026 - timedelta(days=1))
    assert CAL.waiting_longer_than(referred, spring_2026)
    assert CAL.whole_terms_waited(referred, spring_2026) == 3
    assert CAL.waiting_longer_than(referred, spring_2026, terms=4) is False
    with pytest.raises(ValueError, match="before referral"):
        CAL.whole_terms_waited(referred, referred - timedelta(days=1))


@given(dates, st.integers(0, 800))
def test_whole_terms_waited_never_negative_and_52_weeks(d, days):
    at = d + timedelta(days=days)
    if at > date(2099, 8, 31):
        return
    assert CAL.whole_terms_waited(d, at) >= 0
    assert CAL.waiting_over_weeks(d, at) == (days > 364)


def test_overrides_move_term_starts_and_are_checked():
    cal = TermCalendar({(2024, 2): date(2025, 4, 22)})
    assert cal.term_of(date(2025, 4, 22)) == (2024, Term.SUMMER)
    assert cal.term_of(date(2025, 4, 21)) == (2024, Term.SPRING)
    with pytest.raises(ValueError, match="1 September"):
        TermCalendar({(2024, 0): date(2024, 9, 4)})
