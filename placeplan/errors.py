"""Errors that point the user at the input to fix."""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

__all__ = ["InputError", "ScenarioError", "ScenarioIssue", "issue_at"]


class InputError(ValueError):
    """Bad input from the user: reported with a message, never with a traceback (exit 2)."""


@dataclass(frozen=True)
class ScenarioIssue:
    """One problem in a scenario file: an error, or a warning of a likely mistake."""

    source: str
    line: int | None
    path: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        field = f" {self.path}:" if self.path else ""
        kind = " warning:" if self.warning else ""
        return f"{where}:{field}{kind} {self.message}"


class ScenarioError(InputError):
    """A scenario file that cannot be read or is not valid.

    Attributes
    ----------
    issues : list of ScenarioIssue
        Every problem found, each with file, line and field path.

    """

    def __init__(self, issues: Sequence[ScenarioIssue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    @classmethod
    def single(
        cls, source: str, message: str, line: int | None = None, path: str = ""
    ) -> ScenarioError:
        """An error with a single issue."""
        return cls([ScenarioIssue(source, line, path, message)])

    @classmethod
    def from_validation(
        cls,
        exc: ValidationError,
        *,
        source: str,
        lines: Mapping[tuple, Any],
        model: type[BaseModel],
        data: Any = None,
    ) -> ScenarioError:
        """Translate a pydantic error into issues with lines and field paths.

        ``data`` (the input validated) lets an unknown key's hint list the keys of
        the variant the input chose (e.g. the ``demand`` section of its ``model``).
        """
        by_loc: dict[tuple, list[str]] = {}
        for err in exc.errors(include_url=False):
            loc = _clean_loc(err["loc"])
            message = _message(err, loc, model, data)
            if message not in by_loc.setdefault(loc, []):
                by_loc[loc].append(message)
        # the members of a union (``'census'`` or a number) each fail: one issue, "or"
        return cls([issue_at(loc, "; or ".join(m), source, lines) for loc, m in by_loc.items()])


def issue_at(
    loc: Sequence[Any],
    message: str,
    source: str,
    lines: Mapping[tuple, Any],
    warning: bool = False,
) -> ScenarioIssue:
    """An issue at a key path, with the line (and file, for inherited keys) of the key."""
    loc = tuple(loc)
    where = _line_for(loc, lines)
    file, line = where if isinstance(where, tuple) else (source, where)
    return ScenarioIssue(file, line, ".".join(str(p) for p in loc), message, warning)


def _clean_loc(loc: Sequence[Any]) -> tuple:
    """Drop pydantic's union-tag segments (``cohort``, ``fixed``) that are not keys."""
    out: list[Any] = []
    for part in loc:
        if (
            isinstance(part, str)
            and part in {"cohort", "fixed", "poisson"}
            and out
            and out[-1] == "demand"
        ):
            continue
        if isinstance(part, str) and part.startswith("function-"):
            continue
        out.append(part)
    while out and isinstance(out[-1], str) and _UNION_TAG.match(out[-1]):
        out.pop()
    return tuple(out)


_UNION_TAG = re.compile(
    r"^(literal\[.*\]|constrained-\w+|float|int|str|bool|date|none|"
    r"(lax-or-strict|json-or-python|tuple|list|dict)\[.*\])$"
)
"""A last segment naming the member of a union that failed, not a key."""


def _line_for(loc: tuple, lines: Mapping[tuple, Any]) -> Any:
    for n in range(len(loc), -1, -1):
        key = tuple(str(p) if not isinstance(p, int) else p for p in loc[:n])
        if key in lines:
            return lines[key]
    return None


def _allowed_keys(model: type[BaseModel], loc: tuple, data: Any = None) -> list[str] | None:
    """Field names allowed at the mapping that holds ``loc[-1]``, if a model is found there.

    Walks the annotations along ``loc`` beside the input ``data``, so that a union of
    models (``demand``) resolves to the member the input's ``model`` key chose.
    """
    annotation: Any = model
    node = data
    for part in loc[:-1]:
        annotation = _resolve(annotation, node)
        node = _child(node, part)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (tuple, list) and get_args(annotation):
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) is dict and get_args(annotation):
            annotation = get_args(annotation)[1]
        else:
            return None
    annotation = _resolve(annotation, node)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return None


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _resolve(annotation: Any, value: Any) -> Any:
    """Strip ``Annotated`` and ``None``; pick a union's model by the input's ``model`` key."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _resolve(get_args(annotation)[0], value)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        models = [a for a in members if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(models) == 1:
            return models[0]
        if models:
            tag = value.get("model") if isinstance(value, dict) else None
            for candidate in models:
                field = candidate.model_fields.get("model")
                if field is not None and tag in get_args(field.annotation):
                    return candidate
            return None
        containers = [a for a in members if get_origin(a) in (tuple, list, dict)]
        return containers[0] if len(containers) == 1 else None
    return annotation


def _message(err: Mapping[str, Any], loc: tuple, model: type[BaseModel], data: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc, data)
        hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {_short(loc[-1])}{hint}"
    if kind == "missing":
        return "required but missing"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if (
        "input" in err
        and kind not in {"model_type", "dict_type"}
        and not isinstance(err["input"], dict | list)
    ):
        msg = f"{msg} (got {_short(err['input'])})"
    return msg


def _short(value: Any, limit: int = 60) -> str:
    """``repr`` of a value from the input, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
