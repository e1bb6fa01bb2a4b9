"""Fixtures for the store contract: one `store` fixture per backend."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
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
