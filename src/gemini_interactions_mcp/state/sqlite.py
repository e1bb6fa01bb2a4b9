"""SQLite store: the embedded default, one file in the user's data directory.

Several processes may share the file: WAL lets readers run beside the one writer,
`busy_timeout` makes a writer wait for the lock instead of failing, and every update
is a single compare-and-set statement, so no turn is lost or forked across processes.

A lock another process keeps is waited for once, not once per call: a statement waits at most
what is left of one busy timeout since its call arrived (time queued behind this store's other
statements included), and while the file was found locked moments ago (and no write has gone
through since) the next statements only try once and answer at once. Every failure is one
sentence (`sqlite_errors`).
"""

from __future__ import annotations

import builtins
import contextlib
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
import pydantic_core

from .base import SERVER, DuplicateHandleError, Listing, StoreError
from .codec import dump_record, read_listing, read_record
from .legacy import upgrade_v1
from .records import ACTIVE_RESEARCH_STATUSES, ConversationRecord, Kind
from .sqlite_errors import ANOTHER_FILE, is_busy, store_error

if TYPE_CHECKING:
    # Only for annotations: sqlite3 is imported when a store is opened, not on import.
    import sqlite3

__all__ = ["APP_DIR_NAME", "SCHEMA_VERSION", "SqliteStore", "default_state_path"]

APP_DIR_NAME = "gemini-interactions-mcp"
# Seconds a statement waits for another process's lock. Writes hold it for milliseconds; a
# lock held longer is another program's, and the caller is better told than kept waiting.
DEFAULT_BUSY_TIMEOUT = 2.0

Migration = tuple["str | Callable[[sqlite3.Connection], None]", ...]


_V1_COLUMNS = (
    "id, owner, kind, title, model, last_interaction_id, turns, status, settings, data, "
    "created_at, updated_at, version"
)


def _records_from_v1(conn: sqlite3.Connection) -> None:
    """Copy every record of the first schema into today's table, typed."""
    rows = conn.execute(f"SELECT {_V1_COLUMNS} FROM conversations").fetchall()
    names = _V1_COLUMNS.split(", ")
    for row in rows:
        raw = dict(zip(names, row, strict=True))
        try:
            raw["settings"] = pydantic_core.from_json(raw["settings"])
            raw["data"] = pydantic_core.from_json(raw["data"])
            conn.execute(_INSERT, _to_row(upgrade_v1(raw)))
        except ValueError:
            # Kept as it was, under today's columns: listings leave it out and name it, and
            # it can still be forgotten. Nothing stored is lost.
            body = pydantic_core.to_json({"unreadable_first_schema": raw}).decode()
            conn.execute(
                _INSERT,
                (
                    raw["id"],
                    raw["owner"],
                    raw["kind"],
                    raw["status"],
                    raw["created_at"],
                    raw["updated_at"],
                    raw["version"],
                    body,
                ),
            )


# Each entry upgrades the schema by one version; PRAGMA user_version counts the
# entries applied. Append, never edit: files in the field were built by the old ones.
MIGRATIONS: tuple[Migration, ...] = (
    (
        """
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            model TEXT NOT NULL,
            last_interaction_id TEXT,
            turns INTEGER NOT NULL,
            status TEXT NOT NULL,
            settings TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            version INTEGER NOT NULL
        )
        """,
        "CREATE INDEX conversations_owner_updated ON conversations (owner, updated_at)",
        "CREATE INDEX conversations_kind_status ON conversations (kind, status)",
        "CREATE INDEX conversations_updated ON conversations (updated_at)",
    ),
    # Typed records: the record is one JSON body; the columns beside it are what queries need.
    (
        """
        CREATE TABLE records (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            version INTEGER NOT NULL,
            body TEXT NOT NULL
        )
        """,
        _records_from_v1,
        "DROP TABLE conversations",
        "CREATE INDEX records_owner_updated ON records (owner, updated_at)",
        "CREATE INDEX records_kind_status ON records (kind, status)",
        "CREATE INDEX records_updated ON records (updated_at)",
    ),
    # Estimated spend per owner (and "*" for the whole server) per day and month.
    (
        """
        CREATE TABLE spend (
            owner TEXT NOT NULL,
            period TEXT NOT NULL,
            usd REAL NOT NULL,
            PRIMARY KEY (owner, period)
        )
        """,
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_COLUMNS = "id, owner, kind, status, created_at, updated_at, version, body"
_INSERT = f"INSERT INTO records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_SELECT = "SELECT id, body FROM records"
_RECENT_FIRST = "ORDER BY updated_at DESC, id DESC"

T = TypeVar("T")


def default_state_path(
    *,
    platform: str = sys.platform,
    environ: Mapping[str, str] = os.environ,
    home: Path | None = None,
) -> Path:
    """Where the state file lives by default: the platform's per-user data directory."""
    home = home if home is not None else Path.home()
    if platform == "win32":
        local = environ.get("LOCALAPPDATA")
        base = Path(local) if local else home / "AppData" / "Local"
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = environ.get("XDG_DATA_HOME")
        # The XDG spec says a relative value is invalid and must be ignored.
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"
    return base / APP_DIR_NAME / "state.sqlite3"


def _to_row(record: ConversationRecord) -> tuple[Any, ...]:
    return (
        record.id,
        record.owner,
        record.kind,
        record.status,
        record.created_at,
        record.updated_at,
        record.version,
        dump_record(record),
    )


def _usable(path: Path, create_parent: bool) -> None:
    """Refuse, in one sentence, a path that cannot hold the state file."""
    if path.is_dir():
        raise StoreError(f"the state file {path} is a directory; give a file path instead")
    parent = path.parent
    if create_parent:
        # Conversations are private: a directory created here is readable by its user only.
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    elif not parent.is_dir():
        raise StoreError(
            f"the directory of the state file {path} does not exist; create {parent} or "
            "choose another path"
        )


def _connect(path: Path, wait: float, create_parent: bool) -> sqlite3.Connection:
    import sqlite3

    _usable(path, create_parent)
    if not path.exists():
        # Conversations are private: the file is its user's alone (SQLite gives its -wal and
        # -shm files the same permissions).
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    # isolation_level=None: autocommit, so each statement is its own transaction and
    # migrations can say BEGIN IMMEDIATE themselves. check_same_thread=False: calls
    # arrive on whichever worker thread anyio picks, serialised by the store's lock.
    conn = sqlite3.connect(path, timeout=wait, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {_ms(wait)}")
        # A newer release's file is refused before anything in it changes (WAL included).
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        _check_version(version, path)
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable against process crashes under WAL; only a power cut may
        # lose the last transactions, which is an acceptable price for fast commits.
        conn.execute("PRAGMA synchronous = NORMAL")
        if version != SCHEMA_VERSION:
            # An up-to-date file needs no write lock to open: a server starts (and reads)
            # even while another process holds the file locked.
            _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _check_version(version: int, path: Path) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the state file {path} was written by a newer gemini-interactions-mcp (schema "
            f"{version}, this one knows {SCHEMA_VERSION}); upgrade, or {ANOTHER_FILE}"
        )


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    # BEGIN IMMEDIATE takes the write lock before reading the version again, so two
    # processes starting together cannot both apply the same migration.
    conn.execute("BEGIN IMMEDIATE")
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        _check_version(version, path)
        for number in range(version, SCHEMA_VERSION):
            for step in MIGRATIONS[number]:
                if isinstance(step, str):
                    conn.execute(step)
                else:
                    step(conn)
        if version != SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class SqliteStore:
    """Records in one SQLite file; safe to share between processes."""

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        create_parent: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`create_parent`: make the file's directory if missing (only for the default path:
        a directory the user named must exist). `busy_timeout`: the longest a call waits for
        another process's lock; `clock` measures it (tests)."""
        self.path = Path(path).expanduser()
        self._busy_timeout = busy_timeout
        self._create_parent = create_parent
        self._clock = clock
        self._conn: sqlite3.Connection | None = None
        self._conn_wait_ms = 0
        self._lock = anyio.Lock()
        # When a statement last found the file locked by another process (by `clock`).
        self._locked_at: float | None = None
        #: Statements that waited for another process's lock until they gave up, and those
        #: refused at once because the file had just been found locked.
        self.lock_timeouts = 0
        self.lock_refusals = 0

    async def open(self) -> None:
        """Open (creating if needed) the file and bring its schema up to date."""
        import sqlite3

        arrived = self._clock()
        async with self._lock:
            if self._conn is not None:
                return
            wait = self._wait(arrived)
            try:
                self._conn = await anyio.to_thread.run_sync(
                    _connect, self.path, wait, self._create_parent
                )
            except (sqlite3.Error, OSError) as exc:
                if isinstance(exc, sqlite3.Error):
                    self._note(exc, wait)
                raise store_error(self.path, exc) from exc
            self._conn_wait_ms = _ms(wait)

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                await anyio.to_thread.run_sync(conn.close)

    async def schema_version(self) -> int:
        """The schema version recorded in the file."""
        row = await self._run(lambda c: c.execute("PRAGMA user_version").fetchone())
        return int(row[0])

    def _wait(self, arrived: float) -> float:
        """How long the next statement may wait for another process's lock: not at all while
        the file was found locked moments ago (waiting again would only stack the waits),
        else what is left of one busy timeout since its call `arrived`."""
        now = self._clock()
        if self._locked_at is not None and now - self._locked_at < self._busy_timeout:
            return 0.0
        return max(0.0, self._busy_timeout - (now - arrived))

    def _note(self, exc: sqlite3.Error, waited: float) -> None:
        """Remember a lock another process holds, so that the next statements do not queue."""
        if not is_busy(exc):
            return
        self._locked_at = self._clock()
        if waited > 0:
            self.lock_timeouts += 1
        else:
            self.lock_refusals += 1

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        import sqlite3

        arrived = self._clock()
        # One connection, one statement at a time: the lock serialises callers, and
        # to_thread (not abandoned on cancel) keeps the lock until the thread is done.
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreError(f"the state store {self.path} is not open")
            wait = self._wait(arrived)

            def bounded(conn: sqlite3.Connection) -> T:
                if _ms(wait) != self._conn_wait_ms:
                    conn.execute(f"PRAGMA busy_timeout = {_ms(wait)}")
                    self._conn_wait_ms = _ms(wait)
                changes = conn.total_changes
                result = work(conn)
                if conn.total_changes != changes:
                    self._locked_at = None  # a write went through: nobody holds the lock now
                return result

            try:
                return await anyio.to_thread.run_sync(bounded, conn)
            except sqlite3.IntegrityError:
                raise
            except sqlite3.Error as exc:
                self._note(exc, wait)
                raise store_error(self.path, exc) from exc

    async def insert(self, record: ConversationRecord) -> None:
        """Store a new record; `DuplicateHandleError` if its id exists."""
        import sqlite3

        row = _to_row(record)
        try:
            await self._run(lambda c: c.execute(_INSERT, row))
        except sqlite3.IntegrityError as exc:
            raise DuplicateHandleError(
                f"a conversation with id {record.id} already exists"
            ) from exc

    async def get(self, owner: str, id: str) -> ConversationRecord | None:
        """The owner's record, or None."""
        row = await self._run(
            lambda c: c.execute(f"{_SELECT} WHERE owner = ? AND id = ?", (owner, id)).fetchone()
        )
        return read_record(row[0], row[1]) if row is not None else None

    async def update(
        self, record: ConversationRecord, *, expected_version: int
    ) -> ConversationRecord | None:
        """Compare-and-set on (owner, id, version)."""
        stored = record.model_copy(update={"version": expected_version + 1}, deep=True)
        row = _to_row(stored)
        # row[2:] is every column after id and owner.
        params = (*row[2:], record.owner, record.id, expected_version)
        changed = await self._run(
            lambda c: (
                c.execute(
                    "UPDATE records SET kind = ?, status = ?, created_at = ?, updated_at = ?, "
                    "version = ?, body = ? WHERE owner = ? AND id = ? AND version = ?",
                    params,
                ).rowcount
            )
        )
        return stored if changed == 1 else None

    async def delete(self, owner: str, id: str) -> bool:
        """Forget the owner's record."""
        deleted = await self._run(
            lambda c: (
                c.execute("DELETE FROM records WHERE owner = ? AND id = ?", (owner, id)).rowcount
            )
        )
        return deleted > 0

    async def list(self, owner: str, *, limit: int = 20, kind: Kind | None = None) -> Listing:
        """The owner's records, most recently updated first."""
        if kind is None:
            sql = f"{_SELECT} WHERE owner = ? {_RECENT_FIRST} LIMIT ?"
            params: tuple[Any, ...] = (owner, max(limit, 0))
        else:
            sql = f"{_SELECT} WHERE owner = ? AND kind = ? {_RECENT_FIRST} LIMIT ?"
            params = (owner, kind, max(limit, 0))
        rows = await self._run(lambda c: c.execute(sql, params).fetchall())
        return read_listing(rows)

    async def latest(self, owner: str, *, kind: Kind | None = "chat") -> ConversationRecord | None:
        """The owner's most recently updated record of `kind`."""
        found = await self.list(owner, limit=1, kind=kind)
        return found[0] if found else None

    async def active_research(self) -> builtins.list[ConversationRecord]:
        """Queued or running research of every owner, oldest first."""
        statuses = sorted(ACTIVE_RESEARCH_STATUSES)
        marks = ", ".join("?" * len(statuses))
        sql = f"{_SELECT} WHERE kind = 'research' AND status IN ({marks}) ORDER BY created_at, id"
        rows = await self._run(lambda c: c.execute(sql, statuses).fetchall())
        return read_listing(rows)

    async def purge(self, *, older_than: float) -> int:
        """Delete records last updated before `older_than`."""
        return await self._run(
            lambda c: c.execute("DELETE FROM records WHERE updated_at < ?", (older_than,)).rowcount
        )

    async def add_spend(self, owner: str, usd: float, *, periods: Sequence[str]) -> None:
        """Add to the owner's and the server's totals, in one transaction."""
        rows = [(who, period, usd) for who in {owner, SERVER} for period in periods]

        def add(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT INTO spend (owner, period, usd) VALUES (?, ?, ?) "
                    "ON CONFLICT (owner, period) DO UPDATE SET usd = usd + excluded.usd",
                    rows,
                )

        await self._run(add)

    async def spend(self, owner: str, *, periods: Sequence[str]) -> builtins.list[float]:
        """The owner's totals of `periods`."""
        marks = ", ".join("?" * len(periods))
        sql = f"SELECT period, usd FROM spend WHERE owner = ? AND period IN ({marks})"
        rows = await self._run(lambda c: c.execute(sql, (owner, *periods)).fetchall())
        found = dict(rows)
        return [float(found.get(period, 0.0)) for period in periods]
