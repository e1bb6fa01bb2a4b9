"""What only the memory backend needs to prove: callers never hold stored state."""

from __future__ import annotations

import pytest

from gemini_interactions_mcp.state import MemoryStore
from tests.state.conftest import make_record

pytestmark = pytest.mark.anyio


async def test_memory_store_hands_out_copies_not_aliases() -> None:
    store = MemoryStore()
    await store.open()
    inserted = make_record("c_1", data={"list": [1]})
    await store.insert(inserted)
    inserted.data["list"].append(2)

    got = await store.get("alice", "c_1")
    assert got is not None and got.data == {"list": [1]}
    got.data["list"].append(3)
    got.title = "changed"

    updated = await store.update(got, expected_version=0)
    assert updated is not None
    updated.data["list"].append(4)
    listed = await store.list("alice")
    listed[0].data["list"].append(5)

    stored = await store.get("alice", "c_1")
    assert stored is not None
    assert (stored.title, stored.data) == ("changed", {"list": [1, 3]})
