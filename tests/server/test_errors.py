"""Upstream failures reach the caller as one clear sentence (or, for the operator, an MCP error)."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import pytest

from gemini_interactions_mcp.emulator import Emulator, EmulatorConfig
from tests.reliability import fault

from .helpers import MODES, connect, error, ok

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("status", "options", "expected"),
    [
        (429, {"retry_after": 120}, "rate limit reached"),
        (403, {}, "refused access"),
        (500, {}, "Gemini failed (500"),
        (400, {}, "rejected the request"),
        (404, {}, "no longer has this conversation"),
    ],
)
async def test_upstream_statuses_become_sentences_saying_what_to_do(
    make_settings: Any, emulator: Emulator, status: int, options: dict[str, Any], expected: str
) -> None:
    async with connect(make_settings()) as client:
        emulator.fail_next(status, count=4, **options)
        message = error(await client.call_tool("gemini_ask", {"prompt": "hi"}))
        assert expected in message
        emulator.reset()
        ok(await client.call_tool("gemini_ask", {"prompt": "fine again"}))


@pytest.mark.parametrize("emulator_config", [EmulatorConfig(api_key="the-right-key")])
@pytest.mark.parametrize("mode", MODES)
async def test_a_rejected_api_key_is_a_tool_error_telling_whom_to_ask(
    make_settings: Any, mode: str
) -> None:
    async with connect(make_settings(api_key="a-wrong-key"), mode=mode) as client:
        message = error(await client.call_tool("gemini_ask", {"prompt": "hi"}))
        research = error(await client.call_tool("deep_research_start", {"query": "q"}))
    assert "rejected the server's API key" in message and "GEMINI_API_KEY" in message
    assert research == message
    assert "a-wrong-key" not in message


async def test_an_unreachable_upstream_says_so(make_settings: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with connect(make_settings(base_url=closed)) as client:
        message = error(await client.call_tool("gemini_ask", {"prompt": "hi"}))
    assert message.startswith(
        f"Could not reach Gemini at {closed}: nothing accepted the connection"
    )
    assert "--base-url" in message


async def test_a_base_url_whose_host_does_not_resolve_says_so(make_settings: Any) -> None:
    wrong = "http://gemini-upstream.invalid"
    async with connect(make_settings(base_url=wrong)) as client:
        message = error(await client.call_tool("gemini_ask", {"prompt": "hi"}))
    assert message.startswith(f"Could not reach Gemini at {wrong}: its host name does not resolve.")


@fault(
    "upstream",
    "429 with a long Retry-After, again and again",
    sees="the call ends within its budget: Gemini did not confirm the turn, send the prompt again",
    kept="the conversation as it was; nothing recorded as sent",
)
async def test_the_call_budget_bounds_a_create_gemini_keeps_refusing(
    make_settings: Any, emulator: Emulator
) -> None:
    """Rate limited with a long Retry-After: the call ends with its budget and says so."""
    async with connect(make_settings(call_budget=2.0)) as client:
        emulator.fail_next(429, count=100, retry_after=25)
        with anyio.fail_after(20):  # a guard against a hang, not a measure of speed
            message = error(await client.call_tool("gemini_ask", {"prompt": "hi"}))
        emulator.reset()
    assert "did not confirm the turn within the 2 s call budget" in message
    assert "send the prompt again" in message
