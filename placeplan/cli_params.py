"""Checks of command-line input: parameter types for paths and numbers, and error mapping.

The command line's contract is exit 0 on success, exit 2 with a message naming
the input on bad input, and never a traceback. Parameter types here refuse bad
values before anything runs (click reports them with exit 2); the context
managers turn failures of writing a user's output, or of reading a user's data
folder, into :class:`~placeplan.errors.InputError` (exit 2 in
:func:`placeplan.cli.main`).
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from placeplan.errors import InputError

__all__ = [
    "Fraction",
    "InFile",
    "OutPath",
    "Seconds",
    "check_output",
    "output_problem",
    "reading_sen2",
    "writing",
]

Param = click.Parameter | None
Ctx = click.Context | None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _nearest_existing(path: Path) -> Path:
    here = path.absolute()
    while not here.exists() and here != here.parent:
        here = here.parent
    return here


def _probe(folder: Path) -> None:
    """Create and remove a file in ``folder``: OSError if nothing can be written there."""
    probe = folder / f".placeplan-probe.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    probe.unlink()


_MAX_NAME = 200
"""Longest file or folder name written [bytes]: temporary names add about 40 to it."""


def output_problem(value: str | Path, folder: bool = False) -> str | None:
    """Why ``value`` cannot be written as a file (or a folder), or None if it can be tried.

    Refuses an empty path (which would write into the current folder), ``.``,
    ``..`` and ``/``, names too long for their temporary names, a file where a
    folder is wanted and the reverse, a parent that is a file, and a parent in
    which nothing can be created.
    """
    value = str(value)
    if not value.strip():
        return "an empty path; give a file or folder name"
    if "\0" in value:
        return f"{value!r}: a path cannot hold a NUL character"
    path = Path(value)
    if path.name in {"", ".", ".."}:
        return f"{value}: give a new name, not {path.name or value!r}"
    if len(os.fsencode(path.name)) > _MAX_NAME:
        return f"cannot write {value}: name longer than {_MAX_NAME} bytes"
    try:
        if path.exists():
            if folder and not path.is_dir():
                return f"cannot write {value}: exists and is not a folder"
            if not folder and path.is_dir():
                return f"cannot write {value}: is a folder"
        parent = _nearest_existing(path.parent)
        if not parent.is_dir():
            return f"cannot write {value}: {parent} is not a folder"
        _probe(parent)
    except OSError as exc:
        return f"cannot write {value}: {_reason(exc)}"
    return None


def check_output(path: Path, folder: bool = False) -> Path:
    """``path`` if it can be written, else InputError (for default paths, not options)."""
    problem = output_problem(path, folder)
    if problem is not None:
        raise InputError(problem)
    return path


class OutPath(click.ParamType):
    """A path to write: a file (``folder=False``) or a folder; checked before anything runs.

    See :func:`output_problem` for what is refused.
    """

    name = "path"

    def __init__(self, folder: bool = False) -> None:
        self.folder = folder

    def convert(self, value: Any, param: Param, ctx: Ctx) -> Path:
        """The path, or a usage error (exit 2) saying why it cannot be written."""
        if isinstance(value, Path):
            value = str(value)
        if not isinstance(value, str):
            self.fail(f"{value!r} is not a path", param, ctx)
        problem = output_problem(value, self.folder)
        if problem is not None:
            self.fail(problem, param, ctx)
        return Path(value)


class InFile(click.ParamType):
    """An existing regular file to read (not a folder, FIFO or device, which may never end)."""

    name = "file"

    def convert(self, value: Any, param: Param, ctx: Ctx) -> Path:
        """The path, or a usage error (exit 2) saying why it cannot be read."""
        if isinstance(value, Path):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.fail("an empty path; give a file", param, ctx)
        path = Path(value)
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            self.fail(f"{value}: {_reason(exc)}", param, ctx)
        if stat.S_ISDIR(mode):
            self.fail(f"{value}: a folder, not a file", param, ctx)
        if not stat.S_ISREG(mode):
            self.fail(f"{value}: not a regular file (a FIFO, socket or device?)", param, ctx)
        return path


class Fraction(click.ParamType):
    """A finite fraction in (0, 1] (NaN and infinities refused)."""

    name = "fraction"

    def convert(self, value: Any, param: Param, ctx: Ctx) -> float:
        """The fraction, or a usage error (exit 2)."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or not 0 < number <= 1:
            self.fail(f"{value} is not a fraction in (0, 1], e.g. 0.05 for ±5%", param, ctx)
        return number


class Seconds(click.ParamType):
    """A finite, positive duration up to ``most`` [s]."""

    name = "seconds"

    def __init__(self, most: float = 3600.0) -> None:
        self.most = most

    def convert(self, value: Any, param: Param, ctx: Ctx) -> float:
        """The duration [s], or a usage error (exit 2)."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(number) or not 0 < number <= self.most:
            self.fail(f"{value} is not between 0 and {self.most:g} seconds", param, ctx)
        return number


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Report a failure to write the user's output ``path`` as bad input (exit 2)."""
    try:
        yield
    except OSError as exc:
        where = exc.filename if exc.filename and str(path) not in str(exc.filename) else None
        detail = f" ({where})" if where else ""
        raise InputError(f"cannot write {path}: {_reason(exc)}{detail}") from None


@contextlib.contextmanager
def reading_sen2(sen2_dir: Path | None) -> Iterator[None]:
    """Report a ``--sen2-dir`` that holds no (readable) SEN2 release as bad input (exit 2).

    Given ``--sen2-dir``, first print to stderr in a line or two what the folder
    changes against the shipped release (:meth:`placeplan.sen2_diff.ReleaseDiff.summary`),
    so that nobody uses a newer release unknowingly. Without it the shipped extract
    is read, and a failure there is a fault of the installation, left to surface as
    such.
    """
    from placeplan.sen2 import SEN2FormatError
    from placeplan.sen2_diff import diff

    if sen2_dir is None:
        yield
        return
    try:
        click.echo(diff(sen2_dir).summary(), err=True)
        yield
    except (OSError, SEN2FormatError) as exc:
        text = str(exc) if not isinstance(exc, OSError) or not exc.strerror else _reason(exc)
        if isinstance(exc, OSError) and exc.filename:
            text = f"{exc.filename}: {text}"
        raise InputError(f"--sen2-dir {sen2_dir}: {text}") from None
