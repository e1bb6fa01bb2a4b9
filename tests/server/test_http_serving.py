"""The HTTP server as an operator runs it: behind a TLS proxy, with its body limit, and
drained by SIGTERM without losing a turn or holding on to a research."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client, MCPError

from gemini_interactions_mcp.core.call import STOPPED
from gemini_interactions_mcp.state.sqlite import SqliteStore
from tests.messages import ACCEPT, INITIALIZE
from tests.reliability import fault

from .helpers import ask_until_writing, collect, ok, open_session
from .processes import emulator_running, start_http, stop

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

# A guard against a hang: a drain that waited for its streams would take over a minute.
EXIT_GUARD = 30


@pytest.fixture
def slow_research_emulator(tmp_path: Path) -> Iterator[str]:
    """An emulator whose research runs long enough to be stopped in the middle."""
    with emulator_running(tmp_path / "e.log", 60) as url:
        yield url


async def watched(store: SqliteStore) -> None:
    """Return once the server process follows the research (another process writes the file,
    so nothing here can be woken by it: the file is read again every 0.1 s)."""
    while True:
        if any(r.research and r.research.watcher for r in await store.active_research()):
            return
        await anyio.sleep(0.1)


def exits(proc: subprocess.Popen[bytes]) -> int:
    return proc.wait(EXIT_GUARD)


@fault(
    "transport",
    "behind a TLS proxy: Host without a port or with :443, an https Origin",
    sees="answered as usual for the configured host names; any other host gets 421",
    kept="DNS-rebinding protection for every other name",
)
async def test_behind_a_tls_proxy_the_configured_host_is_accepted_in_every_form(
    emulator_process: str, tmp_path: Path
) -> None:
    proc, url = start_http(
        emulator_process,
        tmp_path / "s.sqlite3",
        tmp_path / "http.log",
        GEMINI_MCP_ALLOWED_HOSTS="mcp.example.com",
    )
    try:
        async with httpx2.AsyncClient(timeout=30) as http:
            statuses = []
            for host, origin in (
                ("mcp.example.com", "https://mcp.example.com"),
                ("mcp.example.com:443", "https://mcp.example.com"),
                ("evil.example", None),
                ("mcp.example.com", "https://evil.example"),
            ):
                headers = {**ACCEPT, "host": host, **({"origin": origin} if origin else {})}
                answer = await http.post(url, json=INITIALIZE, headers=headers)
                statuses.append(answer.status_code)
    finally:
        stop(proc)
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 421 and statuses[3] == 403


@fault(
    "transport",
    "a request body over the limit (attachments plus room for the prompt)",
    sees="an error naming the limit and the attachment limit, and to pass large files by uri",
    kept="the server and the session; nothing is read past the limit",
)
async def test_a_body_over_the_limit_is_refused_with_the_limit_named(
    emulator_process: str, tmp_path: Path
) -> None:
    proc, url = start_http(
        emulator_process,
        tmp_path / "s.sqlite3",
        tmp_path / "http.log",
        GEMINI_MCP_MAX_ATTACHMENT_BYTES=str(1024 * 1024),
    )
    huge = "x" * (10 * 1024 * 1024)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * (1024 * 1024)

    try:
        async with Client(url) as client:
            with pytest.raises(MCPError) as refused:
                await client.call_tool("gemini_ask", {"prompt": huge})
            # Still serving: a normal call works.
            ok(await client.call_tool("gemini_conversations", {}))
        async with httpx2.AsyncClient(timeout=30) as http:
            chunked = await http.post(url, content=chunks(), headers=ACCEPT)
    finally:
        stop(proc)
    message = str(refused.value)
    assert "over this server's limit of 9 MB" in message
    assert "attachments may total 1 MB" in message and "by uri" in message
    assert chunked.status_code == 413 and "by uri" in chunked.json()["error"]["message"]


@fault(
    "process",
    "SIGTERM during a turn (a deploy, a scale-down)",
    sees=(
        "the call returns `in_progress` with its conversation_id once the drain's grace ends, "
        "saying the server is shutting down; new connections go elsewhere"
    ),
    kept="the turn: it is collected from another replica or after the restart",
)
async def test_sigterm_drains_a_turn_in_flight_into_a_collectable_answer(
    emulator_process: str, tmp_path: Path
) -> None:
    state, log = tmp_path / "state.sqlite3", tmp_path / "http.log"
    proc, url = start_http(emulator_process, state, log, GEMINI_MCP_DRAIN_SECONDS="2")
    try:
        async with Client(url) as client:
            await client.list_tools()  # the client checks results against them

            async def sigterm() -> None:
                proc.send_signal(signal.SIGTERM)

            prompt = "drained [[chars 1200]] [[delay 100]]"
            cut = ok(await ask_until_writing(client, prompt, sigterm))
        exits(proc)
    finally:
        stop(proc)
    assert cut["status"] == "in_progress" and STOPPED in cut["notes"]
    proc, url = start_http(emulator_process, state, log)
    try:
        async with Client(url) as client:
            result = await collect(client, cut)
    finally:
        stop(proc)
    assert result["status"] == "completed" and result["text"].startswith("turn 1: drained")


@fault(
    "process",
    "SIGTERM while a research runs and a client holds an event stream open",
    sees="the stream ends (the client reconnects elsewhere); the process exits without waiting",
    kept="the research, running upstream, its watch handed over at once",
)
async def test_sigterm_closes_open_streams_and_hands_research_over(
    slow_research_emulator: str, tmp_path: Path
) -> None:
    state, log = tmp_path / "state.sqlite3", tmp_path / "http.log"
    # A long drain: only closing the open stream lets the process exit within the guard.
    proc, url = start_http(slow_research_emulator, state, log, GEMINI_MCP_DRAIN_SECONDS="60")
    store = SqliteStore(state)
    await store.open()
    try:
        async with Client(url) as client:
            started = ok(await client.call_tool("deep_research_start", {"query": "handed over"}))
        with anyio.fail_after(30):
            await watched(store)
        async with httpx2.AsyncClient(timeout=30) as http:
            session = await open_session(http, url)
            async with http.stream("GET", url, headers=session) as stream:
                assert stream.status_code == 200
                proc.send_signal(signal.SIGTERM)
                with anyio.fail_after(EXIT_GUARD):
                    async for _ in stream.aiter_bytes():
                        pass  # until the server ends the stream
        exits(proc)
        (record,) = await store.active_research()
    finally:
        stop(proc)
        await store.close()
    assert record.id == started["research_id"]
    assert record.research is not None and record.research.watcher is None
