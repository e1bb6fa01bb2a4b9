"""What went wrong with a SQLite state file, as one sentence: what, which file, what to do.

SQLite reports a fault by its result code ("database is locked", "disk I/O error"); the person
at the MCP client needs to know which file it is and what to do about it. A few questions to
the file system tell a read-only file system or an unwritable file from other I/O errors.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .base import StoreError, StoreLockedError

if TYPE_CHECKING:
    # Imported where an error is read, like the store itself imports it when opened.
    import sqlite3

__all__ = ["StoreLockedError", "is_busy", "locked", "store_error"]

ANOTHER_FILE = "use another --state file"


def locked(path: Path) -> StoreLockedError:
    """The one sentence for a file another process keeps locked."""
    return StoreLockedError(
        f"another process holds the state file {path} locked; stop it or {ANOTHER_FILE}"
    )


def is_busy(exc: sqlite3.Error) -> bool:
    """True when SQLite gave up waiting for a lock another connection holds."""
    import sqlite3

    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # pragma: no cover - every error SQLite raises itself carries a code
        return "locked" in str(exc)
    return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def store_error(path: Path, exc: sqlite3.Error | OSError) -> StoreError:
    """`exc`, met while using the state file at `path`, as a `StoreError` with its sentence."""
    import sqlite3

    if isinstance(exc, OSError):
        return StoreError(_os_sentence(path, exc))
    if is_busy(exc):
        return locked(path)
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    detail = str(exc)
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StoreError(
            f"the state file {path} is damaged ({detail}); restore it from a backup, or move "
            f"it aside (a new one is then started, without its conversations), or {ANOTHER_FILE}"
        )
    if code == sqlite3.SQLITE_FULL:
        return StoreError(_full(path))
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN):
        unwritable = _unwritable(path)
        if unwritable:
            return StoreError(unwritable)
        return StoreError(
            f"the state file {path} cannot be read or written ({detail}); check the disk it is "
            f"on, or {ANOTHER_FILE}"
        )
    return StoreError(
        f"the state file {path} cannot be used ({detail}); move it aside, or {ANOTHER_FILE}"
    )


def _os_sentence(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return _full(path)
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return _unwritable(path) or _cannot_write(path, exc.strerror or str(exc))
    return (
        f"the state file {path} cannot be opened ({exc.strerror or exc}); check it and its "
        f"directory, or {ANOTHER_FILE}"
    )


def _full(path: Path) -> str:
    return f"the disk holding the state file {path} is full; free some space, or {ANOTHER_FILE}"


def _cannot_write(path: Path, why: str) -> str:
    return (
        f"the state file {path} cannot be written ({why}); make it and its directory "
        f"writable, or {ANOTHER_FILE}"
    )


def _unwritable(path: Path) -> str:
    """The sentence when the file system or a file of the store refuses writes, else ''."""
    try:
        read_only = bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        return (
            f"the state file {path} is on a read-only file system; mount it read-write, or "
            f"{ANOTHER_FILE}"
        )
    # The file, its write-ahead log and shared memory, and the directory they are made in.
    # os.access also says no for an immutable file, where file permissions do not stop root.
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), path.parent):
        if part.exists() and not os.access(part, os.W_OK):
            return _cannot_write(path, f"{part} is read-only")
    return ""
