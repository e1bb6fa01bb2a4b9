"""What only the SQLite backend promises: persistence, sharing a file, its schema."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from gemini_interactions_mcp.state.base import CorruptRecordError, StoreError, mutate
from gemini_interactions_mcp.state.sqlite import SCHEMA_VERSION, SqliteStore, default_state_path
from gemini_interactions_mcp.state.sqlite_errors import StoreLockedError

from .helpers import V1_FILE, V1_IDS, check_first_schema_records, make_record

pytestmark = pytest.mark.anyio


def user_version(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


async def test_reopening_the_file_keeps_every_record(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    first = SqliteStore(path)
    await first.open()
    records = [make_record(f"c_{i}", at=float(i), interaction_ids=[str(i)]) for i in range(3)]
    for record in records:
        await first.insert(record)
    updated = await first.update(make_record("c_0", at=0.0, turns=7), expected_version=0)
    await first.close()

    second = SqliteStore(path)
    await second.open()
    try:
        assert await second.get("alice", "c_0") == updated
        assert await second.list("alice") == [records[2], records[1], updated]
    finally:
        await second.close()


async def test_two_stores_on_one_file_respect_compare_and_set(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    left, right = SqliteStore(path), SqliteStore(path)
    await left.open()
    await right.open()
    try:
        await left.insert(make_record("c_1"))
        assert await right.update(make_record("c_1", title="right"), expected_version=0)
        assert await left.update(make_record("c_1", title="left"), expected_version=0) is None
        stored = await left.get("alice", "c_1")
        assert stored is not None and stored.title == "right"
    finally:
        await left.close()
        await right.close()


async def test_mutates_through_two_stores_on_one_file_lose_no_increment(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    stores = [SqliteStore(path), SqliteStore(path)]
    for s in stores:
        await s.open()

    def increment(record):
        record.chain.turns += 1
        return record

    async def bump(store: SqliteStore) -> None:
        await mutate(store, "alice", "c_1", increment, attempts=1000)

    try:
        await stores[0].insert(make_record("c_1"))
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for i in range(30):
                    tg.start_soon(bump, stores[i % 2])
        stored = await stores[1].get("alice", "c_1")
        assert stored is not None and stored.chain.turns == 30
    finally:
        for s in stores:
            await s.close()


async def test_schema_version_is_recorded_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.schema_version() == SCHEMA_VERSION
    finally:
        await store.close()
    assert user_version(path) == SCHEMA_VERSION >= 1


async def test_a_file_from_a_newer_release_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE future (x)")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    store = SqliteStore(path)
    with pytest.raises(StoreError, match=r"newer .*; upgrade, or use another --state file$"):
        await store.open()
    await store.close()
    assert path.read_bytes() == before  # not even switched to WAL


async def test_a_lock_held_elsewhere_is_waited_for_once_not_once_per_statement(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    # A clock that stands still: the lock found "just now" stays just now, whatever the speed.
    store = SqliteStore(path, clock=lambda: 0.0)
    await store.open()
    await store.insert(make_record("c_kept"))
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    refused: list[str] = []

    async def insert(i: int) -> None:
        with pytest.raises(StoreLockedError) as caught:
            await store.insert(make_record(f"c_{i}"))
        refused.append(str(caught.value))

    try:
        other.execute("BEGIN EXCLUSIVE")
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for i in range(5):
                    tg.start_soon(insert, i)
        # Reads do not need the write lock, and are not refused for it.
        assert [r.id for r in await store.list("alice")] == ["c_kept"]
        other.execute("ROLLBACK")
        await store.insert(make_record("c_after"))
        # That write went through, so the next statement may wait for a lock again.
        assert store._wait(arrived=0.0) == store._busy_timeout
    finally:
        other.close()
        await store.close()
    sentence = f"another process holds the state file {path} locked; stop it or use another"
    assert refused == [f"{sentence} --state file"] * 5
    assert (store.lock_timeouts, store.lock_refusals) == (1, 4)


async def test_a_statement_waits_what_is_left_of_one_busy_timeout(tmp_path: Path) -> None:
    now = [100.0]
    store = SqliteStore(tmp_path / "state.sqlite3", busy_timeout=2.0, clock=lambda: now[0])
    assert store._wait(arrived=100.0) == 2.0
    assert store._wait(arrived=99.5) == 1.5  # half a second queued behind other statements
    assert store._wait(arrived=90.0) == 0.0  # queued past it: one try, no wait
    store._locked_at = 99.0  # found locked a second ago: answer at once
    assert store._wait(arrived=100.0) == 0.0
    now[0] = 101.0  # a busy timeout later, a statement waits again
    assert store._wait(arrived=101.0) == 2.0


async def test_a_locked_file_opens_when_its_schema_is_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    first = SqliteStore(path)
    await first.open()
    await first.close()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        store = SqliteStore(path)
        await store.open()
        try:
            assert await store.list("alice") == []
        finally:
            await store.close()
    finally:
        other.close()


async def test_only_the_default_path_gets_its_directories_created(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a" / "b" / "state.sqlite3", create_parent=True)
    await store.open()
    await store.open()  # a second open is a no-op
    await store.close()
    assert (tmp_path / "a" / "b" / "state.sqlite3").is_file()
    named = SqliteStore(tmp_path / "c" / "state.sqlite3")
    with pytest.raises(StoreError, match=r"does not exist; create .* or choose another path"):
        await named.open()
    assert not (tmp_path / "c").exists()


async def test_a_directory_is_not_a_state_file(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    with pytest.raises(StoreError, match="is a directory; give a file path instead"):
        await store.open()


async def test_a_file_sqlite_cannot_open_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is not a database, only bytes" * 100)
    store = SqliteStore(path)
    with pytest.raises(StoreError, match=r"state\.sqlite3"):
        await store.open()


async def test_database_errors_become_store_errors(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = SqliteStore(path)
    await store.open()
    try:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("DROP TABLE records")
        with pytest.raises(StoreError, match="no such table"):
            await store.get("alice", "c_1")
    finally:
        await store.close()


async def test_a_file_of_the_first_schema_is_upgraded_with_every_record(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    shutil.copyfile(V1_FILE, path)
    assert user_version(path) == 1
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.schema_version() == SCHEMA_VERSION
        records = {r.id: r for r in await store.list("local", limit=50)}
        check_first_schema_records(records)
        # The upgraded records are ordinary records now: they can change and be forgotten.
        chat = records[V1_IDS["chat"]]
        assert await mutate(store, "local", chat.id, lambda r: r) is not None
        assert await store.delete("local", V1_IDS["calls"]) is True
    finally:
        await store.close()
    reopened = SqliteStore(path)
    await reopened.open()
    try:
        assert len(await reopened.list("local", limit=50)) == len(records) - 1
    finally:
        await reopened.close()


async def test_a_record_that_cannot_be_upgraded_is_kept_unreadable_and_forgettable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    shutil.copyfile(V1_FILE, path)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("UPDATE conversations SET data = '[1]' WHERE id = ?", (V1_IDS["chat"],))
        conn.commit()
    store = SqliteStore(path)
    await store.open()
    try:
        listing = await store.list("local", limit=50)
        assert listing.unreadable == [V1_IDS["chat"]]
        assert len(listing) == len(V1_IDS) - 1
        with pytest.raises(CorruptRecordError, match="forget it with"):
            await store.get("local", V1_IDS["chat"])
        assert await store.delete("local", V1_IDS["chat"]) is True
        assert (await store.list("local", limit=50)).unreadable == []
    finally:
        await store.close()


def test_importing_the_state_package_imports_no_backend_library() -> None:
    code = (
        "import sys, gemini_interactions_mcp.state; "
        "sys.exit('sqlite3' in sys.modules or 'redis' in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {}, "/home/u/.local/share"),
        ("linux", {"XDG_DATA_HOME": "/xdg"}, "/xdg"),
        ("linux", {"XDG_DATA_HOME": "relative/ignored"}, "/home/u/.local/share"),
        ("darwin", {}, "/home/u/Library/Application Support"),
        ("win32", {"LOCALAPPDATA": "/appdata"}, "/appdata"),
        ("win32", {}, "/home/u/AppData/Local"),
    ],
)
def test_default_state_path_is_in_the_user_data_directory(
    platform: str, environ: dict[str, str], expected: str
) -> None:
    path = default_state_path(platform=platform, environ=environ, home=Path("/home/u"))
    assert path == Path(expected) / "gemini-interactions-mcp" / "state.sqlite3"
