"""A council's published figures on places and waits, quoted from its own documents.

A figure file (``placeplan/data/published/CODE.yaml`` for the councils bundled, or
any file of the same form) lists the documents (``sources``), each with its licence,
and the figures they give. Every figure quotes the sentences it comes from and is
typed:

- ``count``: a level on a day (``at``), or in force over a period (``start``,
  and ``end``), with ``relation`` ``"="`` or ``"about"``;
- ``bound``: a level on a day (``at``) that is ``"<"``, ``"<="``, ``">"`` or ``">="`` the value;
- ``interval``: a count of events between ``start`` and ``end`` (children placed,
  say), with any relation.

and names the model measure it is compared with (:data:`placeplan.measures.MEASURES`,
or one of :data:`NEEDED`, measures a comparison needs that a run may not yet
record). ``statements`` record other figures the documents give and why they are
not compared. Unknown keys, bad dates and figures whose type does not fit their
measure are errors naming the file, line and field.
"""

from __future__ import annotations

import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from placeplan import measures
from placeplan.errors import InputError, ScenarioError

__all__ = [
    "NEEDED",
    "Figure",
    "Published",
    "Quote",
    "Source",
    "Statement",
    "bundled_areas",
    "load_published",
    "published",
    "published_dir",
]

NEEDED: dict[str, tuple[str, bool]] = {
    "placed_after_waiting_over_52_weeks": (
        "Children placed (a place taken up) between two dates who had waited over 52 "
        "weeks when placed",
        False,
    ),
}
"""Measures a published figure may need beyond the table of measures: name ->
(long name, stock). A run's Dataset does not record them; :mod:`placeplan.observed`
computes them from the child log where the run kept it."""

Relation = Literal["=", "about", "<", "<=", ">", ">="]
BOUNDS = ("<", "<=", ">", ">=")

_Text = Annotated[str, Field(min_length=1, max_length=2000)]
_Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Source(_Model):
    """A document figures are quoted from."""

    short: _Text = Field(description="Short name, shown in legends and tables.")
    title: _Text
    publisher: _Text
    published: _Text = Field(description="When it was published, as it says (e.g. 'April 2024').")
    document: _Text = Field(description="Where the text quoted was read.")
    licence: _Text = Field(
        description="The licence the figures are used under, or that none is stated."
    )


class Quote(_Model):
    """A sentence quoted exactly from a source."""

    source: _Key
    text: _Text


class Figure(_Model):
    """One published figure, typed, with the sentences it comes from."""

    id: _Key
    what: _Text = Field(description="The figure in words.")
    kind: Literal["count", "bound", "interval"]
    relation: Relation
    value: float = Field(ge=0)
    units: Literal["children", "places"]
    measure: str = Field(description="The model measure it is compared with.")
    at: datetime.date | None = Field(None, description="The day a level is of.")
    start: datetime.date | None = None
    end: datetime.date | None = None
    quotes: tuple[Quote, ...] = Field(min_length=1)
    note: str = ""

    @model_validator(mode="after")
    def _typed(self) -> Figure:
        stock = _stock(self.measure)
        if self.kind == "bound" and self.relation not in BOUNDS:
            raise ValueError(f"a bound's relation is one of {', '.join(BOUNDS)}")
        if self.kind == "count" and self.relation not in ("=", "about"):
            raise ValueError("a count's relation is '=' or 'about' (a bound is kind: bound)")
        if self.kind == "interval":
            if self.start is None or self.end is None or self.at is not None:
                raise ValueError("an interval count gives start and end (no at)")
            if stock:
                raise ValueError(
                    f"an interval count needs a measure of events, not the level {self.measure!r}"
                )
        else:
            if (self.at is None) == (self.start is None):
                raise ValueError(f"a {self.kind} gives a day (at), or a period (start, and end)")
            if self.at is not None and self.end is not None:
                raise ValueError("end goes with start, not with at")
            if not stock:
                raise ValueError(
                    f"a {self.kind} at a date needs a level, not the events {self.measure!r} "
                    "(use kind: interval)"
                )
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        unit = _units(self.measure)
        if unit != self.units:
            raise ValueError(f"{self.measure!r} is in {unit}, the figure in {self.units}")
        return self


def _stock(name: str) -> bool:
    if name in NEEDED:
        return NEEDED[name][1]
    try:
        m = measures.get(name)
    except KeyError:
        known = [m.name for m in measures.MEASURES if m.kind == "count"] + list(NEEDED)
        raise ValueError(f"unknown measure {name!r}; expected one of: {', '.join(known)}") from None
    if name != m.name:
        raise ValueError(f"compare with a total measure ({m.name!r}), not a breakdown")
    return m.stock


def _units(name: str) -> str:
    return "children" if name in NEEDED else measures.get(name).units


class Statement(_Model):
    """A figure the documents give that is recorded but not compared, and why."""

    id: _Key
    what: _Text
    at: datetime.date | None = None
    quotes: tuple[Quote, ...] = Field(min_length=1)
    why_not_compared: _Text


class Published(_Model):
    """A council's published figures (one figure file)."""

    area: Annotated[str, Field(pattern=r"^E\d{8}$")] = Field(description="ONS code.")
    council: _Text
    sources: dict[_Key, Source] = Field(min_length=1)
    figures: tuple[Figure, ...] = ()
    statements: tuple[Statement, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> Published:
        seen: set[str] = set()
        for item in (*self.figures, *self.statements):
            if item.id in seen:
                raise ValueError(f"id {item.id!r} is given twice")
            seen.add(item.id)
            for quote in item.quotes:
                if quote.source not in self.sources:
                    raise ValueError(
                        f"{item.id}: source {quote.source!r} is not among the sources "
                        f"({', '.join(self.sources)})"
                    )
        return self

    def source_of(self, figure: Figure) -> list[Source]:
        """The sources a figure quotes, in order, each once."""
        keys = dict.fromkeys(q.source for q in figure.quotes)
        return [self.sources[k] for k in keys]


def published_dir() -> Path:
    """Folder of the bundled figure files (``placeplan/data/published``)."""
    return Path(__file__).resolve().parent / "data" / "published"


def bundled_areas() -> list[str]:
    """ONS codes of the councils whose published figures ship with placeplan."""
    return sorted(p.stem for p in published_dir().glob("E*.yaml"))


def load_published(path: str | Path) -> Published:
    """Read and validate a figure file.

    Raises
    ------
    ScenarioError
        (an :class:`~placeplan.errors.InputError`) naming the file, line and field of
        each problem: unknown keys, bad dates, a relation that does not fit the kind,
        a measure that does not fit the kind or units, an unknown source.
    """
    from placeplan.scenario_files import _load_yaml, _read_text

    path = Path(path)
    source = str(path)
    text = _read_text(path)
    try:
        data, lines = _load_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError.single(
            source, f"invalid YAML: {exc.problem or 'malformed'}", line
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError.single(source, f"invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError.single(source, "expected a mapping of keys at the top level", 1)
    try:
        return Published.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError.from_validation(
            exc, source=source, lines=lines, model=Published, data=data
        ) from None


@cache
def _bundled(code: str) -> Published:
    return load_published(published_dir() / f"{code}.yaml")


def published(area: str) -> Published | None:
    """The bundled published figures of a council, or None if none ship with placeplan.

    Parameters
    ----------
    area : str
        ONS code, DfE LA number or name (as :func:`placeplan.sen2.load` takes it).

    Raises
    ------
    InputError
        If no SEN2 area matches ``area``.
    """
    code = _area_code(area)
    if code not in bundled_areas():
        return None
    return _bundled(code)


def _area_code(area: str) -> str:
    from placeplan import sen2

    if area in bundled_areas():
        return area
    try:
        return sen2._resolve(area, sen2.councils())
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
