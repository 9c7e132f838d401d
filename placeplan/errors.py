"""Errors that point the user at the input to fix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = ["InputError", "ScenarioError", "ScenarioIssue"]


class InputError(ValueError):
    """Bad input from the user: reported with a message, never with a traceback (exit 2)."""


@dataclass(frozen=True)
class ScenarioIssue:
    """One problem in a scenario file."""

    source: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


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
    ) -> ScenarioError:
        """Translate a pydantic error into issues with lines and field paths."""
        issues = []
        for err in exc.errors(include_url=False):
            loc = _clean_loc(err["loc"])
            path = ".".join(str(p) for p in loc)
            where = _line_for(loc, lines)
            file, line = where if isinstance(where, tuple) else (source, where)
            issues.append(ScenarioIssue(file, line, path, _message(err, loc, model)))
        return cls(issues)


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
    return tuple(out)


def _line_for(loc: tuple, lines: Mapping[tuple, Any]) -> Any:
    for n in range(len(loc), -1, -1):
        key = tuple(str(p) if not isinstance(p, int) else p for p in loc[:n])
        if key in lines:
            return lines[key]
    return None


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """Field names allowed at the mapping that holds ``loc[-1]``, if a model is found there."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return None
        current = _model_in(field.annotation)
    if current is None or not hasattr(current, "model_fields"):
        return None
    return list(current.model_fields)


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside an annotation (``X | None``, ``tuple[X, ...]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    for meta in getattr(annotation, "__metadata__", ()):
        found = _model_in(meta)
        if found is not None:
            return found
    return None


def _message(err: Mapping[str, Any], loc: tuple, model: type[BaseModel]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc)
        hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {loc[-1]!r}{hint}"
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
        msg = f"{msg} (got {err['input']!r})"
    return msg
