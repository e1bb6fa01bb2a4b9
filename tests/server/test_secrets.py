"""Credentials of remote MCP servers never reach the state store, and state files are private."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from gemini_interactions_mcp.emulator import Emulator
from gemini_interactions_mcp.state.memory import MemoryStore
from tests.reliability import fault

from .helpers import connect, error, ok

pytestmark = pytest.mark.anyio

SERVER = {
    "type": "mcp_server",
    "name": "kb",
    "url": "https://mcp.example.com/mcp",
    "headers": {"Authorization": "Bearer s3cret-token"},
}


def sent_headers(emulator: Emulator) -> list[Any]:
    return [
        tool.get("headers")
        for r in emulator.requests
        if r.method == "POST" and isinstance(r.json, dict)
        for tool in r.json.get("tools", [])
        if tool.get("type") == "mcp_server"
    ]


@fault(
    "secrets",
    "a remote MCP server tool with bearer headers",
    sees="a server that never saw the headers asks for the tool again, in one sentence",
    kept="the headers stay in memory only, never in the store",
)
async def test_mcp_server_headers_are_sent_but_never_stored(
    make_settings: Any, emulator: Emulator
) -> None:
    store = MemoryStore()
    await store.open()
    settings = make_settings()
    async with connect(settings, store=store) as one, connect(settings, store=store) as two:
        first = ok(await one.call_tool("gemini_ask", {"prompt": "a", "tools": [SERVER]}))
        ok(await one.call_tool("gemini_continue", {"prompt": "b"}))
        record = await store.get("local", first["conversation_id"])
        assert record is not None and "s3cret" not in record.model_dump_json()
        assert sent_headers(emulator) == [SERVER["headers"], SERVER["headers"]]
        # A server that never saw the headers (a restart, another replica) says what to do.
        message = error(await two.call_tool("gemini_continue", {"prompt": "c"}))
        assert "headers of the remote MCP server 'kb'" in message and "pass it again" in message
        again = ok(await two.call_tool("gemini_continue", {"prompt": "c", "tools": [SERVER]}))
    assert "turn 3: c" in again["text"]


@fault(
    "secrets",
    "a state file outside the default directory",
    sees="nothing: it is created 0600",
    kept="the file, readable by its user only",
)
async def test_a_state_file_is_readable_by_its_user_only(
    make_settings: Any, tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite3"
    async with connect(make_settings(state=str(path))) as client:
        ok(await client.call_tool("gemini_ask", {"prompt": "private"}))
    for name in ("state.sqlite3", "state.sqlite3-wal"):
        file = tmp_path / name
        if file.exists():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, name


async def test_an_empty_conversation_id_is_refused_not_taken_for_the_latest(
    make_settings: Any,
) -> None:
    async with connect(make_settings()) as client:
        ok(await client.call_tool("gemini_ask", {"prompt": "one"}))
        message = error(
            await client.call_tool("gemini_continue", {"conversation_id": "", "prompt": "x"})
        )
    assert message == "conversation_id must not be empty."
