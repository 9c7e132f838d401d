"""Dated policy levers on demand: the 2026 Schools White Paper as a scenario lever."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

import placeplan as pp
from placeplan.demand.referrals import draw_cohort_demand
from placeplan.errors import ScenarioError
from placeplan.model import Model
from placeplan.scenario import scenario_from_dict
from placeplan.streams import Streams, assumption_slot


def _draw(scenario, replicate: int = 0):
    model = Model(scenario)
    streams = Streams(3, replicate)
    values = model.assumption_values(streams)
    need = model._start_tables[0] + model._start_tables[1] + 600 * model._start_tables[2]
    return draw_cohort_demand(
        scenario.demand,
        model.cohort,
        scenario.designations,
        scenario.start,
        scenario.end,
        streams.rng("parameters"),
        streams.rng("referrals"),
        values,
        need,
    )


def _with_lever(**lever):
    data = pp.load_scenario("herts-baseline").model_dump(by_alias=True)
    data["demand"]["levers"] = [{"name": "test", "from": "2030-09-01", **lever}]
    return scenario_from_dict(data)


def test_a_lever_changes_nothing_before_its_date_and_cuts_after():
    base = _draw(pp.load_scenario("herts-baseline"))
    cut = _draw(_with_lever(new_plans_factor=0.5, specialist_need_factor=0.5))
    years = 2025 + np.arange(len(base.januaries))
    before = years <= 2030
    np.testing.assert_allclose(cut.ehcp_plans[before], base.ehcp_plans[before])
    np.testing.assert_allclose(cut.specialist_demand[before], base.specialist_demand[before])
    assert np.all(cut.ehcp_plans[~before] < base.ehcp_plans[~before])
    assert np.all(cut.specialist_demand[~before] < base.specialist_demand[~before])
    # referrals before the date are the same children (common random numbers)
    first = date(2030, 9, 1).toordinal()
    early = base.referrals.time < date(2030, 1, 1).toordinal()
    np.testing.assert_array_equal(
        cut.referrals.time[cut.referrals.time < date(2030, 1, 1).toordinal()],
        base.referrals.time[early],
    )
    # those newly needing a place after the date are fewer, by about the factor
    late_base = (base.referrals.time >= date(2031, 1, 1).toordinal()).sum()
    late_cut = (cut.referrals.time >= date(2031, 1, 1).toordinal()).sum()
    assert 0.4 < late_cut / late_base < 0.6
    assert first > 0


def test_children_already_needing_a_place_keep_it():
    base = _draw(pp.load_scenario("herts-baseline"))
    cut = _draw(_with_lever(specialist_need_factor=0.3))
    # continuation is the same under the lever: nobody loses a place because of it
    np.testing.assert_array_equal(cut.path.stay, base.path.stay)
    assert np.all(cut.path.inflow <= base.path.inflow + 1e-9)
    years = 2025 + np.arange(len(base.path.inflow))
    np.testing.assert_allclose(
        cut.path.inflow[years >= 2031], 0.3 * base.path.inflow[years >= 2031], rtol=1e-9
    )


def test_a_lever_at_one_changes_nothing():
    base = _draw(pp.load_scenario("herts-baseline"))
    same = _draw(_with_lever(new_plans_factor=1.0, specialist_need_factor=1.0))
    np.testing.assert_allclose(same.ehcp_plans, base.ehcp_plans)
    np.testing.assert_array_equal(same.referrals.time, base.referrals.time)


def test_a_lever_in_a_year_applies_to_the_part_after_its_date():
    whole = _draw(_with_lever(new_plans_factor=0.5))
    data = pp.load_scenario("herts-baseline").model_dump(by_alias=True)
    data["demand"]["levers"] = [{"name": "t", "from": "2030-01-01", "new_plans_factor": 0.5}]
    early = _draw(scenario_from_dict(data))
    # dated in January, the lever cuts more of 2030's new plans than dated in September
    k = 2031 - 2025
    assert early.ehcp_plans[k] < whole.ehcp_plans[k]


def test_levers_are_assumptions_with_their_own_streams():
    reform = pp.load_scenario("herts-send-reform")
    paths = reform.assumptions()
    assert paths["demand.levers.0.new_plans_factor"].describe() == "triangular 0.4–0.9, mode 0.6"
    assert assumption_slot("demand.levers.0.new_plans_factor") == 1000
    assert assumption_slot("demand.levers.1.specialist_need_factor") == 1011
    with pytest.raises(KeyError):
        assumption_slot("demand.levers.0.colour")
    model = Model(reform, pins={"demand.levers.0.new_plans_factor": 0.9})
    values = model.assumption_values(Streams(1, 0))
    free = Model(reform).assumption_values(Streams(1, 0))
    assert values["demand.levers.0.new_plans_factor"] == pytest.approx(
        reform.demand.levers[0].new_plans_factor.ppf(0.9)
    )
    # pinning the lever moves no other draw
    for path in free:
        if path != "demand.levers.0.new_plans_factor":
            assert values[path] == free[path]


def test_a_lever_needs_known_keys_and_a_date(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "extends: herts-baseline\nname: s\ndemand:\n  levers:\n"
        "    - {name: x, from: 2030-09-01, new_plans_factr: 0.5}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="new_plans_factr"):
        pp.load_scenario(path, allow_outside=True)
    path.write_text(
        "extends: herts-baseline\nname: s\ndemand:\n  levers:\n"
        "    - {name: x, new_plans_factor: 7}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as info:
        pp.load_scenario(path, allow_outside=True)
    text = str(info.value)
    assert "from" in text and "new_plans_factor must lie in [0, 5]" in text


def test_the_reform_scenario_runs_and_reduces_plans_after_2030():
    base = pp.run("herts-baseline", 4, seed=1)
    reform = pp.run("herts-send-reform", 4, seed=1)
    t = base.dataset.time.values
    before = t < np.datetime64("2030-01-01")
    after = t > np.datetime64("2032-01-01")
    b, r = base.dataset["ehcp_plans"], reform.dataset["ehcp_plans"]
    np.testing.assert_allclose(r.values[:, before], b.values[:, before])
    assert np.all(r.values[:, after] < b.values[:, after])


def test_assumption_values_read_in_any_order_are_those_drawn_all_at_once(monkeypatch):
    """Drawn when read, each from its own stream: order and omissions change no value.

    A fixed assumption takes no draw; a pinned one takes its pin.
    """
    from placeplan.model import bounds_of

    scenario = pp.load_scenario("herts-baseline")
    dists = scenario.assumptions()
    assert any(not d.fixed for d in dists.values()) and any(d.fixed for d in dists.values())
    streams = Streams(11, 4)
    eager = {
        path: dist.ppf(streams.assumption(path), *bounds_of(path)) for path, dist in dists.items()
    }
    drawn: list[str] = []
    real = Streams.assumption

    def counting(self, name):
        drawn.append(name)
        return real(self, name)

    monkeypatch.setattr(Streams, "assumption", counting)
    lazy = Model(scenario).assumption_values(streams)
    paths = list(dists)
    assert [lazy[p] for p in reversed(paths)] == [eager[p] for p in reversed(paths)]
    assert dict(lazy) == eager and len(lazy) == len(eager)
    assert set(drawn) == {p for p, d in dists.items() if not d.fixed}  # fixed: no draw
    assert len(drawn) == len(set(drawn))  # each drawn once however often read
    free = next(p for p, d in dists.items() if not d.fixed)
    pinned = Model(scenario, pins={free: 0.25}).assumption_values(streams)
    assert pinned[free] == dists[free].ppf(0.25, *bounds_of(free))
