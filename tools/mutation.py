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
    python tools/mutation.py --report-only         # re-write the table from mutants/
    python tools/mutation.py --survivors           # diffs of the surviving mutants

Run it from the repository root. mutmut copies ``placeplan/`` into ``mutants/``
and puts ``mutants/`` first on ``sys.path`` of the test processes, so the tests
import the mutated copy whatever the editable install points at. Results are
cached in ``mutants/``: a second run re-tests only mutants of changed functions
(``--fresh`` starts again). Hypothesis runs with a fixed seed, so that a mutant's
verdict does not depend on the luck of the draw.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- mutation-table:start -->", "<!-- mutation-table:end -->"
COLUMNS = ("killed", "survived", "timeout", "other")


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
    """killed, survived, timeout or other (not checked, no tests, suspicious...)."""
    from mutmut.stats import status_by_exit_code

    status = status_by_exit_code[code]
    return status if status in COLUMNS else "other"


def results(modules: list[str]) -> dict[str, dict[str, int | None]]:
    """Exit code of each mutant by module, from mutmut's ``.meta`` files."""
    out = {}
    for module in modules:
        meta = ROOT / "mutants" / f"{module}.meta"
        if meta.exists():
            out[module] = json.loads(meta.read_text())["exit_code_by_key"]
    return out


def table(by_module: dict[str, dict[str, int | None]], seconds: float | None) -> str:
    """The score table in Markdown."""
    lines = [
        "| module | killed | survived | timeout | other | total | score |",
        "|---|---:|---:|---:|---:|---:|---:|",
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
    """One line of the table; the score is killed + timeout over those checked."""
    total = sum(n[c] for c in COLUMNS)
    checked = n["killed"] + n["survived"] + n["timeout"]
    score = f"{100 * (n['killed'] + n['timeout']) / checked:.1f}%" if checked else "-"
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
    parser.add_argument("--max-children", type=int, default=2, help="parallel test processes")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "MUTATION.md")
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ first")
    parser.add_argument("--report-only", action="store_true", help="only re-write the table")
    parser.add_argument("--survivors", action="store_true", help="print surviving mutants")
    parser.add_argument("mutants", nargs="*", help="only these mutants (mutmut names/globs)")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    extra = ["--hypothesis-seed=0", *(f"--deselect={d}" for d in args.deselect)]
    override(args.module, args.tests, extra)
    seconds = None
    if not (args.report_only or args.survivors):
        if args.fresh:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        from mutmut.__main__ import cli

        began = time.monotonic()
        try:
            cli.main(["run", "--max-children", str(args.max_children), *args.mutants])
        except SystemExit as stop:
            if stop.code not in (0, None):
                return int(stop.code) if isinstance(stop.code, int) else 1
        seconds = time.monotonic() - began
    by_module = results(args.module)
    if args.survivors:
        survivors(by_module)
        return 0
    block = table(by_module, seconds)
    print(block)
    write_block(args.out, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
