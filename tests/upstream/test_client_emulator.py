"""The client against the emulator on a real loopback port (true streaming, real drops)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import pytest

from gemini_interactions_mcp.emulator import EmulatorConfig, create_app, serve_in_background
from gemini_interactions_mcp.upstream import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    InteractionsClient,
    ModelNotFoundError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    ServiceUnavailableError,
    StreamError,
)
from gemini_interactions_mcp.upstream import wire as w

from .helpers import API_KEY, FakeTime

MODEL = "gemini-3-flash-preview"


@dataclass
class Upstream:
    url: str
    emulator: Any
    time: FakeTime

    def client(self, **kwargs: Any) -> InteractionsClient:
        return InteractionsClient(
            kwargs.pop("api_key", API_KEY),
            base_url=self.url,
            retry=kwargs.pop("retry", RetryPolicy(jitter=0.0)),
            sleep=self.time.sleep,
            clock=self.time.clock,
            **kwargs,
        )

    def calls(self) -> list[tuple[str, str, dict[str, str]]]:
        return [(r.method, r.path, dict(r.query)) for r in self.emulator.requests]


@pytest.fixture
async def upstream(fake_time: FakeTime) -> AsyncIterator[Upstream]:
    app = create_app(EmulatorConfig(research_seconds=0.3, api_key=API_KEY))
    async with serve_in_background(app=app) as url:
        yield Upstream(url, app.state.emulator, fake_time)


class Collector:
    def __init__(self) -> None:
        self.events: list[w.StreamEvent] = []

    async def __call__(self, event: w.StreamEvent) -> None:
        self.events.append(event)

    @property
    def text(self) -> str:
        return "".join(
            e.delta.text
            for e in self.events
            if isinstance(e, w.StepDeltaEvent) and isinstance(e.delta, w.TextDelta)
        )


@pytest.mark.anyio
async def test_unary_create_get_and_delete(
    upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with upstream.client() as client:
        created = await client.create({"model": MODEL, "input": "hello there"})
        assert created.status == "completed"
        assert created.output_text == "turn 1: hello there"
        fetched = await client.get(created.id, include_input=True)
        assert isinstance(fetched.steps[0], w.UserInputStep)
        assert fetched.output_text == created.output_text
        await client.delete(created.id)
        with pytest.raises(NotFoundError) as caught:
            await client.get(created.id)
    # The real transport stack (httpx2, httpcore) logs at DEBUG too: none of it shows the key.
    assert any(f"DELETE /v1beta/interactions/{created.id}" in m for m in caplog.messages)
    assert all(API_KEY not in record.getMessage() for record in caplog.records)
    assert API_KEY not in str(caught.value) and API_KEY not in repr(caught.value)


@pytest.mark.anyio
async def test_stream_resumes_after_a_drop_without_losing_or_repeating_text(
    upstream: Upstream,
) -> None:
    seen = Collector()
    async with upstream.client() as client:
        body = {"model": MODEL, "input": "[[drop 4]] [[chars 200]] tell me a long story"}
        result = await client.create_stream(body, seen)
        stored = await client.get(result.id)
    assert len(result.output_text) == 200
    assert seen.text == result.output_text == stored.output_text
    ids = [e.event_id for e in seen.events]
    assert len(ids) == len(set(ids))
    assert isinstance(seen.events[-1], w.InteractionCompletedEvent)
    method, path, query = upstream.calls()[1]
    assert (method, path) == ("GET", f"/v1beta/interactions/{result.id}")
    assert query == {"stream": "true", "last_event_id": ids[3]}


@pytest.mark.anyio
async def test_continuation_hops_are_merged_unary_and_streamed(upstream: Upstream) -> None:
    seen = Collector()
    async with upstream.client() as client:
        plain = await client.create({"model": MODEL, "input": "[[chars 60]] abc"})
        unary = await client.create({"model": MODEL, "input": "[[continue]] [[chars 60]] abc"})
        streamed = await client.create_stream(
            {"model": MODEL, "input": "[[continue]] [[chars 60]] abc", "store": False}, seen
        )
    assert unary.output_text == plain.output_text
    assert len(unary.continuation_ids) == 2
    assert unary.status == "completed"
    assert streamed.output_text == seen.text == plain.output_text
    assert len(streamed.continuation_ids) == 2
    hop_bodies = [
        r.json for r in upstream.emulator.requests if r.json and "continuation_token" in r.json
    ]
    assert "input" not in hop_bodies[0] and "previous_interaction_id" in hop_bodies[0]
    assert hop_bodies[1]["input"] == "[[continue]] [[chars 60]] abc"


@pytest.mark.anyio
async def test_create_is_retried_on_429_with_retry_after(upstream: Upstream) -> None:
    upstream.emulator.fail_next(429, retry_after=3)
    upstream.emulator.fail_next(503, retry_after_ms=20)
    async with upstream.client() as client:
        result = await client.create({"model": MODEL, "input": "hi"})
    assert result.status == "completed"
    assert upstream.time.sleeps == [3.0, 0.02]
    assert [c[0] for c in upstream.calls()] == ["POST", "POST", "POST"]


@pytest.mark.anyio
async def test_create_is_not_retried_after_a_dropped_response(upstream: Upstream) -> None:
    upstream.emulator.fail_next(200, drop_after_headers=True)
    async with upstream.client() as client:
        with pytest.raises(APIConnectionError):
            await client.create({"model": MODEL, "input": "hi"})
    assert len(upstream.calls()) == 1


@pytest.mark.anyio
async def test_persistent_503_gives_up_after_the_attempt_budget(upstream: Upstream) -> None:
    async with upstream.client() as client:
        with pytest.raises(ServiceUnavailableError):
            await client.create({"model": MODEL, "input": "[[error 503]] hi"})
    assert len(upstream.calls()) == 4
    assert upstream.time.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.anyio
async def test_get_retries_after_a_server_error(upstream: Upstream) -> None:
    async with upstream.client() as client:
        created = await client.create({"model": MODEL, "input": "hi"})
        upstream.emulator.fail_next(500, methods=("GET",))
        fetched = await client.get(created.id)
    assert fetched.id == created.id


@pytest.mark.anyio
async def test_error_statuses_map_to_exceptions(upstream: Upstream) -> None:
    async with upstream.client() as client:
        with pytest.raises(ModelNotFoundError) as missing:
            await client.create({"model": "gemini-3-pro-preview", "input": "hi"})
        assert missing.value.code == "model_not_found"
        with pytest.raises(BadRequestError):
            await client.create({"model": MODEL, "agent": "x", "input": "hi"})
        upstream.emulator.fail_next(429, retry_after=600)
        with pytest.raises(RateLimitError) as limited:
            await client.create({"model": MODEL, "input": "hi"})
        assert limited.value.retry_after == 600.0
    async with upstream.client(api_key="wrong-key") as client:
        with pytest.raises(AuthenticationError):
            await client.get("v1_anything")


@pytest.mark.anyio
async def test_in_stream_error_raises_after_the_callback(upstream: Upstream) -> None:
    seen = Collector()
    async with upstream.client() as client:
        with pytest.raises(StreamError) as caught:
            await client.create_stream({"model": MODEL, "input": "[[fail safety]] hi"}, seen)
    assert caught.value.code == "safety"
    assert isinstance(seen.events[-1], w.ErrorEvent)


@pytest.mark.anyio
async def test_function_call_ends_with_requires_action(upstream: Upstream) -> None:
    tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]
    async with upstream.client() as client:
        result = await client.create_stream(
            {"model": MODEL, "tools": tools, "input": '[[call get_weather {"city": "Paris"}]]'}
        )
        assert result.status == "requires_action"
        (call,) = result.function_calls
        assert (call.name, call.arguments) == ("get_weather", {"city": "Paris"})
        answer = await client.create(
            {
                "model": MODEL,
                "previous_interaction_id": result.id,
                "input": [
                    {
                        "type": "function_result",
                        "call_id": call.id,
                        "name": call.name,
                        "result": "Sunny",
                    }
                ],
            }
        )
    assert answer.output_text == 'turn 2: function get_weather returned "Sunny"'


@pytest.mark.anyio
async def test_built_in_tool_steps_and_thoughts_arrive_typed(upstream: Upstream) -> None:
    body = {
        "model": MODEL,
        "tools": [{"type": "google_search"}],
        "generation_config": {"thinking_summaries": "auto"},
        "input": "[[think]] [[search capital of France]] Paris?",
    }
    async with upstream.client() as client:
        streamed = await client.create_stream(body)
        stored = await client.get(streamed.id)
    kinds = [type(s) for s in streamed.steps]
    assert w.ThoughtStep in kinds
    assert w.GoogleSearchCallStep in kinds and w.GoogleSearchResultStep in kinds
    assert streamed.output_text == stored.output_text
    assert [s.to_wire() for s in streamed.steps] == [s.to_wire() for s in stored.output_steps]


@pytest.mark.anyio
async def test_background_run_is_followed_to_the_end(upstream: Upstream) -> None:
    seen = Collector()
    async with upstream.client() as client:
        started = await client.create(
            {"model": MODEL, "input": "[[chars 120]] slow one", "background": True}
        )
        assert started.is_running
        with anyio.fail_after(5):
            finished = await client.follow(started.id, on_event=seen)
    assert finished.status == "completed"
    assert len(finished.output_text) == 120
    assert seen.text == finished.output_text


@pytest.mark.anyio
async def test_background_stream_and_cancel(upstream: Upstream) -> None:
    async with upstream.client() as client:
        started = await client.create(
            {"agent": "deep-research-preview-04-2026", "input": "research X", "background": True}
        )
        cancelled = await client.cancel(started.id)
    assert cancelled.status == "cancelled"


@pytest.mark.anyio
async def test_streamed_background_run_resumes_after_a_drop(upstream: Upstream) -> None:
    seen = Collector()
    body = {"model": MODEL, "input": "[[drop 3]] [[chars 80]] go", "background": True}
    async with upstream.client() as client:
        with anyio.fail_after(5):
            result = await client.create_stream(body, seen)
    assert result.status == "completed"
    assert len(result.output_text) == 80
    assert seen.text == result.output_text
    assert [c[0] for c in upstream.calls()] == ["POST", "GET"]


@pytest.mark.anyio
async def test_a_server_error_on_create_is_mapped_and_not_retried(upstream: Upstream) -> None:
    async with upstream.client() as client:
        with pytest.raises(ServerError) as caught:
            await client.create({"model": MODEL, "input": "boom [[error 500]]"})
    assert caught.value.status_code == 500
    posts = [c for c in upstream.calls() if c[0] == "POST"]
    assert len(posts) == 1


@pytest.mark.anyio
async def test_an_idle_turn_ends_needing_input_streamed_followed_and_chained(
    upstream: Upstream,
) -> None:
    async with upstream.client() as client:
        streamed = await client.create_stream({"model": MODEL, "input": "hold on [[idle]]"})
        assert streamed.status == w.Status.IDLE
        assert streamed.needs_input and not streamed.is_running
        assert streamed.output_text == "turn 1: hold on"
        started = await client.create(
            {"model": MODEL, "input": "later [[idle]] [[delay 5]]", "background": True}
        )
        followed = await client.follow(started.id)
        assert followed.status == "idle"
        chained = await client.create(
            {"model": MODEL, "input": "resume", "previous_interaction_id": followed.id}
        )
    assert chained.output_text == "turn 2: resume"


@pytest.mark.anyio
async def test_tool_search_steps_arrive_whole_from_a_stream(upstream: Upstream) -> None:
    tools = [
        {"type": "tool_search"},
        {"type": "function", "name": "get_weather", "defer_loading": True},
    ]
    collector = Collector()
    async with upstream.client() as client:
        body = {"model": MODEL, "input": "[[toolsearch get_weather]]", "tools": tools}
        streamed = await client.create_stream(body, collector)
        stored = await client.get(streamed.id)
    search, loaded, _ = streamed.steps
    assert isinstance(search, w.ToolSearchCallStep)
    assert search.arguments.function_names == ["get_weather"]
    assert isinstance(loaded, w.ToolSearchResultStep)
    assert [f.name for f in loaded.result] == ["get_weather"]
    assert [s.to_wire() for s in streamed.steps] == [s.to_wire() for s in stored.output_steps]
