"""The server on Vertex AI: project paths and bearer tokens, express mode, token refresh."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from pydantic import SecretStr

from gemini_interactions_mcp.emulator import Emulator, EmulatorConfig
from gemini_interactions_mcp.upstream.auth import AccessToken, StaticToken

from .helpers import connect, error, ok

pytestmark = pytest.mark.anyio

PROJECT_PATH = "/v1beta1/projects/proj-1/locations/us-central1/interactions"


class RotatingTokens:
    """Hands out a stale token first, a fresh one when asked to refresh; counts refreshes."""

    def __init__(self) -> None:
        self.refreshes = 0

    async def token(self, *, refresh: bool) -> AccessToken:
        if refresh:
            self.refreshes += 1
        value = "fresh-token" if self.refreshes else "stale-token"
        return AccessToken(SecretStr(value), None, "quota-proj")


def vertex(make_settings: Any, **overrides: Any) -> Any:
    values = {
        "api_key": None,
        "backend": "vertex",
        "vertex_project": "proj-1",
        "vertex_location": "us-central1",
    }
    values.update(overrides)
    return make_settings(**values)


async def test_conversations_and_research_run_on_a_vertex_project(
    make_settings: Any, emulator: Emulator
) -> None:
    tokens = StaticToken("vertex-token")
    async with connect(vertex(make_settings), token_source=tokens) as client:
        first = ok(await client.call_tool("gemini_ask", {"prompt": "on vertex"}))
        second = ok(await client.call_tool("gemini_continue", {"prompt": "still there?"}))
        rid = ok(await client.call_tool("deep_research_start", {"query": "vertex research"}))[
            "research_id"
        ]
        with anyio.fail_after(20):
            status = {"status": "queued"}
            while status["status"] in ("queued", "in_progress"):
                status = ok(
                    await client.call_tool(
                        "deep_research_status", {"research_id": rid, "wait_seconds": 5}
                    )
                )
    assert "turn 2: still there?" in second["text"] and first["conversation_id"]
    assert status["status"] == "completed" and "vertex research" in status["report"]
    paths = {r.path.split("?")[0] for r in emulator.requests}
    assert all(p.startswith(PROJECT_PATH) for p in paths), paths
    # Every request carried the bearer token (the emulator keeps it out of its log).
    assert all(r.headers.get("authorization") == "REDACTED" for r in emulator.requests)
    assert not any("x-goog-api-key" in r.headers for r in emulator.requests)


@pytest.mark.parametrize("emulator_config", [EmulatorConfig(access_token="fresh-token")])
async def test_a_refused_token_is_refreshed_once_and_the_turn_goes_through(
    make_settings: Any, emulator: Emulator
) -> None:
    tokens = RotatingTokens()
    async with connect(vertex(make_settings), token_source=tokens) as client:
        answer = ok(await client.call_tool("gemini_ask", {"prompt": "after a refresh"}))
    assert "turn 1: after a refresh" in answer["text"]
    assert tokens.refreshes == 1
    assert emulator.requests[-1].headers.get("x-goog-user-project") == "quota-proj"


async def test_express_mode_takes_an_api_key_and_no_project(
    make_settings: Any, emulator: Emulator
) -> None:
    settings = vertex(make_settings, api_key="express-key", vertex_project=None)
    async with connect(settings) as client:
        ok(await client.call_tool("gemini_ask", {"prompt": "express"}))
    (request,) = emulator.requests
    assert request.path == "/v1beta1/interactions"
    assert request.headers.get("x-goog-api-key") == "REDACTED"


async def test_vertex_without_a_project_says_what_to_set(make_settings: Any) -> None:
    settings = vertex(make_settings, vertex_project=None)
    async with connect(settings, token_source=StaticToken("t")) as client:
        message = error(await client.call_tool("gemini_ask", {"prompt": "x"}))
    assert "Vertex AI needs a project" in message and "--vertex-project" in message


@pytest.mark.parametrize(
    "emulator_config", [EmulatorConfig(agents=frozenset({"deep-research-max-preview-04-2026"}))]
)
@pytest.mark.parametrize("backend", ["vertex", "gemini"])
async def test_an_agent_the_upstream_does_not_offer_is_named_and_nothing_is_kept(
    make_settings: Any, backend: str
) -> None:
    settings = vertex(make_settings) if backend == "vertex" else make_settings()
    async with connect(settings, token_source=StaticToken("t")) as client:
        message = error(await client.call_tool("deep_research_start", {"query": "q"}))
        listed = ok(await client.call_tool("gemini_conversations", {}))
    assert "'deep-research-preview-04-2026'" in message
    if backend == "vertex":
        assert message.startswith("Vertex AI does not offer the Deep Research agent")
        assert "GEMINI_MCP_MODELS_FILE" in message
    else:
        assert "for Deep Research: deep-research, deep-research-max" in message
    assert listed["conversations"] == []
