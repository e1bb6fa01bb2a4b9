"""The model listing: every served model, described and paged like the real one."""

from __future__ import annotations

import httpx2
import pytest

from gemini_interactions_mcp.emulator import EmulatorConfig, create_app
from gemini_interactions_mcp.emulator.catalog import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

from .helpers import KEY

pytestmark = pytest.mark.anyio

MODELS = "/v1beta/models"


async def test_pages_together_list_every_served_model_once_in_order(
    client: httpx2.AsyncClient, config: EmulatorConfig
) -> None:
    names: list[str] = []
    params: dict[str, str] = {"pageSize": "7"}
    pages = 0
    while True:
        response = await client.get(MODELS, params=params)
        assert response.status_code == 200
        body = response.json()
        assert len(body["models"]) <= 7
        names += [m["name"] for m in body["models"]]
        pages += 1
        if "nextPageToken" not in body:
            break
        params = {"pageSize": "7", "pageToken": body["nextPageToken"]}
    assert names == [f"models/{m}" for m in sorted(config.models)]
    assert pages == -(-len(config.models) // 7)


async def test_a_listed_model_carries_limits_and_capabilities(client: httpx2.AsyncClient) -> None:
    body = (await client.get(MODELS, params={"pageSize": "1000"})).json()
    assert "nextPageToken" not in body
    flash = next(m for m in body["models"] if m["name"] == "models/gemini-3-flash-preview")
    assert flash["baseModelId"] == "gemini-3-flash-preview"
    assert flash["displayName"] == "Gemini 3 Flash Preview"
    assert flash["inputTokenLimit"] > flash["outputTokenLimit"] > 0
    assert "generateContent" in flash["supportedGenerationMethods"]
    assert flash["thinking"] is True
    tts = next(m for m in body["models"] if m["name"] == "models/gemini-3.8-flash-tts")
    assert tts["thinking"] is False


async def test_pages_hold_fifty_models_by_default_and_a_thousand_at_most() -> None:
    many = frozenset(f"gemini-test-{n:04}" for n in range(1200))
    transport = httpx2.ASGITransport(app=create_app(EmulatorConfig(models=many)))
    async with httpx2.AsyncClient(transport=transport, base_url="http://emu", headers=KEY) as c:
        default = (await c.get(MODELS)).json()
        assert len(default["models"]) == DEFAULT_PAGE_SIZE
        assert (await c.get(MODELS, params={"pageSize": "0"})).json() == default
        largest = (await c.get(MODELS, params={"pageSize": "5000"})).json()
        assert len(largest["models"]) == MAX_PAGE_SIZE
        rest = (await c.get(MODELS, params={"pageToken": largest["nextPageToken"]})).json()
        assert len(rest["models"]) == DEFAULT_PAGE_SIZE
        assert "nextPageToken" in rest


@pytest.mark.parametrize(
    "params",
    [
        {"pageSize": "-1"},
        {"pageSize": "many"},
        {"pageToken": "bogus"},
        {"pageToken": "bW9kZWxzOjk5OQ=="},
    ],
)
async def test_a_bad_page_size_or_token_is_400(
    client: httpx2.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get(MODELS, params=params)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")


async def test_the_listing_needs_credentials_like_every_route(client: httpx2.AsyncClient) -> None:
    response = await client.get(MODELS, headers={"x-goog-api-key": ""})
    assert response.status_code == 401
