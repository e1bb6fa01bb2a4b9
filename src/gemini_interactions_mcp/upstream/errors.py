"""Exceptions raised by the upstream client.

```
GeminiError
├── APIConnectionError            the request or response never completed (transport)
│   └── APITimeoutError           connect, read, write or pool timeout
├── APIStatusError                the API answered with an HTTP error status
│   ├── BadRequestError           400
│   ├── AuthenticationError       401
│   ├── PermissionDeniedError     403
│   ├── NotFoundError             404
│   │   └── ModelNotFoundError    404 with code "model_not_found"
│   ├── ConflictError             409
│   ├── RateLimitError            429
│   └── ServerError               5xx
│       └── ServiceUnavailableError  503
├── CredentialsError              no access token could be had (credentials, google-auth)
├── ResponseDecodeError           a 2xx answer that is not the JSON or SSE we asked for
├── StreamError                   an in-stream `error` event
├── StreamInterruptedError        a stream broke and could not be resumed
└── ContinuationInterruptedError  a continuation hop failed after earlier hops were paid for
```

`status_error` is the one place where an HTTP status becomes an exception;
`connection_error` is the one place where a transport failure does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx2

if TYPE_CHECKING:
    from .wire import Interaction

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ContinuationInterruptedError",
    "CredentialsError",
    "GeminiError",
    "ModelNotFoundError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseDecodeError",
    "ServerError",
    "ServiceUnavailableError",
    "StreamError",
    "StreamInterruptedError",
    "connection_error",
    "status_error",
]

# A proxy or load balancer may answer with a whole HTML page; keep the message readable.
_MAX_MESSAGE_CHARS = 500

# Transport failures raised before any byte of the request left this process: the
# server cannot have started work, so even a create may be retried.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)
# Failures that are worth retrying at all (others are configuration or client bugs).
_TRANSIENT = (httpx2.NetworkError, httpx2.TimeoutException, httpx2.RemoteProtocolError)


class GeminiError(Exception):
    """Base class of every error raised by the upstream client."""


class APIConnectionError(GeminiError):
    """The HTTP exchange failed below the HTTP status level (DNS, refused, reset, ...).

    `request_sent` is False only when the request provably never reached the server.
    """

    def __init__(self, message: str, *, request_sent: bool = True, transient: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.request_sent = request_sent
        self.transient = transient


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout expired."""


class APIStatusError(GeminiError):
    """The API answered with an HTTP error status."""

    def __init__(
        self,
        status_code: int,
        code: str | None,
        message: str,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        label = f"{self.status_code} {self.code}" if self.code else str(self.status_code)
        return f"{label}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, code={self.code!r}, "
            f"message={self.message!r}, retry_after={self.retry_after!r})"
        )


class BadRequestError(APIStatusError):
    """400: the request is invalid; sending it again will not help."""


class AuthenticationError(APIStatusError):
    """401: the API key or access token is missing or not valid."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this resource."""


class NotFoundError(APIStatusError):
    """404: unknown, deleted or unstored interaction (or path)."""


class ModelNotFoundError(NotFoundError):
    """404 `model_not_found`: the model or agent id is unknown or retired."""


class ConflictError(APIStatusError):
    """409: the resource is in a state that does not allow this."""


class RateLimitError(APIStatusError):
    """429: rate limit or quota exceeded; `retry_after` says when to try again, if known."""


class ServerError(APIStatusError):
    """5xx: the API failed."""


class ServiceUnavailableError(ServerError):
    """503: the API is overloaded or down for a moment."""


class CredentialsError(GeminiError):
    """No access token could be had: the credentials are missing, refused or cannot refresh.

    Only the operator can fix this (log in again, point at other credentials, install
    the `vertex` extra); no request was sent.
    """


class ResponseDecodeError(GeminiError):
    """A success status came with a body that is not what was asked for."""


class StreamError(GeminiError):
    """The stream carried an `error` event (the interaction failed upstream)."""

    def __init__(
        self,
        code: str | None,
        message: str,
        *,
        interaction_id: str | None = None,
        partial: Interaction | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.interaction_id = interaction_id
        self.partial = partial
        super().__init__(f"{code}: {message}" if code else message)


class StreamInterruptedError(GeminiError):
    """The stream broke and every attempt to resume it failed.

    The interaction may still be running upstream: `interaction_id` and `last_event_id`
    are what a later `follow()` needs; `partial` is what had arrived so far.
    """

    def __init__(
        self,
        message: str,
        *,
        interaction_id: str | None,
        last_event_id: str | None,
        partial: Interaction | None = None,
    ) -> None:
        self.message = message
        self.interaction_id = interaction_id
        self.last_event_id = last_event_id
        self.partial = partial
        super().__init__(message)

    def __str__(self) -> str:
        return (
            f"{self.message} (interaction_id={self.interaction_id!r}, "
            f"last_event_id={self.last_event_id!r})"
        )


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def status_error(
    status_code: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    redact: Callable[[str], str] = lambda text: text,
    now: Callable[[], float] = time.time,
) -> APIStatusError:
    """Build the exception for an HTTP error answer.

    Reads the `{"error": {"code", "message"}}` envelope, the legacy Google shape
    (`{"error": {"code": 400, "status": "INVALID_ARGUMENT", ...}}`) or a non-JSON body,
    and `retry-after-ms` / `Retry-After` (seconds or an HTTP date). `redact` scrubs
    secrets a proxy might echo back; `now` is the wall clock used for HTTP dates.
    """
    code, message = _parse_error_body(body)
    if not message:
        message = f"HTTP {status_code} with no error message"
    message = redact(message)[:_MAX_MESSAGE_CHARS]
    retry_after = _retry_after_seconds(headers, now)
    if status_code == 404 and code == "model_not_found":
        cls: type[APIStatusError] = ModelNotFoundError
    elif status_code in _STATUS_CLASSES:
        cls = _STATUS_CLASSES[status_code]
    elif 500 <= status_code <= 599:
        cls = ServerError
    else:
        cls = APIStatusError
    return cls(status_code, code, message, retry_after)


def connection_error(exc: httpx2.TransportError) -> APIConnectionError:
    """Wrap an httpx2 transport failure, noting whether the request can have been sent."""
    detail = str(exc) or type(exc).__name__
    cls = APITimeoutError if isinstance(exc, httpx2.TimeoutException) else APIConnectionError
    return cls(
        f"{type(exc).__name__}: {detail}",
        request_sent=not isinstance(exc, _NOT_SENT),
        transient=isinstance(exc, _TRANSIENT),
    )


def _parse_error_body(body: bytes) -> tuple[str | None, str]:
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None, text
    # Some Google front ends wrap the envelope in a one-element list.
    if isinstance(data, list) and data:
        data = data[0]
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, text
    raw_code = error.get("code")
    code: str | None
    if isinstance(raw_code, str) and raw_code:
        code = raw_code
    elif isinstance(error.get("status"), str):
        code = str(error["status"]).lower()
    else:
        code = None
    message = error.get("message")
    return code, message if isinstance(message, str) else text


def _retry_after_seconds(headers: Mapping[str, str], now: Callable[[], float]) -> float | None:
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now(), 0.0)


class ContinuationInterruptedError(GeminiError):
    """A later continuation hop failed; the earlier hops' work is kept here.

    `partial` merges the hops that succeeded; `continuation_token` and the last of
    `interaction_ids` are what a manual resume of the turn needs. The hop's own error
    is the `__cause__`.
    """

    def __init__(
        self,
        message: str,
        *,
        partial: Interaction,
        continuation_token: str | None,
        interaction_ids: list[str],
    ) -> None:
        self.message = message
        self.partial = partial
        self.continuation_token = continuation_token
        self.interaction_ids = interaction_ids
        super().__init__(message)
