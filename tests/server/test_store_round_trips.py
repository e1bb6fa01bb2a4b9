"""How many store round trips a turn costs: the pending turn must be durable before the answer
is followed; everything else is folded into as few writes as possible."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from gemini_interactions_mcp.state.memory import MemoryStore
from gemini_interactions_mcp.state.records import ConversationRecord

from .helpers import connect, ok

pytestmark = pytest.mark.anyio


class CountingStore(MemoryStore):
    """A memory store that counts the calls a turn makes (each one a round trip elsewhere)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    async def insert(self, record: ConversationRecord) -> None:
        self.calls["insert"] += 1
        await super().insert(record)

    async def get(self, owner: str, id: str) -> ConversationRecord | None:
        self.calls["get"] += 1
        return await super().get(owner, id)

    async def update(
        self, record: ConversationRecord, *, expected_version: int
    ) -> ConversationRecord | None:
        self.calls["update"] += 1
        return await super().update(record, expected_version=expected_version)


async def test_an_ask_takes_three_store_round_trips(make_settings: Any) -> None:
    store = CountingStore()
    await store.open()
    async with connect(make_settings(), store=store) as client:
        ok(await client.call_tool("gemini_ask", {"prompt": "count me"}))
    # The new record already leased; the pending turn; the finished turn with the lease released.
    assert store.calls == {"insert": 1, "update": 2}


async def test_a_continue_takes_four_store_round_trips(make_settings: Any) -> None:
    store = CountingStore()
    await store.open()
    async with connect(make_settings(), store=store) as client:
        first = ok(await client.call_tool("gemini_ask", {"prompt": "one"}))
        store.calls.clear()
        ok(
            await client.call_tool(
                "gemini_continue", {"conversation_id": first["conversation_id"], "prompt": "two"}
            )
        )
    # Finding it; taking the lease; the pending turn; the finished turn with the lease released.
    assert store.calls == {"get": 1, "update": 3}
