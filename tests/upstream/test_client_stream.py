"""create_stream / follow against a scripted MockTransport server (drops on demand)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from gemini_interactions_mcp.upstream import (
    NotFoundError,
    ResponseDecodeError,
    RetryPolicy,
    ServiceUnavailableError,
    StreamError,
    StreamInterruptedError,
)
from gemini_interactions_mcp.upstream import wire as w

from .helpers import (
    FakeTime,
    StreamServer,
    error_response,
    hop_events,
    json_response,
    make_client,
    sse_response,
)

WORDS = ["The ", "quick ", "brown ", "fox ", "jumps."]


class Collector:
    def __init__(self) -> None:
        self.events: list[w.StreamEvent] = []

    async def __call__(self, event: w.StreamEvent) -> None:
        self.events.append(event)

    @property
    def ids(self) -> list[str | None]:
        return [e.event_id for e in self.events]

    @property
    def text(self) -> str:
        return "".join(
            e.delta.text
            for e in self.events
            if isinstance(e, w.StepDeltaEvent) and isinstance(e.delta, w.TextDelta)
        )


def _server(drops: list[int | None] | None = None, **kwargs: Any) -> StreamServer:
    return StreamServer(
        scripts={"v1_a": hop_events("v1_a", WORDS)}, order=["v1_a"], drops=drops or [], **kwargs
    )


@pytest.mark.anyio
async def test_create_stream_passes_every_event_and_returns_the_interaction(
    fake_time: FakeTime,
) -> None:
    server = _server()
    seen = Collector()
    async with make_client(server, fake_time) as client:
        result = await client.create_stream({"model": "m", "input": "hi"}, seen)
    assert result.output_text == "The quick brown fox jumps."
    assert result.status == "completed"
    assert seen.ids == [e["event_id"] for e in server.scripts["v1_a"]]
    (request,) = server.requests
    assert request.headers["accept"] == "text/event-stream"
    assert server.bodies[0] == {"model": "m", "input": "hi", "stream": True}


@pytest.mark.parametrize("cut", [1, 3, 5, 7])
@pytest.mark.anyio
async def test_a_drop_is_resumed_with_no_duplicated_or_missing_text(
    fake_time: FakeTime, cut: int
) -> None:
    server = _server(drops=[cut])
    seen = Collector()
    async with make_client(server, fake_time) as client:
        result = await client.create_stream({"model": "m", "input": "hi"}, seen)
    assert seen.text == result.output_text == "The quick brown fox jumps."
    assert seen.ids == [e["event_id"] for e in server.scripts["v1_a"]]
    post, resume = server.requests
    assert post.method == "POST"
    assert resume.method == "GET"
    assert resume.url.path == "/v1beta/interactions/v1_a"
    assert dict(resume.url.params) == {"stream": "true", "last_event_id": f"v1_a-e{cut}"}
    assert fake_time.sleeps == [0.5]


@pytest.mark.anyio
async def test_repeated_drops_resume_each_time_and_read_timeouts_count_as_drops(
    fake_time: FakeTime,
) -> None:
    server = _server(drops=[2, 2, 2], drop_error=lambda: httpx2.ReadTimeout("silent"))
    seen = Collector()
    async with make_client(server, fake_time) as client:
        result = await client.create_stream({"model": "m", "input": "hi"}, seen)
    assert result.output_text == seen.text == "The quick brown fox jumps."
    assert len(server.requests) == 4
    # Each resume made progress, so the backoff starts over every time.
    assert fake_time.sleeps == [0.5, 0.5, 0.5]


@pytest.mark.anyio
async def test_a_clean_early_end_is_resumed_too(fake_time: FakeTime) -> None:
    events = hop_events("v1_a", WORDS)
    answers = iter([sse_response(events[:4]), sse_response(events[4:])])
    requests: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        return next(answers)

    async with make_client(handler, fake_time) as client:
        result = await client.create_stream({"model": "m", "input": "hi"})
    assert result.output_text == "The quick brown fox jumps."
    assert requests[1].url.params["last_event_id"] == "v1_a-e4"


@pytest.mark.anyio
async def test_replayed_events_are_not_passed_on_twice(fake_time: FakeTime) -> None:
    events = hop_events("v1_a", WORDS)
    # This server ignores last_event_id and replays everything after a drop.
    answers = iter(
        [sse_response(events[:5], error=httpx2.ReadError("reset")), sse_response(events)]
    )
    seen = Collector()
    async with make_client(lambda _: next(answers), fake_time) as client:
        result = await client.create_stream({"model": "m", "input": "hi"}, seen)
    assert seen.text == result.output_text == "The quick brown fox jumps."
    assert seen.ids == [e["event_id"] for e in events]


@pytest.mark.anyio
async def test_resuming_gives_up_after_max_resumes_without_progress(fake_time: FakeTime) -> None:
    server = _server(drops=[4, 0, 0, 0])
    seen = Collector()
    async with make_client(server, fake_time, max_stream_resumes=3) as client:
        with pytest.raises(StreamInterruptedError) as caught:
            await client.create_stream({"model": "m", "input": "hi"}, seen)
    err = caught.value
    assert (err.interaction_id, err.last_event_id) == ("v1_a", "v1_a-e4")
    assert err.partial is not None and err.partial.output_text == "The "
    assert len(server.requests) == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.anyio
async def test_a_failing_resume_request_counts_as_a_failed_resume(fake_time: FakeTime) -> None:
    events = hop_events("v1_a", WORDS)
    answers: Iterator[httpx2.Response | Exception] = iter(
        [
            sse_response(events[:3], error=httpx2.ReadError("reset")),
            httpx2.ConnectError("refused"),
            error_response(404, "not_found"),
        ]
    )

    def handler(request: httpx2.Request) -> httpx2.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    retry = RetryPolicy(max_attempts=1, jitter=0.0)
    async with make_client(handler, fake_time, retry=retry) as client:
        with pytest.raises(StreamInterruptedError) as caught:
            await client.create_stream({"model": "m", "input": "hi"})
    assert isinstance(caught.value.__cause__, NotFoundError)
    assert caught.value.last_event_id == "v1_a-e3"


@pytest.mark.anyio
async def test_a_drop_before_the_interaction_id_cannot_be_resumed(fake_time: FakeTime) -> None:
    server = _server(drops=[0])
    async with make_client(server, fake_time) as client:
        with pytest.raises(StreamInterruptedError) as caught:
            await client.create_stream({"model": "m", "input": "hi"})
    assert caught.value.interaction_id is None
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_an_unstored_stream_is_not_resumed(fake_time: FakeTime) -> None:
    server = _server(drops=[3])
    async with make_client(server, fake_time) as client:
        with pytest.raises(StreamInterruptedError) as caught:
            await client.create_stream({"model": "m", "input": "hi", "store": False})
    assert caught.value.interaction_id == "v1_a"
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_stream_create_is_not_retried_after_a_500_but_is_after_a_503(
    fake_time: FakeTime,
) -> None:
    events = hop_events("v1_a", WORDS)
    answers = iter([error_response(503, "service_unavailable"), sse_response(events)])
    async with make_client(lambda _: next(answers), fake_time) as client:
        result = await client.create_stream({"model": "m", "input": "hi"})
    assert result.status == "completed"

    calls: list[httpx2.Request] = []

    def failing(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        return error_response(500, "api_error")

    async with make_client(failing, fake_time) as client:
        with pytest.raises(Exception, match="500"):
            await client.create_stream({"model": "m", "input": "hi"})
    assert len(calls) == 1


@pytest.mark.anyio
async def test_stream_status_errors_surface_before_any_event(fake_time: FakeTime) -> None:
    retry = RetryPolicy(max_attempts=2, jitter=0.0)
    async with make_client(
        lambda _: error_response(503, "service_unavailable"), fake_time, retry=retry
    ) as client:
        with pytest.raises(ServiceUnavailableError):
            await client.create_stream({"model": "m", "input": "hi"})


@pytest.mark.anyio
async def test_a_json_answer_to_a_stream_request_is_refused(fake_time: FakeTime) -> None:
    async with make_client(lambda _: json_response(200, {"id": "x"}), fake_time) as client:
        with pytest.raises(ResponseDecodeError):
            await client.create_stream({"model": "m", "input": "hi"})


@pytest.mark.anyio
async def test_an_error_event_raises_after_the_callback_saw_it(fake_time: FakeTime) -> None:
    events = hop_events("v1_a", WORDS)[:4]
    events.append({"event_type": "error", "error": {"code": "safety", "message": "blocked"}})
    events.append({"event_type": "step.delta", "index": 0, "delta": {"type": "text", "text": "x"}})
    seen = Collector()
    async with make_client(lambda _: sse_response(events), fake_time) as client:
        with pytest.raises(StreamError) as caught:
            await client.create_stream({"model": "m", "input": "hi"}, seen)
    assert isinstance(seen.events[-1], w.ErrorEvent)
    assert (caught.value.code, caught.value.message) == ("safety", "blocked")
    assert caught.value.interaction_id == "v1_a"
    assert caught.value.partial is not None and caught.value.partial.output_text == "The "


@pytest.mark.anyio
async def test_streamed_continuation_hops_are_followed_and_merged(fake_time: FakeTime) -> None:
    server = StreamServer(
        scripts={
            "v1_1": hop_events(
                "v1_1", ["one ", "two "], status="requires_continuation", token="tok1"
            ),
            "v1_2": hop_events("v1_2", ["three"]),
        },
        order=["v1_1", "v1_2"],
        drops=[None, 3],
    )
    seen = Collector()
    async with make_client(server, fake_time) as client:
        result = await client.create_stream({"model": "m", "input": "long"}, seen)
    assert seen.text == result.output_text == "one two three"
    assert result.id == "v1_2"
    assert result.continuation_ids == ["v1_1", "v1_2"]
    assert result.usage is not None and result.usage.total_tokens == 3
    assert server.bodies[1] == {
        "model": "m",
        "stream": True,
        "continuation_token": "tok1",
        "previous_interaction_id": "v1_1",
    }
    # The second hop dropped and was resumed under its own id.
    assert server.requests[2].url.path == "/v1beta/interactions/v1_2"


@pytest.mark.anyio
async def test_a_background_stream_is_not_continued(fake_time: FakeTime) -> None:
    server = StreamServer(
        scripts={"v1_1": hop_events("v1_1", ["a"], status="requires_continuation", token="t")},
        order=["v1_1"],
    )
    async with make_client(server, fake_time) as client:
        result = await client.create_stream({"model": "m", "input": "x", "background": True})
    assert result.status == "requires_continuation"
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_follow_tails_from_an_event_and_returns_the_fetched_interaction(
    fake_time: FakeTime,
) -> None:
    server = _server(drops=[2])
    seen = Collector()
    async with make_client(server, fake_time) as client:
        result = await client.follow("v1_a", last_event_id="v1_a-e3", on_event=seen)
    assert seen.ids == [f"v1_a-e{n}" for n in range(4, 11)]
    # Following from the middle still returns the whole interaction.
    assert result.output_text == "The quick brown fox jumps."
    assert isinstance(result.steps[0], w.UserInputStep)
    tail, resume, fetch = server.requests
    assert dict(tail.url.params) == {"stream": "true", "last_event_id": "v1_a-e3"}
    assert dict(resume.url.params) == {"stream": "true", "last_event_id": "v1_a-e5"}
    assert dict(fetch.url.params) == {}


@pytest.mark.anyio
async def test_follow_from_the_last_event_of_a_finished_interaction_returns(
    fake_time: FakeTime,
) -> None:
    server = _server()
    async with make_client(server, fake_time) as client:
        result = await client.follow("v1_a", last_event_id="v1_a-e10")
    assert result.status == "completed"
    assert [r.url.params.get("stream") for r in server.requests] == ["true", None, None]


@pytest.mark.anyio
async def test_follow_of_an_unknown_interaction_raises_not_found(fake_time: FakeTime) -> None:
    async with make_client(lambda _: error_response(404, "not_found"), fake_time) as client:
        with pytest.raises(NotFoundError):
            await client.follow("v1_nope")


@pytest.mark.anyio
@pytest.mark.parametrize("status", ["requires_action", "idle"])
async def test_a_stream_ending_on_a_waiting_status_update_needs_no_completion(
    fake_time: FakeTime, status: str
) -> None:
    events = [
        *hop_events("v1_a", ["x"])[:5],
        {
            "event_type": "interaction.status_update",
            "interaction_id": "v1_a",
            "status": status,
            "event_id": "s",
        },
    ]
    requests: list[httpx2.Request] = []

    def serve(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        return sse_response(events)

    async with make_client(serve, fake_time) as client:
        result = await client.create_stream({"model": "m", "input": "x"})
    assert result.status == status and result.needs_input
    # Nothing runs upstream while it waits for input: no resume, no status check.
    assert len(requests) == 1 and fake_time.sleeps == []


@pytest.mark.anyio
async def test_events_without_ids_are_not_repeated_after_a_resume(fake_time: FakeTime) -> None:
    events = hop_events("v1_a", WORDS)
    for event in events:
        event.pop("event_id")
    answers = iter(
        [sse_response(events[:5], error=httpx2.ReadError("reset")), sse_response(events)]
    )
    requests: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        return next(answers)

    seen = Collector()
    async with make_client(handler, fake_time) as client:
        result = await client.create_stream({"model": "m", "input": "hi"}, seen)
    assert seen.text == result.output_text == "The quick brown fox jumps."
    assert len(seen.events) == len(events)
    assert "last_event_id" not in requests[1].url.params
