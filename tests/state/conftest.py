"""Fixtures for the store contract: one `store` fixture per backend."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from gemini_interactions_mcp.state.base import Store
from gemini_interactions_mcp.state.memory import MemoryStore
from gemini_interactions_mcp.state.redis import RedisStore
from gemini_interactions_mcp.state.sqlite import SqliteStore

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


@pytest.fixture(params=list(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    backend = BACKENDS[request.param](request, tmp_path)
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()
