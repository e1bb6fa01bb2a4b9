"""The writes of a turn under way record paid work: they wait out a store locked for a moment,
and never undo what another server that took the turn over has written."""

from __future__ import annotations

import time
from typing import Any

import pytest
from mcp import Client

from gemini_interactions_mcp.core.lease import TAKEN_OVER
from gemini_interactions_mcp.server import build_server
from gemini_interactions_mcp.state.base import StoreLockedError
from gemini_interactions_mcp.state.memory import MemoryStore
from gemini_interactions_mcp.state.records import ConversationRecord, Lease
from tests.reliability import fault

from .helpers import ask_until_writing, error, ok

pytestmark = pytest.mark.anyio

SLOW = "slow [[chars 600]] [[delay 60]]"


class BrieflyLocked(MemoryStore):
    """A store whose next `updates` writes find it locked by another process."""

    def __init__(self) -> None:
        super().__init__()
        self.refusals = 0
        self.refused = 0

    async def update(
        self, record: ConversationRecord, *, expected_version: int
    ) -> ConversationRecord | None:
        if self.refusals:
            self.refusals -= 1
            self.refused += 1
            raise StoreLockedError("another process holds the state store locked")
        return await super().update(record, expected_version=expected_version)


@fault(
    "store",
    "the state file locked by another process for a moment while a turn is recorded",
    sees="the answer, as usual (the turn's writes wait up to 20 s for the lock)",
    kept="the turn: its id and answer are recorded, so nothing paid is lost",
)
async def test_a_turn_s_writes_wait_out_a_store_locked_for_a_moment(make_settings: Any) -> None:
    store = BrieflyLocked()
    await store.open()
    async with Client(build_server(make_settings(), store=store)) as client:

        async def lock() -> None:
            store.refusals = 3

        result = ok(await ask_until_writing(client, SLOW, lock))
    record = await store.get("local", result["conversation_id"])
    assert store.refused == 3
    assert result["status"] == "completed" and result["text"].startswith("turn 1: slow")
    assert record is not None and record.chain.head == result["interaction_id"]
    assert record.lease is None


async def test_a_turn_taken_over_by_another_server_is_left_to_it(make_settings: Any) -> None:
    store = MemoryStore()
    await store.open()
    other = Lease(token="other", until=time.time() + 3600, holder="elsewhere.example/1/0a")
    async with Client(build_server(make_settings(), store=store)) as client:
        taken: list[str] = []

        async def take_over() -> None:
            (record,) = await store.list("local")
            record.lease = other
            stored = await store.update(record, expected_version=record.version)
            assert stored is not None
            taken.append(record.id)

        message = error(await ask_until_writing(client, SLOW, take_over))
    record = await store.get("local", taken[0])
    assert message == TAKEN_OVER
    assert record is not None and record.lease == other
