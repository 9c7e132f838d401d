"""Reading scenario files (YAML, safe loading only; TOML) with the line of every key.

Hostile files are refused before they cost time or memory: only regular files of at
most :data:`MAX_FILE_BYTES` are read; nesting deeper than :data:`MAX_DEPTH`, more than
:data:`MAX_NODES` values once YAML aliases are expanded, an alias that contains
itself, or a list or mapping used as a key are errors; ``extends`` chains are at most
:data:`MAX_EXTENDS` deep, name at most :data:`MAX_NAME_CHARS` characters, and resolve
only to bundled scenarios or to files in the extending file's folder or below it
(unless ``allow_outside``).
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

import yaml

from placeplan.errors import ScenarioError

__all__ = [
    "MAX_DEPTH",
    "MAX_EXTENDS",
    "MAX_FILE_BYTES",
    "MAX_NAME_CHARS",
    "MAX_NODES",
    "read_scenario_file",
]

MAX_FILE_BYTES = 1 << 20
"""Largest scenario file read [bytes] (1 MiB; the Hertfordshire baseline is 10 KiB)."""

MAX_DEPTH = 32
"""Deepest nesting of lists and mappings (a scenario needs 6)."""

MAX_NODES = 200_000
"""Most values in a file once YAML aliases are expanded (the baseline has about 400)."""

MAX_EXTENDS = 8
"""Longest chain of ``extends``."""

MAX_NAME_CHARS = 200
"""Longest ``extends`` name [characters]."""

Lines = dict[tuple, "int | tuple[str, int]"]
"""Key path -> line in the file read, or (file, line) for keys inherited by ``extends``."""


_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it (ten times faster), else the Python one."""


class _UniqueKeyLoader(_SafeLoader):
    """Safe YAML loader that rejects duplicate keys and keys that are lists or mappings."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    "a key must be a plain value (a name or a number), not a list or mapping",
                    key_node.start_mark,
                )
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date, or the text as written if it is no day (``2024-02-30``).

        PyYAML raises a bare ``ValueError`` for an impossible date; kept as text, the
        schema reports it with its file, line and field.
        """
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_UniqueKeyLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _UniqueKeyLoader.construct_yaml_timestamp
)


def _check_events(text: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` before anything recursive runs."""
    depth = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    problem=f"nested more than {MAX_DEPTH} levels deep",
                    problem_mark=event.start_mark,
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_graph(root: yaml.Node) -> None:
    """Refuse self-containing aliases, and graphs too deep or too large once expanded.

    Nesting through aliases may not exceed :data:`MAX_DEPTH`, nor the values once
    aliases are expanded :data:`MAX_NODES`. Aliases share nodes, so each node's
    expanded size and height are found once (memoised), without expanding anything;
    recursion stops at :data:`MAX_DEPTH`.
    """
    size: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def fail(problem: str, node: yaml.Node) -> None:
        raise yaml.MarkedYAMLError(problem=problem, problem_mark=node.start_mark)

    def count(node: yaml.Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in active:
            fail("an alias refers to a value that contains it", node)
        if key not in size:
            if depth > MAX_DEPTH:
                fail(f"nested more than {MAX_DEPTH} levels deep (through aliases)", node)
            active.add(key)
            total, height = 1, 0
            children: list[yaml.Node] = []
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            for child in children:
                n, h = count(child, depth + 1)
                total, height = total + n, max(height, h + 1)
                if total > MAX_NODES:
                    fail(f"more than {MAX_NODES:,} values once aliases are expanded", node)
            active.discard(key)
            size[key] = (total, height)
        if depth + size[key][1] > MAX_DEPTH:
            fail(f"nested more than {MAX_DEPTH} levels deep (through aliases)", node)
        return size[key]

    count(root, 1)


def _load_yaml(text: str) -> tuple[Any, Lines]:
    """Parse YAML once (composed, checked, then constructed) with the line of every key."""
    _check_events(text)
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _check_graph(node)
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    return data, _yaml_lines(node)


def _yaml_lines(node: yaml.Node | None, path: tuple = (), out: Lines | None = None) -> Lines:
    out = {} if out is None else out
    if node is None:
        return out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            sub = (*path, str(key_node.value))
            out[sub] = key_node.start_mark.line + 1
            _yaml_lines(value_node, sub, out)
            out[sub] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _yaml_lines(item, (*path, i), out)
    return out


_TABLE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]+"|'[^']+'|[A-Za-z0-9_.-]+)\s*=""")


def _toml_lines(text: str) -> Lines:
    """Best-effort map of TOML key paths to lines (tables, arrays of tables, keys)."""
    out: Lines = {}
    table: tuple = ()
    counts: dict[tuple, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if m := _TABLE.match(raw):
            parts = tuple(p.strip().strip("\"'") for p in m.group(2).split("."))
            if m.group(1) == "[[":
                counts[parts] = counts.get(parts, -1) + 1
                table = (*parts, counts[parts])
            else:
                table = parts
            out.setdefault(table, number)
        elif m := _KEY.match(raw):
            parts = tuple(p.strip("\"'") for p in m.group(1).split("."))
            out.setdefault((*table, *parts), number)
    return out


def _depth(value: Any) -> int:
    """Nesting depth of lists and mappings (iterative)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((v, level) for v in children)
    return deepest


def _merge(base: Any, child: Any, path: tuple = ()) -> Any:
    """Deep merge: mappings are merged key by key; anything else in ``child`` replaces.

    A ``demand`` section whose ``model`` differs from the base's replaces the base's
    section whole: the keys of one demand model mean nothing to another.
    """
    if isinstance(base, dict) and isinstance(child, dict):
        if path == ("demand",) and _demand_replaced(base, child):
            return child
        out = dict(base)
        for key, value in child.items():
            out[key] = _merge(base[key], value, (*path, key)) if key in base else value
        return out
    return child


def _demand_replaced(base: Any, child: Any) -> bool:
    return (
        isinstance(base, dict)
        and isinstance(child, dict)
        and ("model" in child and child.get("model") != base.get("model"))
    )


def _read_text(path: Path) -> str:
    """The text of a regular file of at most :data:`MAX_FILE_BYTES`, read without blocking."""
    source = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError.single(source, "no such file") from None
    except OSError as exc:
        raise ScenarioError.single(source, f"cannot read the file: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError.single(source, "not a regular file (a folder, device or pipe)")
    if info.st_size > MAX_FILE_BYTES:
        raise ScenarioError.single(
            source, f"the file is larger than {MAX_FILE_BYTES // 1024} KiB; a scenario is smaller"
        )
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ScenarioError.single(source, "not a regular file (a folder, device or pipe)")
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError.single(source, f"cannot read the file: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError.single(
            source, f"the file is larger than {MAX_FILE_BYTES // 1024} KiB; a scenario is smaller"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError.single(
            source, f"not UTF-8 text (byte {exc.start} cannot be decoded)"
        ) from None


def _resolve_base(reference: Any, path: Path, line: int | None, allow_outside: bool) -> Path:
    from placeplan.bundled import bundled_scenarios

    source = str(path)
    if not isinstance(reference, str) or not reference.strip():
        raise ScenarioError.single(source, "expected a file or bundled name", line, "extends")
    if len(reference) > MAX_NAME_CHARS or "\0" in reference:
        raise ScenarioError.single(
            source,
            f"expected a file or bundled name of at most {MAX_NAME_CHARS} characters",
            line,
            "extends",
        )
    shown = reference if len(reference) <= 60 else reference[:57] + "..."
    beside = path.parent / reference
    if beside.suffix.lower() in {".yaml", ".yml", ".toml"}:
        try:
            found = beside.is_file()
            inside = beside.resolve().is_relative_to(path.parent.resolve())
        except (OSError, RuntimeError, ValueError):
            found, inside = False, False
        if found:
            if not (inside or allow_outside):
                raise ScenarioError.single(
                    source,
                    f"{shown!r} is outside this scenario's folder; a scenario extends only a "
                    "bundled scenario or a file in its own folder or below it (pass "
                    "--allow-extends-anywhere, or allow_outside=True, to allow it)",
                    line,
                    "extends",
                )
            return beside
    bundled = bundled_scenarios()
    if reference in bundled:
        return bundled[reference]
    raise ScenarioError.single(
        source,
        f"no scenario {shown!r} beside this file nor bundled",
        line,
        "extends",
    )


def read_scenario_file(
    path: Path, _seen: tuple[Path, ...] = (), *, allow_outside: bool = False
) -> tuple[Any, Lines]:
    """Parse a scenario file and map each key path to its line.

    A file may start from another with ``extends: NAME`` (a bundled scenario, or a
    file in the extending file's folder or below it; anywhere with
    ``allow_outside``): the two are merged key by key, mappings recursively and
    anything else (lists included) replaced by the extending file's value. A
    ``demand`` section with a different ``model`` from the base's replaces the
    base's section whole.

    Parameters
    ----------
    path : pathlib.Path
        A ``.yaml``/``.yml`` or ``.toml`` file.
    allow_outside : bool
        Let ``extends`` name files outside the extending file's folder.

    Returns
    -------
    data, lines
        The parsed content and a map from key paths (tuples) to 1-based lines
        (or ``(file, line)`` for keys that come from the scenario extended).

    Raises
    ------
    ScenarioError
        If the file is missing, not a regular file, too large, unreadable, of an
        unknown type, malformed, nested too deeply, or extends what it may not.

    """
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in {".yaml", ".yml", ".toml"}:
        raise ScenarioError.single(
            source, f"unknown file type {suffix[:20]!r}; expected .yaml, .yml or .toml"
        )
    text = _read_text(path)
    if suffix in {".yaml", ".yml"}:
        try:
            data, lines = _load_yaml(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            problem = exc.problem or exc.context or "malformed YAML"
            raise ScenarioError.single(source, f"invalid YAML: {problem}", line) from None
        except yaml.YAMLError as exc:
            raise ScenarioError.single(source, f"invalid YAML: {exc}") from None
        except RecursionError:
            raise ScenarioError.single(source, "invalid YAML: nested too deeply") from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            line = int(m.group(1)) if m else None
            raise ScenarioError.single(source, f"invalid TOML: {exc}", line) from None
        except RecursionError:
            raise ScenarioError.single(source, "invalid TOML: nested too deeply") from None
        lines = _toml_lines(text)
    if not isinstance(data, dict):
        raise ScenarioError.single(source, "expected a mapping of keys at the top level", 1)
    if _depth(data) > MAX_DEPTH:
        raise ScenarioError.single(source, f"nested more than {MAX_DEPTH} levels deep")
    if "extends" in data:
        line = lines.get(("extends",))
        if len(_seen) >= MAX_EXTENDS:
            raise ScenarioError.single(
                source, f"more than {MAX_EXTENDS} scenarios extend one another", line, "extends"
            )
        base_path = _resolve_base(data.pop("extends"), path, line, allow_outside)
        if base_path.resolve() in _seen or base_path.resolve() == path.resolve():
            raise ScenarioError.single(source, "the scenarios extend each other", line, "extends")
        base, base_lines = read_scenario_file(
            base_path, (*_seen, path.resolve()), allow_outside=allow_outside
        )
        if _demand_replaced(base.get("demand"), data.get("demand")):
            base_lines = {k: v for k, v in base_lines.items() if k[:1] != ("demand",)}
        merged_lines: Lines = {
            key: value if isinstance(value, tuple) else (str(base_path), value)
            for key, value in base_lines.items()
        }
        merged_lines.update({k: v for k, v in lines.items() if k != ("extends",)})
        return _merge(base, data), merged_lines
    return data, lines
