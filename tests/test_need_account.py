"""One account of need: the cohort projection's children are the queue model's children.

- At every snapshot of every replication, by designation:
  need = in the council's places + placed elsewhere + waiting (an identity, with
  ``need`` counted from when each child starts and stops needing a place alone).
- In expectation, the children needing a place each January are the projection's.
- Leaving comes from one source: the projection's continuation probabilities.
- The state at the start is derived from SEN2, recorded, and can be overridden.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import placeplan
from placeplan.bundled import resolve_scenario_path as bundled_path
from placeplan.demand.need import need_exits, need_path
from placeplan.errors import ScenarioError
from placeplan.model import Model
from placeplan.scenario import load_scenario, scenario_from_dict
from placeplan.streams import Streams


def _baseline_dict() -> dict:
    import yaml

    return yaml.safe_load(bundled_path("herts-baseline").read_text())


def _scenario(**changes) -> placeplan.Scenario:
    data = _baseline_dict()
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return scenario_from_dict(data)


def _identity(dataset, suffix: str = "") -> np.ndarray:
    d = dataset
    return (
        d[f"need{suffix}"]
        - d[f"pupils{suffix}"]
        - d[f"placed_elsewhere{suffix}"]
        - d[f"waiting{suffix}"]
    ).values


@pytest.mark.parametrize(
    "name", ["herts-baseline", "herts-out-of-area", "herts-county-panel", "herts-slippage"]
)
def test_need_is_pupils_plus_placed_elsewhere_plus_waiting_at_every_snapshot(name):
    results = placeplan.run(name, 6, seed=11)
    assert np.all(_identity(results.dataset) == 0)
    assert np.all(_identity(results.dataset, "_by_designation") == 0)
    d = results.dataset
    # not trivially: every state is occupied at some point
    assert d["placed_elsewhere"].max() > 0 and d["waiting"].max() > 0 and d["pupils"].max() > 0


def test_identity_holds_with_schools_that_stop_at_an_age_both_engines():
    """Pupils leaving a school at its oldest age while still in need are placed elsewhere."""
    data = _baseline_dict()
    data["years"] = 3
    data["placement"]["schools"] = [
        {
            "name": f"{d} school",
            "locality": "county",
            "ages": [4, 11] if d in ("ASD", "MLD") else [4, 18],
            "places": {d: spec["places"]},
        }
        for d, spec in data["placement"]["designations"].items()
    ]
    for p in data["placement"]["build_programme"]:
        p["ages"] = [4, 11]
    scenario = scenario_from_dict(data)
    epoch = placeplan.run(scenario, 3, seed=5)
    reference = placeplan.run(scenario, 3, seed=5, engine="reference")
    for results in (epoch, reference):
        assert np.all(_identity(results.dataset) == 0)
    moved_on = epoch.dataset["placed_elsewhere"].isel(time=-1) - 0
    assert float(moved_on.max()) > 0
    np.testing.assert_array_equal(epoch.dataset["need"].values, reference.dataset["need"].values)
    np.testing.assert_array_equal(
        epoch.dataset["pupils"].values, reference.dataset["pupils"].values
    )


def _need_at(rep, instant: float) -> int:
    """Children needing a place at an instant, counted from the account alone."""
    a = rep.problem.account
    c = rep.problem.children
    return int(
        (a.occupant_until > instant).sum()
        + (a.elsewhere_until > instant).sum()
        + ((c.time <= instant) & (a.child_until > instant)).sum()
    )


def test_children_needing_a_place_each_january_are_the_projections_in_expectation():
    scenario = load_scenario(bundled_path("herts-baseline"))
    model = Model(scenario)
    gaps = []
    for r in range(60):
        rep = model.replicate(Streams(2024, r))
        d = rep.demand
        years = [k for k, j in enumerate(d.januaries) if j < scenario.end.toordinal()]
        at = [max(d.januaries[k], model._start) for k in years]  # the start, then Januaries
        gaps.append(
            [_need_at(rep, t) - d.specialist_demand[k] for k, t in zip(years, at, strict=True)]
        )
    gaps = np.array(gaps)
    mean, se = gaps.mean(axis=0), gaps.std(axis=0, ddof=1) / np.sqrt(len(gaps))
    # the start is exact; every later January agrees within Monte Carlo error
    assert abs(gaps[:, 0]).max() < 1.0
    assert np.all(np.abs(mean[1:]) < 4 * se[1:] + 2), (mean, se)


def test_breaking_the_account_breaks_the_expectation():
    """Mutation guard: exits drawn from ceasing alone (no fall of the share with age)."""
    scenario = load_scenario(bundled_path("herts-baseline"))
    model = Model(scenario)
    rep = model.replicate(Streams(1, 0))
    path = rep.demand.path
    rng = np.random.default_rng(0)
    age = np.full(20000, 16)
    need = np.full(20000, 0)
    right = need_exits(rng, np.zeros(20000, int), age, need, path.stay, 2025)
    wrong_stay = np.broadcast_to(
        (1 - model.cohort.cease_rate)[None, :, None], path.stay.shape
    ).copy()
    wrong = need_exits(rng, np.zeros(20000, int), age, need, wrong_stay, 2025)
    first = date(2025, 9, 1).toordinal()
    assert abs((right <= first).mean() - (1 - path.stay[0, 16, 0])) < 0.02
    assert abs((right <= first).mean() - (wrong <= first).mean()) > 0.05


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 6),
    st.lists(st.floats(0, 50), min_size=26 * 3, max_size=26 * 3),
    st.floats(0, 0.3),
    st.integers(0, 8),
    st.integers(8, 25),
)
def test_need_path_is_the_target_where_reachable_and_conserves(years, cells, cease, lo, hi):
    rng = np.random.default_rng(len(cells))
    base = np.array(cells).reshape(26, 3)
    target = base[None] * np.exp(rng.normal(0, 0.2, size=(years + 1, 1, 1)))
    cease_rate = np.full(26, cease)
    path = need_path(target, cease_rate, (lo, hi))
    np.testing.assert_allclose(path.need[0], target[0])
    # conservation: next January = stayers + newly needing
    for y in range(years):
        np.testing.assert_allclose(
            path.need[y + 1, 1:], path.need[y, :-1] * path.stay[y, :-1] + path.inflow[y, 1:]
        )
    # one source: nobody stays with more than the plans' survival
    assert np.all(path.stay <= 1 - cease + 1e-12)
    assert np.all(path.stay[:, -1] == 0)
    assert np.all(path.inflow >= 0)
    # reachable: inside the referral ages, the target is met exactly
    ages = np.arange(26)
    inside = (ages >= max(lo, 1)) & (ages <= hi)
    np.testing.assert_allclose(path.need[1:, inside], target[1:, inside], atol=1e-9)


def test_need_exits_follow_the_stay_probabilities():
    stay = np.zeros((3, 26, 1))
    stay[:, :, 0] = 0.8
    stay[:, 25, 0] = 0.0
    rng = np.random.default_rng(3)
    until = need_exits(
        rng, np.zeros(40000, int), np.full(40000, 10), np.zeros(40000, int), stay, 2025
    )
    septembers = [date(y, 9, 1).toordinal() for y in (2025, 2026, 2027)]
    shares = [(until == s).mean() for s in septembers]
    np.testing.assert_allclose(shares, [0.2, 0.8 * 0.2, 0.64 * 0.2], atol=0.01)


# ----------------------------------------------------------------- the starting state
def test_starting_state_is_derived_from_sen2_and_recorded():
    results = placeplan.run("herts-baseline", 4, seed=3)
    start = results.provenance["starting_state"]
    assert start["special_school_children"]["value"] == 3375  # SEN2 special_total, Jan 2025
    assert "independent 278" in start["special_school_children"]["derivation"]
    assert start["council_pupils"]["value"] == 3054
    assert start["placed_elsewhere"]["value"] == 3375 - 3054
    assert "653" in start["list"]["value"]  # SEN2 educated elsewhere, January 2025
    d = results.dataset.isel(time=0)
    assert np.all(d["pupils"].values == 3054)
    assert np.all(d["placed_elsewhere"].values >= 321)  # and some placed from the list since
    model = Model(load_scenario(bundled_path("herts-baseline")))
    assert len(model.problem(Streams(3, 0))[1].account.elsewhere_until) == 321
    listed = [model.problem(Streams(3, r))[2].sum() for r in range(6)]
    assert all(round(0.5 * 653) <= n <= round(1.5 * 653) for n in listed)
    assert len(set(listed)) > 1  # drawn per replication


def test_the_list_and_its_waits_are_drawn_per_replication():
    scenario = load_scenario(bundled_path("herts-baseline"))
    model = Model(scenario)
    sizes, waits = [], []
    for r in range(40):
        streams = Streams(7, r)
        values = model.assumption_values(streams)
        _, problem, initial = model.problem(streams)
        sizes.append(initial.sum())
        waited = (model._start - problem.children.time[initial]) / (365.25 / 3)
        waits.append((waited.mean(), values["demand.starting_state.list_mean_terms_waited"]))
        share = values["demand.starting_state.list_share_of_educated_elsewhere"]
        assert initial.sum() == round(653 * share)
    waits = np.array(waits)
    assert np.corrcoef(waits[:, 0], waits[:, 1])[0, 1] > 0.8
    assert np.std(sizes) > 50


def test_starting_state_can_be_overridden():
    scenario = _scenario(
        demand__starting_state={"list_size": 120, "placed_elsewhere": 40, "source": "test"}
    )
    results = placeplan.run(scenario, 3, seed=1)
    d = results.dataset.isel(time=0)
    assert np.all(d["placed_elsewhere"].values >= 40)
    _, problem, initial = Model(scenario).problem(Streams(1, 0))
    assert initial.sum() == 120 and len(problem.account.elsewhere_until) == 40
    prov = results.provenance["starting_state"]
    assert prov["list"]["derivation"].startswith("given in demand.starting_state.list_size")
    assert prov["placed_elsewhere"]["source"] == "test"


def test_leaving_rates_beside_a_cohort_are_refused():
    with pytest.raises(ScenarioError, match=r"placement\.leaving.*one source"):
        _scenario(placement__leaving={"end_of_year": {16: 1.0}})


def test_a_start_after_the_base_year_summer_is_refused():
    with pytest.raises(ScenarioError, match="before 2025-09-01"):
        _scenario(start="2025-09-02")


def test_list_given_twice_is_refused():
    data = _baseline_dict()
    data["demand"]["starting_state"] = {"list_size": 10}
    data["placement"]["initial_waiting"] = [
        {
            "children": {"ASD": 5},
            "referred_from": "2024-09-01",
            "referred_to": "2024-12-01",
        }
    ]
    with pytest.raises(ScenarioError, match="given twice"):
        scenario_from_dict(data)


def test_children_waiting_are_placed_independently_at_the_rate_given():
    scenario = _scenario(placement__out_of_area={"rate": 2.0})
    model = Model(scenario)
    _, problem, _ = model.problem(Streams(5, 0))
    c = problem.children
    waited = problem.exits.out_of_area - np.maximum(c.time, model._start)
    assert abs(waited.mean() / (365.25 / 2.0) - 1) < 0.05  # exponential, mean half a year
    results = placeplan.run(scenario, 3, seed=5)
    assert np.all(_identity(results.dataset) == 0)
    assert results.dataset["placed_out_of_area"].isel(time=-1).min() > 0
    none = Model(_scenario(placement__out_of_area={"rate": 0.0})).problem(Streams(5, 0))[1]
    assert np.isinf(none.exits.out_of_area).all()
