"""The cohort projection: conservation, no negative counts, and the SEN2-derived inputs."""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from placeplan import scenario
from placeplan.demand import (
    cohort_inputs,
    cohort_step,
    expected_referrals,
    project,
    specialist_share,
)

AGES, NEEDS = 26, len(scenario.NEEDS)  # 13: DS a primary need from SEN2 reporting year 2026
counts = arrays(np.float64, (AGES, NEEDS), elements=st.floats(0, 5000))
rates = arrays(np.float64, AGES, elements=st.floats(-0.5, 1.5))  # out-of-range rates are clipped


mixes = arrays(np.float64, (AGES, NEEDS), elements=st.floats(0.01, 1)).map(
    lambda m: m / m.sum(axis=1, keepdims=True)
)

# boundary cases pinned with @example: no plans at all; rates at and beyond their
# clipping bounds (everyone ceases, nobody does); full and no re-recording
ZERO = np.zeros((AGES, NEEDS))
FULL = np.full((AGES, NEEDS), 5000.0)
EVEN = np.full((AGES, NEEDS), 1.0 / NEEDS)


@given(counts, rates, counts, mixes, st.floats(0, 1))
@example(ZERO, np.zeros(AGES), ZERO, EVEN, 0.0)
@example(FULL, np.full(AGES, 1.5), ZERO, EVEN, 1.0)  # all cease (rate clipped to 1)
@example(FULL, np.full(AGES, -0.5), FULL, EVEN, 0.0)  # none cease (clipped to 0)
@example(FULL, np.full(AGES, 0.5), ZERO, EVEN, 1.0)
def test_cohort_step_conserves_plans(stock, cease, new, mix, recode):
    nxt, ceased = cohort_step(stock, cease, new, mix, recode)
    np.testing.assert_allclose(
        nxt.sum(), stock.sum() + new.sum() - ceased.sum(), rtol=1e-9, atol=1e-6
    )
    assert (nxt >= 0).all() and (ceased >= 0).all()
    # ageing: next year's age a+1 holds this year's age a survivors plus new plans;
    # re-recording needs moves plans between needs, never changes their number
    survivors = stock - ceased
    np.testing.assert_allclose(
        nxt[1:].sum(axis=1), survivors[:-1].sum(axis=1) + new[1:].sum(axis=1), rtol=1e-9, atol=1e-6
    )
    if recode == 0:
        np.testing.assert_allclose(nxt[1:], survivors[:-1] + new[1:], atol=1e-6)


def test_full_recoding_keeps_each_age_at_its_need_mix():
    rng = np.random.default_rng(3)
    mix = rng.dirichlet(np.ones(NEEDS), size=AGES)
    stock = rng.uniform(10, 100, AGES)[:, None] * mix
    nxt, _ = cohort_step(stock, np.full(AGES, 0.1), np.zeros((AGES, NEEDS)), mix, 1.0)
    np.testing.assert_allclose(nxt[1:] / nxt[1:].sum(axis=1, keepdims=True), mix[1:])


@given(counts, rates, arrays(np.float64, (3, AGES, NEEDS), elements=st.floats(0, 5000)))
@settings(max_examples=50, deadline=None)  # the first example compiles the projection
@example(ZERO, np.zeros(AGES), np.zeros((3, AGES, NEEDS)))
@example(FULL, np.full(AGES, 1.5), np.zeros((3, AGES, NEEDS)))
def test_projection_never_negative_and_conserves_each_year(stock, cease, new):
    out = project(stock, cease, new)
    assert out.shape == (4, AGES, NEEDS)
    assert (out >= 0).all()
    for y in range(3):
        nxt, _ = cohort_step(out[y], cease, new[y])
        np.testing.assert_allclose(out[y + 1], nxt)


@given(
    counts,
    arrays(np.float64, AGES, elements=st.floats(0, 1000)),
    arrays(np.float64, NEEDS, elements=st.floats(0, 1000)),
)
@settings(max_examples=50)
@example(ZERO, np.zeros(AGES), np.zeros(NEEDS))  # no plans: shares of 0, not NaN
@example(ZERO, np.full(AGES, 10.0), np.full(NEEDS, 10.0))  # special plans but no plans
@example(FULL, np.full(AGES, 1000.0 * NEEDS), np.full(NEEDS, 1000.0))  # more than all
def test_specialist_share_is_a_share(stock, by_age, by_need):
    share = specialist_share(stock, by_age, by_need)
    assert np.isfinite(share).all()
    assert ((share >= 0) & (share <= 1 + 1e-12)).all()
    assert (share[stock == 0] == 0).all()


def test_specialist_share_matches_both_margins_when_consistent():
    rng = np.random.default_rng(1)
    stock = rng.uniform(50, 500, (AGES, NEEDS))
    truth = rng.uniform(0.05, 0.4, AGES)[:, None] * rng.uniform(0.5, 1.5, NEEDS)[None, :]
    special = stock * truth
    share = specialist_share(stock, special.sum(1), special.sum(0))
    np.testing.assert_allclose((stock * share).sum(1), special.sum(1), rtol=1e-6)
    np.testing.assert_allclose((stock * share).sum(0), special.sum(0), rtol=1e-6)


@given(arrays(np.float64, (4, AGES, NEEDS), elements=st.floats(0, 1000)), rates)
@settings(max_examples=50)
@example(np.zeros((4, AGES, NEEDS)), np.zeros(AGES))
@example(np.full((4, AGES, NEEDS), 100.0), np.full(AGES, 1.5))  # nobody carries over
@example(np.full((4, AGES, NEEDS), 100.0), np.zeros(AGES))  # flat: no new referrals
def test_expected_referrals_non_negative_and_only_at_referral_ages(specialist, cease):
    r = expected_referrals(specialist, cease, (4, 15))
    assert r.shape == (3, AGES, NEEDS)
    assert (r >= 0).all()
    assert (r[:, :4] == 0).all() and (r[:, 16:] == 0).all()
    # at the youngest referral age, everyone needing a place is a new referral
    np.testing.assert_array_equal(r[:, 4], specialist[1:, 4])
    # a cohort's referrals are at least its growth after ceasing (never less)
    survive = 1 - np.clip(cease, 0, 1)
    growth = specialist[1:, 5:16] - specialist[:-1, 4:15] * survive[4:15, None]
    assert (r[:, 5:16] >= growth - 1e-9).all()


def test_hertfordshire_inputs_match_sen2():
    inputs = cohort_inputs("E10000015")
    # January 2025: 12,920 plans, of which 3,375 in special schools (SEN2 release 2025)
    assert round(inputs.stock.sum()) == 12920
    assert round((inputs.stock * inputs.special_share).sum()) == 3375
    assert inputs.new_plans_year == 2024
    assert 1500 < inputs.new_plans.sum() < 2200
    assert ((inputs.cease_rate >= 0) & (inputs.cease_rate <= 1)).all()
    # most plans cease at the top of the age range, few in primary school
    assert inputs.cease_rate[20:].mean() > inputs.cease_rate[5:11].mean()


def test_every_current_council_has_cohort_inputs_and_all_project_at_once():
    from placeplan import sen2
    from placeplan.demand import stack

    areas = sen2.councils()
    codes = areas[(areas["level"] == "la") & (areas["last_year"] == 2025)]["code"].tolist()
    assert len(codes) == 153
    inputs = [cohort_inputs(code) for code in codes]
    for i in inputs:
        assert i.stock.sum() > 0, i.area
        if i.area != "E06000053":  # the Isles of Scilly have no plans in special schools
            assert (i.stock * i.special_share).sum() > 0, i.area
    s = stack(inputs)
    years = 10
    new = s["new_plans"][:, None] * np.ones((1, years, 1, 1))
    together = project(s["stock"], s["cease_rate"], new, s["need_mix"], 1.0)
    assert together.shape == (153, years + 1, AGES, NEEDS)
    for k in (0, 76, 152):
        alone = project(inputs[k].stock, inputs[k].cease_rate, new[k], inputs[k].need_mix, 1.0)
        np.testing.assert_allclose(together[k], alone)
    referrals = expected_referrals(together * s["special_share"][:, None], s["cease_rate"], (4, 15))
    assert referrals.shape == (153, years, AGES, NEEDS) and (referrals >= 0).all()
    # England: the councils' stocks add up to the published national total
    assert abs(together[:, 0].sum() - 638745) / 638745 < 0.01
