"""The compiled demand arithmetic gives the same bits as the numpy arithmetic it replaced.

A replication projects plans and the need path once; both were numpy loops of many
small array operations. They are compiled now, and a run's numbers must not move:
each oracle below is the numpy formulation, kept here, and the compiled code must
equal it exactly (``array_equal``, not ``allclose``), as must the draws made from
it. The sum numpy uses for a row (pairwise, in blocks of eight) is matched too.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from placeplan.demand.cohort import cohort_step, pairwise_sum, project
from placeplan.demand.need import need_path
from placeplan.demand.start import draw_ages_and_needs

SETTINGS = settings(max_examples=120, deadline=None)

_plans = st.floats(0.0, 5e3, allow_nan=False, allow_subnormal=False)


def _numpy_project(stock0, cease_rate, new_by_year, recode_mix, recode_share, cease_factor):
    """The numpy projection: one :func:`cohort_step` a year over leading dimensions."""
    years = new_by_year.shape[-3]
    out = np.empty((years + 1, *stock0.shape[-2:]))
    out[0] = stock0
    rate = np.asarray(cease_rate, dtype=float)
    for y in range(years):
        year_rate = rate if cease_factor is None else rate * cease_factor[..., y, None]
        out[y + 1], _ = cohort_step(out[y], year_rate, new_by_year[y], recode_mix, recode_share)
    return out


def _numpy_need_path(target, cease_rate, ages, inflow_factor=None):
    """The numpy need path (the formulation before it was compiled)."""
    target = np.asarray(target, dtype=float)
    years = target.shape[0] - 1
    n_ages = target.shape[1]
    survive = 1.0 - np.clip(np.asarray(cease_rate, dtype=float), 0.0, 1.0)
    admissible = np.zeros(n_ages, dtype=bool)
    admissible[ages[0] : ages[1] + 1] = True
    need = np.zeros_like(target)
    need[0] = target[0]
    stay = np.zeros((years, *target.shape[1:]))
    inflow = np.zeros((years, *target.shape[1:]))
    for y in range(years):
        now = need[y, :-1]
        survivors = now * survive[:-1, None]
        later = target[y + 1, 1:]
        keep = np.divide(later, survivors, out=np.ones_like(later), where=survivors > 1e-9)
        stay[y, :-1] = survive[:-1, None] * np.minimum(keep, 1.0)
        inflow[y, 1:] = np.where(admissible[1:, None], np.maximum(later - survivors, 0.0), 0.0)
        inflow[y, 0] = target[y + 1, 0] if admissible[0] else 0.0
        need[y + 1, 1:] = now * stay[y, :-1] + inflow[y, 1:]
        need[y + 1, 0] = inflow[y, 0]
    if inflow_factor is not None:
        inflow = inflow * np.asarray(inflow_factor, dtype=float)[:, None, None]
        for y in range(years):
            need[y + 1, 1:] = need[y, :-1] * stay[y, :-1] + inflow[y, 1:]
            need[y + 1, 0] = inflow[y, 0]
    return need, stay, inflow


@SETTINGS
@given(
    arrays(np.float64, st.integers(0, 700), elements=st.floats(-1e6, 1e6, allow_nan=False)),
    st.integers(0, 3),
)
def test_the_compiled_row_sum_adds_in_numpys_order(values, offset):
    """Rows of every length (blocks of 8, remainders, halves past 128), from any start."""
    row = np.concatenate([np.zeros(offset), values])[offset:]
    assert pairwise_sum(row) == row.sum()
    table = np.resize(values, (3, max(len(values) // 3, 1))) if len(values) else np.zeros((3, 1))
    sums = table.sum(axis=-1, keepdims=True)
    assert [pairwise_sum(np.ascontiguousarray(r)) for r in table] == list(sums[:, 0])


@st.composite
def _projection(draw):
    years = draw(st.integers(0, 6))
    ages = draw(st.integers(1, 8))
    needs = draw(st.integers(1, 14))
    stock0 = draw(arrays(np.float64, (ages, needs), elements=_plans))
    rate = draw(arrays(np.float64, ages, elements=st.floats(-0.2, 1.3)))
    new = draw(arrays(np.float64, (years, ages, needs), elements=_plans))
    mix = draw(st.none() | arrays(np.float64, (ages, needs), elements=st.floats(0.0, 1.0)))
    share = draw(st.floats(-0.5, 1.5))
    factor = draw(st.none() | arrays(np.float64, years, elements=st.floats(0.0, 2.0)))
    return stock0, rate, new, mix, share, factor


@SETTINGS
@given(_projection())
def test_the_compiled_projection_equals_the_numpy_one_bit_for_bit(case):
    stock0, rate, new, mix, share, factor = case
    compiled = project(stock0, rate, new, mix, share, factor)
    assert np.array_equal(compiled, _numpy_project(stock0, rate, new, mix, share, factor))


def test_a_projection_over_replications_still_broadcasts_and_agrees_with_one_by_one():
    rng = np.random.default_rng(3)
    stock0 = rng.random((4, 26, 13)) * 100
    new = rng.random((4, 5, 26, 13)) * 10
    rate = rng.random(26) * 0.2
    mix = rng.dirichlet(np.ones(13), 26)
    shares = np.array([0.0, 0.3, 1.0, 0.7])
    together = project(stock0, rate, new, mix, shares)
    for r in range(4):
        assert np.allclose(together[r], project(stock0[r], rate, new[r], mix, float(shares[r])))


@st.composite
def _need_case(draw):
    years = draw(st.integers(0, 6))
    ages = draw(st.integers(2, 9))
    needs = draw(st.integers(1, 5))
    target = draw(arrays(np.float64, (years + 1, ages, needs), elements=_plans))
    cease = draw(arrays(np.float64, ages, elements=st.floats(-0.1, 1.1)))
    lo = draw(st.integers(0, ages - 1))
    hi = draw(st.integers(lo, ages - 1))
    factor = draw(st.none() | arrays(np.float64, years, elements=st.floats(0.0, 2.0)))
    return target, cease, (lo, hi), factor


@SETTINGS
@given(_need_case())
def test_the_compiled_need_path_equals_the_numpy_one_bit_for_bit(case):
    target, cease, ages, factor = case
    got = need_path(target, cease, ages, factor)
    want = _numpy_need_path(target, cease, ages, factor)
    for mine, theirs in zip((got.need, got.stay, got.inflow), want, strict=True):
        assert np.array_equal(mine, theirs)


@SETTINGS
@given(
    arrays(np.float64, (6, 4), elements=st.floats(0.0, 10.0) | st.just(0.0)),
    st.integers(1, 400),
    st.integers(0, 2**32),
)
def test_ages_and_needs_are_the_draws_generator_choice_makes(weights, n, seed):
    """The written-out inversion takes the same uniforms and gives the same cells."""
    if weights.sum() <= 0:
        weights[0, 0] = 1.0
    mine, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    age, need = draw_ages_and_needs(mine, weights, n)
    flat = weights.ravel()
    cells = theirs.choice(len(flat), size=n, p=flat / flat.sum())
    assert np.array_equal(age, cells // 4) and np.array_equal(need, cells % 4)
    assert mine.random() == theirs.random()  # the streams are left at the same place


def test_bad_weights_are_refused():
    rng = np.random.default_rng(0)
    for bad in (np.zeros((2, 2)), np.array([[1.0, -1.0]]), np.array([[np.nan, 1.0]])):
        try:
            draw_ages_and_needs(rng, bad, 3)
        except ValueError as exc:
            assert "weights" in str(exc)
        else:  # pragma: no cover - the check failed
            raise AssertionError(f"{bad} was accepted")


def _numpy_year_referrals(counts, times, september, end):
    """The numpy formulation of one year's referrals (before it was compiled)."""
    age_jan, need = np.nonzero(counts)
    reps = counts[age_jan, need]
    age_jan, need = np.repeat(age_jan, reps), np.repeat(need, reps)
    age = age_jan - (times < september)
    keep = times < end
    times, age, need = times[keep], age[keep], need[keep]
    order = np.argsort(times, kind="stable")
    return times[order], age[order], need[order]


@SETTINGS
@given(
    arrays(np.int64, (5, 3), elements=st.integers(0, 6)),
    st.integers(0, 2**32),
    st.booleans(),
)
def test_a_years_referrals_are_the_numpy_ones_ties_and_all(counts, seed, ties):
    """Equal instants keep their cells' order (a stable sort): ties are made on purpose."""
    from placeplan.demand.referrals import _year_referrals

    rng = np.random.default_rng(seed)
    n = int(counts.sum())
    times = 100.0 + (rng.integers(0, 4, n) * 10.0 if ties else rng.random(n) * 40.0)
    got = _year_referrals(counts, times, 115.0, 125.0)
    want = _numpy_year_referrals(counts, times, 115.0, 125.0)
    for mine, theirs in zip(got, want, strict=True):
        assert np.array_equal(mine, theirs)


@SETTINGS
@given(st.lists(st.lists(st.floats(0, 50), max_size=30), min_size=1, max_size=4), st.booleans())
def test_joining_referrals_is_a_stable_sort_sorted_or_not(parts, presort):
    from placeplan.demand.referrals import Referrals

    made = []
    for k, times in enumerate(parts):
        t = np.array(sorted(times) if presort else times, dtype=float)
        n = len(t)
        made.append(Referrals(t, np.full(n, k), np.arange(n) % 3, np.full(n, k)))
    joined = Referrals.concat(made)
    time = np.concatenate([p.time for p in made])
    order = np.argsort(time, kind="stable")
    assert np.array_equal(joined.time, time[order])
    assert np.array_equal(joined.designation, np.concatenate([p.designation for p in made])[order])
    assert np.array_equal(joined.need, np.concatenate([p.need for p in made])[order])


@SETTINGS
@given(st.lists(st.floats(693_596, 803_533), min_size=1, max_size=300), st.booleans())
def test_calendar_years_and_septembers_are_numpys_calendar(ordinals, whole):
    """1900–2200, fractions of a day and whole days (1 January itself included)."""
    from placeplan.model import _calendar_years, _septembers

    t = np.floor(ordinals) if whole else np.array(ordinals)
    epoch = date(1970, 1, 1).toordinal()
    days = np.floor(t).astype(np.int64) - epoch
    years = days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    assert np.array_equal(_calendar_years(t), years)
    september = (years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + 8
    assert np.array_equal(
        _septembers(years), september.astype("datetime64[D]").astype(np.int64) + epoch
    )


@SETTINGS
@given(st.integers(0, 2**63), st.integers(0, 3000), st.integers(0, 40))
def test_the_stepped_pcg64_stream_is_numpys_draw_for_draw(seed, before, most):
    """Doubles as ``Generator.random`` gives them; ``d`` steps jumped as one (big ints)."""
    from placeplan.demand import pcg64

    rng = np.random.default_rng(seed)
    rng.random(before)
    hi, lo, inc_hi, inc_lo = pcg64.read_state(rng)
    table = pcg64.jumps(inc_hi, inc_lo, most)
    inc, mult = (int(inc_hi) << 64) | int(inc_lo), (2549297995355413924 << 64) + 4865540595714422341
    a, c = 1, 0
    for d in range(most + 1):
        assert (
            int(table[d, 0]) << 64 | int(table[d, 1]),
            int(table[d, 2]) << 64 | int(table[d, 3]),
        ) == (a, c)
        a, c = (mult * a) % 2**128, (mult * c + inc) % 2**128
    table = pcg64.jumps(inc_hi, inc_lo, 26)
    mine, h, lo2 = pcg64.doubles(hi, lo, table, 300)
    assert np.array_equal(mine, rng.random(300))
    pcg64.write_state(rng, h, lo2)
    assert rng.random() == np.random.default_rng(seed).random(before + 301)[-1]


@st.composite
def _exits_case(draw):
    from placeplan.demand.need import _STEPPED

    n = draw(st.sampled_from([0, 3, _STEPPED - 1, _STEPPED, 700]))
    years = draw(st.integers(1, 4))
    stay = draw(arrays(np.float64, (years, 26, 3), elements=st.floats(0.0, 1.0)))
    stay[:, -1] = 0.0
    seed = draw(st.integers(0, 2**32))
    r = np.random.default_rng(seed)
    return stay, r.integers(0, 26, n), r.integers(0, 3, n), r.integers(0, 6, n), seed


@SETTINGS
@given(_exits_case())
def test_exits_stepped_are_the_exits_of_the_whole_block(case):
    """Same exits, and the stream left where drawing every child's 26 uniforms leaves it."""
    from placeplan.demand.need import _last_januaries, _septembers, need_exits

    stay, age, need, first, seed = case
    mine, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    got = need_exits(mine, first, age, need, stay, 2025)
    u = theirs.random((len(age), 26))
    want = _septembers(2025 + first + _last_januaries(first, age, need, stay, u))
    assert np.array_equal(got, want)
    assert mine.random() == theirs.random()


@SETTINGS
@given(
    st.integers(0, 2**63),
    arrays(
        np.float64,
        st.integers(0, 60),
        elements=st.one_of(
            st.just(0.0),
            st.just(10.0),
            st.floats(0.0, 10.0),
            st.floats(9.99, 10.01),
            st.floats(10.0, 1e7),
        ),
    ),
)
def test_poisson_counts_stepped_are_numpys_count_for_count(seed, lam):
    """Both of numpy's methods (products below 10, PTRS from 10), and the state after."""
    from placeplan.demand import pcg64

    mine, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    hi, lo, inc_hi, inc_lo = pcg64.read_state(mine)
    got, hi, lo = pcg64.poissons(hi, lo, pcg64.jumps(inc_hi, inc_lo, 1), lam)
    assert np.array_equal(got, theirs.poisson(lam))
    pcg64.write_state(mine, hi, lo)
    assert mine.random() == theirs.random()


def test_poisson_counts_stepped_agree_over_many_draws_of_every_size():
    """200,000 counts, most by PTRS, so its rejection steps and log-gamma are exercised."""
    from placeplan.demand import pcg64

    rng = np.random.default_rng(11)
    for seed in range(100):
        lam = np.concatenate(
            [rng.gamma(0.6, 40.0, 1500), rng.uniform(9.0, 11.0, 300), rng.uniform(0, 1e5, 200)]
        )
        mine, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        hi, lo, inc_hi, inc_lo = pcg64.read_state(mine)
        got, _, _ = pcg64.poissons(hi, lo, pcg64.jumps(inc_hi, inc_lo, 1), lam)
        assert np.array_equal(got, theirs.poisson(lam)), seed


@SETTINGS
@given(st.integers(0, 400), st.sampled_from(["spread", "ties", "clustered"]), st.integers(0, 2**32))
def test_the_bucketed_stable_order_is_numpys_stable_argsort(n, shape, seed):
    """Evenly spread, tied, and clustered values (the last finish by merge sort)."""
    from placeplan.demand.referrals import _stable_order

    rng = np.random.default_rng(seed)
    if shape == "spread":
        values = 700_000.0 + rng.random(n) * 365.0
    elif shape == "ties":
        values = rng.integers(0, 5, n) * 7.0
    else:  # all but one in the first bucket, in random order, with ties
        values = np.append(rng.integers(0, 50, n) * 1e-9, [1e6] * min(n, 1))
    assert np.array_equal(_stable_order(values), np.argsort(values, kind="stable"))


@st.composite
def _referral_case(draw):
    years = draw(st.integers(1, 4))
    means = st.one_of(st.just(0.0), st.floats(0.0, 3.0), st.floats(10.0, 60.0))
    inflow = draw(arrays(np.float64, (years, 5, 3), elements=means))
    start = date(2025, 1, 1).toordinal() + draw(st.integers(0, 500))
    end = start + draw(st.integers(1, 365 * years))
    return inflow, date.fromordinal(start), date.fromordinal(end), draw(st.integers(0, 2**32))


@SETTINGS
@given(_referral_case())
def test_referrals_drawn_by_stepping_are_the_generators_year_by_year(case):
    """Counts, instants, ages and needs as the numpy loop draws them, and the state after.

    Years before the start are skipped and referrals from the end dropped, as there.
    """
    from unittest import mock

    from placeplan.demand.referrals import _draw_referrals

    inflow, start, end, seed = case
    mine, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    got = _draw_referrals(mine, inflow, 2025, len(inflow), start, end)
    with mock.patch("placeplan.demand.referrals.read_state", return_value=None):
        want = _draw_referrals(theirs, inflow, 2025, len(inflow), start, end)
    for a, b in zip(got, want, strict=True):
        assert np.array_equal(a, b)
    assert mine.random() == theirs.random()


def test_a_mean_numpy_refuses_is_refused_as_numpy_refuses_it():
    """A negative or NaN mean goes to ``Generator.poisson``, which raises, as before."""
    from placeplan.demand.referrals import _draw_referrals

    for bad in (-1.0, np.nan):
        inflow = np.ones((2, 5, 3))
        inflow[1, 2, 1] = bad
        try:
            _draw_referrals(
                np.random.default_rng(0), inflow, 2025, 2, date(2025, 1, 1), date(2027, 1, 1)
            )
        except ValueError as exc:
            assert "lam" in str(exc)
        else:  # pragma: no cover - the check failed
            raise AssertionError(f"a mean of {bad} was accepted")
