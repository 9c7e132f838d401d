"""The capital programme optimiser: known optima, verification, resuming, bad input.

The scenario is tiny and deterministic: three referrals a term, six places all
taken, nobody leaving, so every replication is the same and a programme meets the
target in all of them or in none. The optimum is then found here by enumeration.
"""

from __future__ import annotations

import itertools
import json
import sys
import types
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import placeplan as pp
from placeplan.cli import main
from placeplan.errors import InputError, ScenarioError
from placeplan.optimise import evaluate as ev
from placeplan.optimise import load_candidates, optimise, parse_target, write_outputs
from placeplan.optimise.core import StoppedError
from placeplan.optimise.evaluate import lower_bound
from placeplan.optimise.search import cover
from placeplan.optimise.select import derived_seed, min_replications

TINY = """\
name: tiny
title: Tiny
council: {code: E10000015, name: Hertfordshire}
start: 2025-09-01
years: 3
demand:
  model: fixed
  per_term: {ANY: [3]}
  arrival: term_start
placement:
  designations:
    ANY: {places: 6, source: "test"}
  panels: {every_days: null, start_places: immediate}
  leaving: {end_of_year: {}, mid_year_rate: 0.0}
"""

PROJECTS = {
    "A": "{name: A, designation: ANY, places: 3, cost_gbp: 1000000, earliest: 2026-01-01, "
    "latest: 2026-09-01, source: test}",
    "B": "{name: B, designation: ANY, places: 6, cost_gbp: 1500000, earliest: 2026-09-01, "
    "latest: 2027-09-01, terms: [autumn], source: test}",
    "C": "{name: C, designation: ANY, places: 9, cost_gbp: 3000000, "
    "earliest: {academic_year: 2026, term: spring}, latest: 2028-09-01, source: test}",
    "D": "{name: D, designation: ANY, places: 12, cost_gbp: 5000000, earliest: 2025-09-01, "
    "source: test}",
}

TARGET = "long_waits<=0 from 2027-01"
FAST = {
    "confidence": 0.5,
    "level": 0.9,
    "replications": 4,
    "final_replications": 8,
    "finalist_count": 3,
    "guess": False,
}


def files(folder: Path, names: str = "ABCD") -> tuple[Path, Path]:
    scenario = folder / "tiny.yaml"
    scenario.write_text(TINY)
    cands = folder / "cands.yaml"
    body = "".join(f"  - {PROJECTS[n]}\n" for n in names)
    cands.write_text("title: test\ncandidates:\n" + body if names else "candidates: []\n")
    return scenario, cands


def enumerate_optimum(scenario_path: Path, cands_path: Path, target: str = TARGET):
    """Every programme run once (the scenario is deterministic): the cheapest meeting it,
    and among those the latest openings."""
    s = pp.load_scenario(scenario_path)
    c = load_candidates(cands_path, s)
    t = parse_target(target, s)
    meeting = []
    for p in itertools.product(*[range(-1, len(o)) for o in c.options]):
        values = ev.simulate(ev.programme_scenario(s, c, p), 1, 0, t.variable, t.dates)
        if (values <= t.count).all():
            meeting.append((ev.programme_cost(c, p), -sum(o for o in p if o >= 0), p))
    return min(meeting) if meeting else None


@pytest.fixture(scope="module")
def optimum(tmp_path_factory):
    folder = tmp_path_factory.mktemp("enum")
    scenario, cands = files(folder)
    return enumerate_optimum(scenario, cands)


def test_exhaustive_search_finds_the_enumerated_optimum(tmp_path, optimum):
    scenario, cands = files(tmp_path)
    s = pp.load_scenario(scenario)
    r = optimise(s, cands, TARGET, out=tmp_path / "o", max_evaluations=500, **FAST)
    assert r.search.method == "exhaustive"
    cost, _, programme = optimum
    assert cost == 4_000_000  # A and C: 12 places by January 2028, 3 by January 2027
    assert r.status == "verified"
    assert r.chosen.programme == programme  # the latest openings that still meet it
    assert r.verification.met == r.verification.replications == 8


def test_optuna_search_finds_the_optimal_cost_with_fewer_evaluations(tmp_path, optimum):
    scenario, cands = files(tmp_path)
    s = pp.load_scenario(scenario)
    r = optimise(s, cands, TARGET, out=tmp_path / "o", max_evaluations=40, **FAST)
    assert r.search.method.startswith("optuna")
    assert len(r.search.evaluations) <= 40 < r.candidates.space_size()
    assert r.status == "verified" and r.chosen.cost == optimum[0]


def test_a_choice_that_fails_verification_is_never_reported_as_meeting(tmp_path, monkeypatch):
    scenario, cands = files(tmp_path, "ACD")
    s = pp.load_scenario(scenario)
    real = ev.simulate
    verify_seed = 777

    def rigged(scenario, replications, seed, variable, dates):
        values = real(scenario, replications, seed, variable, dates)
        return values + 5 if seed == verify_seed else values  # everybody waits

    monkeypatch.setattr(ev, "simulate", rigged)
    out = tmp_path / "o"
    r = optimise(s, cands, TARGET, out=out, verify_seed=verify_seed, max_evaluations=500, **FAST)
    assert r.chosen is not None and r.chosen.met == r.chosen.replications  # passed selection
    assert r.status == "not verified" and not r.verified
    assert r.verification.met == 0
    assert "NOT shown to meet" in r.message
    written = write_outputs(r, out)
    assert "programme.yaml" not in written and (out / "unverified-programme.yaml").exists()
    report = (out / "report.md").read_text()
    assert "does **NOT** meet the target" in report and "**0 of 8**" in report
    summary = json.loads((out / "result.json").read_text())
    assert summary["verification"]["meets_target"] is False


def test_a_killed_run_resumes_computing_only_the_missing_evaluations(tmp_path):
    scenario, cands = files(tmp_path)
    s = pp.load_scenario(scenario)
    whole = optimise(s, cands, TARGET, out=tmp_path / "whole", max_evaluations=20, **FAST)
    again = optimise(s, cands, TARGET, out=tmp_path / "whole", max_evaluations=20, **FAST)
    assert again.computed == 0 and again.found == whole.computed
    with pytest.raises(StoppedError):
        optimise(
            s, cands, TARGET, out=tmp_path / "killed", max_evaluations=20, stop_after=7, **FAST
        )
    assert len(ev.EvaluationCache(tmp_path / "killed")) == 7
    resumed = optimise(s, cands, TARGET, out=tmp_path / "killed", max_evaluations=20, **FAST)
    assert resumed.computed == whole.computed - 7
    assert set(resumed.search.evaluations) == set(whole.search.evaluations)
    assert resumed.chosen.programme == whole.chosen.programme


def test_an_infeasible_target_is_answered_at_once(tmp_path):
    scenario, cands = files(tmp_path, "AB")  # 9 places at most: 12 needed by January 2028
    r = optimise(pp.load_scenario(scenario), cands, TARGET, out=tmp_path / "o", **FAST)
    assert r.status == "infeasible" and r.computed == 1 and r.chosen is None
    assert r.message.startswith("No programme meets the target")
    assert "every candidate at its earliest term (£2.5m) meets it in only 0 of 4" in r.message
    write_outputs(r, tmp_path / "o")
    assert "No programme meets" in (tmp_path / "o" / "report.md").read_text()
    assert not (tmp_path / "o" / "programme.yaml").exists()


def test_an_empty_candidate_list(tmp_path):
    scenario, cands = files(tmp_path, "")
    s = pp.load_scenario(scenario)
    r = optimise(s, cands, TARGET, out=tmp_path / "o", **FAST)
    assert r.status == "infeasible" and "lists no projects" in r.message
    easy = optimise(s, cands, "long_waits<=0 at 2026-01", out=tmp_path / "e", **FAST)
    assert easy.status == "verified" and easy.chosen.cost == 0 and easy.chosen.programme == ()


def test_budgets(tmp_path):
    scenario, cands = files(tmp_path, "ACD")
    s = pp.load_scenario(scenario)
    small = optimise(s, cands, TARGET, out=tmp_path / "o", budget=3_900_000, **FAST)
    assert small.status == "none within budget" and small.chosen is None
    assert "No programme within the budget of £3.9m" in small.message
    assert all(e.cost <= 3_900_000 for p, e in small.search.evaluations.items())
    enough = optimise(s, cands, TARGET, out=tmp_path / "o", budget=4_000_000, **FAST)
    assert enough.status == "verified" and enough.chosen.cost == 4_000_000


def test_the_first_guess_comes_from_the_capacity_guides(tmp_path, monkeypatch):
    calls = []

    def guides(scenario, *, target_wait_terms=3.0, clear_by=None, replications=100, seed=0):
        calls.append((target_wait_terms, clear_by, replications, seed))
        table = pd.DataFrame({"designation": ["ANY"], "extra_places": [12]})
        return types.SimpleNamespace(table=table, assumptions=["stub"])

    module = types.ModuleType("placeplan.capacity")
    module.guides = guides
    monkeypatch.setitem(sys.modules, "placeplan.capacity", module)
    scenario, cands = files(tmp_path, "ABCD")
    s = pp.load_scenario(scenario)
    r = optimise(
        s, cands, TARGET, out=tmp_path / "o", max_evaluations=10, **{**FAST, "guess": True}
    )
    assert calls == [(3.0, parse_target(TARGET, s).dates[0], 4, 0)]
    assert r.guess.programme == (0, -1, 0, -1)  # A and C: 12 places for the least cost
    assert r.guess.programme in r.search.evaluations and "ANY 12" in r.guess.note


def test_cover_is_the_cheapest_set_of_places_by_designation(tmp_path):
    scenario, cands = files(tmp_path)
    c = load_candidates(cands, pp.load_scenario(scenario))
    assert cover(c, {"ANY": 12}) == (0, -1, 0, -1)  # £4m, not D (£5m) nor B and C (£4.5m)
    assert cover(c, {"ANY": 7}) == (0, 0, -1, -1)  # A and B: 9 places for £2.5m, not C (£3m)
    assert cover(c, {"ANY": 0}) == (-1, -1, -1, -1)
    assert cover(c, {"ANY": 1000}) == (0, 0, 0, 0)  # not enough places: all of them


def test_the_programme_file_extends_the_input_and_runs(tmp_path):
    scenario, cands = files(tmp_path, "ACD")
    s = pp.load_scenario(scenario)
    r = optimise(s, cands, TARGET, out=tmp_path / "o", scenario_file=scenario, **FAST)
    written = write_outputs(r, tmp_path / "o")
    text = written["programme.yaml"].read_text()
    assert "extends: base.yaml" in text and "VERIFIED" in text
    loaded = pp.load_scenario(written["programme.yaml"])
    expected = ev.programme_scenario(s, r.candidates, r.chosen.programme)
    assert loaded.placement.build_programme == expected.placement.build_programme
    assert loaded.model_dump(exclude={"name", "title", "description"}) == expected.model_dump(
        exclude={"name", "title", "description"}
    )
    front = pd.read_csv(written["frontier.csv"])
    assert front["cost_gbp"].is_monotonic_increasing and front["p_meet"].is_monotonic_increasing
    assert "What each further £10m buys" in written["report.md"].read_text()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("long_waits <= 0", "expected MEASURE <= COUNT"),
        ("queue<=0 by 2028-01", "no measure 'queue'"),
        ("long_waits<=-1 by 2028-01", "expected MEASURE"),
        ("long_waits<=0 by 2040-01", "no snapshot of tiny in 2040-01"),
        ("long_waits<=0 by 2028-13", "month 13"),
    ],
)
def test_targets_that_make_no_sense_are_refused(tmp_path, text, problem):
    scenario, _ = files(tmp_path)
    with pytest.raises(InputError, match=problem):
        parse_target(text, pp.load_scenario(scenario))


def test_target_grammar(tmp_path):
    scenario, _ = files(tmp_path)
    s = pp.load_scenario(scenario)
    by = parse_target("LONG_WAITS <= 2 BY 2027-01", s)
    assert (by.variable, by.count, [d.isoformat() for d in by.dates]) == (
        "waiting_over_3_terms",
        2,
        ["2027-01-21"],
    )
    assert [d.isoformat() for d in parse_target(TARGET, s).dates] == ["2027-01-21", "2028-01-20"]
    assert parse_target("waiting<=0 at 2026-05-21", s).dates[0].isoformat() == "2026-05-21"


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        (
            "{name: X, designation: ANY, places: 3, costs: 1, cost_gbp: 1, earliest: 2026-09-01, "
            "source: t}",
            ":3: candidates.0.costs: unknown key",
        ),
        (
            "{name: X, designation: SEMH, places: 3, cost_gbp: 1, earliest: 2026-09-01, source: t}",
            ":3: candidates.0.designation: 'SEMH' is no designation of tiny",
        ),
        (
            "{name: X, designation: ANY, places: 3, cost_gbp: 1, earliest: 2026-09-01, source: t, "
            "slippage: {0: 0.5}}",
            ":3: candidates.0: slippage probabilities add up to 0.5",
        ),
        (
            "{name: X, designation: ANY, places: 3, cost_gbp: 1, earliest: 2027-09-01, "
            "latest: 2026-09-01, source: t}",
            ":3: candidates.0.latest: the latest opening is before",
        ),
        (
            "{name: X, designation: ANY, places: 3, cost_gbp: 1, earliest: 2040-09-01, source: t}",
            ":3: candidates.0.earliest: no opening term",
        ),
        (
            "{name: X, designation: ANY, places: 3, earliest: 2026-09-01, source: t}",
            ":3: candidates.0.cost_gbp: required but missing",
        ),
    ],
)
def test_candidates_file_errors_name_file_line_and_field(tmp_path, entry, where):
    scenario, _ = files(tmp_path)
    path = tmp_path / "bad.yaml"
    path.write_text(f"title: bad\ncandidates:\n  - {entry}\n")
    with pytest.raises(ScenarioError) as info:
        load_candidates(path, pp.load_scenario(scenario))
    assert f"{path}{where}" in str(info.value)


def test_duplicate_names_are_refused(tmp_path):
    scenario, _ = files(tmp_path)
    path = tmp_path / "dup.yaml"
    path.write_text("candidates:\n  - " + PROJECTS["A"] + "\n  - " + PROJECTS["A"] + "\n")
    with pytest.raises(ScenarioError, match=r"dup.yaml:3: candidates.1.name: 'A' is also"):
        load_candidates(path, pp.load_scenario(scenario))


def test_the_bundled_candidates_fit_the_baseline():
    from placeplan.bundled import bundled_candidates, bundled_scenarios

    assert "herts-candidates" in bundled_candidates()
    assert not any(name.startswith("candidates/") for name in bundled_scenarios())
    c = load_candidates(
        bundled_candidates()["herts-candidates"], pp.load_scenario("herts-baseline")
    )
    assert len(c) >= 6 and all(x.source for x in c.candidates)
    assert all("£91,000" in x.source or "£135,000" in x.source for x in c.candidates)


def test_bounds_and_replications():
    assert min_replications(0.9, 0.95) == 29
    assert lower_bound(29, 29, 0.95) >= 0.9 > lower_bound(28, 28, 0.95)
    assert derived_seed(0, 1) != derived_seed(0, 2) and 0 not in (
        derived_seed(0, 1),
        derived_seed(0, 2),
    )


def cli(*args) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback for {args}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def test_cli_exit_codes(tmp_path):
    scenario, cands = files(tmp_path, "ACD")
    common = [
        "--confidence",
        "0.5",
        "--level",
        "0.9",
        "-n",
        "4",
        "--final-replications",
        "8",
        "--finalists",
        "3",
        "--no-guess",
        "-q",
    ]
    code, out, _ = cli(
        "optimise",
        scenario,
        "--candidates",
        cands,
        "--target",
        TARGET,
        "--out",
        tmp_path / "o",
        *common,
    )
    assert (
        code == 0
        and "Verified on fresh seeds" in out
        and (tmp_path / "o" / "programme.yaml").exists()
    )
    code, _, err = cli(
        "optimise",
        scenario,
        "--candidates",
        cands,
        "--target",
        "soon please",
        "--out",
        tmp_path / "o",
        *common,
    )
    assert code == 2 and "error: --target 'soon please': expected MEASURE" in err
    code, _, err = cli(
        "optimise", scenario, "--candidates", tmp_path / "none.yaml", "--target", TARGET, *common
    )
    assert code == 2 and "no such file, nor a bundled list" in err
    code, _, err = cli(
        "optimise",
        scenario,
        "--candidates",
        cands,
        "--target",
        TARGET,
        "--out",
        tmp_path / "o",
        *common[:6],
        "--final-replications",
        "3",
    )
    assert code == 2 and "too few to show" in err
    infeasible = files(tmp_path / "i" if (tmp_path / "i").mkdir() is None else None, "A")[1]
    code, out, _ = cli(
        "optimise",
        scenario,
        "--candidates",
        infeasible,
        "--target",
        TARGET,
        "--out",
        tmp_path / "inf",
        *common,
    )
    assert code == 0 and out.startswith("No programme meets the target")
