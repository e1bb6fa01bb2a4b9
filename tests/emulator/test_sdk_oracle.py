"""The official google-genai SDK, unchanged, talks to the emulator and parses everything."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx2
import pytest
from google import genai
from google.genai import _interactions as sdk_errors
from google.oauth2.credentials import Credentials
from pydantic import BaseModel
from starlette.applications import Starlette

from gemini_interactions_mcp.emulator import EmulatorConfig, create_app, serve_in_background

from .helpers import AGENT, MODEL

pytestmark = pytest.mark.anyio


def make_client(base_url: str, http: httpx2.AsyncClient | None = None) -> genai.Client:
    options = genai.types.HttpOptions(
        base_url=base_url,
        api_version="v1beta",
        retry_options=genai.types.HttpRetryOptions(attempts=1),
        httpx_async_client=http,
    )
    return genai.Client(api_key="k", http_options=options)


@pytest.fixture
async def sdk(app: Starlette) -> AsyncIterator[Any]:
    """The SDK's async interactions surface, in-process over ASGITransport."""
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emu") as http:
        client = make_client("http://emu", http)
        yield client.aio.interactions
        await client.aio.aclose()


@pytest.fixture
async def live_sdk() -> AsyncIterator[Any]:
    """The SDK against the emulator on a real loopback port (for streams)."""
    async with serve_in_background(EmulatorConfig(research_seconds=0.3)) as url:
        client = make_client(url)
        yield client.aio.interactions
        await client.aio.aclose()


def unknown_parts(value: Any, path: str = "$") -> list[str]:
    """Paths of every SDK object parsed as an ``Unknown*`` fallback type."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        if type(value).__name__.startswith("Unknown"):
            found.append(f"{path}: {type(value).__name__}")
        # __dict__, not getattr: deprecated fields warn when read as attributes.
        for name, item in vars(value).items():
            found += unknown_parts(item, f"{path}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += unknown_parts(item, f"{path}[{i}]")
    return found


async def collect(stream: Any) -> list[Any]:
    events = []
    async with stream:
        async for event in stream:
            events.append(event)
    return events


def names(items: list[Any]) -> list[str]:
    return [type(item).__name__ for item in items]


def assert_clean_stream(events: list[Any]) -> None:
    """Every event parsed into a known type and none misread as an error."""
    assert unknown_parts(events) == []
    assert "ErrorEvent" not in names(events)


async def test_unary_create_and_get_parse_into_known_sdk_types(sdk: Any) -> None:
    created = await sdk.create(
        model=MODEL,
        input="hello [[think]] [[search cats]] [[code print(1)]] [[url https://a.example]]",
        tools=[{"type": "google_search"}, {"type": "code_execution"}, {"type": "url_context"}],
        generation_config={"thinking_summaries": "auto"},
    )
    assert created.status == "completed"
    assert created.output_text.startswith("turn 1: hello | tools: google_search")
    assert names(created.steps) == [
        "ThoughtStep",
        "GoogleSearchCallStep",
        "GoogleSearchResultStep",
        "CodeExecutionCallStep",
        "CodeExecutionResultStep",
        "URLContextCallStep",
        "URLContextResultStep",
        "ModelOutputStep",
    ]
    assert unknown_parts(created) == []
    fetched = await sdk.get(created.id)
    assert type(fetched.steps[0]).__name__ == "UserInputStep"
    assert fetched.output_text == created.output_text
    assert fetched.usage.total_tokens > 0
    assert unknown_parts(fetched) == []


async def test_sdk_streams_create_with_known_event_and_delta_types(live_sdk: Any) -> None:
    events = await collect(
        await live_sdk.create(
            model=MODEL,
            input="stream me [[think]] [[search dogs]] [[mcp srv lookup]]",
            tools=[{"type": "google_search"}, {"type": "mcp_server", "name": "srv"}],
            generation_config={"thinking_summaries": "auto"},
            stream=True,
        )
    )
    assert names(events)[:2] == ["InteractionCreatedEvent", "InteractionStatusUpdate"]
    assert names(events)[-1] == "InteractionCompletedEvent"
    assert_clean_stream(events)
    assert all(e.event_id for e in events)
    assert len({e.event_id for e in events}) == len(events)
    deltas = {type(e.delta).__name__ for e in events if type(e).__name__ == "StepDelta"}
    assert {"ThoughtSummaryDelta", "ThoughtSignatureDelta", "TextDelta"} <= deltas
    assert {"GoogleSearchCallDelta", "MCPServerToolCallDelta", "TextAnnotationDelta"} <= deltas
    starts = [type(e.step).__name__ for e in events if type(e).__name__ == "StepStart"]
    assert "MCPServerToolResultStep" in starts
    assert events[-1].interaction.usage.total_tokens > 0


async def test_sdk_resumes_a_stream_after_a_last_event_id(live_sdk: Any) -> None:
    events = await collect(await live_sdk.create(model=MODEL, input="resume me", stream=True))
    interaction_id = events[0].interaction.id
    resumed = await collect(
        await live_sdk.get(interaction_id, stream=True, last_event_id=events[2].event_id)
    )
    assert [e.event_id for e in resumed] == [e.event_id for e in events[3:]]
    assert_clean_stream(events)
    assert_clean_stream(resumed)


async def test_sdk_resumes_after_a_dropped_stream_without_duplicates(live_sdk: Any) -> None:
    first: list[Any] = []
    stream = await live_sdk.create(model=MODEL, input="cut [[drop 5]] [[chars 90]]", stream=True)
    with pytest.raises(sdk_errors.APIConnectionError):
        async with stream:
            async for event in stream:
                first.append(event)
    assert len(first) == 5
    interaction_id = first[0].interaction.id
    rest = await collect(
        await live_sdk.get(interaction_id, stream=True, last_event_id=first[-1].event_id)
    )
    whole = first + rest
    ids = [e.event_id for e in whole]
    assert ids == [f"{interaction_id}.{n}" for n in range(1, len(whole) + 1)]
    assert names(whole)[-1] == "InteractionCompletedEvent"
    text = "".join(e.delta.text for e in whole if type(e).__name__ == "StepDelta")
    assert len(text) == 90
    assert text.startswith("turn 1: cut")
    assert_clean_stream(whole)


async def test_sdk_cancels_a_running_background_interaction(sdk: Any) -> None:
    started = await sdk.create(model=MODEL, input="slow [[delay 200]]", background=True)
    assert started.status == "in_progress"
    cancelled = await sdk.cancel(started.id)
    assert cancelled.status == "cancelled"
    assert unknown_parts(cancelled) == []
    fetched = await sdk.get(started.id)
    assert fetched.status == "cancelled"
    assert unknown_parts(fetched) == []


async def test_sdk_delete_returns_none_and_the_interaction_is_gone(sdk: Any) -> None:
    created = await sdk.create(model=MODEL, input="forget me")
    assert await sdk.delete(created.id) is None
    with pytest.raises(sdk_errors.NotFoundError):
        await sdk.get(created.id)


async def test_sdk_polls_a_background_deep_research_to_completion(sdk: Any) -> None:
    started = await sdk.create(
        agent=AGENT,
        input="solar sails",
        background=True,
        agent_config={"type": "deep-research", "thinking_summaries": "auto"},
    )
    assert started.status == "in_progress"
    with anyio.fail_after(5):
        while True:
            done = await sdk.get(started.id)
            if done.status != "in_progress":
                break
            await anyio.sleep(0.01)
    assert done.status == "completed"
    assert "# Research report: solar sails" in done.output_text
    annotations = done.steps[-1].content[0].annotations
    assert {type(a).__name__ for a in annotations} == {"URLCitation"}
    assert unknown_parts(done) == []


async def test_sdk_streams_a_deep_research_run_with_known_types(live_sdk: Any) -> None:
    started = await live_sdk.create(agent=AGENT, input="tidal power", background=True)
    events = await collect(await live_sdk.get(started.id, stream=True))
    assert names(events)[-1] == "InteractionCompletedEvent"
    deltas = {type(e.delta).__name__ for e in events if type(e).__name__ == "StepDelta"}
    assert {"ThoughtSummaryDelta", "URLContextCallDelta", "GoogleSearchResultDelta"} <= deltas
    assert_clean_stream(events)


async def test_sdk_function_call_round_trip(sdk: Any) -> None:
    tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]
    first = await sdk.create(
        model=MODEL, input='weather? [[call get_weather {"city": "Paris"}]]', tools=tools
    )
    assert first.status == "requires_action"
    (call,) = first.steps
    assert type(call).__name__ == "FunctionCallStep"
    assert (call.name, call.arguments) == ("get_weather", {"city": "Paris"})
    assert unknown_parts(first) == []
    second = await sdk.create(
        model=MODEL,
        previous_interaction_id=first.id,
        tools=tools,
        input=[
            {
                "type": "function_result",
                "call_id": call.id,
                "name": "get_weather",
                "result": {"t": 21},
            }
        ],
    )
    assert second.status == "completed"
    assert (
        second.output_text
        == 'turn 2: function get_weather returned {"t":21} | tools: fn:get_weather'
    )
    assert unknown_parts(second) == []
    assert unknown_parts(await sdk.get(second.id)) == []


async def test_sdk_follows_a_unary_continuation_across_hops(sdk: Any) -> None:
    merged = await sdk.create(model=MODEL, input="long answer [[continue]]")
    assert merged.status == "completed"
    assert merged.output_text == "turn 1: long answer"
    assert len(merged.continuation_ids) == 2
    assert unknown_parts(merged) == []


async def test_sdk_follows_a_streamed_continuation_across_hops(live_sdk: Any) -> None:
    events = await collect(
        await live_sdk.create(model=MODEL, input="long stream [[continue]]", stream=True)
    )
    completed = [e for e in events if type(e).__name__ == "InteractionCompletedEvent"]
    assert [e.interaction.status for e in completed] == ["requires_continuation", "completed"]
    text = "".join(e.delta.text for e in events if type(e).__name__ == "StepDelta")
    assert text == "turn 1: long stream"
    assert_clean_stream(events)


async def test_sdk_yields_an_in_stream_error_without_raising(live_sdk: Any) -> None:
    events = await collect(
        await live_sdk.create(model=MODEL, input="doomed [[fail api_error]]", stream=True)
    )
    assert names(events)[-1] == "ErrorEvent"
    assert names(events).count("ErrorEvent") == 1
    assert events[-1].error.code == "api_error"
    assert unknown_parts(events) == []


async def test_sdk_raises_typed_errors_for_http_failures(sdk: Any) -> None:
    with pytest.raises(sdk_errors.NotFoundError):
        await sdk.create(model="gemini-3-pro-preview", input="retired")
    with pytest.raises(sdk_errors.BadRequestError):
        await sdk.create(agent=AGENT, input="needs background")


WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    "defer_loading": True,
    "short_description": "weather",
}


async def test_sdk_server_tool_search_round_trip_parses_into_known_types(sdk: Any) -> None:
    tools = [{"type": "tool_search"}, WEATHER]
    first = await sdk.create(
        model=MODEL,
        input='[[toolsearch get_weather]] [[call get_weather {"city": "Oslo"}]]',
        tools=tools,
    )
    assert first.status == "requires_action"
    assert names(first.steps) == ["ToolSearchCallStep", "ToolSearchResultStep", "FunctionCallStep"]
    search, loaded, call = first.steps
    assert search.arguments.function_names == ["get_weather"]
    assert loaded.call_id == search.id
    assert [(f.name, f.defer_loading) for f in loaded.result] == [("get_weather", False)]
    assert unknown_parts(first) == []
    second = await sdk.create(
        model=MODEL,
        previous_interaction_id=first.id,
        tools=tools,
        input=[{"type": "function_result", "call_id": call.id, "result": {"sky": "clear"}}],
    )
    assert second.status == "completed"
    assert unknown_parts(await sdk.get(second.id)) == []
    assert unknown_parts(await sdk.get(first.id)) == []


async def test_sdk_streams_tool_search_deltas_with_known_types(live_sdk: Any) -> None:
    events = await collect(
        await live_sdk.create(
            model=MODEL,
            input="[[toolsearch get_weather]]",
            tools=[{"type": "tool_search"}, WEATHER],
            stream=True,
        )
    )
    deltas = {type(e.delta).__name__ for e in events if type(e).__name__ == "StepDelta"}
    assert {"ToolSearchCallDelta", "ToolSearchResultDelta"} <= deltas
    starts = [type(e.step).__name__ for e in events if type(e).__name__ == "StepStart"]
    assert starts[:2] == ["ToolSearchCallStep", "ToolSearchResultStep"]
    assert_clean_stream(events)


async def test_sdk_client_tool_search_round_trip_with_declarations_in_the_result(
    sdk: Any,
) -> None:
    tools = [
        {
            "type": "tool_search",
            "execution": "client",
            "name": "find_tools",
            "description": "Finds tools.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
        }
    ]
    first = await sdk.create(model=MODEL, input="[[toolsearch get_billing]]", tools=tools)
    assert first.status == "requires_action"
    (call,) = first.steps
    assert (call.name, call.arguments) == ("find_tools", {"query": "get_billing"})
    declaration = {"type": "function", "name": "get_billing", "parameters": {"type": "object"}}
    second = await sdk.create(
        model=MODEL,
        previous_interaction_id=first.id,
        tools=tools,
        input=[
            {
                "type": "function_result",
                "call_id": call.id,
                "name": "find_tools",
                "result": [declaration],
            }
        ],
    )
    assert second.status == "completed"
    fetched = await sdk.get(second.id)
    (answered,) = [s for s in fetched.steps if type(s).__name__ == "FunctionResultStep"]
    assert [type(item).__name__ for item in answered.result] == ["Function"]
    assert unknown_parts(fetched) == []


async def test_sdk_sees_an_idle_interaction_unary_and_streamed(sdk: Any, live_sdk: Any) -> None:
    paused = await sdk.create(model=MODEL, input="pause [[idle]]")
    assert paused.status == "idle"
    assert (await sdk.get(paused.id)).status == "idle"
    assert unknown_parts(paused) == []
    resumed = await sdk.create(model=MODEL, input="go on", previous_interaction_id=paused.id)
    assert resumed.output_text == "turn 2: go on"
    events = await collect(await live_sdk.create(model=MODEL, input="[[idle]]", stream=True))
    assert [names(events)[-2], events[-2].status] == ["InteractionStatusUpdate", "idle"]
    assert [names(events)[-1], events[-1].interaction.status] == [
        "InteractionCompletedEvent",
        "idle",
    ]
    assert_clean_stream(events)


async def test_sdk_sends_media_processing_and_environment_mode_the_emulator_accepts(
    sdk: Any,
) -> None:
    media = [
        {"type": "text", "text": "look"},
        {
            "type": "audio",
            "uri": "gs://b/a.wav",
            "processing": {"type": "static", "start_offset": "1s", "end_offset": "9s"},
        },
        {
            "type": "document",
            "uri": "gs://b/d.pdf",
            "resolution": "high",
            "processing": {"type": "static", "page_options": {"start_page": 1, "end_page": 3}},
        },
        {
            "type": "video",
            "uri": "gs://b/v.mp4",
            "processing": {"type": "static", "content_layers": ["frames", "audio"]},
        },
    ]
    environment = {"type": "remote", "mode": "self_hosted", "custom_config": {"queue": "q"}}
    created = await sdk.create(model=MODEL, input=media, environment=environment)
    assert created.environment.mode == "self_hosted"
    fetched = await sdk.get(created.id)
    content = fetched.steps[0].content
    assert names(content) == ["TextContent", "AudioContent", "DocumentContent", "VideoContent"]
    assert content[2].processing.page_options.end_page == 3
    assert content[3].processing.content_layers == ["frames", "audio"]
    assert unknown_parts(fetched) == []


VERTEX_PARENT = "/v1beta1/projects/oracle-proj/locations/us-central1"


def make_vertex_client(base_url: str, http: httpx2.AsyncClient | None = None) -> genai.Client:
    """The SDK configured for Vertex AI with a fixed access token and a quota project."""
    options = genai.types.HttpOptions(
        base_url=base_url,
        api_version="v1beta1",
        retry_options=genai.types.HttpRetryOptions(attempts=1),
        httpx_async_client=http,
    )
    credentials = Credentials(token="ya29.oracle", quota_project_id="quota-proj")
    return genai.Client(
        vertexai=True,
        project="oracle-proj",
        location="us-central1",
        credentials=credentials,
        http_options=options,
    )


@pytest.fixture
async def vertex_sdk(app: Starlette) -> AsyncIterator[Any]:
    """The SDK's interactions surface on Vertex AI, in-process."""
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emu") as http:
        client = make_vertex_client("http://emu", http)
        yield client.aio.interactions
        await client.aio.aclose()


async def test_sdk_on_vertex_creates_gets_and_cancels_on_project_paths(
    vertex_sdk: Any, app: Starlette
) -> None:
    created = await vertex_sdk.create(model=MODEL, input="hello vertex")
    assert created.output_text == "turn 1: hello vertex"
    fetched = await vertex_sdk.get(created.id)
    assert fetched.output_text == created.output_text
    started = await vertex_sdk.create(model=MODEL, input="slow [[delay 200]]", background=True)
    cancelled = await vertex_sdk.cancel(started.id)
    assert cancelled.status == "cancelled"
    assert unknown_parts([created, fetched, cancelled]) == []
    requests = app.state.emulator.requests
    assert [(r.method, r.path) for r in requests] == [
        ("POST", f"{VERTEX_PARENT}/interactions"),
        ("GET", f"{VERTEX_PARENT}/interactions/{created.id}"),
        ("POST", f"{VERTEX_PARENT}/interactions"),
        ("POST", f"{VERTEX_PARENT}/interactions/{started.id}/cancel"),
    ]
    for request in requests:
        assert request.headers["authorization"] == "REDACTED"
        assert request.headers["x-goog-user-project"] == "quota-proj"
        assert "x-goog-api-key" not in request.headers


async def test_sdk_on_vertex_streams_a_create_from_the_project_path() -> None:
    app = create_app(EmulatorConfig(access_token="ya29.oracle"))
    async with serve_in_background(app=app) as url:
        client = make_vertex_client(url)
        events = await collect(
            await client.aio.interactions.create(model=MODEL, input="stream vertex", stream=True)
        )
        await client.aio.aclose()
    assert names(events)[-1] == "InteractionCompletedEvent"
    text = "".join(e.delta.text for e in events if type(e).__name__ == "StepDelta")
    assert text == "turn 1: stream vertex"
    assert_clean_stream(events)
    (request,) = app.state.emulator.requests
    assert request.path == f"{VERTEX_PARENT}/interactions"


async def test_sdk_in_vertex_express_mode_uses_the_api_key_path(app: Starlette) -> None:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emu") as http:
        options = genai.types.HttpOptions(
            base_url="http://emu",
            api_version="v1beta1",
            retry_options=genai.types.HttpRetryOptions(attempts=1),
            httpx_async_client=http,
        )
        client = genai.Client(vertexai=True, api_key="AQ.express", http_options=options)
        created: Any = await client.aio.interactions.create(model=MODEL, input="express")
        await client.aio.aclose()
    assert created.output_text == "turn 1: express"
    (request,) = app.state.emulator.requests
    assert (request.path, request.headers["x-goog-api-key"]) == (
        "/v1beta1/interactions",
        "REDACTED",
    )


async def test_sdk_lists_models_page_by_page(app: Starlette) -> None:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emu") as http:
        client = make_client("http://emu", http)
        pager = await client.aio.models.list(config={"page_size": 7})
        listed = [model async for model in pager]
        await client.aio.aclose()
    served = sorted(app.state.emulator.config.models)
    assert [m.name for m in listed] == [f"models/{m}" for m in served]
    flash = next(m for m in listed if m.name == "models/gemini-3-flash-preview")
    assert flash.display_name == "Gemini 3 Flash Preview"
    assert flash.input_token_limit and flash.output_token_limit
    assert "generateContent" in (flash.supported_actions or [])
    assert flash.thinking is True
    queries = [r.query for r in app.state.emulator.requests]
    assert len(queries) == -(-len(served) // 7)
    assert all(q["pageSize"] == "7" for q in queries)
