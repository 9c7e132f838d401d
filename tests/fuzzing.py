"""Fuzzing placeplan's command line: hostile inputs, and the contract each case must keep.

A *case* (:class:`Case`) is a folder of files (scenario files, sweep files, run
folders, damaged or not) and one command line, all plain data so it can be shipped
to a worker process, written out as JSON and replayed. Hypothesis strategies
generate cases of five kinds:

``validate``
    a bundled scenario (YAML or TOML) with 1–4 structural mutations — keys deleted,
    unknown keys added, values replaced by wrong types, extreme numbers and dates,
    lists swapped with mappings, deep nesting, odd ``extends`` targets, huge or
    unicode strings — or with its text cut and spliced, given to ``validate``;
``run``
    a bundled scenario shrunk to at most two years, with plausible numeric and date
    perturbations (so most still validate), given to ``run -n 1..3``;
``hostile``
    hand-written hostile files (YAML aliases, billion laughs, deep nesting, unhashable
    keys, tags, binary, FIFOs, ``/dev/zero``, directories), given to ``validate`` or ``run``;
``cli``
    random subsets and orders of each command's options with good and bad values
    (``-n 0``, ``-n 10**9``, ``--precision nan``, ``--out ""``, unwritable ``--out``,
    damaged run folders, empty ``--sen2-dir`` …);
``kill``
    a ``run`` in a subprocess killed with SIGKILL (after a delay, or at its k-th
    ``os.replace``), then run again into the same folder.

:func:`execute` runs a case in-process through click's ``CliRunner`` (``kill`` cases
in a subprocess), with a time limit (``SIGALRM``) and an address-space limit
(``RLIMIT_AS``), and :func:`check` turns what happened into failures:

* the exit code is 0 or 2, and no traceback is printed (exit 1, or an exception,
  is a crash);
* the case finishes within its time limit and memory limit;
* nothing is half-written: the output folder holds nothing, or one complete run
  folder whose files belong to one run; no ``.*.tmp`` file is left after a clean
  exit; after a kill, no file under a final name is truncated.

Used by ``tests/test_fuzz.py`` (the quick tier) and ``benchmarks/fuzz.py`` (the long
tier). Nothing here is imported by placeplan.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import datetime as dt
import gc
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

#: Default limits of one case: wall time [s] and extra address space [bytes].
TIMEOUT_S = 30.0
MEMORY_BYTES = 4 * 2**30

RUN_FILES = ("results.nc", "summary.csv", "provenance.json", "scenario.yaml")
"""The files every complete run folder holds."""


# ----------------------------------------------------------------------------- cases


@dataclasses.dataclass(frozen=True)
class Case:
    """One fuzz case: files to lay out in a fresh folder, then one command line.

    Attributes
    ----------
    kind : str
        ``validate``, ``run``, ``hostile``, ``cli`` or ``kill``.
    label : str
        What was done to the input (for tallies and reproducers).
    files : tuple of (str, str)
        Relative path and content. Content starting ``b64:`` is base64 bytes;
        ``@fifo``, ``@dir``, ``@symlink:TARGET``, ``@empty-dir`` and ``@run:DAMAGE``
        (a copy of a good run folder, damaged) make special entries.
    argv : tuple of str
        The command line after ``placeplan``; ``{d}`` stands for the case folder.
    outs : tuple of str
        Output folders that must end up empty or complete run folders (``{d}`` as above).
    kill : str
        For ``kill`` cases: ``delay:SECONDS`` or ``replace:K``; empty otherwise.
    """

    kind: str
    label: str
    files: tuple[tuple[str, str], ...]
    argv: tuple[str, ...]
    outs: tuple[str, ...] = ()
    kill: str = ""

    def to_json(self) -> str:
        """The case as one line of JSON."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=True)

    @classmethod
    def from_json(cls, text: str) -> Case:
        """A case from :meth:`to_json`."""
        raw = json.loads(text)
        raw["files"] = tuple(tuple(f) for f in raw["files"])
        raw["argv"] = tuple(raw["argv"])
        raw["outs"] = tuple(raw["outs"])
        return cls(**raw)

    @property
    def command(self) -> str:
        """The placeplan command the case exercises (``data councils`` as one)."""
        words = [a for a in self.argv if not a.startswith("-")]
        if not words:
            return "(options only)"
        return "data councils" if words[0] == "data" else words[0]


@dataclasses.dataclass
class Outcome:
    """What a case did, and which parts of the contract it broke."""

    exit_code: int | None
    seconds: float
    output: str = ""
    exception: str = ""
    where: str = ""
    failures: list[str] = dataclasses.field(default_factory=list)
    peak_rss: int = 0

    @property
    def ok(self) -> bool:
        """True when the case kept the contract."""
        return not self.failures

    def signature(self, case: Case) -> str:
        """A short class of the failure: command, what broke, and where."""
        if self.ok:
            return ""
        first = re.sub(r" \(.*\)$", "", self.failures[0])
        where = f" at {self.where}" if self.where else ""
        exc = f" {self.exception}" if self.exception else ""
        prefix = "killed run" if case.kind == "kill" else case.command
        return f"{prefix}: {first}{exc}{where}"


# ------------------------------------------------------------------ bundled scenarios


def _load_bundled() -> dict[str, dict]:
    """Each bundled scenario's data with any ``extends`` resolved (key by key)."""

    def merge(base: Any, child: Any) -> Any:
        if isinstance(base, dict) and isinstance(child, dict):
            out = dict(base)
            for k, v in child.items():
                out[k] = merge(base[k], v) if k in base else v
            return out
        return child

    raw = {}
    for path in sorted([*SCENARIOS.glob("*.yaml"), *SCENARIOS.glob("validation/*.yaml")]):
        raw[path.relative_to(SCENARIOS).with_suffix("").as_posix()] = yaml.safe_load(
            path.read_text(encoding="utf-8")
        )
    out = {}
    for name, data in raw.items():
        data = dict(data)
        while "extends" in data:
            base = raw[Path(data.pop("extends")).with_suffix("").as_posix()]
            data = merge(dict(base), data) if "extends" not in base else merge(base, data)
        out[name] = data
    return out


BUNDLED: dict[str, dict] = _load_bundled()
BUNDLED_TEXT: dict[str, str] = {
    p.relative_to(SCENARIOS).with_suffix("").as_posix(): p.read_text(encoding="utf-8")
    for p in sorted([*SCENARIOS.glob("*.yaml"), *SCENARIOS.glob("validation/*.yaml")])
}


def tiny(data: dict, years: float = 1.0) -> dict:
    """A copy of a scenario cut to ``years`` (so a run takes a fraction of a second)."""
    out = copy.deepcopy(data)
    out["years"] = years
    cal = out.get("calendar")
    if isinstance(cal, dict) and isinstance(cal.get("snapshots"), int | float):
        cal["snapshots"] = 91.3
    return out


TINY = tiny(BUNDLED["herts-baseline"])
"""A valid scenario that runs in well under a second."""


# ------------------------------------------------------------------------- rendering


def to_yaml(data: Any) -> str:
    """YAML text of ``data`` (unicode kept; anything PyYAML cannot dump as a string)."""
    try:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        return json.dumps(data, default=str) + "\n"  # JSON is YAML


def _toml_key(key: Any) -> str:
    key = str(key)
    if key and all(c.isalnum() or c in "_-" for c in key) and key.isascii():
        return key
    return json.dumps(key)


def _toml_value(value: Any, depth: int = 0) -> str:
    if depth > 400:
        raise ValueError("too deep for TOML")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v, depth + 1) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(
            f"{_toml_key(k)} = {_toml_value(v, depth + 1)}"
            for k, v in value.items()
            if v is not None
        )
        return "{" + items + "}"
    if value is None:
        return '""'
    return json.dumps(str(value))


def to_toml(data: Any) -> str:
    """TOML text of ``data``: top-level mappings as tables, everything else inline.

    TOML has no null: keys whose value is None are left out. Raises ValueError when
    the data cannot be TOML (a top level that is not a mapping).
    """
    if not isinstance(data, dict):
        raise ValueError("TOML needs a mapping at the top level")
    head, tables = [], []
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, dict):
            tables.append(f"\n[{_toml_key(key)}]")
            for k, v in value.items():
                if v is not None:
                    tables.append(f"{_toml_key(k)} = {_toml_value(v)}")
        else:
            head.append(f"{_toml_key(key)} = {_toml_value(value)}")
    return "\n".join(head + tables) + "\n"


# --------------------------------------------------------------------- hostile values

EXTREME_NUMBERS = [0, -1, 1, 2**31, 2**63, -(2**63), 2**64 + 1, 1e308, -1e308, 1e-9, -1e-9]
EXTREME_FLOATS = [math.nan, math.inf, -math.inf]
EXTREME_DATES = [
    dt.date(1, 1, 1),
    dt.date(9999, 12, 1),
    dt.date(9999, 12, 31),
    dt.date(1900, 1, 1),
    dt.date(1995, 8, 31),
    dt.date(2399, 9, 2),
    dt.date(2402, 9, 1),
    dt.date(2025, 2, 29 - 1),
    dt.date(2024, 2, 29),
]
ODD_STRINGS = [
    "",
    " ",
    "ü" * 3,
    "名前",
    "\u202e\u0000x",
    "a" * 300,
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "continuous",
    "census",
    "null",
    "1e999",
    "2025-13-45",
    "ASD",
    "county",
]


def hostile_values() -> st.SearchStrategy[Any]:
    """Values of the wrong type or size for any scenario field."""
    scalar = st.one_of(
        st.sampled_from(EXTREME_NUMBERS),
        st.sampled_from(EXTREME_FLOATS),
        st.sampled_from(EXTREME_DATES),
        st.sampled_from(ODD_STRINGS),
        st.booleans(),
        st.none(),
        st.integers(),
        st.floats(),
        st.text(max_size=20),
        st.integers(min_value=1, max_value=6).map(lambda k: "x" * (10**k)),
    )
    return st.one_of(
        scalar,
        st.lists(scalar, max_size=4),
        st.dictionaries(st.text(max_size=8), scalar, max_size=3),
        st.integers(min_value=50, max_value=400).map(_nested_list),
        st.integers(min_value=50, max_value=400).map(_nested_dict),
        st.integers(min_value=1000, max_value=20_000).map(lambda n: list(range(n))),
        st.integers(min_value=100, max_value=3_000).map(
            lambda n: {f"D{i}": {"places": 1} for i in range(n)}
        ),
    )


def _nested_list(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _nested_dict(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def plausible_values(value: Any) -> st.SearchStrategy[Any]:
    """A value near ``value`` of the same type: scaled numbers, shifted dates."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.sampled_from(
            [0, 1, value, value * 2, value * 10, value * 1000, max(value - 1, 0), 10**6, 10**9]
        )
    if isinstance(value, float):
        return st.sampled_from([0.0, value, value / 2, value * 2, value * 10, 1.0, 1e-6, 50.0])
    if isinstance(value, dt.date):
        return st.integers(min_value=-400, max_value=400).map(
            lambda years: _shift(value, years)
        ) | st.integers(min_value=-800, max_value=800).map(
            lambda days: value + dt.timedelta(days=days)
        )
    if isinstance(value, str):
        return st.sampled_from([value, value.upper(), value + "x", ""])
    return st.just(value)


def extreme_values(value: Any) -> st.SearchStrategy[Any]:
    """An extreme value of the same type as ``value``: the ones that pass a schema."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.sampled_from([v for v in EXTREME_NUMBERS if isinstance(v, int)] + [10**6])
    if isinstance(value, float):
        return st.sampled_from(EXTREME_NUMBERS + EXTREME_FLOATS + [1e-300, 5e-324])
    if isinstance(value, dt.date):
        return st.sampled_from(EXTREME_DATES)
    if isinstance(value, str):
        return st.sampled_from(ODD_STRINGS)
    return st.just(value)


def _shift(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=min(max(day.year + years, 1), 9999))
    except ValueError:
        return day.replace(year=min(max(day.year + years, 1), 9999), day=28)


def _paths(tree: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into ``tree`` (mapping keys and list indices)."""
    out = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


def _get(tree: Any, path: tuple) -> Any:
    for p in path:
        tree = tree[p]
    return tree


def _set(tree: Any, path: tuple, value: Any) -> None:
    _get(tree, path[:-1])[path[-1]] = value


def _delete(tree: Any, path: tuple) -> None:
    parent = _get(tree, path[:-1])
    del parent[path[-1]]


EXTENDS_TARGETS = [
    "a" * 300,
    "b" * 5000 + ".yaml",
    "/etc/passwd",
    "/etc/hostname.yaml",
    "/proc/self/environ",
    "missing.yaml",
    "scenario.yaml",
    "scenario",
    "base.yaml",
    "herts-baseline",
    "validation/erlang-c",
    "../scenario.yaml",
    "sub",
    "",
    ".",
    "/",
    "~/x.yaml",
    "nul\x00.yaml",
]


@st.composite
def mutated_tree(draw: st.DrawFn, base: dict, hostile: bool = True) -> tuple[dict, str]:
    """``base`` with 1–4 mutations; returns the tree and a label of what was done."""
    tree = copy.deepcopy(base)
    labels = []
    for _ in range(draw(st.sampled_from([1, 1, 1, 1, 2, 3, 4]))):
        paths = [p for p in _paths(tree) if "calibration" not in p and "source" not in p]
        ops = [
            "delete",
            "unknown-key",
            "replace",
            "swap",
            "nest",
            "plausible",
            "extends",
            "extreme",
            "extreme",
            "extreme",
            "extreme",
        ]
        if not hostile:
            ops = ["plausible", "plausible", "plausible", "delete", "extreme", "extreme"]
        op = draw(st.sampled_from(ops))
        if op == "extends":
            tree["extends"] = draw(st.sampled_from(EXTENDS_TARGETS))
            labels.append("extends")
            continue
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        value = _get(tree, path)
        field = ".".join(str(p) for p in path if not isinstance(p, int))
        if op == "delete":
            _delete(tree, path)
        elif op == "unknown-key":
            target = value if isinstance(value, dict) else tree
            target[draw(st.sampled_from(["typo", "Years", "placements", "sd ", "ü"]))] = 1
        elif op == "replace":
            _set(tree, path, draw(hostile_values()))
        elif op == "swap":
            if isinstance(value, dict):
                _set(tree, path, list(value.items()))
            elif isinstance(value, list):
                _set(tree, path, {str(i): v for i, v in enumerate(value)})
            else:
                _set(tree, path, [value])
        elif op == "nest":
            _set(tree, path, {"value": value, "nested": _nested_dict(draw(st.integers(1, 400)))})
        elif op == "plausible":
            if isinstance(value, dict | list):
                continue
            _set(tree, path, draw(plausible_values(value)))
        elif op == "extreme":
            if isinstance(value, dict | list):
                continue
            _set(tree, path, draw(extreme_values(value)))
        labels.append(f"{op}:{field}")
    return tree, ",".join(labels) or "none"


def _splice_text(text: str, data: st.DataObject) -> str:
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    i = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    op = data.draw(st.sampled_from(["drop", "dup", "truncate", "indent", "insert", "cut"]))
    if op == "drop":
        del lines[i]
    elif op == "dup":
        lines.insert(i, lines[i])
    elif op == "truncate":
        return "".join(lines)[: data.draw(st.integers(min_value=0, max_value=len(text)))]
    elif op == "indent":
        lines[i] = "   " + lines[i]
    elif op == "insert":
        lines.insert(i, data.draw(st.text(max_size=40)) + "\n")
    else:
        j = data.draw(st.integers(min_value=0, max_value=len(lines[i])))
        lines[i] = lines[i][:j]
    return "".join(lines)


# --------------------------------------------------------------------- hostile files


def _laughs(levels: int, width: int = 9) -> str:
    rows = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * width)
        rows.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(rows) + "\n"


HOSTILE_FILES: dict[str, tuple[str, str]] = {
    "alias-self-list": ("scenario.yaml", "name: &a [*a]\n"),
    "alias-self-map": ("scenario.yaml", "placement: &p {designations: *p}\n"),
    "alias-self-in-scenario": ("scenario.yaml", to_yaml(TINY) + "description: &d [*d, *d]\n"),
    "billion-laughs-6": ("scenario.yaml", _laughs(6)),
    "billion-laughs-7": ("scenario.yaml", _laughs(7)),
    "billion-laughs-8": ("scenario.yaml", _laughs(8)),
    "billion-laughs-in-title": ("scenario.yaml", _laughs(6) + "title: *a5\n"),
    "nesting-list-500": ("scenario.yaml", "name: " + "[" * 500 + "]" * 500 + "\n"),
    "nesting-list-5000": ("scenario.yaml", "name: " + "[" * 5000 + "]" * 5000 + "\n"),
    "nesting-map-2000": ("scenario.yaml", "a: " + "{a: " * 2000 + "1" + "}" * 2000 + "\n"),
    "unhashable-key-list": ("scenario.yaml", "? [a, b]\n: 1\n"),
    "unhashable-key-map": ("scenario.yaml", "? {a: 1}\n: 1\n"),
    "key-int": ("scenario.yaml", "1: x\n2025-01-06: y\nnull: z\ntrue: w\n"),
    "python-tag": ("scenario.yaml", '!!python/object/apply:os.system ["echo pwned"]\n'),
    "binary-tag": ("scenario.yaml", "name: !!binary aGVsbG8=\n"),
    "set-tag": ("scenario.yaml", "name: !!set {a, b}\n"),
    "timestamp-huge": ("scenario.yaml", "start: 9999-12-31T23:59:59Z\n"),
    "float-tags": ("scenario.yaml", "years: .nan\n"),
    "merge-key": ("scenario.yaml", "base: &b {years: 1}\nother:\n  <<: *b\n"),
    "empty": ("scenario.yaml", ""),
    "comments": ("scenario.yaml", "# only a comment\n"),
    "null-doc": ("scenario.yaml", "null\n"),
    "list-doc": ("scenario.yaml", "- 1\n- 2\n"),
    "scalar-doc": ("scenario.yaml", "42\n"),
    "multi-doc": ("scenario.yaml", to_yaml(TINY) + "---\n" + to_yaml(TINY)),
    "bom": ("scenario.yaml", "\ufeff" + to_yaml(TINY)),
    "crlf": ("scenario.yaml", to_yaml(TINY).replace("\n", "\r\n")),
    "tabs": ("scenario.yaml", "name:\tx\n\tyears: 1\n"),
    "nul-bytes": ("scenario.yaml", "name: a\x00b\n"),
    "invalid-utf8": ("scenario.yaml", "b64:" + base64.b64encode(b"name: \xff\xfe\n").decode()),
    "utf16": ("scenario.yaml", "b64:" + base64.b64encode("name: x\n".encode("utf-16")).decode()),
    "binary": ("scenario.yaml", "b64:" + base64.b64encode(bytes(range(256)) * 8).decode()),
    "long-line": ("scenario.yaml", "title: " + "x" * 2_000_000 + "\n"),
    "many-keys": ("scenario.yaml", "".join(f"k{i}: {i}\n" for i in range(50_000))),
    "dup-key": ("scenario.yaml", "name: a\nname: b\n"),
    "toml-bad": ("scenario.toml", "name = \n[[x]\n"),
    "toml-huge-int": ("scenario.toml", to_toml({**TINY, "years": 2**70})),
    "toml-deep": ("scenario.toml", "a = " + "[" * 3000 + "]" * 3000 + "\n"),
    "toml-inline-deep": ("scenario.toml", "a = " + "{b = " * 500 + "1" + "}" * 500 + "\n"),
    "unknown-suffix": ("scenario.json", json.dumps({"name": "x"})),
    "no-suffix": ("scenario", to_yaml(TINY)),
    "fifo": ("scenario.yaml", "@fifo"),
    "directory": ("scenario.yaml", "@empty-dir"),
    "dev-zero": ("scenario.yaml", "@symlink:/dev/zero"),
    "dev-null": ("scenario.yaml", "@symlink:/dev/null"),
    "proc-file": ("scenario.yaml", "@symlink:/proc/self/status"),
    "symlink-loop": ("scenario.yaml", "@symlink:scenario.yaml"),
    "symlink-dangling": ("scenario.yaml", "@symlink:nowhere.yaml"),
    "extends-self": ("scenario.yaml", to_yaml({**TINY, "extends": "scenario.yaml"})),
    "extends-loop": ("scenario.yaml", to_yaml({**TINY, "extends": "base.yaml"})),
    "extends-long": ("scenario.yaml", to_yaml({**TINY, "extends": "z" * 300})),
    "extends-abs": ("scenario.yaml", to_yaml({**TINY, "extends": "/etc/hostname.yaml"})),
    "extends-dir": ("scenario.yaml", to_yaml({**TINY, "extends": "sub.yaml"})),
    "extends-fifo": ("scenario.yaml", to_yaml({**TINY, "extends": "pipe.yaml"})),
    "extends-list": ("scenario.yaml", to_yaml({**TINY, "extends": ["a", "b"]})),
    "extends-chain-deep": ("scenario.yaml", to_yaml({**TINY, "extends": "c0.yaml"})),
}
"""Hand-written hostile files: label -> (file name, content)."""


def _extra_files(label: str) -> tuple[tuple[str, str], ...]:
    if label == "extends-loop":
        return (("base.yaml", to_yaml({"extends": "scenario.yaml", "years": 1})),)
    if label == "extends-dir":
        return (("sub.yaml", "@empty-dir"),)
    if label == "extends-fifo":
        return (("pipe.yaml", "@fifo"),)
    if label == "extends-chain-deep":
        chain = [(f"c{i}.yaml", f"extends: c{i + 1}.yaml\n") for i in range(300)]
        return (*chain, ("c300.yaml", "years: 1\n"))
    return ()


# ------------------------------------------------------------------------ strategies


def _render(data: st.DataObject, tree: Any, allow_toml: bool = True) -> tuple[str, str]:
    if allow_toml and isinstance(tree, dict) and _chance(data.draw, 4):
        try:
            return "scenario.toml", to_toml(tree)
        except (ValueError, RecursionError):
            pass
    return "scenario.yaml", to_yaml(tree)


@st.composite
def validate_cases(draw: st.DrawFn) -> Case:
    """A mutated bundled scenario given to ``validate``."""
    data = draw(st.data())
    name = draw(st.sampled_from(sorted(BUNDLED)))
    if _chance(draw, 5):
        text = _splice_text(BUNDLED_TEXT[name], data)
        text = text.replace("extends: herts-baseline.yaml", "extends: herts-baseline")
        return Case(
            "validate",
            f"{name}/text-splice",
            (("scenario.yaml", text),),
            ("validate", "{d}/scenario.yaml"),
        )
    tree, label = draw(mutated_tree(BUNDLED[name]))
    files = [_render(data, tree)]
    if tree.get("extends") == "base.yaml":
        files.append(("base.yaml", to_yaml({"extends": files[0][0], "years": 1})))
    return Case("validate", f"{name}/{label}", tuple(files), ("validate", "{d}/" + files[0][0]))


@st.composite
def run_cases(draw: st.DrawFn) -> Case:
    """A bundled scenario cut to at most two years, perturbed, given to ``run -n 1..3``."""
    data = draw(st.data())
    name = draw(st.sampled_from(sorted(BUNDLED)))
    years = draw(st.sampled_from([0.25, 1.0, 1.0, 1.5, 1.5, 2.0, 2.0]))
    base = tiny(BUNDLED[name], years)
    if draw(st.booleans()):
        tree, label = draw(mutated_tree(base, hostile=False))
    else:
        tree, label = base, "unchanged"
    file = _render(data, tree)
    n = draw(st.integers(min_value=1, max_value=3))
    argv = [
        "run",
        "{d}/" + file[0],
        "-n",
        str(n),
        "--seed",
        str(draw(st.integers(0, 2**32))),
        "--out",
        "{d}/out",
        "-q",
    ]
    if _chance(draw, 10):
        argv += ["--engine", "reference"]
    if _chance(draw, 10):
        argv += ["--child-log"]
    return Case("run", f"{name}/y{years}/{label}", (file,), tuple(argv), outs=("{d}/out",))


@st.composite
def hostile_cases(draw: st.DrawFn) -> Case:
    """A hand-written hostile file given to ``validate`` or ``run``."""
    label = draw(st.sampled_from(sorted(HOSTILE_FILES)))
    name, content = HOSTILE_FILES[label]
    files = ((name, content), *_extra_files(label))
    if draw(st.booleans()):
        argv: tuple[str, ...] = ("validate", "{d}/" + name)
        outs: tuple[str, ...] = ()
    else:
        argv = ("run", "{d}/" + name, "-n", "1", "--seed", "1", "--out", "{d}/out", "-q")
        outs = ("{d}/out",)
    return Case("hostile", label, files, argv, outs)


TINY_YAML = to_yaml(TINY)
TINY2_YAML = to_yaml(
    {**TINY, "name": "tiny-two", "placement": {**TINY["placement"], "build_programme": []}}
)
OTHER_DESIGNATIONS_YAML = to_yaml(tiny(BUNDLED["validation/fifo-deterministic"]))

RUN_DAMAGE = [
    "good",
    "truncate-results",
    "empty-results",
    "garbage-provenance",
    "truncate-provenance",
    "provenance-list",
    "missing-results",
    "missing-provenance",
    "missing-scenario",
    "garbage-scenario",
    "invalid-scenario",
    "drop-variable",
    "foreign-netcdf",
    "empty-folder",
    "tmp-leftovers",
    "other-seed-results",
]

GOOD_OUT = ["{d}/out"]
BAD_OUT = [
    "",
    "/proc/x",
    "/proc/x/y",
    "{d}/afile.txt",
    "{d}/afile.txt/sub",
    "/dev/null/x",
    "{d}/" + "n" * 300,
    "{d}/ro/x",
]
SEN2_DIRS = ["{d}/empty-dir", "{d}/garbage-sen2", "{d}/missing-dir", "{d}/afile.txt"]


def _chance(draw: st.DrawFn, k: int) -> bool:
    """True about once in ``k`` draws (away from Hypothesis's favourite values 0 and k-1)."""
    return draw(st.integers(min_value=0, max_value=k - 1)) == k // 2


def _option(draw: st.DrawFn, name: str, values: list[str]) -> list[str]:
    value = draw(st.sampled_from(values))
    return [name, value]


@st.composite
def cli_cases(draw: st.DrawFn) -> Case:
    """A command with a random subset and order of options, good and bad values."""
    command = draw(
        st.sampled_from(
            [
                "run",
                "validate",
                "compare",
                "sweep",
                "export",
                "plot",
                "report",
                "cite",
                "calibrate",
                "backtest",
                "data",
                "schema",
                "scenarios",
                "junk",
            ]
        )
    )
    files: list[tuple[str, str]] = [
        ("tiny.yaml", TINY_YAML),
        ("tiny2.yaml", TINY2_YAML),
        ("other.yaml", OTHER_DESIGNATIONS_YAML),
        ("afile.txt", "not a folder\n"),
        ("empty-dir", "@empty-dir"),
        ("garbage-sen2/x.csv", "a,b\n1,\x00\n"),
        ("ro", "@readonly-dir"),
    ]
    outs: list[str] = []
    scen = [
        "{d}/tiny.yaml",
        "{d}/tiny2.yaml",
        "{d}/other.yaml",
        "{d}/missing.yaml",
        "{d}/empty-dir",
        "",
        "herts-baseline-nope",
        "{d}/afile.txt",
    ]
    opts: list[list[str]] = []
    head: list[str] = [command]
    if command == "run":
        head.append(draw(st.sampled_from(scen)))
        # -n always given (the default, 200, is a long run, not a hostile one)
        head += _option(draw, "-n", [*["1", "2", "3"] * 4, "0", "-1", "x", "1e3", "1000000000"])
        opts += [
            _option(draw, "--seed", ["0", "7", "-1", str(2**64), "x"]),
            _option(draw, "--out", GOOD_OUT + BAD_OUT + ["{d}/run"]),
            _option(draw, "--engine", ["epoch", "reference", "bogus"]),
            ["--child-log"],
            _option(draw, "--workers", ["1", "0", "-3", "x"]),
            # only bad values: a good one means 20 to 2,000 replications
            _option(draw, "--precision", ["nan", "inf", "-inf", "0", "-1", "x", "1e-400"]),
            ["-q"],
        ]
    elif command == "validate":
        head += draw(st.lists(st.sampled_from([*scen, "validation/erlang-c"]), max_size=3))
    elif command == "compare":
        head += draw(st.lists(st.sampled_from([*scen[:4], "{d}/tiny.yaml"]), max_size=3))
        head += _option(draw, "-n", [*["2", "3"] * 4, "0", "1", "x", "1000000000"])
        opts += [
            _option(draw, "--seed", ["0", "-1", "x"]),
            _option(draw, "--out", GOOD_OUT + BAD_OUT),
            _option(draw, "--workers", ["1", "0"]),
            ["-q"],
        ]
    elif command == "sweep":
        files.append(("sweep.yaml", draw(_sweep_text())))
        head.append(draw(st.sampled_from(["{d}/sweep.yaml", "{d}/missing.yaml", "{d}/empty-dir"])))
        opts += [
            _option(draw, "--out", GOOD_OUT + BAD_OUT),
            _option(draw, "--workers", ["1", "0"]),
            ["-q"],
        ]
    elif command in {"export", "plot", "report", "cite"}:
        damage = draw(st.sampled_from(RUN_DAMAGE))
        files.append(("run", f"@run:{damage}"))
        head.append(draw(st.sampled_from(["{d}/run"] * 4 + ["{d}/missing", "{d}/afile.txt", ""])))
        if command == "export":
            opts.append(_option(draw, "--out", ["{d}/x.xlsx", "{d}/x.txt", "{d}/run", *BAD_OUT]))
        if command == "report":
            opts.append(_option(draw, "--out", ["{d}/r.html", "{d}/r.md", "{d}/r.txt", *BAD_OUT]))
            if draw(st.booleans()):
                other = draw(st.sampled_from(RUN_DAMAGE))
                files.append(("other", f"@run:{other}"))
                opts.append(["--compare", draw(st.sampled_from(["{d}/other", "{d}/run"]))])
        if command == "plot":
            opts.append(_option(draw, "--format", ["png", "svg", "pdf"]))
    elif command == "calibrate":
        opts += [
            _option(
                draw,
                "--council",
                ["Hertfordshire", "E10000015", "", "Nowhere", "ü" * 40, "E12000006"],
            ),
            _option(draw, "--until", ["2024", "2025", "2019", "x"]),
            _option(
                draw,
                "--template",
                ["{d}/tiny.yaml", "{d}/missing.yaml", "{d}/afile.txt", "{d}/other.yaml"],
            ),
            _option(draw, "--out", ["{d}/cal.yaml", *BAD_OUT]),
            _option(draw, "--sen2-dir", SEN2_DIRS),
        ]
    elif command == "backtest":
        opts += [
            _option(draw, "--council", ["Hertfordshire", "E10000015", "", "Nowhere"]),
            ["--all"],
            _option(draw, "--origin", ["2019", "2023", "2024", "2018", "x"]),
            _option(draw, "--origin", ["2022", "2024"]),
            _option(draw, "--horizon", ["1", "3", "0", "11"]),
            _option(draw, "--out", ["{d}/bt.csv", *BAD_OUT]),
            _option(draw, "-n", ["100", "99", "0", "1000000000"]),
            _option(draw, "--seed", ["0", "-1"]),
            _option(draw, "--sen2-dir", SEN2_DIRS),
        ]
    elif command == "data":
        head.append(draw(st.sampled_from(["councils", "councils", "bogus"])))
        opts.append(_option(draw, "--sen2-dir", SEN2_DIRS))
    elif command == "schema":
        opts.append(_option(draw, "--out", ["{d}/schema.json", "{d}/empty-dir", *BAD_OUT]))
    elif command == "junk":
        head = [draw(st.sampled_from(["--version", "--help", "bogus", "--bogus", "-n"]))]
    chosen = (
        draw(st.lists(st.sampled_from(range(len(opts))), unique=True, max_size=len(opts)))
        if opts
        else []
    )
    argv = list(head)
    for i in chosen:
        argv += opts[i]
    if _chance(draw, 20):
        argv.append(draw(st.sampled_from(["--bogus", "extra", "-h"])))
    if command in {"run", "compare"}:
        out = argv[argv.index("--out") + 1] if "--out" in argv else None
        if out is None:
            outs.append("{d}/runs/*" if command == "run" else "{d}/runs/compare/*")
        elif out in GOOD_OUT or out == "{d}/run":
            outs.append(out if command == "run" else out + "/*")
    label = command if command != "junk" else "options-only"
    return Case("cli", label, tuple(files), tuple(argv), outs=tuple(outs))


@st.composite
def _sweep_text(draw: st.DrawFn) -> str:
    spec: dict[str, Any] = {
        "name": "fz",
        "scenarios": ["tiny.yaml"],
        "parameters": {"demand.new_plans_growth_damping": [0.7, 1.0]},
        "replications": 2,
        "seed": 1,
    }
    tree, _ = draw(mutated_tree(spec)) if draw(st.booleans()) else (spec, "")
    if isinstance(tree, dict) and isinstance(tree.get("replications"), int):
        tree["replications"] = (
            min(tree["replications"], 3) if tree["replications"] > 3 else tree["replications"]
        )
    return to_yaml(tree)


@st.composite
def kill_cases(draw: st.DrawFn) -> Case:
    """A ``run`` in a subprocess, SIGKILLed after a delay or at its k-th rename."""
    how = draw(
        st.one_of(
            st.integers(min_value=1, max_value=6).map(lambda k: f"replace:{k}"),
            st.sampled_from([3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0]).map(
                lambda s: f"delay:{s}"
            ),
        )
    )
    existing = draw(st.booleans())
    files: list[tuple[str, str]] = [("tiny.yaml", TINY_YAML)]
    if existing:
        files.append(("out", "@run:good"))
    child = draw(st.booleans())
    argv = [
        "run",
        "{d}/tiny.yaml",
        "-n",
        "2",
        "--seed",
        str(draw(st.integers(100, 999))),
        "--out",
        "{d}/out",
        "-q",
    ] + (["--child-log"] if child else [])
    label = f"{how.split(':')[0]}{'/existing' if existing else '/fresh'}"
    return Case("kill", label, tuple(files), tuple(argv), outs=("{d}/out",), kill=how)


KINDS = {
    "validate": validate_cases,
    "run": run_cases,
    "hostile": hostile_cases,
    "cli": cli_cases,
    "kill": kill_cases,
}


def cases(weights: dict[str, int]) -> st.SearchStrategy[Case]:
    """Cases of the kinds given, in proportion to their weights."""
    pool = [k for k, w in weights.items() for _ in range(w)]
    return st.sampled_from(pool).flatmap(lambda k: KINDS[k]())


# ------------------------------------------------------------------------ fixtures


_GOOD_RUN: dict[str, Path] = {}


def good_run(cache: Path) -> Path:
    """A complete run folder of the tiny scenario (made once per ``cache`` folder)."""
    if str(cache) in _GOOD_RUN and _GOOD_RUN[str(cache)].exists():
        return _GOOD_RUN[str(cache)]
    from click.testing import CliRunner

    from placeplan.cli import main

    cache.mkdir(parents=True, exist_ok=True)
    (cache / "tiny.yaml").write_text(TINY_YAML, encoding="utf-8")
    for seed, name in ((1, "good"), (2, "other-seed")):
        if not (cache / name / "results.nc").exists():
            result = CliRunner().invoke(
                main,
                [
                    "run",
                    str(cache / "tiny.yaml"),
                    "-n",
                    "2",
                    "--seed",
                    str(seed),
                    "--out",
                    str(cache / name),
                    "-q",
                ],
            )
            if result.exit_code != 0:
                raise RuntimeError(f"cannot make the good run folder: {result.output}")
    _GOOD_RUN[str(cache)] = cache / "good"
    return cache / "good"


def _damage(folder: Path, damage: str, cache: Path) -> None:
    """Copy the good run folder to ``folder`` and damage it as ``damage`` says."""
    good = good_run(cache)
    if damage == "empty-folder":
        folder.mkdir(parents=True)
        return
    shutil.copytree(good, folder)
    nc, prov, scen = folder / "results.nc", folder / "provenance.json", folder / "scenario.yaml"
    if damage == "truncate-results":
        nc.write_bytes(nc.read_bytes()[: nc.stat().st_size // 2])
    elif damage == "empty-results":
        nc.write_bytes(b"")
    elif damage == "garbage-provenance":
        prov.write_text("{not json", encoding="utf-8")
    elif damage == "truncate-provenance":
        prov.write_text(prov.read_text(encoding="utf-8")[:40], encoding="utf-8")
    elif damage == "provenance-list":
        prov.write_text("[1, 2]\n", encoding="utf-8")
    elif damage.startswith("missing-"):
        {"missing-results": nc, "missing-provenance": prov, "missing-scenario": scen}[
            damage
        ].unlink()
    elif damage == "garbage-scenario":
        scen.write_text("[[[", encoding="utf-8")
    elif damage == "invalid-scenario":
        scen.write_text("name: x\n", encoding="utf-8")
    elif damage == "drop-variable":
        import xarray as xr

        with xr.open_dataset(nc) as ds:
            ds = ds.load()
        ds.drop_vars([v for v in ds.data_vars][:1]).to_netcdf(nc)
    elif damage == "foreign-netcdf":
        import xarray as xr

        nc.unlink()
        xr.Dataset({"x": ("t", [1.0, 2.0])}).to_netcdf(nc)
    elif damage == "tmp-leftovers":
        (folder / ".results.nc.abc123.tmp").write_bytes(b"\x89HDF")
    elif damage == "other-seed-results":
        shutil.copy(cache / "other-seed" / "results.nc", nc)


def lay_out(case: Case, folder: Path, cache: Path) -> None:
    """Write the case's files into ``folder`` (which must exist and be empty)."""
    for name, content in case.files:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == "@fifo":
            os.mkfifo(path)
        elif content == "@empty-dir":
            path.mkdir(exist_ok=True)
        elif content == "@readonly-dir":
            path.mkdir(exist_ok=True)
            path.chmod(0o555)
        elif content.startswith("@symlink:"):
            path.symlink_to(content.removeprefix("@symlink:"))
        elif content.startswith("@run:"):
            _damage(path, content.removeprefix("@run:"), cache)
        elif content.startswith("b64:"):
            path.write_bytes(base64.b64decode(content[4:]))
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")


# --------------------------------------------------------------------- execution


class CaseTimeout(BaseException):
    """Raised by SIGALRM when a case runs over its time limit."""


_FIRED: list[bool] = []
"""Set when the alarm fires (it may fire where the exception is ignored, e.g. in a GC hook)."""


def _alarm(signum, frame):
    _FIRED.append(True)
    raise CaseTimeout


def _vm_size() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _vm_hwm() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_hwm() -> None:
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
        f.write("5")


@contextlib.contextmanager
def limits(timeout_s: float, memory_bytes: int):
    """Bound the block's wall time (SIGALRM) and its extra address space (RLIMIT_AS)."""
    old_soft, old_hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _vm_size() + memory_bytes
    if old_hard != resource.RLIM_INFINITY:
        limit = min(limit, old_hard)
    old_handler = signal.signal(signal.SIGALRM, _alarm)
    resource.setrlimit(resource.RLIMIT_AS, (limit, old_hard))
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        resource.setrlimit(resource.RLIMIT_AS, (old_soft, old_hard))


def _where(tb) -> str:
    """``file:function`` of the deepest placeplan frame of a traceback."""
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if "/placeplan/" in f.filename.replace(os.sep, "/")]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return ""
    return f"{Path(frame.filename).name}:{frame.name}"


def _fill(arg: str, folder: Path) -> str:
    return arg.replace("{d}", str(folder))


def execute(
    case: Case,
    folder: Path,
    cache: Path,
    timeout_s: float = TIMEOUT_S,
    memory_bytes: int = MEMORY_BYTES,
) -> Outcome:
    """Lay the case out in ``folder``, run it, and check the contract.

    ``folder`` must exist and be empty; ``cache`` holds the good run folder the
    ``@run:`` entries copy. The working directory is ``folder`` while the case runs.
    """
    lay_out(case, folder, cache)
    if case.kind == "kill":
        outcome = _execute_kill(case, folder, timeout_s, memory_bytes)
    else:
        outcome = _execute_in_process(case, folder, timeout_s, memory_bytes)
    check(case, folder, outcome)
    return outcome


def _execute_in_process(case: Case, folder: Path, timeout_s: float, memory_bytes: int) -> Outcome:
    from click.testing import CliRunner

    from placeplan.cli import main

    argv = [_fill(a, folder) for a in case.argv]
    runner = CliRunner()
    cwd = os.getcwd()
    gc.collect()  # so garbage of an earlier case does not print into this one's output
    _reset_hwm()
    _FIRED.clear()
    start = time.perf_counter()
    outcome = Outcome(exit_code=None, seconds=0.0)
    try:
        os.chdir(folder)
        with warnings.catch_warnings(), limits(timeout_s, memory_bytes):
            warnings.simplefilter("ignore")
            result = runner.invoke(main, argv, catch_exceptions=True)
        outcome.exit_code = result.exit_code
        outcome.output = result.output[-4000:]
        exc = result.exception
        if exc is not None and not isinstance(exc, SystemExit):
            outcome.exception = type(exc).__name__
            outcome.where = _where(result.exc_info[2]) if result.exc_info else ""
            text = "".join(traceback.format_exception(exc))
            # as the real command line would print it (the middle of a deep one left out)
            outcome.output += "\n" + (text if len(text) < 3000 else f"{text[:300]}…{text[-2700:]}")
            if isinstance(exc, MemoryError):
                outcome.failures.append("memory")
    except CaseTimeout:
        outcome.failures.append("timeout")
        outcome.exception = "CaseTimeout"
        outcome.where = _where(sys.exc_info()[2])
    except MemoryError as exc:
        outcome.failures.append("memory")
        outcome.exception = "MemoryError"
        outcome.where = _where(exc.__traceback__)
    except RecursionError as exc:  # escaped click's handler
        outcome.exception = "RecursionError"
        outcome.where = _where(exc.__traceback__)
        outcome.exit_code = 1
    finally:
        os.chdir(cwd)
        outcome.seconds = time.perf_counter() - start
        outcome.peak_rss = _vm_hwm()
    if _FIRED and "timeout" not in outcome.failures:
        outcome.failures.append("timeout")  # the alarm was swallowed; the case still ran over
    import matplotlib.pyplot as plt

    plt.close("all")
    return outcome


KILL_PRELUDE = """
import os, signal, sys
K = int(sys.argv[1])
calls = [0]
def _hook(original):
    def wrapped(*args, **kwargs):
        calls[0] += 1
        if calls[0] == K:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    return wrapped
os.replace = _hook(os.replace)
os.rename = _hook(os.rename)
from placeplan.cli import main
main(sys.argv[2:], prog_name="placeplan")
"""


def _limit_child(memory_bytes: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return apply


def _execute_kill(case: Case, folder: Path, timeout_s: float, memory_bytes: int) -> Outcome:
    """Run ``placeplan`` in a subprocess and kill it; then run it again, in-process, to the end."""
    argv = [_fill(a, folder) for a in case.argv]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    how, _, value = case.kill.partition(":")
    if how == "replace":
        cmd = [sys.executable, "-c", KILL_PRELUDE, value, *argv]
        wait = max(timeout_s, 120.0)
    else:
        cmd = [sys.executable, "-m", "placeplan", *argv]
        wait = float(value)
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=_limit_child(memory_bytes),
    )
    try:
        out, _ = proc.communicate(timeout=wait)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
    killed = proc.returncode == -signal.SIGKILL
    text = out.decode("utf-8", "replace")[-4000:]
    if not killed and proc.returncode not in (0, 2):
        return Outcome(exit_code=proc.returncode, seconds=time.perf_counter() - start, output=text)
    # The contract after a kill: nothing half-written under a final name.
    problems = [f"after kill: {p}" for p in _run_folder_problems(folder / "out")]
    # Then a clean run into the same folder must leave it whole, with no temp files.
    rerun = Case("run", case.label, (), case.argv, case.outs)
    outcome = _execute_in_process(rerun, folder, timeout_s, memory_bytes)
    outcome.failures = problems + outcome.failures
    outcome.output = text + "\n--- rerun ---\n" + outcome.output
    outcome.seconds = time.perf_counter() - start
    outcome.peak_rss = max(
        outcome.peak_rss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    )
    return outcome


# ------------------------------------------------------------------------ checks


def _tmp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*.tmp")] if folder.exists() else []


def _run_folder_problems(folder: Path) -> list[str]:
    """What is wrong with ``folder`` as an output folder: empty, or one complete run."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        return ["the output is not a folder"]
    present = [f for f in RUN_FILES if (folder / f).exists()]
    if not present:
        return []
    problems = []
    missing = [f for f in RUN_FILES if f not in present]
    if missing:
        problems.append("incomplete run folder (missing " + ", ".join(missing) + ")")
    run_ids = set()
    try:
        prov = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
        run_ids.add(("provenance.json", prov.get("run_id")))
    except FileNotFoundError:
        pass
    except (ValueError, UnicodeDecodeError, AttributeError):
        problems.append("provenance.json half-written")
    if (folder / "results.nc").exists():
        try:
            import xarray as xr

            with xr.open_dataset(folder / "results.nc", decode_times=False) as ds:
                attrs = dict(ds.attrs)
            run_ids.add(("results.nc", json.loads(attrs.get("provenance", "{}")).get("run_id")))
        except Exception:
            problems.append("results.nc half-written")
    if (folder / "scenario.yaml").exists():
        text = (folder / "scenario.yaml").read_text(encoding="utf-8", errors="replace")
        first = text.splitlines()[0] if text else ""
        if not text.endswith("\n"):
            problems.append("scenario.yaml half-written")
        run_ids.add(("scenario.yaml", first.rsplit(" ", 1)[-1] if "of run" in first else None))
    if (folder / "summary.csv").exists():
        text = (folder / "summary.csv").read_text(encoding="utf-8", errors="replace")
        if not text.endswith("\n"):
            problems.append("summary.csv half-written")
    ids = {i for _, i in run_ids if i}
    if len(ids) > 1:
        problems.append(
            "files of different runs in one folder ("
            + ", ".join(f"{f}={i[:8] if i else i}" for f, i in sorted(run_ids))
            + ")"
        )
    return problems


def check(case: Case, folder: Path, outcome: Outcome) -> None:
    """Add to ``outcome.failures`` every part of the contract the case broke."""
    code = outcome.exit_code
    if "timeout" not in outcome.failures and "memory" not in outcome.failures:
        if code not in (0, 2):
            outcome.failures.insert(0, f"exit {code}")
        elif "Traceback" in outcome.output:
            outcome.failures.insert(0, "traceback")
    if case.kind == "kill":
        if outcome.exit_code == 0:
            outcome.failures += [f"rerun: {p}" for p in _run_folder_problems(folder / "out")]
            if not (folder / "out" / "results.nc").exists():
                outcome.failures.append("rerun: exit 0 but no run folder")
        if outcome.exit_code in (0, 2) and (stray := _tmp_files(folder / "out")):
            outcome.failures.append("stray temp file after a clean rerun")
        return
    clean = code in (0, 2) and not outcome.failures
    paths = []
    for out in case.outs:
        filled = _fill(out, folder)
        if filled.endswith("/*"):
            parent = Path(filled[:-2])
            paths += sorted(p for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []
        else:
            paths.append(Path(filled))
    for path in paths:
        problems = _run_folder_problems(path)
        outcome.failures += problems
        written = (path / "results.nc").exists()
        if code == 0 and case.command == "run" and not written and "--out" in case.argv:
            outcome.failures.append(f"exit 0 but no complete run folder in {path.name}")
    if clean:
        stray = [p for p in _tmp_files(folder) if p.name != ".results.nc.abc123.tmp"]
        if stray:
            outcome.failures.append("stray temp file after a clean exit")
