"""Helpers of the upstream tests: constants, fake time, SSE frames and servers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from gemini_interactions_mcp.upstream import InteractionsClient, RetryPolicy

API_KEY = "AIzaSy-test-secret-key-0123456789"


BASE_URL = "http://upstream.test"


Handler = Callable[[httpx2.Request], Any]


class FakeTime:
    """A clock that only moves when the client sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(
    handler: Handler,
    fake_time: FakeTime,
    *,
    retry: RetryPolicy | None = None,
    **kwargs: Any,
) -> InteractionsClient:
    """A client on a MockTransport, with no jitter so sleeps are exact."""
    return InteractionsClient(
        API_KEY,
        base_url=kwargs.pop("base_url", BASE_URL),
        transport=httpx2.MockTransport(handler),
        retry=retry or RetryPolicy(jitter=0.0),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        **kwargs,
    )


def sse_frame(payload: dict[str, Any] | str, *, event: str | None = None) -> bytes:
    """One SSE frame; `event:` defaults to the payload's event_type, as the real server sends."""
    if isinstance(payload, str):
        return f"data: {payload}\n\n".encode()
    name = event if event is not None else payload.get("event_type")
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(payload)}\n\n".encode()


class ChunkStream(httpx2.AsyncByteStream):
    """A response body sent in chunks, optionally failing after the last one."""

    def __init__(self, chunks: Iterable[bytes], error: Exception | None = None) -> None:
        self._chunks = list(chunks)
        self._error = error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk
        if self._error is not None:
            raise self._error

    async def aclose(self) -> None:
        return None


def sse_response(
    events: Iterable[dict[str, Any] | str], *, error: Exception | None = None
) -> httpx2.Response:
    return httpx2.Response(
        200,
        headers={"content-type": "text/event-stream"},
        stream=ChunkStream([sse_frame(e) for e in events], error),
    )


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, json=data, headers=headers)


def error_response(
    status: int, code: str, message: str = "boom", headers: dict[str, str] | None = None
) -> httpx2.Response:
    return json_response(status, {"error": {"code": code, "message": message}}, headers)


def hop_events(
    interaction_id: str,
    texts: list[str],
    *,
    status: str = "completed",
    token: str | None = None,
    prefix: str | None = None,
    usage: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The events of one streamed hop with one model_output step of text deltas."""
    prefix = prefix or interaction_id
    events: list[dict[str, Any]] = [
        {
            "event_type": "interaction.created",
            "interaction": {"id": interaction_id, "status": "in_progress", "model": "m"},
        },
        {
            "event_type": "interaction.status_update",
            "interaction_id": interaction_id,
            "status": "in_progress",
        },
        {"event_type": "step.start", "index": 0, "step": {"type": "model_output"}},
    ]
    events += [
        {"event_type": "step.delta", "index": 0, "delta": {"type": "text", "text": t}}
        for t in texts
    ]
    events.append({"event_type": "step.stop", "index": 0})
    completed: dict[str, Any] = {"id": interaction_id, "status": status, "model": "m"}
    if token:
        completed["continuation_token"] = token
    completed["usage"] = usage or {"total_tokens": len(texts), "total_output_tokens": len(texts)}
    events.append({"event_type": "interaction.completed", "interaction": completed})
    for n, event in enumerate(events, start=1):
        event["event_id"] = f"{prefix}-e{n}"
    return events


@dataclass
class StreamServer:
    """A minimal streaming upstream: POST streams an interaction, GET resumes it.

    `drops` lists, per stream opened, after how many events the connection breaks
    (None = no break); the events of each interaction are fixed up front.
    """

    scripts: dict[str, list[dict[str, Any]]]
    order: list[str]
    drops: list[int | None] = field(default_factory=list)
    drop_error: Callable[[], Exception] = lambda: httpx2.RemoteProtocolError("peer closed")
    requests: list[httpx2.Request] = field(default_factory=list)
    bodies: list[dict[str, Any] | None] = field(default_factory=list)
    created: int = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        self.bodies.append(json.loads(request.content) if request.content else None)
        if request.method == "POST":
            interaction_id = self.order[self.created]
            self.created += 1
            events = self.scripts[interaction_id]
        else:
            interaction_id = request.url.path.rsplit("/", 1)[-1]
            events = self.scripts[interaction_id]
            if request.url.params.get("stream") != "true":
                return json_response(200, self.final(interaction_id))
            last = request.url.params.get("last_event_id")
            if last:
                ids = [e.get("event_id") for e in events]
                events = events[ids.index(last) + 1 :]
        cut = self.drops.pop(0) if self.drops else None
        if cut is None:
            return sse_response(events)
        return sse_response(events[:cut], error=self.drop_error())

    def final(self, interaction_id: str) -> dict[str, Any]:
        events = self.scripts[interaction_id]
        completed = next(e for e in reversed(events) if e["event_type"] == "interaction.completed")
        text = "".join(
            e["delta"]["text"]
            for e in events
            if e["event_type"] == "step.delta" and e["delta"]["type"] == "text"
        )
        return {
            **completed["interaction"],
            "steps": [
                {"type": "user_input", "content": [{"type": "text", "text": "hi"}]},
                {"type": "model_output", "content": [{"type": "text", "text": text}]},
            ],
        }
