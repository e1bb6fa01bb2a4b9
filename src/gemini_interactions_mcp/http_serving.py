"""Streamable HTTP with uvicorn: the MCP app behind this server's limits, and a drain on stop.

In front of the SDK's app, a request body over the limit is answered 413 with a JSON-RPC error
that names the limit (the official client shows its message). Connections that dawdle over
their headers are closed (`http_protocol`), idle kept-alive ones after a few seconds, and past
`MAX_CONNECTIONS` new ones get 503.

On SIGTERM (or Ctrl-C) the server drains: it stops accepting connections and new tool calls;
calls in flight get `drain_seconds` to finish, then return ``in_progress`` with their handle
(collectable from another replica or after the restart); long-lived streams (a handshake-era
``GET``, a ``subscriptions/listen``) are closed at once so their clients reconnect elsewhere;
and as the lifespan ends, research watchers hand their leases over to the other replicas.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
import uvicorn

from .http_policy import (
    BODY_SECONDS,
    KEEP_ALIVE_SECONDS,
    MAX_CONNECTIONS,
    body_limit,
    body_too_large,
    transport_security,
)
from .http_protocol import HeaderDeadlineProtocol

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from .core.call import InFlight
    from .settings import Settings
    from .tools.surface import GeminiMCPServer

__all__ = ["CLOSE_SECONDS", "Front", "http_app", "serve_http"]

logger = logging.getLogger(__name__)

# After the drain, this long for the last results to be written and the lifespan to end.
CLOSE_SECONDS = 5.0
_LISTEN = "subscriptions/listen"
# A request body this small may be a `subscriptions/listen` (a long-lived stream); larger
# ones are tool calls and the like, and are not looked into.
_PEEK_BYTES = 64 * 1024
_SHUTTING_DOWN = "This server is shutting down; connect again in a moment."


class Front:
    """ASGI middleware before the MCP app: the body limit answered with its sentence, a
    deadline for a request's body, and the long-lived requests a stop closes.

    The body is not read here: the app reads it (after its Host, Origin and authentication
    checks) through a `receive` that keeps the deadline and notes a `subscriptions/listen`.
    """

    def __init__(self, app: ASGIApp, limit: int, too_large: str, path: str = "/mcp") -> None:
        self.app = app
        self.limit = limit
        self.too_large = too_large
        self.path = path
        self.closing = False
        self._requests: set[_Request] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_size(scope)
        if declared is not None and declared > self.limit:
            await _refuse(send, 413, self.too_large)
            return
        mcp = scope["path"].rstrip("/") == self.path.rstrip("/")
        request = _Request(self, receive, send, stream=mcp and _wants_events(scope), mcp=mcp)
        if request.long_lived and self.closing:
            await _refuse(send, 503, _SHUTTING_DOWN)
            return
        self._requests.add(request)
        try:
            with request.scope:
                await self.app(scope, request.receive, request.send)
        finally:
            self._requests.discard(request)
        if request.scope.cancelled_caught:
            await request.end()

    def close_streams(self) -> None:
        """End every long-lived request now, and refuse new ones."""
        self.closing = True
        for request in list(self._requests):
            if request.long_lived:
                request.scope.cancel()


def _wants_events(scope: Scope) -> bool:
    """A GET of an event stream (a handshake-era session's)."""
    if scope["method"] != "GET":
        return False
    return any(
        name == b"accept" and b"text/event-stream" in value for name, value in scope["headers"]
    )


class _Request:
    """One request passing through: its body's deadline, whether it is long-lived, and its
    response (which a stop may end early)."""

    def __init__(
        self, front: Front, receive: Receive, send: Send, *, stream: bool, mcp: bool
    ) -> None:
        self.front = front
        self.mcp = mcp  # a request of the MCP endpoint, whose body limit is the front's
        self._receive = receive
        self._send = send
        self.long_lived = stream
        self.scope = anyio.CancelScope()
        self._body_by = anyio.current_time() + BODY_SECONDS
        self._body_done = False
        self._seen = 0
        self._peek: list[bytes] | None = []
        self._started = self._ended = self._replaced = False
        self.too_slow = False

    async def receive(self) -> Message:
        if self.too_slow:
            return {"type": "http.disconnect"}
        if self._body_done:
            return await self._receive()
        with anyio.move_on_after(max(0.0, self._body_by - anyio.current_time())):
            message = await self._receive()
            self._take(message)
            return message
        # The body did not arrive in time: the request ends here, answered 408 by the front.
        self.too_slow = True
        self.scope.cancel()
        return {"type": "http.disconnect"}

    def _take(self, message: Message) -> None:
        if message["type"] != "http.request":
            self._body_done = True
            return
        chunk = message.get("body", b"")
        self._seen += len(chunk)
        if self._peek is not None:
            self._peek.append(chunk)
            if self._seen > _PEEK_BYTES:
                self._peek = None
        if not message.get("more_body", False):
            self._body_done = True
            if self._peek is not None and _is_listen(b"".join(self._peek)):
                self.long_lived = True
                if self.front.closing:
                    self.scope.cancel()
            self._peek = None

    async def send(self, message: Message) -> None:
        if self.mcp and message["type"] == "http.response.start" and message["status"] == 413:
            # The app's own body limit: answered with the sentence that names it.
            self._replaced = True
            await _refuse(self._send, 413, self.front.too_large)
            self._started = self._ended = True
            return
        if self._replaced:
            return
        await self._send(message)
        # Noted once sent: a response cut short by a stop is ended from what really went out.
        if message["type"] == "http.response.start":
            self._started = True
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self._ended = True

    async def end(self) -> None:
        """Finish a response its request was cut short of (a stop, or a body too slow)."""
        if not self._started:
            if self.too_slow:
                sentence = (
                    f"The request body did not arrive within {BODY_SECONDS:g} s; send it again."
                )
                await _refuse(self._send, 408, sentence)
            else:
                await _refuse(self._send, 503, _SHUTTING_DOWN)
        elif not self._ended:
            # A clean end of the stream, so the client reconnects.
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})


def _declared_size(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None


def _is_listen(body: bytes) -> bool:
    if _LISTEN.encode() not in body:
        return False
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("method") == _LISTEN


async def _refuse(send: Send, status: int, sentence: str) -> None:
    """A JSON-RPC error the official client shows as it is (no request id is known here)."""
    error = {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": sentence}}
    body = json.dumps(error).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def http_app(server: GeminiMCPServer[Any], settings: Settings, path: str) -> Front:
    """The MCP app at `path`, with the Host and Origin checks and limits of `settings`."""
    limit = body_limit(settings)
    app = server.streamable_http_app(
        streamable_http_path=path,
        transport_security=transport_security(settings),
        max_request_body_size=limit,
        host=settings.host,
    )
    return Front(app, limit, body_too_large(settings), path)


class DrainingServer(uvicorn.Server):
    """uvicorn's server, draining tool calls and closing streams when told to stop."""

    def __init__(
        self,
        config: uvicorn.Config,
        front: Front,
        in_flight: Callable[[], InFlight | None],
        drain_seconds: float,
    ) -> None:
        super().__init__(config)
        self.front = front
        self.in_flight = in_flight
        self.drain_seconds = drain_seconds

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        calls = self.in_flight()
        if calls is not None:
            if len(calls):
                logger.warning(
                    "Stopping: %d tool call(s) in flight have %g s to finish.",
                    len(calls),
                    self.drain_seconds,
                )
            calls.stop(self.drain_seconds)
        self.front.close_streams()
        await super().shutdown(sockets)


def http_config(app: Front, settings: Settings, **options: Any) -> uvicorn.Config:
    """uvicorn's settings for this server: its protocol, timeouts, connection cap and drain."""
    values: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "http": HeaderDeadlineProtocol,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "limit_concurrency": MAX_CONNECTIONS,
        "timeout_graceful_shutdown": settings.drain_seconds + CLOSE_SECONDS,
        "log_level": "info" if settings.verbose else "warning",
        "lifespan": "on",
    }
    return uvicorn.Config(app, **{**values, **options})


def serve_http(server: GeminiMCPServer[Any], settings: Settings, path: str) -> None:
    """Serve until stopped (SIGTERM or Ctrl-C drain first)."""
    front = http_app(server, settings, path)

    def in_flight() -> InFlight | None:
        return server.running.in_flight if server.running is not None else None

    DrainingServer(http_config(front, settings), front, in_flight, settings.drain_seconds).run()
