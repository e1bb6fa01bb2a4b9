"""Fixtures for the store contract: one `store` fixture per backend."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from gemini_interactions_mcp.state import (
    ConversationRecord,
    MemoryStore,
    RedisStore,
    SqliteStore,
    Store,
)

_prefixes = itertools.count()

# Adding a backend to the contract suite is one line here.
BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Store]] = {
    "memory": lambda request, tmp_path: MemoryStore(),
    "sqlite": lambda request, tmp_path: SqliteStore(tmp_path / "state.sqlite3"),
    # A fresh key prefix per test isolates tests sharing one server.
    "redis": lambda request, tmp_path: RedisStore(
        request.getfixturevalue("redis_url"), prefix=f"{{test-{next(_prefixes)}}}:"
    ),
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a Unix socket (no port to collide); skip if not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    socket = tmp_path_factory.mktemp("redis") / "redis.sock"
    process = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.stdout
    assert output is not None
    ready = threading.Event()

    def watch() -> None:
        # Drains the output for the server's whole life, so the pipe never fills up.
        for line in output:
            if "ready to accept connections" in line.lower():
                ready.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        # The server says when it is ready, so there is nothing to poll for.
        if not ready.wait(timeout=10):
            pytest.fail("redis-server did not become ready")
        yield f"unix://{socket}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        watcher.join(timeout=10)
        output.close()


@pytest.fixture(params=list(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    backend = BACKENDS[request.param](request, tmp_path)
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


def make_record(
    id: str, owner: str = "alice", *, at: float = 1000.0, **fields: object
) -> ConversationRecord:
    """A record created and last updated at `at`, with any other field overridden."""
    values: dict[str, object] = {"id": id, "owner": owner, "created_at": at, "updated_at": at}
    values.update(fields)
    return ConversationRecord.model_validate(values)
