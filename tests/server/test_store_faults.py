"""A SQLite state file that cannot be used, through the tools and at start-up: each fault is
one sentence naming the file and what to do, never an internal error, and nothing is sent to
Gemini that the store could not record."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from mcp.types import CallToolResult

from gemini_interactions_mcp.emulator import Emulator
from gemini_interactions_mcp.state.sqlite import SCHEMA_VERSION, SqliteStore
from tests.reliability import fault

from .helpers import connect, error, ok
from .test_startup import serve_stdio

pytestmark = pytest.mark.anyio

CANNOT = "The state store cannot be used: "
ELSEWHERE = "use another --state file."


def posts(emulator: Emulator) -> int:
    return len([r for r in emulator.requests if r.method == "POST"])


async def stopped_at_start_up(state: Path) -> str:
    """The one line a stdio server started on `state` says before it stops (exit code 2)."""
    result = await anyio.to_thread.run_sync(serve_stdio, "--state", str(state))
    assert result.returncode == 2, result.stderr.decode()
    (line,) = result.stderr.decode().strip().splitlines()
    return line


def conversation_ids(listing: dict[str, Any]) -> set[str]:
    return {c["conversation_id"] for c in listing["conversations"]}


class LockHolder:
    """Another process with the state file's write lock: sqlite3 in `BEGIN EXCLUSIVE`."""

    CODE = (
        "import sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"  # holds the lock until its stdin is closed
        "conn.execute('ROLLBACK')\n"
    )

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.CODE, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    async def locked(self) -> None:
        assert self.proc.stdout is not None
        with anyio.fail_after(30):
            line = await anyio.to_thread.run_sync(self.proc.stdout.readline)
        assert line == "locked\n"

    def release(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False)


@contextmanager
def mounted(*args: str, where: Path) -> Iterator[Path]:
    """`mount ARGS where`, undone afterwards; skips the test where this process cannot mount."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a file system needs root and the mount command")
    where.mkdir(exist_ok=True)
    done = _run("mount", *args, str(where))
    if done.returncode != 0:
        pytest.skip(f"this container does not allow mount ({done.stderr.strip()})")
    try:
        yield where
    finally:
        if _run("umount", str(where)).returncode != 0:
            _run("umount", "-l", str(where))


@contextmanager
def read_only_view(source: Path, where: Path) -> Iterator[Path]:
    """`source` seen through a read-only bind mount at `where`."""
    with mounted("--bind", str(source), where=where):
        done = _run("mount", "-o", "remount,bind,ro", str(where))
        if done.returncode != 0:
            pytest.skip(f"this container cannot make a read-only bind mount ({done.stderr})")
        yield where


@contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """Files nobody may write, root included (`chattr +i`), while the context lasts."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    made: list[Path] = []
    try:
        for path in paths:
            done = _run("chattr", "+i", str(path))
            if done.returncode != 0:
                pytest.skip(f"cannot make {path.name} immutable here ({done.stderr.strip()})")
            made.append(path)
        yield
    finally:
        for path in made:
            _run("chattr", "-i", str(path))


def fill(directory: Path) -> Path:
    """Fill the file system of `directory` up to the last byte; returns the filler file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


@fault(
    "store",
    "another process holds the state file locked (a write transaction left open)",
    sees="calls that write wait once, at most 2 s, and do not queue behind each other: "
    '"another process holds the state file … locked; stop it or use another --state file"; '
    "a server started meanwhile opens the file, and listings still work",
    kept="every record, and nothing sent to Gemini; once the lock is gone calls work again",
)
async def test_a_locked_state_file_answers_each_call_within_one_wait(
    make_settings: Any, emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite3"
    settings = make_settings(state=str(path))
    async with connect(settings) as client:
        kept = ok(await client.call_tool("gemini_ask", {"prompt": "keep me"}))
    # A clock that stands still: the file found locked stays "just now", so what is counted
    # below does not depend on how fast this machine runs the calls.
    store = SqliteStore(path, clock=lambda: 0.0)
    holder = LockHolder(path)
    calls = 6
    results: list[CallToolResult | None] = [None] * calls
    try:
        await holder.locked()
        await store.open()  # an up-to-date file opens without the write lock
        async with connect(settings, store=store) as client:
            sent = posts(emulator)

            async def ask(i: int) -> None:
                results[i] = await client.call_tool("gemini_ask", {"prompt": f"call {i}"})

            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    for i in range(calls):
                        tg.start_soon(ask, i)
            during = ok(await client.call_tool("gemini_conversations", {}))
            unsent = posts(emulator) == sent
            holder.release()
            after = ok(await client.call_tool("gemini_ask", {"prompt": "after"}))
            listing = ok(await client.call_tool("gemini_conversations", {}))
    finally:
        holder.release()
        await store.close()
    sentence = f"{CANNOT}another process holds the state file {path} locked; stop it or {ELSEWHERE}"
    assert [error(result) for result in results if result is not None] == [sentence] * calls
    # One statement waited for the lock (at most one busy timeout); every other call was
    # answered at once instead of waiting its own turn behind it.
    assert (store.lock_timeouts, store.lock_refusals) == (1, calls - 1)
    assert unsent and conversation_ids(during) == {kept["conversation_id"]}
    assert conversation_ids(listing) == {kept["conversation_id"], after["conversation_id"]}


@pytest.mark.slow
@fault(
    "store",
    "the state file is not a database (garbage bytes), or is cut short while the server runs",
    sees="at start-up the server stops with one sentence: the state file … is damaged; restore "
    "it from a backup, move it aside or use another --state file; cut short later, every call "
    "answers that sentence",
    kept="the file as it is, for a backup or a look; nothing sent to Gemini",
)
async def test_a_damaged_state_file_is_named_with_what_to_do(
    make_settings: Any, emulator: Emulator, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database, only bytes " * 400)
    line = await stopped_at_start_up(garbage)
    assert line == (
        f"{CANNOT}the state file {garbage} is damaged (file is not a database); restore it "
        "from a backup, or move it aside (a new one is then started, without its "
        f"conversations), or {ELSEWHERE}"
    )
    assert garbage.read_bytes() == b"not a database, only bytes " * 400

    path = tmp_path / "state.sqlite3"
    async with connect(make_settings(state=str(path))) as client:
        ok(await client.call_tool("gemini_ask", {"prompt": "before"}))
        # Another program empties the log into the file, then the file loses its tables.
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        os.truncate(path, 4096 * 2)
        sent = posts(emulator)
        asked = error(await client.call_tool("gemini_ask", {"prompt": "after"}))
        listed = error(await client.call_tool("gemini_conversations", {}))
    assert asked == listed
    assert asked.startswith(f"{CANNOT}the state file {path} is damaged (")
    assert asked.endswith(
        f"restore it from a backup, or move it aside (a new one is then "
        f"started, without its conversations), or {ELSEWHERE}"
    )
    assert posts(emulator) == sent and path.stat().st_size == 4096 * 2


@pytest.mark.slow
@fault(
    "store",
    "a state file written by a newer release",
    sees="at start-up the server stops with: the state file … was written by a newer "
    "gemini-interactions-mcp (schema N, this one knows M); upgrade, or use another --state file",
    kept="the file, untouched",
)
async def test_a_state_file_of_a_newer_release_stops_the_server_with_its_sentence(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE future (x)")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    line = await stopped_at_start_up(path)
    assert line == (
        f"{CANNOT}the state file {path} was written by a newer gemini-interactions-mcp (schema "
        f"{SCHEMA_VERSION + 1}, this one knows {SCHEMA_VERSION}); upgrade, or {ELSEWHERE}"
    )
    assert path.read_bytes() == before


@pytest.mark.slow
@fault(
    "store",
    "a read-only file system at start-up, or a state file made unwritable (immutable) later",
    sees="at start-up the server stops: the state file … is on a read-only file system; mount "
    "it read-write, or use another --state file; later, calls that write say the file cannot "
    "be written and what to do; listings still work",
    kept="every record, and nothing sent to Gemini; once writable again calls work",
)
async def test_a_state_file_that_cannot_be_written_is_named_with_what_to_do(
    make_settings: Any, emulator: Emulator, tmp_path: Path
) -> None:
    source = tmp_path / "files"
    source.mkdir()
    path = source / "state.sqlite3"
    async with connect(make_settings(state=str(path))) as client:
        kept = ok(await client.call_tool("gemini_ask", {"prompt": "keep me"}))
    with read_only_view(source, tmp_path / "read-only") as view:
        line = await stopped_at_start_up(view / path.name)
    assert line == (
        f"{CANNOT}the state file {view / path.name} is on a read-only file system; mount it "
        f"read-write, or {ELSEWHERE}"
    )

    async with connect(make_settings(state=str(path))) as client:
        ok(await client.call_tool("gemini_conversations", {}))  # the file is open
        wal = Path(f"{path}-wal")
        with immutable(path, wal):
            sent = posts(emulator)
            asked = error(await client.call_tool("gemini_ask", {"prompt": "refused"}))
            during = ok(await client.call_tool("gemini_conversations", {}))
            unsent = posts(emulator) == sent
        after = ok(await client.call_tool("gemini_ask", {"prompt": "after"}))
        listing = ok(await client.call_tool("gemini_conversations", {}))
    assert asked == (
        f"{CANNOT}the state file {path} cannot be written ({path} is read-only); make it and "
        f"its directory writable, or {ELSEWHERE}"
    )
    assert unsent and conversation_ids(during) == {kept["conversation_id"]}
    assert conversation_ids(listing) == {kept["conversation_id"], after["conversation_id"]}


@pytest.mark.slow
@fault(
    "store",
    "the disk holding the state file is full",
    sees="calls that write say: the disk holding the state file … is full; free some space, or "
    "use another --state file; a new state file on a full disk stops the server at start-up "
    "with that sentence",
    kept="every record, and nothing sent to Gemini; once space is freed calls work again",
)
async def test_a_full_disk_is_named_with_what_to_do(
    make_settings: Any, emulator: Emulator, tmp_path: Path
) -> None:
    with mounted("-t", "tmpfs", "-o", "size=1m", "tmpfs", where=tmp_path / "small") as disk:
        path = disk / "state.sqlite3"
        async with connect(make_settings(state=str(path))) as client:
            kept = ok(await client.call_tool("gemini_ask", {"prompt": "keep me"}))
            filler = fill(disk)
            sent = posts(emulator)
            asked = error(await client.call_tool("gemini_ask", {"prompt": "no room"}))
            during = ok(await client.call_tool("gemini_conversations", {}))
            unsent = posts(emulator) == sent
            line = await stopped_at_start_up(disk / "new.sqlite3")
            filler.unlink()
            after = ok(await client.call_tool("gemini_ask", {"prompt": "after"}))
            listing = ok(await client.call_tool("gemini_conversations", {}))
    full = f"{CANNOT}the disk holding the state file {{}} is full; free some space, or {ELSEWHERE}"
    assert asked == full.format(path)
    assert line == full.format(disk / "new.sqlite3")
    assert unsent and conversation_ids(during) == {kept["conversation_id"]}
    assert conversation_ids(listing) == {kept["conversation_id"], after["conversation_id"]}
