"""What only the memory backend needs to prove: callers never hold stored state."""

from __future__ import annotations

import pytest

from gemini_interactions_mcp.state.memory import MemoryStore

from .helpers import make_record

pytestmark = pytest.mark.anyio


async def test_memory_store_hands_out_copies_not_aliases() -> None:
    store = MemoryStore()
    await store.open()
    inserted = make_record("c_1", interaction_ids=["1"])
    await store.insert(inserted)
    inserted.interaction_ids.append("2")

    got = await store.get("alice", "c_1")
    assert got is not None and got.interaction_ids == ["1"]
    got.interaction_ids.append("3")
    got.title = "changed"

    updated = await store.update(got, expected_version=0)
    assert updated is not None
    updated.interaction_ids.append("4")
    listed = await store.list("alice")
    listed[0].interaction_ids.append("5")

    stored = await store.get("alice", "c_1")
    assert stored is not None
    assert (stored.title, stored.interaction_ids) == ("changed", ["1", "3"])
