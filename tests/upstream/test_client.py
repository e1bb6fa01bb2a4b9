from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import httpx2
import pytest
from pydantic import SecretStr

from gemini_interactions_mcp import __version__
from gemini_interactions_mcp.upstream import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContinuationInterruptedError,
    GeminiError,
    InteractionsClient,
    ModelNotFoundError,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    ServiceUnavailableError,
    next_hop_body,
)
from gemini_interactions_mcp.upstream.wire import Interaction

from .helpers import API_KEY, BASE_URL, FakeTime, error_response, json_response, make_client

DONE = {
    "id": "v1_a",
    "status": "completed",
    "steps": [{"type": "model_output", "content": [{"type": "text", "text": "hi"}]}],
}


class Recorder:
    """A MockTransport handler answering from a queue and keeping every request."""

    def __init__(self, *answers: httpx2.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def body(self, n: int) -> Any:
        return json.loads(self.requests[n].content)


@pytest.mark.anyio
async def test_create_posts_the_body_with_auth_and_user_agent(fake_time: FakeTime) -> None:
    rec = Recorder(json_response(200, DONE))
    async with make_client(rec, fake_time) as client:
        result = await client.create({"model": "m", "input": "hello", "stream": True})
    assert result.output_text == "hi"
    (request,) = rec.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/v1beta/interactions"
    assert request.headers["x-goog-api-key"] == API_KEY
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"gemini-interactions-mcp/{__version__}"
    # A unary create never asks for a stream, whatever the body said.
    assert rec.body(0) == {"model": "m", "input": "hello"}


@pytest.mark.anyio
async def test_get_cancel_and_delete_use_their_paths(fake_time: FakeTime) -> None:
    rec = Recorder(
        json_response(200, DONE),
        json_response(200, DONE),
        json_response(200, {"id": "v1_a", "status": "cancelled"}),
        json_response(200, {}),
    )
    async with make_client(rec, fake_time) as client:
        got = await client.get("v1_a")
        await client.get("v1_a", include_input=True)
        cancelled = await client.cancel("v1_a")
        await client.delete("v1_a")
    assert got.id == "v1_a"
    assert cancelled.status == "cancelled"
    seen = [(r.method, r.url.path, dict(r.url.params)) for r in rec.requests]
    assert seen == [
        ("GET", "/v1beta/interactions/v1_a", {}),
        ("GET", "/v1beta/interactions/v1_a", {"include_input": "true"}),
        ("POST", "/v1beta/interactions/v1_a/cancel", {}),
        ("DELETE", "/v1beta/interactions/v1_a", {}),
    ]
    assert rec.requests[2].content == b""


@pytest.mark.anyio
async def test_delete_accepts_an_empty_body(fake_time: FakeTime) -> None:
    rec = Recorder(httpx2.Response(200))
    async with make_client(rec, fake_time) as client:
        await client.delete("v1_a")


@pytest.mark.anyio
async def test_base_url_path_prefix_and_api_version_are_kept(fake_time: FakeTime) -> None:
    rec = Recorder(json_response(200, DONE))
    async with make_client(
        rec, fake_time, base_url="http://proxy.test/gemini/", api_version="v1alpha"
    ) as client:
        await client.get("v1/odd id")
    assert rec.requests[0].url.raw_path == b"/gemini/v1alpha/interactions/v1%2Fodd%20id"


@pytest.mark.anyio
async def test_empty_interaction_id_is_refused(fake_time: FakeTime) -> None:
    async with make_client(Recorder(json_response(200, DONE)), fake_time) as client:
        with pytest.raises(ValueError):
            await client.get("")


def test_constructor_refuses_an_empty_key_or_version() -> None:
    with pytest.raises(ValueError):
        InteractionsClient("")
    with pytest.raises(ValueError):
        InteractionsClient("k", api_version="/")


@pytest.mark.anyio
async def test_default_timeouts_are_explicit() -> None:
    async with InteractionsClient(SecretStr(API_KEY)) as client:
        timeout = client._http.timeout
        assert (timeout.connect, timeout.read) == (10.0, 120.0)
        assert str(client._http.base_url) == "https://generativelanguage.googleapis.com/"


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "invalid_request", BadRequestError),
        (401, "authentication", AuthenticationError),
        (404, "not_found", NotFoundError),
        (404, "model_not_found", ModelNotFoundError),
        (429, "rate_limit_exceeded", RateLimitError),
        (500, "api_error", ServerError),
        (503, "service_unavailable", ServiceUnavailableError),
    ],
)
@pytest.mark.anyio
async def test_error_statuses_raise_their_exception(
    fake_time: FakeTime, status: int, code: str, cls: type[Exception]
) -> None:
    rec = Recorder(error_response(status, code, "nope"))
    async with make_client(rec, fake_time, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(cls) as caught:
            await client.create({"model": "m", "input": "x"})
    assert type(caught.value) is cls
    assert str(caught.value) == f"{status} {code}: nope"


@pytest.mark.anyio
async def test_get_retries_server_errors_with_backoff(fake_time: FakeTime) -> None:
    rec = Recorder(
        error_response(500, "api_error"),
        error_response(502, "bad_gateway"),
        json_response(200, DONE),
    )
    async with make_client(rec, fake_time) as client:
        await client.get("v1_a")
    assert len(rec.requests) == 3
    assert fake_time.sleeps == [0.5, 1.0]


@pytest.mark.anyio
async def test_get_retries_a_dropped_response(fake_time: FakeTime) -> None:
    rec = Recorder(httpx2.ReadError("reset"), httpx2.ReadTimeout("slow"), json_response(200, DONE))
    async with make_client(rec, fake_time) as client:
        await client.get("v1_a")
    assert len(rec.requests) == 3


@pytest.mark.anyio
async def test_retry_after_is_slept_and_capped(fake_time: FakeTime) -> None:
    rec = Recorder(
        error_response(429, "rate_limit_exceeded", headers={"retry-after": "2"}),
        error_response(503, "service_unavailable", headers={"retry-after-ms": "250"}),
        json_response(200, DONE),
    )
    async with make_client(rec, fake_time) as client:
        await client.create({"model": "m", "input": "x"})
    assert fake_time.sleeps == [2.0, 0.25]

    rec = Recorder(error_response(429, "quota_exceeded", headers={"retry-after": "120"}))
    fake_time.sleeps.clear()
    async with make_client(rec, fake_time) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.get("v1_a")
    assert caught.value.retry_after == 120.0
    assert len(rec.requests) == 1
    assert fake_time.sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        error_response(429, "rate_limit_exceeded"),
        error_response(503, "service_unavailable"),
        httpx2.ConnectError("connection refused"),
        httpx2.ConnectTimeout("connect timed out"),
    ],
    ids=["429", "503", "refused", "connect-timeout"],
)
@pytest.mark.anyio
async def test_create_is_retried_when_no_work_can_have_started(
    fake_time: FakeTime, failure: Any
) -> None:
    rec = Recorder(failure, json_response(200, DONE))
    async with make_client(rec, fake_time) as client:
        result = await client.create({"model": "m", "input": "x"})
    assert result.id == "v1_a"
    assert len(rec.requests) == 2


@pytest.mark.parametrize(
    ("failure", "cls"),
    [
        (httpx2.ReadTimeout("read timed out"), APITimeoutError),
        (httpx2.RemoteProtocolError("peer closed connection"), APIConnectionError),
        (httpx2.ReadError("connection reset"), APIConnectionError),
        (error_response(500, "api_error"), ServerError),
    ],
    ids=["read-timeout", "dropped", "reset", "500"],
)
@pytest.mark.anyio
async def test_create_is_not_retried_once_work_may_have_started(
    fake_time: FakeTime, failure: Any, cls: type[Exception]
) -> None:
    rec = Recorder(failure, json_response(200, DONE))
    async with make_client(rec, fake_time) as client:
        with pytest.raises(cls):
            await client.create({"model": "m", "input": "x"})
    assert len(rec.requests) == 1
    assert fake_time.sleeps == []


@pytest.mark.anyio
async def test_non_json_success_raises_a_decode_error(fake_time: FakeTime) -> None:
    rec = Recorder(httpx2.Response(200, text="<html>"))
    async with make_client(rec, fake_time) as client:
        with pytest.raises(ResponseDecodeError):
            await client.get("v1_a")


def _hop(
    hop_id: str, text: str, status: str, token: str | None = None, tokens: int = 1
) -> httpx2.Response:
    data: dict[str, Any] = {
        "id": hop_id,
        "status": status,
        "steps": [{"type": "model_output", "content": [{"type": "text", "text": text}]}],
        "usage": {
            "total_tokens": tokens,
            "output_tokens_by_modality": [{"modality": "text", "tokens": tokens}],
        },
    }
    if token:
        data["continuation_token"] = token
    return json_response(200, data)


@pytest.mark.anyio
async def test_create_follows_continuation_hops_and_merges_them(fake_time: FakeTime) -> None:
    rec = Recorder(
        _hop("v1_1", "part1 ", "requires_continuation", "tok1", 2),
        _hop("v1_2", "part2 ", "requires_continuation", "tok2", 3),
        _hop("v1_3", "part3", "completed", None, 4),
    )
    async with make_client(rec, fake_time) as client:
        result = await client.create(
            {"model": "m", "input": "long", "tools": [{"type": "url_context"}]}
        )
    assert result.output_text == "part1 part2 part3"
    assert result.id == "v1_3"
    assert result.continuation_ids == ["v1_1", "v1_2", "v1_3"]
    assert result.usage is not None and result.usage.total_tokens == 9
    assert result.usage.output_tokens_by_modality[0].tokens == 9
    assert rec.body(1) == {
        "model": "m",
        "tools": [{"type": "url_context"}],
        "continuation_token": "tok1",
        "previous_interaction_id": "v1_1",
    }
    assert rec.body(2)["continuation_token"] == "tok2"
    assert rec.body(2)["previous_interaction_id"] == "v1_2"


@pytest.mark.anyio
async def test_unstored_continuation_resends_the_input(fake_time: FakeTime) -> None:
    rec = Recorder(
        _hop("v1_1", "a", "requires_continuation", "tok1"), _hop("v1_2", "b", "completed")
    )
    async with make_client(rec, fake_time) as client:
        result = await client.create({"model": "m", "input": "long", "store": False})
    assert result.output_text == "ab"
    assert rec.body(1) == {
        "model": "m",
        "input": "long",
        "store": False,
        "continuation_token": "tok1",
    }


@pytest.mark.anyio
async def test_continuation_is_bounded(fake_time: FakeTime) -> None:
    answers = [_hop(f"v1_{n}", str(n), "requires_continuation", f"tok{n}") for n in range(10)]
    rec = Recorder(*answers)
    async with make_client(rec, fake_time, max_continuation_hops=2) as client:
        result = await client.create({"model": "m", "input": "x"})
    assert len(rec.requests) == 3
    assert result.status == "requires_continuation"
    assert result.continuation_token == "tok2"
    assert result.output_text == "012"


@pytest.mark.anyio
async def test_background_and_agent_runs_are_not_continued(fake_time: FakeTime) -> None:
    for body in (
        {"model": "m", "background": True},
        {"agent": "deep-research-preview-04-2026", "background": True},
    ):
        rec = Recorder(_hop("v1_1", "a", "requires_continuation", "tok1"))
        async with make_client(rec, fake_time) as client:
            result = await client.create(body)
        assert len(rec.requests) == 1
        assert result.status == "requires_continuation"


def test_a_hop_that_returns_its_own_token_is_not_continued() -> None:
    hop = Interaction(id="v1_2", status="requires_continuation", continuation_token="tok1")
    assert next_hop_body({"model": "m", "continuation_token": "tok1"}, hop) is None
    assert (
        next_hop_body({"model": "m"}, Interaction(id="v1", status="requires_continuation")) is None
    )
    assert (
        next_hop_body(
            {"model": "m"}, Interaction(id="v1", status="incomplete", continuation_token="t")
        )
        is None
    )


@pytest.mark.anyio
async def test_the_api_key_never_leaks_into_logs_errors_or_reprs(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rec = Recorder(
        error_response(503, "service_unavailable", headers={"retry-after": "1"}),
        error_response(400, "invalid_request", f"key {API_KEY} is malformed"),
        httpx2.ConnectError(f"cannot reach {BASE_URL}"),
    )
    client = make_client(rec, fake_time, retry=RetryPolicy(max_attempts=2, jitter=0.0))
    errors: list[GeminiError] = []
    async with client:
        for _ in range(2):
            try:
                await client.create({"model": "m", "input": "x"})
            except GeminiError as exc:
                errors.append(exc)
        rec.answers = [httpx2.ConnectError("refused")]
        try:
            await client.get("v1_a")
        except GeminiError as exc:
            errors.append(exc)
    assert len(errors) == 3
    assert any("GET /v1beta/interactions/v1_a" in r.getMessage() for r in caplog.records)
    texts = [r.getMessage() for r in caplog.records] + [str(r.args) for r in caplog.records]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [repr(client), repr(client._http.auth), repr(client._http.headers)]
    assert all(API_KEY not in text for text in texts)
    assert "**********" in str(errors[0])


@pytest.mark.anyio
async def test_the_deadline_cuts_an_attempt_that_hangs() -> None:
    async def hang(request: httpx2.Request) -> httpx2.Response:
        await anyio.sleep(10)
        raise AssertionError("not reached")

    client = InteractionsClient(
        "k",
        base_url="http://upstream.test",
        transport=httpx2.MockTransport(hang),
        retry=RetryPolicy(deadline=0.2, jitter=0.0),
    )
    async with client:
        with anyio.fail_after(5), pytest.raises(APITimeoutError, match="deadline"):
            await client.get("v1_x")


@pytest.mark.anyio
async def test_a_connection_error_does_not_carry_the_key_in_its_cause() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    secret = "sekrit-key-123"
    client = InteractionsClient(
        secret,
        base_url="http://upstream.test",
        transport=httpx2.MockTransport(refuse),
        retry=RetryPolicy(max_attempts=1),
    )
    async with client:
        with pytest.raises(APIConnectionError) as caught:
            await client.get("v1_x")
    err: BaseException | None = caught.value
    while err is not None:
        assert secret not in repr(vars(err)) and secret not in str(err)
        err = err.__cause__ or err.__context__


@pytest.mark.anyio
async def test_only_200_is_success() -> None:
    def no_content(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(204)

    client = InteractionsClient(
        "k", base_url="http://upstream.test", transport=httpx2.MockTransport(no_content)
    )
    async with client:
        with pytest.raises(ResponseDecodeError, match="204"):
            await client.get("v1_x")


@pytest.mark.anyio
async def test_a_failed_continuation_hop_keeps_the_hops_already_paid_for() -> None:
    first_hop = {
        "id": "v1_hop1",
        "status": "requires_continuation",
        "continuation_token": "tok_1",
        "steps": [{"type": "model_output", "content": [{"type": "text", "text": "part one"}]}],
    }

    def answer(request: httpx2.Request) -> httpx2.Response:
        if "continuation_token" in json.loads(request.content):
            return httpx2.Response(500, json={"error": {"code": "api_error", "message": "x"}})
        return httpx2.Response(200, json=first_hop)

    client = InteractionsClient(
        "k",
        base_url="http://upstream.test",
        transport=httpx2.MockTransport(answer),
        retry=RetryPolicy(max_attempts=1),
    )
    async with client:
        with pytest.raises(ContinuationInterruptedError) as caught:
            await client.create({"model": "m", "input": "long"})
    err = caught.value
    assert isinstance(err.__cause__, ServerError)
    assert err.partial.output_text == "part one"
    assert err.continuation_token == "tok_1" and err.interaction_ids == ["v1_hop1"]
