"""Reading scenario files (YAML, safe loading only; TOML) with the line of every key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from placeplan.errors import ScenarioError

__all__ = ["read_scenario_file"]

Lines = dict[tuple, "int | tuple[str, int]"]
"""Key path -> line in the file read, or (file, line) for keys inherited by ``extends``."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that rejects duplicate keys instead of keeping the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
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


def _merge(base: Any, child: Any) -> Any:
    """Deep merge: mappings are merged key by key; anything else in ``child`` replaces."""
    if isinstance(base, dict) and isinstance(child, dict):
        out = dict(base)
        for key, value in child.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    return child


def _resolve_base(reference: Any, path: Path, line: int | None) -> Path:
    from placeplan.bundled import bundled_scenarios

    if not isinstance(reference, str) or not reference:
        raise ScenarioError.single(str(path), "extends: expected a file or bundled name", line)
    beside = path.parent / reference
    if beside.suffix.lower() in {".yaml", ".yml", ".toml"} and beside.exists():
        return beside
    bundled = bundled_scenarios()
    if reference in bundled:
        return bundled[reference]
    raise ScenarioError.single(
        str(path),
        f"no scenario {reference!r} beside this file nor bundled",
        line,
        "extends",
    )


def read_scenario_file(path: Path, _seen: tuple[Path, ...] = ()) -> tuple[Any, Lines]:
    """Parse a scenario file and map each key path to its line.

    A file may start from another with ``extends: NAME`` (a file beside it, or a
    bundled scenario): the two are merged key by key, mappings recursively and
    anything else (lists included) replaced by the extending file's value.

    Parameters
    ----------
    path : pathlib.Path
        A ``.yaml``/``.yml`` or ``.toml`` file.

    Returns
    -------
    data, lines
        The parsed content and a map from key paths (tuples) to 1-based lines
        (or ``(file, line)`` for keys that come from the scenario extended).

    Raises
    ------
    ScenarioError
        If the file is missing, unreadable, of an unknown type or malformed.

    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError.single(source, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError.single(source, f"cannot read the file: {exc}") from None
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        try:
            data = yaml.load(text, Loader=_UniqueKeyLoader)
            lines = _yaml_lines(yaml.compose(text, Loader=yaml.SafeLoader))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            problem = exc.problem or exc.context or "malformed YAML"
            raise ScenarioError.single(source, f"invalid YAML: {problem}", line) from None
        except yaml.YAMLError as exc:
            raise ScenarioError.single(source, f"invalid YAML: {exc}") from None
    elif suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            line = int(m.group(1)) if m else None
            raise ScenarioError.single(source, f"invalid TOML: {exc}", line) from None
        lines = _toml_lines(text)
    else:
        raise ScenarioError.single(
            source, f"unknown file type {suffix!r}; expected .yaml, .yml or .toml"
        )
    if not isinstance(data, dict):
        raise ScenarioError.single(source, "expected a mapping of keys at the top level", 1)
    if "extends" in data:
        line = lines.get(("extends",))
        base_path = _resolve_base(data.pop("extends"), path, line)
        if base_path.resolve() in _seen or base_path.resolve() == path.resolve():
            raise ScenarioError.single(source, "extends: the scenarios extend each other", line)
        base, base_lines = read_scenario_file(base_path, (*_seen, path.resolve()))
        merged_lines: Lines = {
            key: value if isinstance(value, tuple) else (str(base_path), value)
            for key, value in base_lines.items()
        }
        merged_lines.update({k: v for k, v in lines.items() if k != ("extends",)})
        return _merge(base, data), merged_lines
    return data, lines
