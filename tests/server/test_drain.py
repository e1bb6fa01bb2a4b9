"""A stopping server ends its calls in time, refuses new ones, and loses nothing: a turn cut
short is collectable, and a research keeps running for whoever looks next."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from gemini_interactions_mcp.core.call import STOPPED, STOPPING
from gemini_interactions_mcp.server import build_server
from gemini_interactions_mcp.state.memory import MemoryStore

from .helpers import ask_until_writing, collect, error, ok

pytestmark = pytest.mark.anyio


async def test_a_stop_returns_a_turn_in_flight_as_collectable_and_refuses_new_calls(
    make_settings: Any,
) -> None:
    settings = make_settings(call_budget=60.0)
    store = MemoryStore()
    await store.open()
    server = build_server(settings, store=store)
    async with Client(server) as client:

        async def stop() -> None:
            assert server.running is not None
            server.running.in_flight.stop(0)

        cut = ok(await ask_until_writing(client, "long [[chars 1200]] [[delay 60]]", stop))
        refused = error(await client.call_tool("gemini_conversations", {}))
    assert cut["status"] == "in_progress" and STOPPED in cut["notes"]
    assert refused == STOPPING
    # Another server on the same state (a replica, or this one restarted) collects it.
    async with Client(build_server(settings, store=store)) as other:
        result = await collect(other, cut)
    assert result["status"] == "completed" and result["text"].startswith("turn 1: long")


async def test_a_stop_gives_calls_in_flight_their_grace_to_finish(make_settings: Any) -> None:
    server = build_server(make_settings(call_budget=60.0))
    async with Client(server) as client:

        async def stop() -> None:
            assert server.running is not None
            server.running.in_flight.stop(30)  # far more than the answer needs

        done = ok(await ask_until_writing(client, "short [[chars 200]] [[delay 20]]", stop))
    assert done["status"] == "completed" and done["text"].startswith("turn 1: short")
