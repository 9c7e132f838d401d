"""Quick tier of the fuzz suite: hostile scenario files and command lines keep the contract.

Every case must exit 0 or 2 with no traceback, stay within its time and memory
limits, and leave nothing half-written (see ``tests/fuzzing.py``). The generated
cases are derandomized, so a failure here reproduces; the ``@example`` cases pin
the failure classes found by the long tier (``benchmarks/fuzz.py``,
``benchmarks/FUZZ-findings.md``). A failing case is printed as JSON: save it and run
``python benchmarks/fuzz.py --replay FILE``.
"""

from __future__ import annotations

import copy
import datetime as dt
import tempfile
from pathlib import Path

import fuzzing as fz
import pytest
from fuzzing import Case
from hypothesis import HealthCheck, Phase, example, given, settings

QUICK = settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)
TIMEOUT_S = 10.0
"""Per-case limit of the quick tier for reading and validating files [s]."""
SLOW_TIMEOUT_S = 30.0
"""Per-case limit for runs and commands that draw figures (a report takes ~4 s idle) [s]."""


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """A folder holding a good run folder of the tiny scenario, made once."""
    folder = tmp_path_factory.mktemp("fuzz-cache")
    fz.good_run(folder)
    return folder


def keeps_the_contract(case: Case, cache: Path, timeout_s: float = TIMEOUT_S) -> None:
    """Run ``case`` in a fresh folder and fail with a reproducer if it breaks the contract."""
    with tempfile.TemporaryDirectory(prefix="placeplan-fuzz-") as d:
        folder = Path(d)
        try:
            outcome = fz.execute(case, folder, cache, timeout_s)
        finally:
            for p in folder.rglob("*"):
                if p.is_dir() and not p.is_symlink():
                    p.chmod(0o755)
    assert outcome.ok, (
        f"{outcome.signature(case)}\n{'; '.join(outcome.failures)}\n"
        f"reproducer: {case.to_json()[:3000]}\n--- output ---\n{outcome.output[-2500:]}"
    )


def _scenario(kind: str, label: str, base: str, change, command: str = "validate") -> Case:
    """A case from a bundled scenario changed by ``change(tree)``."""
    tree = copy.deepcopy(fz.BUNDLED[base])
    if command == "run":
        tree = fz.tiny(tree, 1.0)
    change(tree)
    files = (("scenario.yaml", fz.to_yaml(tree)),)
    if command == "run":
        argv = ("run", "{d}/scenario.yaml", "-n", "2", "--seed", "1", "--out", "{d}/out", "-q")
        return Case(kind, label, files, argv, ("{d}/out",))
    return Case(kind, label, files, ("validate", "{d}/scenario.yaml"))


def _set(path: tuple, value):
    def change(tree):
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value

    return change


# ------------------------------------------------------------ mutated scenario files

PINNED_VALIDATE = [
    _scenario(
        "validate", "start 9999-12-01", "herts-baseline", _set(("start",), dt.date(9999, 12, 1))
    ),
    _scenario(
        "validate",
        "places 2**63",
        "herts-baseline",
        _set(("placement", "designations", "ASD", "places"), 2**63),
    ),
    _scenario(
        "validate", "snapshots 1e-9", "herts-baseline", _set(("calendar", "snapshots"), 1e-9)
    ),
    _scenario(
        "validate",
        "spring term in March",
        "herts-baseline",
        _set(
            ("calendar", "term_starts"),
            [{"academic_year": 2024, "term": "spring", "starts": dt.date(2025, 3, 3)}],
        ),
    ),
    _scenario(
        "validate",
        "project opening in 2402",
        "herts-baseline",
        lambda t: t["placement"]["build_programme"][0].update(opens=dt.date(2402, 9, 1)),
    ),
    _scenario(
        "validate",
        "start before the base year",
        "herts-baseline",
        _set(("start",), dt.date(2000, 1, 4)),
    ),
    _scenario(
        "validate",
        "waiting list from 1900",
        "herts-baseline",
        lambda t: t["placement"].update(
            initial_waiting=[
                {
                    "children": {"ASD": 3},
                    "referred_from": dt.date(1900, 1, 1),
                    "referred_to": dt.date(2024, 12, 1),
                }
            ]
        ),
    ),
    _scenario(
        "validate", "extends 300 characters", "herts-baseline", _set(("extends",), "a" * 300)
    ),
]


@settings(QUICK, max_examples=30)
@given(case=fz.validate_cases())
@example(case=PINNED_VALIDATE[0])
@example(case=PINNED_VALIDATE[1])
@example(case=PINNED_VALIDATE[2])
@example(case=PINNED_VALIDATE[3])
@example(case=PINNED_VALIDATE[4])
@example(case=PINNED_VALIDATE[5])
@example(case=PINNED_VALIDATE[6])
@example(case=PINNED_VALIDATE[7])
def test_mutated_scenarios_validate_within_the_contract(case: Case, cache: Path):
    keeps_the_contract(case, cache)


PINNED_RUN = [
    _scenario(
        "run",
        "huge growth",
        "herts-baseline",
        _set(("demand", "new_plans_growth"), {"mean": 50.0, "sd": 0.0}),
        "run",
    ),
    _scenario(
        "run",
        "places 10**9",
        "validation/fifo-deterministic",
        _set(("placement", "designations", "ANY", "places"), 10**9),
        "run",
    ),
    _scenario(
        "run",
        "a third of a year, no January census",
        "validation/erlang-c",
        _set(("years",), 0.3),
        "run",
    ),
]


@settings(QUICK, max_examples=6)
@given(case=fz.run_cases())
@example(case=PINNED_RUN[0])
@example(case=PINNED_RUN[1])
@example(case=PINNED_RUN[2])
def test_short_runs_of_perturbed_scenarios_keep_the_contract(case: Case, cache: Path):
    keeps_the_contract(case, cache, SLOW_TIMEOUT_S)


# ------------------------------------------------------------------- hostile files


@pytest.mark.parametrize("label", sorted(fz.HOSTILE_FILES))
def test_hostile_file_is_refused_with_a_message(label: str, cache: Path):
    name, content = fz.HOSTILE_FILES[label]
    files = ((name, content), *fz._extra_files(label))
    keeps_the_contract(Case("hostile", label, files, ("validate", "{d}/" + name)), cache)


@pytest.mark.parametrize(
    "label", ["alias-self-map", "unhashable-key-list", "nesting-map-2000", "fifo", "extends-long"]
)
def test_hostile_file_given_to_run_is_refused(label: str, cache: Path):
    name, content = fz.HOSTILE_FILES[label]
    files = ((name, content), *fz._extra_files(label))
    argv = ("run", "{d}/" + name, "-n", "1", "--seed", "1", "--out", "{d}/out", "-q")
    keeps_the_contract(Case("hostile", label, files, argv, ("{d}/out",)), cache)


# ------------------------------------------------------------------- command lines

_FILES = (
    ("tiny.yaml", fz.TINY_YAML),
    ("tiny2.yaml", fz.TINY2_YAML),
    ("other.yaml", fz.OTHER_DESIGNATIONS_YAML),
    ("afile.txt", "not a folder\n"),
    ("empty-dir", "@empty-dir"),
)


def _cli(label: str, *argv: str, files: tuple = (), outs: tuple = ()) -> Case:
    return Case("cli", label, _FILES + files, argv, outs)


PINNED_CLI = [
    _cli("--out /proc/x", "run", "{d}/tiny.yaml", "-n", "1", "--out", "/proc/x", "-q"),
    _cli("--out a file", "run", "{d}/tiny.yaml", "-n", "1", "--out", "{d}/afile.txt", "-q"),
    _cli("--out ''", "run", "{d}/tiny.yaml", "-n", "1", "--out", "", "-q"),
    _cli(
        "--precision nan",
        "run",
        "{d}/tiny.yaml",
        "--precision",
        "nan",
        "--out",
        "{d}/out",
        "-q",
        outs=("{d}/out",),
    ),
    _cli(
        "-n 10**9",
        "run",
        "{d}/tiny.yaml",
        "-n",
        "1000000000",
        "--out",
        "{d}/out",
        "-q",
        outs=("{d}/out",),
    ),
    _cli(
        "erlang-c from the CLI",
        "run",
        "validation/erlang-c",
        "-n",
        "1",
        "--out",
        "{d}/out",
        "-q",
        outs=("{d}/out",),
    ),
    _cli(
        "compare a a",
        "compare",
        "{d}/tiny.yaml",
        "{d}/tiny.yaml",
        "-n",
        "2",
        "--out",
        "{d}/out",
        "-q",
    ),
    _cli(
        "compare different designations",
        "compare",
        "{d}/tiny.yaml",
        "{d}/other.yaml",
        "-n",
        "2",
        "--out",
        "{d}/out",
        "-q",
    ),
    _cli("schema --out /proc/x", "schema", "--out", "/proc/x/schema.json"),
    _cli("empty --sen2-dir", "data", "councils", "--sen2-dir", "{d}/empty-dir"),
    _cli(
        "calibrate empty --sen2-dir",
        "calibrate",
        "--council",
        "Hertfordshire",
        "--out",
        "{d}/c.yaml",
        "--sen2-dir",
        "{d}/empty-dir",
    ),
    _cli("cite truncated results.nc", "cite", "{d}/run", files=(("run", "@run:truncate-results"),)),
    _cli(
        "export bad provenance",
        "export",
        "{d}/run",
        "--out",
        "{d}/x.xlsx",
        files=(("run", "@run:garbage-provenance"),),
    ),
    _cli("plot missing variable", "plot", "{d}/run", files=(("run", "@run:drop-variable"),)),
    _cli("report foreign netcdf", "report", "{d}/run", files=(("run", "@run:foreign-netcdf"),)),
    _cli("validate a FIFO", "validate", "{d}/pipe.yaml", files=(("pipe.yaml", "@fifo"),)),
    _cli(
        "validate /dev/zero",
        "validate",
        "{d}/zero.yaml",
        files=(("zero.yaml", "@symlink:/dev/zero"),),
    ),
]


@settings(QUICK, max_examples=30)
@given(case=fz.cli_cases())
@example(case=PINNED_CLI[0])
@example(case=PINNED_CLI[1])
@example(case=PINNED_CLI[2])
@example(case=PINNED_CLI[3])
@example(case=PINNED_CLI[4])
@example(case=PINNED_CLI[5])
@example(case=PINNED_CLI[6])
@example(case=PINNED_CLI[7])
@example(case=PINNED_CLI[8])
@example(case=PINNED_CLI[9])
@example(case=PINNED_CLI[10])
@example(case=PINNED_CLI[11])
@example(case=PINNED_CLI[12])
@example(case=PINNED_CLI[13])
@example(case=PINNED_CLI[14])
@example(case=PINNED_CLI[15])
@example(case=PINNED_CLI[16])
def test_command_lines_keep_the_contract(case: Case, cache: Path):
    keeps_the_contract(case, cache, SLOW_TIMEOUT_S)


# ----------------------------------------------------------------------- kills


@pytest.mark.parametrize(
    ("kill", "existing"),
    [("replace:1", False), ("replace:2", True)],
    ids=["killed-at-first-rename-fresh-folder", "killed-at-second-rename-existing-folder"],
)
def test_a_killed_run_leaves_nothing_half_written(kill: str, existing: bool, cache: Path):
    """SIGKILL at the k-th rename, then a clean rerun: a whole folder, no temp files."""
    files = [("tiny.yaml", fz.TINY_YAML)] + ([("out", "@run:good")] if existing else [])
    argv = ("run", "{d}/tiny.yaml", "-n", "2", "--seed", "5", "--out", "{d}/out", "-q")
    case = Case("kill", kill, tuple(files), argv, ("{d}/out",), kill=kill)
    keeps_the_contract(case, cache, SLOW_TIMEOUT_S)


# --------------------------------------------------------- the harness itself


def test_the_harness_sees_a_traceback_and_a_half_written_folder(tmp_path: Path, cache: Path):
    """The checks fail when they should: a crash, and a run folder missing files."""
    case = Case("cli", "harness", (("run", "@run:good"),), ("cite", "{d}/run"), ("{d}/run",))
    fz.lay_out(case, tmp_path, cache)
    (tmp_path / "run" / "summary.csv").unlink()
    outcome = fz.Outcome(exit_code=1, seconds=0.0, output="Traceback (most recent call last):")
    fz.check(case, tmp_path, outcome)
    assert outcome.failures[0] == "exit 1"
    assert any("incomplete run folder" in f for f in outcome.failures)
    clean = fz.Outcome(exit_code=0, seconds=0.0)
    fz.check(Case("cli", "ok", (), ("cite", "{d}/x")), tmp_path, clean)
    assert clean.ok


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def test_toml_rendering_reads_back_as_the_same_scenario():
    import tomllib

    for name in ("herts-baseline", "herts-county-panel", "validation/erlang-c"):
        assert tomllib.loads(fz.to_toml(fz.BUNDLED[name])) == _plain(fz.BUNDLED[name])
