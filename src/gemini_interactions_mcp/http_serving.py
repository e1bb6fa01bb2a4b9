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


class Front:
    """ASGI middleware before the MCP app: the body limit with a sentence, and the long-lived
    requests a stop closes."""

    def __init__(self, app: ASGIApp, limit: int, too_large: str) -> None:
        self.app = app
        self.limit = limit
        self.too_large = too_large
        self.closing = False
        self._streams: set[anyio.CancelScope] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        long_lived = scope["method"] == "GET"
        if scope["method"] == "POST":
            body = await self._body(scope, receive)
            if body is None:
                await _refuse(send, 413, self.too_large)
                return
            receive = _replay(body, receive)
            long_lived = _is_listen(body)
        if not long_lived:
            await self.app(scope, receive, send)
            return
        if self.closing:
            await _refuse(send, 503, "This server is shutting down; connect again in a moment.")
            return
        response = _Response(send)
        with anyio.CancelScope() as stream:
            self._streams.add(stream)
            try:
                await self.app(scope, receive, response.send)
            finally:
                self._streams.discard(stream)
        if stream.cancelled_caught:
            await response.end()  # a clean end of the stream, so the client reconnects

    def close_streams(self) -> None:
        """End every long-lived request now, and refuse new ones."""
        self.closing = True
        for stream in list(self._streams):
            stream.cancel()

    async def _body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole request body, or None when it is over the limit."""
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


class _Response:
    """A response being sent, which can be ended early."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = self.ended = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.ended = True
        await self._send(message)

    async def end(self) -> None:
        if not self.started:
            await _refuse(self._send, 503, "This server is shutting down; connect again.")
        elif not self.ended:
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read, then whatever comes next."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


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
    return Front(app, limit, body_too_large(settings))


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
