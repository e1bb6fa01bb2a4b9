"""Gemini misbehaving behind a fault proxy: a create that hangs, an answer held back, a stream
that stalls or is reset. Every call ends by its budget (the result says which budget ended it
and what to do), and nothing Gemini created goes unmentioned."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client

from gemini_interactions_mcp.emulator import Emulator
from tests.reliability import fault

from .fault_proxy import Exchange, FaultProxy, Point, Trap, fault_proxy
from .helpers import connect, error, ok

pytestmark = pytest.mark.anyio

BUDGET = 2.0
# A guard against a hang, never a measure of speed: a call cut by its budget ends long before.
GUARD = 30
STARTS = {
    "gemini_ask": ({"prompt": "hello [[chars 120]]"}, "turn"),
    "deep_research_start": ({"query": "glaciers"}, "research start"),
}


def is_create(exchange: Exchange) -> bool:
    return exchange.is_create


@asynccontextmanager
async def behind_a_proxy(
    emulator_url: str, make_settings: Any, **settings: Any
) -> AsyncIterator[tuple[Client, FaultProxy]]:
    async with fault_proxy(emulator_url) as proxy:
        values = {"call_budget": BUDGET, **settings}
        async with connect(make_settings(base_url=proxy.url, **values)) as client:
            yield client, proxy


async def nothing_listed(client: Client) -> None:
    listing = ok(await client.call_tool("gemini_conversations", {}))
    assert listing["conversations"] == []


@pytest.mark.parametrize("tool", list(STARTS))
@fault(
    "upstream",
    "a create that Gemini takes and never answers (`gemini_ask`, `deep_research_start`)",
    sees="the call ends with its budget: Gemini did not confirm it, start it again",
    kept="the conversations as they were; nothing recorded as sent",
)
async def test_a_create_that_hangs_ends_with_the_call_budget(
    emulator_url: str, make_settings: Any, emulator: Emulator, tool: str
) -> None:
    arguments, what = STARTS[tool]
    async with behind_a_proxy(emulator_url, make_settings) as (client, proxy):
        trap = proxy.arm(Trap(is_create, Point.HANG))
        with anyio.fail_after(GUARD):
            message = error(await client.call_tool(tool, arguments))
        assert trap.sprung.is_set()
        await nothing_listed(client)
        again = ok(await client.call_tool(tool, arguments))
    assert f"did not confirm the {what} within the {BUDGET:g} s call budget" in message
    assert "again" in message
    assert len(emulator.interactions) == 1  # only the second attempt reached Gemini
    assert again["status"] in ("completed", "queued", "in_progress")


@pytest.mark.parametrize("tool", list(STARTS))
@fault(
    "upstream",
    "Gemini starts the work but its answer arrives after the call budget",
    sees=(
        "the call ends with its budget, saying Gemini did not confirm the start and may have "
        "begun anyway (that run cannot be followed), and to start it again"
    ),
    kept="the conversations as they were",
)
async def test_an_answer_held_past_the_budget_ends_the_call_and_says_work_may_run(
    emulator_url: str, make_settings: Any, emulator: Emulator, tool: str
) -> None:
    arguments, what = STARTS[tool]
    release = anyio.Event()
    async with behind_a_proxy(emulator_url, make_settings) as (client, proxy):
        trap = proxy.arm(Trap(is_create, Point.HOLD, release=release))
        try:
            with anyio.fail_after(GUARD):
                message = error(await client.call_tool(tool, arguments))
        finally:
            release.set()
        assert trap.exchange is not None and trap.exchange.interaction_id in emulator.interactions
        await nothing_listed(client)
    assert f"did not confirm the {what} within the {BUDGET:g} s call budget" in message
    assert "may have" in message and "again" in message


@fault(
    "upstream",
    "429 with a long Retry-After on every `deep_research_start`",
    sees="the call ends within its budget: Gemini did not confirm the start, start it again",
    kept="nothing recorded as started",
)
async def test_the_call_budget_bounds_a_research_start_gemini_keeps_refusing(
    make_settings: Any, emulator: Emulator
) -> None:
    async with connect(make_settings(call_budget=BUDGET)) as client:
        emulator.fail_next(429, count=100, retry_after=25)
        with anyio.fail_after(GUARD):
            message = error(await client.call_tool("deep_research_start", {"query": "q"}))
        emulator.reset()
        await nothing_listed(client)
    assert f"did not confirm the research start within the {BUDGET:g} s call budget" in message
    assert emulator.interactions == {}


@fault(
    "upstream",
    "the answer's stream stalls after its first text",
    sees="the call still ends by its budget, with the whole answer read back from Gemini",
    kept="the turn, recorded",
)
async def test_a_stream_that_stalls_ends_by_the_budget_with_the_answer_read_back(
    emulator_url: str, make_settings: Any
) -> None:
    stalled = anyio.Event()
    async with behind_a_proxy(emulator_url, make_settings) as (client, proxy):
        # Four events (created, status, step start, the first text), then nothing more.
        proxy.arm(Trap(is_create, Point.AFTER_EVENTS, events=4, ready=stalled))
        try:
            with anyio.fail_after(GUARD):
                result = ok(await client.call_tool("gemini_ask", {"prompt": "stall [[chars 120]]"}))
        finally:
            stalled.set()
        listing = ok(await client.call_tool("gemini_conversations", {}))
    # Cut at the stream's deadline (the budget less a reserve), then one plain GET.
    reads = [e for e in proxy.exchanges if e.method == "GET" and not e.is_stream_get]
    assert reads and reads[0].target.endswith(result["interaction_id"])
    assert result["status"] == "completed" and result["text"].startswith("turn 1: stall")
    assert listing["conversations"][0]["turns"] == 1


@fault(
    "upstream",
    "the connection is reset mid-stream (a turn's answer, a research being followed)",
    sees="nothing: the stream is resumed from its last event and the answer or report comes",
    kept="the whole answer or report",
)
async def test_a_stream_reset_midway_is_resumed_from_its_last_event(
    emulator_url: str, make_settings: Any
) -> None:
    async with behind_a_proxy(emulator_url, make_settings, call_budget=20.0) as (client, proxy):
        proxy.arm(Trap(is_create, Point.RESET, events=4))
        with anyio.fail_after(GUARD):
            answer = ok(await client.call_tool("gemini_ask", {"prompt": "reset [[chars 120]]"}))
        proxy.arm(Trap(lambda e: e.is_stream_get, Point.RESET, events=3))
        research_id = ok(await client.call_tool("deep_research_start", {"query": "reset"}))[
            "research_id"
        ]
        status: dict[str, Any] = {"status": "queued"}
        with anyio.fail_after(GUARD):
            while status["status"] in ("queued", "in_progress"):
                status = ok(
                    await client.call_tool(
                        "deep_research_status", {"research_id": research_id, "wait_seconds": 10}
                    )
                )
    resumed = [e.target for e in proxy.exchanges if e.is_stream_get and "last_event_id" in e.target]
    assert len(resumed) == 2, proxy.exchanges
    assert answer["status"] == "completed"
    assert re.fullmatch(r"turn 1: reset.*", answer["text"]) and len(answer["text"]) == 120
    assert status["status"] == "completed" and "reset" in status["report"]
