"""Limits per caller: tool calls per minute, and Deep Research running at once."""

from __future__ import annotations

from typing import Any

import pytest

from gemini_interactions_mcp.core.context import ServerContext
from gemini_interactions_mcp.core.errors import ToolError
from gemini_interactions_mcp.core.limits import CallRate
from gemini_interactions_mcp.emulator import EmulatorConfig

from .helpers import connect, error, ok

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_the_call_over_the_per_minute_limit_is_refused_until_the_minute_passes(
    make_settings: Any,
) -> None:
    clock = Clock()
    async with connect(make_settings(calls_per_minute=3), clock=clock) as client:
        for _ in range(3):
            ok(await client.call_tool("gemini_conversations", {}))
        clock.now += 20
        refused = error(await client.call_tool("gemini_ask", {"prompt": "one more"}))
        clock.now += 39.5  # the first call is still inside the minute
        still = error(await client.call_tool("gemini_conversations", {}))
        clock.now += 1
        ok(await client.call_tool("gemini_ask", {"prompt": "a minute later"}))
    assert refused == (
        "Over the limit of 3 tool calls per minute for each caller; try again in 40 s."
    )
    assert still.endswith("try again in 1 s.")


async def test_callers_are_counted_apart(make_settings: Any) -> None:
    rate = CallRate(ServerContext(settings=make_settings(calls_per_minute=1), clock=lambda: 5.0))
    rate.admit("token:ann")
    rate.admit("token:bob")
    with pytest.raises(ToolError, match="per minute"):
        rate.admit("token:ann")


async def test_no_limit_when_set_to_zero(make_settings: Any) -> None:
    async with connect(make_settings(calls_per_minute=0)) as client:
        for _ in range(5):
            ok(await client.call_tool("gemini_conversations", {}))


@pytest.mark.parametrize("emulator_config", [EmulatorConfig(research_seconds=30.0)])
async def test_the_research_over_the_running_limit_is_refused(make_settings: Any) -> None:
    async with connect(make_settings(max_running_research=2)) as client:
        first = ok(await client.call_tool("deep_research_start", {"query": "one"}))
        ok(await client.call_tool("deep_research_start", {"query": "two"}))
        refused = error(await client.call_tool("deep_research_start", {"query": "three"}))
        ok(await client.call_tool("deep_research_cancel", {"research_id": first["research_id"]}))
        ok(await client.call_tool("deep_research_start", {"query": "three, once one ended"}))
        listed = ok(await client.call_tool("gemini_conversations", {}))
    # The refused one left nothing behind.
    assert sorted(c["title"] for c in listed["conversations"]) == [
        "one",
        "three, once one ended",
        "two",
    ]
    assert refused == (
        "You already have 2 Deep Research running, the limit for each caller; wait for one to "
        "finish (deep_research_status) or cancel one (deep_research_cancel)."
    )
