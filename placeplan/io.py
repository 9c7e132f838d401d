"""Atomic writing: a killed run never leaves a half-written file, or a half-swapped folder.

Files are written to a temporary name beside the final one and renamed into place
(:func:`atomic_path`). A folder whose files must belong together (a run folder) is
written whole into a sibling staging folder and then swapped in
(:func:`atomic_folder`): on Linux by one atomic exchange of the two names
(``renameat2(RENAME_EXCHANGE)``), elsewhere by two renames a few microseconds apart.

Every temporary name carries the id of the process that made it, so that files
and folders left by a process that was killed can be told from those of a process
still writing: :func:`clean_stale` removes the former, and every write calls it on
the folder it writes into.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_folder", "atomic_path", "atomic_write_text", "clean_stale", "pid_alive"]

_STARTED = time.time()
"""When this process imported placeplan (about when it started) [s since the epoch]."""

_LEGACY_AGE = 3600.0
"""Age past which a temporary file without a process id is stale [s]."""

_TMP = re.compile(r"^\..+\.(?P<pid>\d+)\.[0-9a-f]{12}\.tmp$")
_LEGACY_TMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")
_FOLDER = re.compile(r"^\..+\.(?:staging|old)-(?P<pid>\d+)-[0-9a-f]{12}$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def pid_alive(pid: int) -> bool:
    """Whether a process of this id exists (on this machine, as this process sees it)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return True
    return True


def _token() -> str:
    return f"{os.getpid()}.{uuid.uuid4().hex[:12]}"


def _stale(entry: os.DirEntry) -> bool:
    """A temporary file or folder left by a dead process (or, unmarked, by an old run)."""
    try:
        mtime = entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return False
    match = _TMP.match(entry.name) or _FOLDER.match(entry.name)
    if match is not None:
        return mtime < _STARTED and not pid_alive(int(match.group("pid")))
    if _LEGACY_TMP.match(entry.name):  # written by placeplan before names carried a pid
        return mtime < min(_STARTED, time.time() - _LEGACY_AGE)
    return False


def clean_stale(folder: str | Path) -> list[Path]:
    """Remove temporary files and staging folders that dead processes left in ``folder``.

    A temporary name is stale when the process named in it is no longer alive and
    it is older than this process; temporary files of the old naming (no process
    id) when they are over an hour old. Anything else is left alone, and a name
    that cannot be removed is skipped.

    Returns
    -------
    list of pathlib.Path
        What was removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(".") or not _stale(entry):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def _check_name(path: Path) -> Path:
    if str(path) in {"", "."} or path.name in {"", ".", ".."}:
        raise IsADirectoryError(errno.EISDIR, "not a file or folder name", str(path))
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    On failure the temporary file is removed and ``path`` is left as it was.
    Stale temporary files of dead processes beside ``path`` are removed first.
    """
    path = _check_name(Path(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path.parent)
    tmp = path.parent / f".{path.name}.{_token()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write text (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing names atomically (Linux ``renameat2``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}:
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap_in(staging: Path, target: Path, token: str) -> None:
    """Put ``staging`` at ``target``, the folder there (if any) removed."""
    if not target.exists() and not target.is_symlink():
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous folder
        return
    old = target.parent / f".{target.name}.old-{token}"
    os.rename(target, old)
    os.rename(staging, target)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces the folder ``path`` whole.

    Write every file of the folder into the staging folder. When the block ends
    without an error, the staging folder takes the name ``path`` and the folder
    that had it (if any) is removed, so a reader finds either the old folder or
    the new one, never a mixture. On an error (or a kill) ``path`` is left as it
    was; a staging folder left by a killed process is removed by the next write
    into the same parent folder (:func:`clean_stale`).
    """
    target = _check_name(Path(path))
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "exists and is not a folder", str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target.parent)
    token = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    staging = target.parent / f".{target.name}.staging-{token}"
    staging.mkdir(mode=0o777)
    try:
        yield staging
        _swap_in(staging, target, token)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
