"""The models resource and the usable-model hints, from the upstream's own model listing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gemini_interactions_mcp.core.catalog import LISTING_TTL, RETRY_AFTER_FAILURE
from gemini_interactions_mcp.core.results import MODELS_URI
from gemini_interactions_mcp.emulator import Emulator, EmulatorConfig
from gemini_interactions_mcp.emulator.config import CURRENT_MODELS
from gemini_interactions_mcp.upstream.auth import StaticToken

from .helpers import connect, error, ok

pytestmark = pytest.mark.anyio

WITHHELD = "gemini-3.1-pro-preview"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def listings(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.method == "GET" and "/models" in r.path)


async def read_models(client: Any) -> dict[str, Any]:
    resource = await client.read_resource(MODELS_URI)
    return json.loads(resource.contents[0].text)  # type: ignore[no-any-return]


async def test_the_resource_lists_the_registry_and_what_the_key_can_use(
    make_settings: Any, emulator: Emulator
) -> None:
    clock = Clock()
    async with connect(make_settings(), clock=clock) as client:
        ok(await client.call_tool("gemini_ask", {"prompt": "hello"}))
        # Neither start-up nor a turn asks for the listing.
        assert listings(emulator) == 0
        resources = await client.list_resources()
        assert MODELS_URI in {str(r.uri) for r in resources.resources}

        first = await read_models(client)
        again = await read_models(client)
        assert listings(emulator) == 1  # kept, not fetched per read
        clock.now += LISTING_TTL + 1
        await read_models(client)
        assert listings(emulator) == 2  # a stale listing is fetched again

    assert first == again
    assert first["default"] in CURRENT_MODELS
    assert first["aliases"]["flash"] and "deep-research-preview-04-2026" in first["agents"]
    available = {m["id"] for m in first["available"]}
    assert available == set(CURRENT_MODELS)
    assert all(m.get("display_name") for m in first["available"])
    assert "note" not in first


async def test_a_failed_listing_leaves_the_registry_and_is_not_retried_at_once(
    make_settings: Any, emulator: Emulator
) -> None:
    clock = Clock()
    emulator.fail_next(403, methods=("GET",))
    async with connect(make_settings(), clock=clock) as client:
        failed = await read_models(client)
        assert listings(emulator) == 1
        assert "available" not in failed and "lists no models" in failed["note"]
        assert failed["aliases"] and failed["default"]

        await read_models(client)
        assert listings(emulator) == 1  # backing off
        clock.now += RETRY_AFTER_FAILURE + 1
        recovered = await read_models(client)
        assert listings(emulator) == 2
    assert {m["id"] for m in recovered["available"]} == set(CURRENT_MODELS)


@pytest.mark.parametrize("emulator_config", [EmulatorConfig(models=CURRENT_MODELS - {WITHHELD})])
async def test_a_model_the_key_cannot_use_is_refused_naming_the_ones_it_can(
    make_settings: Any, emulator: Emulator
) -> None:
    async with connect(make_settings()) as client:
        message = error(await client.call_tool("gemini_ask", {"prompt": "x", "model": WITHHELD}))
        # The listing is fetched once for the hint, then kept.
        error(await client.call_tool("gemini_ask", {"prompt": "y", "model": WITHHELD}))
    assert message.startswith(f"Model '{WITHHELD}' is not available to this server's key.")
    named = message.split("It can use: ", 1)[1]
    assert "gemini-3-flash-preview" in named and WITHHELD not in named.split(".")[0]
    assert listings(emulator) == 1


async def test_on_vertex_the_registry_alone_answers(make_settings: Any, emulator: Emulator) -> None:
    settings = make_settings(
        api_key=None, backend="vertex", vertex_project="proj-1", vertex_location="us-central1"
    )
    async with connect(settings, token_source=StaticToken("t")) as client:
        listing = await read_models(client)
    assert "available" not in listing and "Vertex AI" in listing["note"]
    assert listing["agents"] and listing["default"]
    assert emulator.requests == []
