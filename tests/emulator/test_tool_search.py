"""Tool search: the tool, the ``[[toolsearch]]`` directive and its steps, both executions."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from .helpers import MODEL, URL, create, get, read_sse, rebuild, reply_text, step_types

pytestmark = pytest.mark.anyio

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    "defer_loading": True,
    "short_description": "weather",
}
SERVER_SEARCH: list[dict[str, Any]] = [{"type": "tool_search"}, WEATHER]
CLIENT_SEARCH: list[dict[str, Any]] = [
    {
        "type": "tool_search",
        "execution": "client",
        "name": "find_tools",
        "description": "Finds tools in the catalogue.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
        },
    }
]


async def test_server_tool_search_loads_the_named_declarations_then_answers(
    client: httpx2.AsyncClient,
) -> None:
    created = await create(
        client, input="weather? [[toolsearch get_weather missing]]", tools=SERVER_SEARCH
    )
    assert created["status"] == "completed"
    assert step_types(created) == ["tool_search_call", "tool_search_result", "model_output"]
    call, result, _ = created["steps"]
    assert call["arguments"] == {"function_names": ["get_weather", "missing"]}
    assert result["call_id"] == call["id"]
    assert call["signature"] and result["signature"]
    assert result["result"] == [{**WEATHER, "defer_loading": False}]
    assert reply_text(created) == "turn 1: weather? | tools: tool_search, fn:get_weather"


async def test_a_deferred_function_found_by_tool_search_can_be_called(
    client: httpx2.AsyncClient,
) -> None:
    created = await create(
        client,
        input='[[toolsearch get_weather]] [[call get_weather {"city": "Oslo"}]]',
        tools=SERVER_SEARCH,
    )
    assert created["status"] == "requires_action"
    assert step_types(created) == ["tool_search_call", "tool_search_result", "function_call"]


async def test_tool_search_steps_stream_as_deltas_that_rebuild_the_steps(
    client: httpx2.AsyncClient,
) -> None:
    body = {"model": MODEL, "input": "[[toolsearch get_weather]]", "tools": SERVER_SEARCH}
    events, _ = await read_sse(client, "POST", URL, json={**body, "stream": True})
    deltas = [e["delta"]["type"] for e in events if e["event_type"] == "step.delta"]
    assert deltas[:2] == ["tool_search_call", "tool_search_result"]
    stored = await get(client, events[0]["interaction"]["id"])
    assert rebuild(events) == stored["steps"][1:]


async def test_client_tool_search_is_a_function_call_answered_with_declarations(
    client: httpx2.AsyncClient,
) -> None:
    first = await create(client, input="[[toolsearch get_weather]]", tools=CLIENT_SEARCH)
    assert first["status"] == "requires_action"
    (call,) = first["steps"]
    assert call["type"] == "function_call"
    assert (call["name"], call["arguments"]) == ("find_tools", {"query": "get_weather"})
    declared = {k: v for k, v in WEATHER.items() if k not in ("defer_loading",)}
    second = await create(
        client,
        previous_interaction_id=first["id"],
        tools=CLIENT_SEARCH,
        input=[
            {
                "type": "function_result",
                "call_id": call["id"],
                "name": "find_tools",
                "result": [declared],
            }
        ],
    )
    assert second["status"] == "completed"
    assert reply_text(second).startswith('turn 2: function find_tools returned [{"type":"function"')


async def test_toolsearch_without_a_tool_search_tool_does_nothing(
    client: httpx2.AsyncClient,
) -> None:
    created = await create(client, input="plain [[toolsearch get_weather]]", tools=[WEATHER])
    assert step_types(created) == ["model_output"]


async def test_tool_search_steps_are_accepted_in_a_resent_history(
    client: httpx2.AsyncClient,
) -> None:
    history = [
        {"type": "user_input", "content": [{"type": "text", "text": "weather?"}]},
        {"type": "tool_search_call", "id": "t1", "arguments": {"function_names": ["get_weather"]}},
        {"type": "tool_search_result", "call_id": "t1", "result": [WEATHER], "signature": "c2ln"},
        {"type": "model_output", "content": [{"type": "text", "text": "It is sunny."}]},
        {"type": "user_input", "content": [{"type": "text", "text": "and tomorrow?"}]},
    ]
    created = await create(client, input=history, tools=SERVER_SEARCH, store=False)
    assert reply_text(created).startswith("turn 2: and tomorrow?")


@pytest.mark.parametrize(
    ("tools", "input_"),
    [
        ([{"type": "tool_search", "execution": "sometimes"}], "x"),
        ([{"type": "tool_search", "execution": "client"}], "x"),
        ([{"type": "tool_search", "execution": "client", "name": "f", "parameters": 3}], "x"),
        ([{**WEATHER, "defer_loading": "yes"}], "x"),
        ([{**WEATHER, "short_description": 5}], "x"),
        ([{"type": "mcp_server", "name": "s", "defer_loading": 1}], "x"),
        (SERVER_SEARCH, [{"type": "tool_search_call", "arguments": {}}]),
        (SERVER_SEARCH, [{"type": "tool_search_result", "result": []}]),
        (SERVER_SEARCH, "[[toolsearch]]"),
    ],
)
async def test_malformed_tool_search_tools_steps_and_directives_are_400(
    client: httpx2.AsyncClient, tools: list[dict[str, Any]], input_: Any
) -> None:
    response = await client.post(URL, json={"model": MODEL, "input": input_, "tools": tools})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")
