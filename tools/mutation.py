"""Mutation testing of the placement rules and the measures, with mutmut 3.

Runs ``mutmut run`` on the modules given, with the tests given, and writes the
score of each module (killed / survived / timeout / other / total) into a marked
block of ``benchmarks/MUTATION.md`` (atomically; the rest of the file, with the
reasons for surviving mutants, is left as written).

The modules and tests default to ``[tool.mutmut]`` in pyproject.toml; pass
``--module`` and ``--tests`` to point it elsewhere (e.g. at a new
``placeplan/placement/rules.py``) without editing the configuration::

    python tools/mutation.py                       # the configured modules and tests
    python tools/mutation.py --module placeplan/placement/rules.py \\
        --tests tests/test_rules.py tests/test_placement_behaviour.py
    python tools/mutation.py --again               # re-test those not yet killed
    python tools/mutation.py --report-only         # re-write the table from mutants/
    python tools/mutation.py --survivors           # diffs of the surviving mutants
    python tools/mutation.py '*ǁpool_for__*'        # only some mutants (mutmut names, globs)

Run it from the repository root. mutmut copies ``placeplan/`` into ``mutants/``
and puts ``mutants/`` first on ``sys.path`` of the test processes, so the tests
import the mutated copy whatever the editable install points at. Results are
kept in ``mutants/verdicts.json`` across runs (mutmut itself forgets them when
the test selection changes); ``--again`` re-tests only the mutants not yet
killed, which is all a run after adding tests needs, since tests added can only
kill more (``--fresh`` starts again). Hypothesis runs with a fixed seed, so that a mutant's
verdict does not depend on the luck of the draw, and with at most ``--examples``
examples a property (tools/mutation_hypothesis.py), so that a surviving mutant,
which runs every selected test that reaches it, costs seconds, not minutes.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import os
import random
import shutil
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- mutation-table:start -->", "<!-- mutation-table:end -->"
COLUMNS = ("killed", "timeout", "survived", "no tests", "other")
RULES = (
    # the rules both engines share, and the measures computed from their placements
    "placeplan.placement.rules.*",
    "placeplan.placement.outputs.*",
    # the placement problem, schedule and population (problem.py, schedule.py, population.py)
    "*.x_measure__mutmut_*",
    "*.x__count__mutmut_*",
    "*ǁpool_for__mutmut_*",
    "*ǁleaves_place__mutmut_*",
    "*ǁleaves_places__mutmut_*",
    "*ǁcapacity_at__mutmut_*",
    "*ǁage_at__mutmut_*",
    "placeplan.placement.schedule.*",
    "*.x_academic_year*",
    "*.x_september_first__*",
    "*.x__september_first__*",
    "*ǁExitsǁ*",
    # term arithmetic (calendar.py; not the checks of overrides, nor Easter)
    "*ǁTermCalendarǁterm_*",
    "*ǁTermCalendarǁstart_of_index__*",
    "*ǁTermCalendarǁend_of_index__*",
    "*ǁTermCalendarǁwhole_terms_waited__*",
    "*ǁTermCalendarǁwaiting_*",
    "*ǁTermCalendarǁacademic_year__*",
    "*ǁTermCalendarǁ_check__*",
    "*ǁTermCalendarǁcensus_day__*",
    "*ǁTermCalendarǁ_iter_census__*",
    # the table of measures
    "placeplan.measures.*",
)
"""Globs of the mutants of the rules (``--rules``): functions, so they move with them."""


def configured() -> dict:
    """The ``[tool.mutmut]`` table of pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]


def override(modules: list[str], tests: list[str], extra: list[str]) -> None:
    """Replace mutmut's configuration before mutmut reads it anywhere else."""
    from mutmut import configuration

    base = configuration._load_config()
    configuration._config = dataclasses.replace(
        base,
        only_mutate=modules,
        pytest_add_cli_args=[*base.pytest_add_cli_args, *extra],
        pytest_add_cli_args_test_selection=tests,
    )


def status_of(code: int | None) -> str:
    """killed, timeout, survived, no tests (no selected test reaches it) or other."""
    from mutmut.stats import status_by_exit_code

    status = status_by_exit_code[code]
    return status if status in COLUMNS else "other"


VERDICTS = ROOT / "mutants" / "verdicts.json"


def mutmut_results(modules: list[str]) -> dict[str, dict[str, int | None]]:
    """Exit code of each mutant by module, from mutmut's ``.meta`` files."""
    out = {}
    for module in modules:
        meta = ROOT / "mutants" / f"{module}.meta"
        if meta.exists():
            out[module] = json.loads(meta.read_text())["exit_code_by_key"]
    return out


def load_verdicts() -> dict[str, dict[str, int | None]]:
    """The verdicts kept across runs (mutmut forgets them when the tests change)."""
    return json.loads(VERDICTS.read_text()) if VERDICTS.exists() else {}


def record(modules: list[str], tried: list[str]) -> dict[str, dict[str, int | None]]:
    """Merge this run's verdicts of the mutants ``tried`` (globs) into verdicts.json.

    A mutant killed by an earlier run stays killed: adding tests only kills more.
    """
    verdicts = load_verdicts()
    for module, codes in mutmut_results(modules).items():
        kept = verdicts.setdefault(module, {})
        for name, code in codes.items():
            if not any(fnmatch.fnmatch(name, g) for g in tried):
                continue
            if code is not None and status_of(kept.get(name)) != "killed":
                kept[name] = code
            kept.setdefault(name, code)
    VERDICTS.write_text(json.dumps(verdicts, indent=1, sort_keys=True))
    return {m: verdicts[m] for m in modules if m in verdicts}


def sample(modules: list[str], globs: list[str], n: int, seed: int) -> list[str]:
    """``n`` mutants a module matching ``globs``, drawn at random (reproducibly)."""
    rng = random.Random(seed)
    out = []
    for codes in mutmut_results(modules).values():
        names = sorted(k for k in codes if any(fnmatch.fnmatch(k, g) for g in globs))
        out += sorted(rng.sample(names, min(n, len(names))))
    if not out:
        raise SystemExit("--sample needs mutants/: run once without it (or with a glob) first")
    return out


def not_killed(modules: list[str], tried: list[str]) -> list[str]:
    """Mutants (of ``tried``) not yet killed, to re-test after new tests are written."""
    return [
        name
        for module, codes in load_verdicts().items()
        if module in modules
        for name, code in codes.items()
        if status_of(code) != "killed" and any(fnmatch.fnmatch(name, g) for g in tried)
    ]


def table(by_module: dict[str, dict[str, int | None]], seconds: float | None) -> str:
    """The score table in Markdown."""
    lines = [
        "| module | killed | timeout | survived | no tests | other | total | score |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    total: Counter = Counter()
    for module, codes in by_module.items():
        n = Counter(status_of(c) for c in codes.values())
        total.update(n)
        lines.append(row(module, n))
    lines.append(row("**all**", total))
    if seconds is not None:
        lines.append("")
        lines.append(f"Wall time of this run: {seconds / 60:.1f} min.")
    return "\n".join(lines)


def row(name: str, n: Counter) -> str:
    """One line of the table; the score is killed + timeout over all (untested = alive)."""
    total = sum(n[c] for c in COLUMNS)
    score = f"{100 * (n['killed'] + n['timeout']) / total:.1f}%" if total else "-"
    return f"| {name} | " + " | ".join(str(n[c]) for c in COLUMNS) + f" | {total} | {score} |"


def write_block(path: Path, block: str) -> None:
    """Replace the marked block of ``path`` (appending it if absent), atomically."""
    text = path.read_text() if path.exists() else "# Mutation testing\n"
    new = f"{START}\n{block}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + new + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def survivors(by_module: dict[str, dict[str, int | None]]) -> None:
    """Print the diff of every surviving mutant."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    for module, codes in by_module.items():
        for name, code in codes.items():
            if status_of(code) == "survived":
                print(f"# {name}")
                print(get_diff_for_mutant(name, path=module))


def main(argv: list[str] | None = None) -> int:
    conf = configured()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--module", nargs="+", default=conf["only_mutate"], help="files to mutate")
    parser.add_argument(
        "--tests", nargs="+", default=conf["pytest_add_cli_args_test_selection"], help="tests"
    )
    parser.add_argument("--deselect", nargs="*", default=[], help="pytest node ids to leave out")
    parser.add_argument(
        "--examples", type=int, default=10, help="at most this many Hypothesis examples a test"
    )
    parser.add_argument("--max-children", type=int, default=2, help="parallel test processes")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "MUTATION.md")
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ first")
    parser.add_argument("--report-only", action="store_true", help="only re-write the table")
    parser.add_argument("--survivors", action="store_true", help="print surviving mutants")
    parser.add_argument(
        "--again", action="store_true", help="re-test only the mutants not yet killed"
    )
    parser.add_argument(
        "--sample",
        type=int,
        help="test only this many mutants a module, drawn at random (needs mutants/ made)",
    )
    parser.add_argument("--rules", action="store_true", help="only the mutants of RULES")
    parser.add_argument("--seed", type=int, default=2026, help="seed of --sample")
    parser.add_argument(
        "mutants", nargs="*", default=["*"], help="mutant names or globs (default: all)"
    )
    args = parser.parse_args(argv)
    if args.rules:
        args.mutants = list(RULES)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT / "tools"))  # for -p mutation_hypothesis, in every worker
    os.environ["MUTATION_EXAMPLES"] = str(args.examples)
    extra = [
        "--hypothesis-seed=0",
        "-p",
        "mutation_hypothesis",
        *(f"--deselect={d}" for d in args.deselect),
    ]
    override(args.module, args.tests, extra)
    seconds = None
    if not (args.report_only or args.survivors):
        if args.fresh:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        names = not_killed(args.module, args.mutants) if args.again else args.mutants
        if args.sample and not args.again:
            names = sample(args.module, names, args.sample, args.seed)
        if not names:
            print("every mutant is killed")
        else:
            from mutmut.__main__ import cli

            began = time.monotonic()
            try:
                cli.main(["run", "--max-children", str(args.max_children), *names])
            except SystemExit as stop:
                if stop.code not in (0, None):
                    return int(stop.code) if isinstance(stop.code, int) else 1
            seconds = time.monotonic() - began
            record(args.module, names)
    by_module = {m: v for m, v in load_verdicts().items() if m in args.module}
    if args.survivors:
        survivors(by_module)
        return 0
    block = table(by_module, seconds)
    print(block)
    write_block(args.out, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
