"""A server that died mid-turn leaves nothing stuck: no "busy" after a restart, no turn or
research forever in progress, and every confirmed turn still collectable."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from gemini_interactions_mcp.state.memory import MemoryStore
from gemini_interactions_mcp.state.records import (
    Chain,
    ConversationRecord,
    Lease,
    ResearchState,
)
from tests.reliability import fault

from .helpers import connect, ok
from .processes import dead_pid, start_http, stop

pytestmark = pytest.mark.anyio


def dead_holder() -> str:
    return f"{socket.gethostname()}/{dead_pid()}/0123456789ab"


def a_research_start_cut_short() -> ConversationRecord:
    """A research whose server died while it started, before Gemini's answer was recorded."""
    now = time.time()
    return ConversationRecord(
        id="r_cut",
        owner="local",
        kind="research",
        research=ResearchState(query="cut", started_at=now - 5),
        lease=Lease(token="start", until=now + 300, holder=dead_holder()),
        created_at=now - 5,
        updated_at=now - 5,
    )


async def a_store_with(record: ConversationRecord) -> MemoryStore:
    store = MemoryStore()
    await store.open()
    await store.insert(record)
    return store


@fault(
    "process",
    "killed after the turn was recorded, before Gemini confirmed it",
    sees=(
        "the conversation reads `interrupted`, with a note to send the prompt again; "
        "never busy, never `in_progress` forever"
    ),
    kept="the conversation and every earlier turn; the next prompt continues it",
)
async def test_a_turn_cut_before_gemini_confirmed_it_is_reported_not_left_running(
    make_settings: Any,
) -> None:
    now = time.time()
    lease = Lease(token="t", until=now + 3600, holder=dead_holder())
    record = ConversationRecord(
        id="c_cut",
        owner="local",
        title="cut short",
        model="gemini-3-flash-preview",
        chain=Chain(status="in_progress"),
        lease=lease,
        created_at=now,
        updated_at=now,
    )
    store = await a_store_with(record)
    async with connect(make_settings(), store=store) as client:
        listing = ok(await client.call_tool("gemini_conversations", {}))
        collected = ok(await client.call_tool("gemini_continue", {"conversation_id": "c_cut"}))
        again = ok(
            await client.call_tool(
                "gemini_continue", {"conversation_id": "c_cut", "prompt": "once more"}
            )
        )
    assert listing["conversations"][0]["status"] == "interrupted"
    assert collected["status"] == "interrupted"
    assert any("send the prompt again" in n for n in collected["notes"])
    assert again["status"] == "completed" and "turn 1: once more" in again["text"]


@fault(
    "process",
    "a turn held by a live process elsewhere",
    sees='"busy with another turn" only while that process lives',
    kept="the running turn",
)
async def test_a_lease_of_a_live_caller_still_makes_others_wait(make_settings: Any) -> None:
    now = time.time()
    lease = Lease(token="t", until=now + 3600, holder=f"{socket.gethostname()}/1/abc")
    record = ConversationRecord(
        id="c_held",
        owner="local",
        chain=Chain(head="v1_x", turns=1, status="completed"),
        lease=lease,
        created_at=now,
        updated_at=now,
    )
    store = await a_store_with(record)
    async with connect(make_settings(call_budget=2.0), store=store) as client:
        result = await client.call_tool(
            "gemini_continue", {"conversation_id": "c_held", "prompt": "x"}
        )
    assert result.is_error and "busy" in str(result.content)


@fault(
    "process",
    "killed during `deep_research_start`, before Gemini confirmed the run",
    sees="`failed` at once, with a sentence to start it again; the elapsed time stops",
    kept="the research record and its query",
)
async def test_a_research_start_cut_short_fails_at_once_with_a_sentence(
    make_settings: Any,
) -> None:
    store = await a_store_with(a_research_start_cut_short())
    async with connect(make_settings(), store=store) as client:
        first = ok(await client.call_tool("deep_research_status", {"research_id": "r_cut"}))
        later = ok(await client.call_tool("deep_research_status", {"research_id": "r_cut"}))
    assert first["status"] == "failed" and "deep_research_start" in first["error"]
    assert first["elapsed_seconds"] == later["elapsed_seconds"]


@pytest.mark.slow
@fault(
    "process",
    "`kill -9` of the HTTP server mid-stream, then a restart",
    sees='the first collect after the restart carries on at once (no "busy")',
    kept="the whole answer, collected from Gemini",
)
async def test_a_killed_server_s_turn_is_collected_at_once_after_a_restart(
    emulator_process: str, tmp_path: Path
) -> None:
    state, log = tmp_path / "state.sqlite3", tmp_path / "http.log"
    proc, url = start_http(emulator_process, state, log)
    streaming = anyio.Event()
    try:
        async with Client(url) as client:

            async def on_progress(
                progress: float, total: float | None, message: str | None
            ) -> None:
                if message and message.startswith("writing"):
                    streaming.set()

            async with anyio.create_task_group() as tg:

                async def ask() -> None:
                    await client.call_tool(
                        "gemini_ask",
                        {"prompt": "killed [[chars 400]] [[delay 100]]"},
                        progress_callback=on_progress,
                    )

                tg.start_soon(ask)
                with anyio.fail_after(30):
                    await streaming.wait()
                proc.kill()  # mid-stream, holding the lease, no clean shutdown
                proc.wait()
                tg.cancel_scope.cancel()
    finally:
        stop(proc)
    proc, url = start_http(emulator_process, state, log)
    try:
        async with Client(url) as client:
            listing = ok(await client.call_tool("gemini_conversations", {}))
            (item,) = listing["conversations"]
            result: dict[str, Any] = {"status": "in_progress"}
            with anyio.fail_after(30):
                while result["status"] == "in_progress":
                    result = ok(
                        await client.call_tool(
                            "gemini_continue", {"conversation_id": item["conversation_id"]}
                        )
                    )
    finally:
        stop(proc)
    assert result["status"] == "completed" and result["text"].startswith("turn 1: killed")


@fault(
    "process",
    "killed during `deep_research_start`, then only the listing is read or a new research is "
    "started",
    sees="the listing says `failed` (not `queued`); a new research is not refused as one too many",
    kept="the research record and its query",
)
async def test_a_research_start_cut_short_is_listed_failed_and_not_counted_as_running(
    make_settings: Any,
) -> None:
    store = await a_store_with(a_research_start_cut_short())
    async with connect(make_settings(max_running_research=1), store=store) as client:
        listing = ok(await client.call_tool("gemini_conversations", {}))
        started = ok(await client.call_tool("deep_research_start", {"query": "a new one"}))
    assert listing["conversations"][0]["status"] == "failed"
    assert started["status"] in ("queued", "in_progress")
