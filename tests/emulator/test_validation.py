"""Create bodies are validated the way the real API answers."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from gemini_interactions_mcp.emulator import EmulatorConfig, create_app

from .helpers import AGENT, KEY, MODEL, URL, create

pytestmark = pytest.mark.anyio


AUDIO = {"type": "audio", "uri": "gs://b/a.wav"}
DOC = {"type": "document", "uri": "gs://b/d.pdf"}
VIDEO = {"type": "video", "uri": "gs://b/v.mp4"}
BAD_MEDIA: list[dict[str, Any]] = [
    {**AUDIO, "processing": "agentic"},
    {**AUDIO, "processing": 3},
    {**AUDIO, "processing": {"type": "dynamic"}},
    {**AUDIO, "processing": {"type": "static", "start_offset": "ten"}},
    {**AUDIO, "processing": {"type": "static", "start_offset": "5s", "end_offset": "2s"}},
    {**AUDIO, "processing": {"type": "static", "end_offset": "0s"}},
    {**VIDEO, "processing": {"type": "static", "fps": 0}},
    {**VIDEO, "processing": {"type": "static", "content_layers": ["smell"]}},
    {**VIDEO, "processing": {"type": "static", "content_layers": "frames"}},
    {**DOC, "resolution": "huge"},
    {**DOC, "processing": {"type": "static", "page_options": []}},
    {**DOC, "processing": {"type": "static", "page_options": {"start_page": 0}}},
    {**DOC, "processing": {"type": "static", "page_options": {"start_page": 3, "end_page": 2}}},
    {**DOC, "processing": {"type": "static", "page_options": {"content_layers": ["ink"]}}},
    {**DOC, "processing": {"type": "static", "spreadsheet_options": {"sheet_index": 0}}},
    {**DOC, "processing": {"type": "static", "spreadsheet_options": {"visible_cells": "all"}}},
]
GOOD_MEDIA: list[dict[str, Any]] = [
    {**AUDIO, "processing": "static"},
    {**AUDIO, "processing": {"type": "static", "start_offset": "10.5s", "end_offset": "30s"}},
    {**VIDEO, "processing": "agentic"},
    {
        **VIDEO,
        "processing": {"type": "static", "fps": 0.5, "content_layers": ["frames", "transcript"]},
    },
    {
        **DOC,
        "resolution": "ultra_high",
        "processing": {
            "type": "static",
            "page_options": {"start_page": 2, "end_page": 2, "content_layers": ["page_text"]},
            "spreadsheet_options": {
                "sheet_index": 1,
                "visible_cells": "A1:D10",
                "content_layers": ["data", "formulas"],
            },
        },
    },
]
BAD_ENVIRONMENTS: list[Any] = [
    7,
    {"type": "local"},
    {"type": "remote", "mode": "forever"},
    {"type": "remote", "custom_config": {"a": 1}},
    {"type": "remote", "mode": "on_demand", "custom_config": {"a": 1}},
    {"type": "remote", "mode": "self_hosted", "custom_config": "a"},
]


async def error_of(client: httpx2.AsyncClient, body: Any) -> tuple[int, str, str]:
    response = await client.post(URL, json=body)
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"model": MODEL, "agent": AGENT, "input": "x", "background": True}, "invalid_request"),
        ({"input": "x"}, "invalid_request"),
        ({"model": MODEL}, "invalid_request"),
        ({"model": MODEL, "input": "x", "surprise": 1}, "parameter_unknown"),
        ({"model": MODEL, "input": "x", "tools": [{"type": "telepathy"}]}, "invalid_request"),
        ({"model": MODEL, "input": "x", "tools": [{"type": "function"}]}, "invalid_request"),
        ({"model": MODEL, "input": {"type": "hologram"}}, "invalid_request"),
        ({"model": MODEL, "input": [{"type": "user_input", "content": 3}]}, "invalid_request"),
        ({"model": MODEL, "input": [{"type": "mystery_step"}]}, "invalid_request"),
        ({"model": MODEL, "input": 42}, "invalid_request"),
        ({"model": MODEL, "input": "x", "stream": "yes"}, "invalid_request"),
        ({"model": MODEL, "input": "x", "background": True, "store": False}, "invalid_request"),
        (
            {"model": MODEL, "input": "x", "agent_config": {"type": "deep-research"}},
            "invalid_request",
        ),
        (
            {"model": MODEL, "input": "x", "generation_config": {"thinking_level": "max"}},
            "invalid_request",
        ),
        ({"agent": AGENT, "input": "x"}, "invalid_request"),
        (
            {"agent": AGENT, "input": "x", "background": True, "generation_config": {}},
            "invalid_request",
        ),
        (
            {"agent": AGENT, "input": "x", "background": True, "agent_config": {"type": "dynamic"}},
            "invalid_request",
        ),
        ({"model": MODEL, "input": "[[chars many]]"}, "invalid_request"),
        *[({"model": MODEL, "input": [block]}, "invalid_request") for block in BAD_MEDIA],
        *[
            ({"model": MODEL, "input": "x", "environment": env}, "invalid_request")
            for env in BAD_ENVIRONMENTS
        ],
        (
            {
                "model": MODEL,
                "input": [{"type": "function_result", "call_id": "c", "result": [{"type": "x"}]}],
            },
            "invalid_request",
        ),
        ({"model": MODEL, "input": "[[call f {bad json}]]"}, "invalid_request"),
        ([1, 2], "invalid_request"),
    ],
)
async def test_malformed_create_bodies_are_400(
    client: httpx2.AsyncClient, body: Any, code: str
) -> None:
    status, got, message = await error_of(client, body)
    assert (status, got) == (400, code)
    assert message


async def test_an_unknown_field_names_itself(client: httpx2.AsyncClient) -> None:
    *_, message = await error_of(client, {"model": MODEL, "input": "x", "foo": 1})
    assert "'foo'" in message


async def test_unknown_fields_pass_when_rejection_is_switched_off() -> None:
    app = create_app(EmulatorConfig(reject_unknown_fields=False))
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emu", headers=KEY) as c:
        response = await c.post(URL, json={"model": MODEL, "input": "x", "foo": 1})
    assert response.status_code == 200


async def test_invalid_json_is_400(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        URL, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")


@pytest.mark.parametrize("model", ["gemini-3-pro-preview", "gemini-2.0-flash", "gemini-0-nope"])
async def test_unknown_and_retired_models_are_404_model_not_found_naming_the_id(
    client: httpx2.AsyncClient, model: str
) -> None:
    status, code, message = await error_of(client, {"model": model, "input": "x"})
    assert (status, code) == (404, "model_not_found")
    assert model in message


@pytest.mark.parametrize("agent", ["deep-thought", "deep-research-pro-preview-12-2025"])
async def test_unknown_and_retired_agents_are_404_model_not_found_naming_the_id(
    client: httpx2.AsyncClient, agent: str
) -> None:
    body = {"agent": agent, "input": "x", "background": True}
    status, code, message = await error_of(client, body)
    assert (status, code) == (404, "model_not_found")
    assert agent in message


async def test_an_unknown_previous_interaction_is_404_not_found(client: httpx2.AsyncClient) -> None:
    body = {"model": MODEL, "input": "x", "previous_interaction_id": "v1_missing"}
    assert (await error_of(client, body))[:2] == (404, "not_found")


async def test_a_store_false_interaction_cannot_be_chained_or_fetched(
    client: httpx2.AsyncClient,
) -> None:
    hidden = await create(client, input="x", store=False)
    assert hidden["status"] == "completed"
    assert (await client.get(f"{URL}/{hidden['id']}")).status_code == 404
    body = {"model": MODEL, "input": "y", "previous_interaction_id": hidden["id"]}
    assert (await error_of(client, body))[:2] == (404, "not_found")


async def test_the_api_revision_header_is_accepted_and_ignored(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        URL, json={"model": MODEL, "input": "x"}, headers={"Api-Revision": "2026-05-20"}
    )
    assert response.status_code == 200


async def test_media_processing_options_are_accepted_and_kept_in_the_timeline(
    client: httpx2.AsyncClient,
) -> None:
    text = {"type": "text", "text": "look"}
    created = await create(client, input=[text, *GOOD_MEDIA])
    fetched = await client.get(f"{URL}/{created['id']}")
    assert fetched.json()["steps"][0]["content"][1:] == GOOD_MEDIA


async def test_a_self_hosted_environment_with_custom_config_is_echoed(
    client: httpx2.AsyncClient,
) -> None:
    environment = {"type": "remote", "mode": "self_hosted", "custom_config": {"queue": "q"}}
    created = await create(client, input="x", environment=environment)
    assert created["environment"] == environment
    assert (await create(client, input="x", environment="env_1"))["environment"] == "env_1"


async def test_function_results_may_hold_function_declarations_and_media(
    client: httpx2.AsyncClient,
) -> None:
    tools = [{"type": "function", "name": "f"}]
    first = await create(client, input="[[call f]]", tools=tools)
    result = [{"type": "function", "name": "g"}, {**DOC, "resolution": "low"}]
    answer = {"type": "function_result", "call_id": first["steps"][0]["id"], "result": result}
    second = await create(client, input=[answer], previous_interaction_id=first["id"])
    assert second["status"] == "completed"
