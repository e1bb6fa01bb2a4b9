"""Helpers around the store contract: handles, the factory, mutate's give-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemini_interactions_mcp.state import open_store
from gemini_interactions_mcp.state.base import StoreConflictError, mutate, new_handle
from gemini_interactions_mcp.state.memory import MemoryStore
from gemini_interactions_mcp.state.records import ConversationRecord
from gemini_interactions_mcp.state.redis import RedisStore
from gemini_interactions_mcp.state.sqlite import SqliteStore, default_state_path

from .helpers import make_record


def test_new_handles_carry_the_prefix_and_enough_randomness() -> None:
    handles = {new_handle("c_") for _ in range(1000)}
    assert len(handles) == 1000
    for handle in handles:
        assert handle.startswith("c_")
        # token_urlsafe: 6 bits per character, so 22 characters are at least 128 bits.
        assert len(handle) - 2 >= 22


def test_open_store_picks_the_backend_from_the_spec(tmp_path: Path) -> None:
    assert isinstance(open_store("memory"), MemoryStore)
    file_store = open_store(str(tmp_path / "s.sqlite3"))
    assert isinstance(file_store, SqliteStore)
    assert file_store.path == tmp_path / "s.sqlite3"
    default = open_store("")
    assert isinstance(default, SqliteStore) and default.path == default_state_path()


@pytest.mark.parametrize("url", ["redis://localhost:6379/0", "rediss://h/1", "unix:///r.sock"])
def test_open_store_builds_a_redis_store_from_a_url(url: str) -> None:
    store = open_store(url)
    assert isinstance(store, RedisStore) and store.url == url


@pytest.mark.anyio
async def test_mutate_gives_up_when_every_write_conflicts() -> None:
    class AlwaysConflicting(MemoryStore):
        async def update(
            self, record: ConversationRecord, *, expected_version: int
        ) -> ConversationRecord | None:
            return None

    store = AlwaysConflicting()
    await store.open()
    await store.insert(make_record("c_1"))
    calls = 0

    def change(record: ConversationRecord) -> ConversationRecord:
        nonlocal calls
        calls += 1
        return record

    with pytest.raises(StoreConflictError, match="3 attempts"):
        await mutate(store, "alice", "c_1", change, attempts=3)
    assert calls == 3


@pytest.mark.anyio
async def test_mutate_without_a_clock_keeps_the_changed_timestamp() -> None:
    store = MemoryStore()
    await store.open()
    await store.insert(make_record("c_1", at=10.0))

    def change(record: ConversationRecord) -> ConversationRecord:
        record.updated_at = 42.0
        return record

    stored = await mutate(store, "alice", "c_1", change, clock=None)
    assert stored is not None and stored.updated_at == 42.0


@pytest.mark.anyio
async def test_mutate_refuses_a_change_that_moves_the_record() -> None:
    store = MemoryStore()
    await store.open()
    await store.insert(make_record("c_1"))

    with pytest.raises(ValueError, match="owner or id"):
        await mutate(store, "alice", "c_1", lambda r: r.model_copy(update={"owner": "bob"}))
