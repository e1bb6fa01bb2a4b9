"""`kill -9` of a real server (stdio and HTTP) at each point of a turn and of a research start,
then a restart on the same state file: nothing busy, nothing in progress forever, and every
interaction Gemini created is either tracked by a record or reported by it.

A fault proxy between the server and the emulator process kills the server at the chosen
point of the create: before forwarding it, once the emulator answered it but before any of the
answer reaches the server, mid-stream (once the server has shown it read the first text), and
right after the proxy relayed the answer's last byte. Two rounds run per test, so the
conversation's chain (the emulator answers "turn N: …") shows that a crash neither forks it
nor counts a turn twice.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters

from gemini_interactions_mcp.state.records import ConversationRecord
from gemini_interactions_mcp.state.sqlite import SqliteStore
from tests.reliability import fault

from .fault_proxy import Exchange, Point, Trap, fault_proxy
from .helpers import ok
from .processes import (
    KEY,
    child_env,
    emulator_running,
    start_http,
    stop,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TRANSPORTS = ["stdio", "http"]
# The kill points, in the order a request goes through them.
POINTS = ["before_create", "after_create", "mid_stream", "after_stream"]
ROUNDS = 2
# Ten text deltas: a kill mid-stream holds the rest back, so a short answer will do.
PROMPT = "round {n} [[chars 120]] [[delay 10]]"
RUNNING = ("queued", "in_progress")
# A guard against a hang, never a measure of speed.
GUARD = 60


@pytest.fixture(scope="module")
def emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The emulator process, with research that takes half a second."""
    with emulator_running(tmp_path_factory.mktemp("emulator") / "emulator.log", 0.5) as url:
        yield url


@dataclass
class Server:
    """One server process: a connected MCP client, and a way to kill it."""

    client: Client
    kill: Callable[[], Awaitable[None]]


@contextlib.asynccontextmanager
async def running(transport: str, upstream: str, state: Path, logs: Path) -> AsyncIterator[Server]:
    """A server process on `state` against `upstream`, over `transport`."""
    if transport == "http":
        proc, url = await anyio.to_thread.run_sync(start_http, upstream, state, logs / "http.log")

        async def kill_http() -> None:
            killed.set()
            proc.kill()
            await anyio.to_thread.run_sync(proc.wait)

        killed = anyio.Event()
        try:
            async with Client(url) as client:
                yield Server(client, kill_http)
        except* (httpx2.TransportError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            # The client's own requests in flight broke with the server, as they should.
            if not killed.is_set():
                raise
        finally:
            await anyio.to_thread.run_sync(stop, proc)
        return
    # The shell writes its pid, then becomes the server (exec keeps the pid): the test can
    # kill the very process the MCP client talks to.
    pidfile = logs / f"stdio-{secrets.token_hex(4)}.pid"
    params = StdioServerParameters(
        command="/bin/sh",
        args=[
            "-c",
            'echo $$ > "$0"; exec "$@"',
            str(pidfile),
            sys.executable,
            "-m",
            "gemini_interactions_mcp",
            "--state",
            str(state),
            "--base-url",
            upstream,
        ],
        env=child_env(GEMINI_API_KEY=KEY),
    )
    async with Client(params) as client:
        pid = int(pidfile.read_text())

        async def kill_stdio() -> None:
            os.kill(pid, signal.SIGKILL)

        # Leaving the client reaps the process: a dead pid is what lets the next server
        # take over its leases at once.
        yield Server(client, kill_stdio)


def is_create(exchange: Exchange) -> bool:
    return exchange.is_create


def trap_for(point: str, kill: Callable[[], Awaitable[None]], reading: anyio.Event) -> Trap:
    """The trap that kills the server at `point` of the next create."""
    if point == "before_create":
        return Trap(is_create, Point.BEFORE_REQUEST, kill)
    if point == "after_create":
        return Trap(is_create, Point.AFTER_REQUEST, kill)
    if point == "mid_stream":
        # Four events: created, status, step start, the first text; the server has recorded
        # the interaction once it reports the text (`reading`).
        return Trap(is_create, Point.AFTER_EVENTS, kill, events=4, ready=reading)
    return Trap(is_create, Point.AFTER_RESPONSE, kill)


async def cut_short(
    server: Server, tool: str, arguments: dict[str, Any], trap: Trap, reading: anyio.Event
) -> None:
    """Call `tool` until the trap has killed the server under it."""

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        if message and message.startswith("writing"):
            reading.set()

    async def call() -> None:
        # The server dies under the call: whatever the client makes of that is beside the point.
        with contextlib.suppress(Exception):
            await server.client.call_tool(tool, arguments, progress_callback=on_progress)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        with anyio.fail_after(GUARD):
            await trap.sprung.wait()
        tg.cancel_scope.cancel()


async def collected(client: Client, conversation_id: str) -> dict[str, Any]:
    """The documented collect loop: gemini_continue with no prompt until not in progress."""
    result: dict[str, Any] = {"status": "in_progress"}
    with anyio.fail_after(GUARD):
        while result["status"] == "in_progress":
            result = ok(
                await client.call_tool("gemini_continue", {"conversation_id": conversation_id})
            )
    return result


async def stored_records(state: Path) -> list[ConversationRecord]:
    store = SqliteStore(state)
    await store.open()
    try:
        return list(await store.list("local", limit=100, kind=None))
    finally:
        await store.close()


def tracked_ids(records: list[ConversationRecord]) -> set[str]:
    """Every interaction id a record keeps (finished turns, a pending one, a research run)."""
    ids: set[str] = set()
    for record in records:
        ids.update(record.interaction_ids)
        if record.chain.head:
            ids.add(record.chain.head)
        if record.chain.pending is not None:
            ids.add(record.chain.pending.interaction_id)
        if record.research is not None and record.research.interaction_id:
            ids.add(record.research.interaction_id)
    return ids


def check_tally(
    point: str, killed: list[str], created: list[str], tracked: set[str], interrupted: int
) -> None:
    """What reached Gemini against what the records say: `killed` are the ids Gemini gave the
    creates the server died on, `created` every id it gave, `interrupted` the rounds whose
    record says the turn may have reached Gemini."""
    untracked = [i for i in created if i not in tracked]
    assert set(untracked) <= set(killed) and len(untracked) <= interrupted, (untracked, killed)
    creates, lost, reported = {
        "before_create": (0, 0, ROUNDS),  # nothing reached Gemini; the record says it may have
        "after_create": (ROUNDS, ROUNDS, ROUNDS),  # the window no server can close
        "mid_stream": (ROUNDS, 0, 0),
        "after_stream": (ROUNDS, 0, 0),
    }[point]
    assert (len(killed), len(untracked), interrupted) == (creates, lost, reported)


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("transport", TRANSPORTS)
@fault(
    "process",
    "`kill -9` of a stdio or HTTP server at each point of a turn (before the create, after "
    "Gemini took it, mid-stream, after the last byte), then a restart; twice",
    sees=(
        'never "busy" or `in_progress` forever: collecting ends with the answer, or '
        "`interrupted` with a note that Gemini may have run the turn"
    ),
    kept=(
        "the chain (no turn lost or counted twice); every turn Gemini created is recorded, or, "
        "if no byte of it reached the server, reported"
    ),
)
async def test_a_turn_killed_at_any_point_is_collected_or_reported_after_a_restart(
    emulator_process: str, tmp_path: Path, transport: str, point: str
) -> None:
    state = tmp_path / "state.sqlite3"
    conversation_id: str | None = None
    turns = 0  # the chain's length as the emulator counts it
    interrupted = 0
    traps: list[Trap] = []

    async def settle(server: Server, round_: int) -> None:
        nonlocal conversation_id, turns, interrupted
        listing = ok(await server.client.call_tool("gemini_conversations", {}))
        (item,) = listing["conversations"]
        conversation_id = item["conversation_id"]
        result = await collected(server.client, conversation_id)
        if result["status"] == "interrupted":
            assert point in ("before_create", "after_create"), result
            assert any("Gemini may have run it" in n for n in result["notes"]), result
            assert any("send the prompt again" in n for n in result["notes"]), result
            interrupted += 1
        else:
            turns += 1
            assert result["status"] == "completed", result
            assert result["text"].startswith(f"turn {turns}: round {round_}"), result

    async with fault_proxy(emulator_process) as proxy:
        for round_ in range(1, ROUNDS + 1):
            async with running(transport, proxy.url, state, tmp_path) as server:
                if round_ > 1:
                    await settle(server, round_ - 1)
                reading = anyio.Event()
                trap = proxy.arm(trap_for(point, server.kill, reading))
                traps.append(trap)
                prompt = PROMPT.format(n=round_)
                if conversation_id is None:
                    await cut_short(server, "gemini_ask", {"prompt": prompt}, trap, reading)
                else:
                    arguments = {"conversation_id": conversation_id, "prompt": prompt}
                    await cut_short(server, "gemini_continue", arguments, trap, reading)
        async with running(transport, proxy.url, state, tmp_path) as server:
            await settle(server, ROUNDS)
            assert conversation_id is not None
            final = ok(
                await server.client.call_tool(
                    "gemini_continue", {"conversation_id": conversation_id, "prompt": "final"}
                )
            )
            listing = ok(await server.client.call_tool("gemini_conversations", {}))
        created = proxy.created_ids
    assert final["text"].startswith(f"turn {turns + 1}: final"), final
    assert listing["conversations"][0]["turns"] == turns + 1
    assert turns == (0 if point in ("before_create", "after_create") else ROUNDS)
    records = await stored_records(state)
    killed = [t.exchange.interaction_id for t in traps if t.exchange and t.exchange.interaction_id]
    check_tally(point, killed, created, tracked_ids(records), interrupted)


def research_trap(point: str, kill: Callable[[], Awaitable[None]]) -> Trap:
    """The trap that kills the server at `point` of the next research start: its create, or
    (mid-stream) the stream the server follows the research with once it started."""
    if point == "mid_stream":
        return Trap(lambda e: e.is_stream_get, Point.AFTER_EVENTS, kill, events=3)
    return trap_for(point, kill, anyio.Event())


CUT_SHORT = "The server stopped before Gemini confirmed the start"


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("transport", TRANSPORTS)
@fault(
    "process",
    "`kill -9` of a stdio or HTTP server at each point of `deep_research_start` (before the "
    "create, after Gemini took it, while following the run, after the last byte), then a "
    "restart; twice",
    sees=(
        "the report, or `failed` at once (in the listing too) saying Gemini may have begun it; "
        "never `queued` forever"
    ),
    kept=(
        "every research record; each run Gemini started is followed, or, if the server died "
        "before recording it, reported"
    ),
)
async def test_a_research_start_killed_at_any_point_ends_or_is_reported_after_a_restart(
    emulator_process: str, tmp_path: Path, transport: str, point: str
) -> None:
    state = tmp_path / "state.sqlite3"
    settled: dict[str, dict[str, Any]] = {}

    async def settle(server: Server, round_: int) -> None:
        listing = ok(await server.client.call_tool("gemini_conversations", {}))
        (item,) = [i for i in listing["conversations"] if i["conversation_id"] not in settled]
        assert item["kind"] == "research" and item["title"].startswith(f"round {round_}")
        if point in ("before_create", "after_create"):
            assert item["status"] == "failed", item  # listed as it is, before anyone looks
        research_id = item["conversation_id"]
        status: dict[str, Any] = {"status": "queued"}
        with anyio.fail_after(GUARD):
            while status["status"] in RUNNING:
                status = ok(
                    await server.client.call_tool(
                        "deep_research_status", {"research_id": research_id, "wait_seconds": 20}
                    )
                )
        settled[research_id] = status

    async with fault_proxy(emulator_process) as proxy:
        for round_ in range(1, ROUNDS + 2):
            async with running(transport, proxy.url, state, tmp_path) as server:
                if round_ > 1:
                    await settle(server, round_ - 1)
                if round_ > ROUNDS:
                    break
                trap = proxy.arm(research_trap(point, server.kill))
                query = {"query": f"round {round_} of research"}
                await cut_short(server, "deep_research_start", query, trap, anyio.Event())
        created = proxy.created_ids
    records = await stored_records(state)
    untracked = [i for i in created if i not in tracked_ids(records)]
    outcomes = [s["status"] for s in settled.values()]
    reported = [s for s in settled.values() if s["status"] == "failed"]
    for status in reported:
        assert CUT_SHORT in status["error"] and "Gemini may have begun it" in status["error"]
        assert "deep_research_start" in status["error"]
    for status in settled.values():
        if status["status"] == "completed":
            assert status["report"], status
    # Every run Gemini started is followed, or its record says it may have begun.
    assert len(untracked) <= len(reported), (untracked, settled)
    expected = {
        "before_create": (0, ["failed"] * ROUNDS),
        "after_create": (ROUNDS, ["failed"] * ROUNDS),
        "mid_stream": (0, ["completed"] * ROUNDS),
    }
    if point in expected:
        lost, statuses = expected[point]
        assert len(created) == (0 if point == "before_create" else ROUNDS)
        assert (len(untracked), outcomes) == (lost, statuses), settled
    else:
        # Killed as the answer's last byte went out: recorded or reported, either is honest.
        assert len(created) == ROUNDS and set(outcomes) <= {"completed", "failed"}
        assert len(untracked) == len(reported), settled
