"""Each way a SQLite state file fails, as the sentence the person reads: what, which file, what
to do."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from gemini_interactions_mcp.state.sqlite_errors import StoreLockedError, store_error

ELSEWHERE = "use another --state file"


def sqlite_error(code: int, message: str) -> sqlite3.Error:
    exc = sqlite3.OperationalError(message)
    exc.sqlite_errorcode = code
    return exc


@pytest.mark.parametrize(
    ("exc", "sentence"),
    [
        (
            sqlite_error(sqlite3.SQLITE_BUSY, "database is locked"),
            "another process holds the state file {path} locked; stop it or " + ELSEWHERE,
        ),
        (
            sqlite_error(sqlite3.SQLITE_CORRUPT, "database disk image is malformed"),
            "the state file {path} is damaged (database disk image is malformed); restore it "
            "from a backup, or move it aside (a new one is then started, without its "
            "conversations), or " + ELSEWHERE,
        ),
        (
            sqlite_error(sqlite3.SQLITE_FULL, "database or disk is full"),
            "the disk holding the state file {path} is full; free some space, or " + ELSEWHERE,
        ),
        (
            sqlite_error(sqlite3.SQLITE_IOERR_WRITE, "disk I/O error"),
            "the state file {path} cannot be read or written (disk I/O error); check the disk "
            "it is on, or " + ELSEWHERE,
        ),
        (
            sqlite_error(sqlite3.SQLITE_ERROR, "no such table: records"),
            "the state file {path} cannot be used (no such table: records); move it aside, or "
            + ELSEWHERE,
        ),
        (
            OSError(errno.ENOSPC, "No space left on device"),
            "the disk holding the state file {path} is full; free some space, or " + ELSEWHERE,
        ),
        (
            OSError(errno.EACCES, "Permission denied"),
            "the state file {path} cannot be written (Permission denied); make it and its "
            "directory writable, or " + ELSEWHERE,
        ),
        (
            OSError(errno.ENAMETOOLONG, "File name too long"),
            "the state file {path} cannot be opened (File name too long); check it and its "
            "directory, or " + ELSEWHERE,
        ),
    ],
)
def test_each_failure_names_the_file_and_what_to_do(
    tmp_path: Path, exc: sqlite3.Error | OSError, sentence: str
) -> None:
    path = tmp_path / "state.sqlite3"
    assert str(store_error(path, exc)) == sentence.format(path=path)


def test_a_lock_is_its_own_kind_of_store_error(tmp_path: Path) -> None:
    locked = sqlite_error(sqlite3.SQLITE_LOCKED, "database table is locked")
    assert isinstance(store_error(tmp_path / "s", locked), StoreLockedError)
