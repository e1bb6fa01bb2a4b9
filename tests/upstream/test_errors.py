from __future__ import annotations

import json

import httpx2
import pytest

from gemini_interactions_mcp.upstream.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GeminiError,
    ModelNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
    StreamError,
    StreamInterruptedError,
    connection_error,
    status_error,
)


def envelope(code: str | int, message: str = "msg", **extra: object) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, **extra}}).encode()


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "invalid_request", BadRequestError),
        (401, "authentication", AuthenticationError),
        (403, "permission_denied", PermissionDeniedError),
        (404, "not_found", NotFoundError),
        (404, "model_not_found", ModelNotFoundError),
        (409, "aborted", ConflictError),
        (429, "rate_limit_exceeded", RateLimitError),
        (500, "api_error", ServerError),
        (502, "bad_gateway", ServerError),
        (503, "service_unavailable", ServiceUnavailableError),
        (504, "deadline_exceeded", ServerError),
        (402, "payment_required", APIStatusError),
    ],
)
def test_status_maps_to_its_exception_class(
    status: int, code: str, cls: type[APIStatusError]
) -> None:
    err = status_error(status, {}, envelope(code, "it failed"))
    assert type(err) is cls
    assert (err.status_code, err.code, err.message) == (status, code, "it failed")
    assert str(err) == f"{status} {code}: it failed"


def test_model_not_found_is_a_not_found_error() -> None:
    err = status_error(404, {}, envelope("model_not_found"))
    assert isinstance(err, NotFoundError)
    assert isinstance(err, GeminiError)


def test_service_unavailable_is_a_server_error() -> None:
    assert isinstance(status_error(503, {}, b""), ServerError)


def test_legacy_google_shape_takes_the_status_as_code() -> None:
    body = envelope(400, "API key not valid.", status="INVALID_ARGUMENT")
    err = status_error(400, {}, body)
    assert isinstance(err, BadRequestError)
    assert err.code == "invalid_argument"
    assert err.message == "API key not valid."


def test_listed_envelope_is_unwrapped() -> None:
    body = json.dumps([{"error": {"code": "not_found", "message": "gone"}}]).encode()
    err = status_error(404, {}, body)
    assert (err.code, err.message) == ("not_found", "gone")


def test_non_json_body_becomes_the_message() -> None:
    err = status_error(502, {}, b"<html>Bad Gateway</html>")
    assert err.code is None
    assert err.message == "<html>Bad Gateway</html>"
    assert str(err) == "502: <html>Bad Gateway</html>"


def test_json_without_envelope_keeps_raw_text() -> None:
    err = status_error(500, {}, b'{"detail": "x"}')
    assert err.code is None
    assert err.message == '{"detail": "x"}'


def test_empty_body_gets_a_message() -> None:
    err = status_error(500, {}, b"")
    assert err.message == "HTTP 500 with no error message"


def test_long_message_is_truncated() -> None:
    err = status_error(500, {}, b"x" * 10_000)
    assert len(err.message) == 500


def test_retry_after_in_seconds() -> None:
    assert status_error(429, {"retry-after": "7"}, b"").retry_after == 7.0


def test_retry_after_ms_wins_over_retry_after() -> None:
    headers = {"retry-after-ms": "1500", "retry-after": "9"}
    assert status_error(503, headers, b"").retry_after == 1.5


def test_retry_after_as_http_date() -> None:
    now = 1_700_000_000.0  # 2023-11-14T22:13:20Z
    headers = {"retry-after": "Tue, 14 Nov 2023 22:13:32 GMT"}
    assert status_error(429, headers, b"", now=lambda: now).retry_after == 12.0


def test_retry_after_in_the_past_is_zero() -> None:
    headers = {"retry-after": "Tue, 14 Nov 2023 22:13:00 GMT"}
    assert status_error(429, headers, b"", now=lambda: 1_700_000_000.0).retry_after == 0.0


def test_unparsable_retry_after_is_ignored() -> None:
    headers = {"retry-after": "soon", "retry-after-ms": "later"}
    assert status_error(429, headers, b"").retry_after is None


def test_redact_scrubs_the_message() -> None:
    err = status_error(
        400,
        {},
        envelope("invalid_request", "bad key sk-123"),
        redact=lambda t: t.replace("sk-123", "***"),
    )
    assert "sk-123" not in str(err)
    assert "sk-123" not in repr(err)


def test_repr_names_every_field() -> None:
    err = status_error(429, {"retry-after": "2"}, envelope("quota_exceeded", "slow down"))
    assert repr(err) == (
        "RateLimitError(status_code=429, code='quota_exceeded', "
        "message='slow down', retry_after=2.0)"
    )


@pytest.mark.parametrize(
    ("exc", "cls", "sent", "transient"),
    [
        (httpx2.ConnectError("refused"), APIConnectionError, False, True),
        (httpx2.ConnectTimeout("slow"), APITimeoutError, False, True),
        (httpx2.PoolTimeout("pool"), APITimeoutError, False, True),
        (httpx2.ReadTimeout("read"), APITimeoutError, True, True),
        (httpx2.WriteTimeout("write"), APITimeoutError, True, True),
        (httpx2.ReadError("reset"), APIConnectionError, True, True),
        (httpx2.RemoteProtocolError("peer closed"), APIConnectionError, True, True),
        (httpx2.UnsupportedProtocol("ftp"), APIConnectionError, True, False),
    ],
)
def test_connection_error_knows_whether_the_request_left(
    exc: httpx2.TransportError, cls: type[APIConnectionError], sent: bool, transient: bool
) -> None:
    err = connection_error(exc)
    assert type(err) is cls
    assert err.request_sent is sent
    assert err.transient is transient
    assert type(exc).__name__ in str(err)


def test_stream_errors_carry_their_context() -> None:
    err = StreamError("safety", "blocked", interaction_id="v1_a")
    assert str(err) == "safety: blocked"
    assert err.interaction_id == "v1_a"
    assert str(StreamError(None, "failed")) == "failed"
    interrupted = StreamInterruptedError("gone", interaction_id="v1_a", last_event_id="e3")
    assert str(interrupted) == "gone (interaction_id='v1_a', last_event_id='e3')"
    assert interrupted.partial is None
