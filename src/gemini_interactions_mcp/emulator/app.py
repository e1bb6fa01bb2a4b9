"""The HTTP face of the emulator: a Starlette app speaking the Interactions wire.

Routes, for any version segment and behind any path prefix:
``POST /{v}/interactions``, ``GET|DELETE /{v}/interactions/{id}`` and
``POST /{v}/interactions/{id}/cancel``; the same under Vertex AI's
``/{v}/projects/{project}/locations/{location}/`` (interactions made there are seen
only there), and ``GET /{v}/models`` (the Gemini API's model listing, see
:mod:`.catalog`). Anything else is a 404 with the error envelope.

Credentials: ``x-goog-api-key`` (or ``?key=``), checked against
``EmulatorConfig.api_key``, or ``Authorization: Bearer <token>``, checked against
``EmulatorConfig.access_token``; unset, any non-empty value passes.

The endpoint is a raw ASGI callable because two faults need control a framework
response does not give: cutting a connection after the headers, or mid-stream.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import anyio
from starlette.applications import Starlette
from starlette.routing import Route as StarletteRoute

from . import catalog, sse
from .config import EmulatorConfig
from .emulator import Emulator, RecordedRequest
from .errors import ApiError, invalid, not_found
from .record import Record

logger = logging.getLogger(__name__)

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
REDACTED = "REDACTED"
_SECRET_HEADERS = frozenset({"x-goog-api-key", "authorization"})


@dataclass
class JsonReply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamReply:
    record: Record
    after: int = 0


@dataclass(frozen=True)
class Operation:
    """What a request names: the operation, the interaction id and the Vertex AI parent."""

    operation: str
    interaction_id: str | None = None
    parent: str = ""


def match(path: str, method: str) -> Operation | None:
    """Which operation a path names, or None."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[-1] == "models" and "projects" not in parts:
        return Operation("models") if method == "GET" else None
    if len(parts) >= 2 and parts[-1] == "interactions" and method == "POST":
        found: tuple[str, str | None, int] = ("create", None, len(parts) - 1)
    elif len(parts) >= 3 and parts[-2] == "interactions" and method in ("GET", "DELETE"):
        found = (method.lower(), parts[-1], len(parts) - 2)
    elif len(parts) >= 4 and parts[-3] == "interactions" and parts[-1] == "cancel":
        if method != "POST":
            return None
        found = ("cancel", parts[-2], len(parts) - 3)
    else:
        return None
    operation, interaction_id, at = found
    prefix = parts[:at]
    if "projects" not in prefix:
        return Operation(operation, interaction_id)
    # Vertex AI: .../{v}/projects/{project}/locations/{location}/interactions...
    if len(prefix) < 5 or prefix[-4] != "projects" or prefix[-2] != "locations":
        return None
    return Operation(operation, interaction_id, "/".join(prefix[-4:]))


class InteractionsEndpoint:
    """The single ASGI endpoint behind every path."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        method = str(scope["method"]).upper()
        raw = await _read_body(receive)
        query = dict(parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True))
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        try:
            payload = json.loads(raw) if raw.strip() else None
        except ValueError:
            payload = None
            bad_json = True
        else:
            bad_json = False
        self.emulator.record_request(_recorded(method, scope["path"], query, headers, payload))
        route = match(str(scope["path"]), method)
        drop = False
        try:
            if route is None:
                raise not_found(f"No route for {method} {scope['path']}.")
            wants_stream = query.get("stream") == "true" or (
                isinstance(payload, dict) and payload.get("stream") is True
            )
            fault = self.emulator.take_fault(method, stream=wants_stream)
            if fault is not None and not fault.drop_after_headers:
                raise fault.error()
            drop = fault is not None
            self.emulator.check_credentials(*_credentials(headers, query))
            self.emulator.check_rate()
            if bad_json:
                raise invalid("Invalid JSON payload received.")
            reply = await self._dispatch(route, query, payload)
        except ApiError as exc:
            reply = JsonReply(exc.envelope(), exc.status, exc.headers)
        if isinstance(reply, JsonReply):
            await _send_json(send, reply, cut=drop)
        else:
            await self._send_stream(send, receive, reply, cut=drop)

    async def _dispatch(
        self, route: Operation, query: dict[str, str], payload: Any
    ) -> JsonReply | StreamReply:
        operation, interaction_id, parent = route.operation, route.interaction_id, route.parent
        emulator = self.emulator
        if operation == "models":
            return JsonReply(catalog.page(emulator.config.models, query))
        if operation == "create":
            created = await emulator.create(payload, parent=parent)
            if created.request.stream:
                return StreamReply(created.record)
            if not created.request.background:
                await created.record.wait_finished()
                if created.unary_error is not None:
                    raise created.unary_error
            return JsonReply(created.record.view(full=False))
        assert interaction_id is not None
        if operation == "cancel":
            return JsonReply(emulator.cancel(interaction_id, parent=parent))
        if operation == "delete":
            emulator.delete(interaction_id, parent=parent)
            return JsonReply({})
        record = emulator.lookup(interaction_id, parent=parent)
        if _flag(query.get("stream")):
            after = 0
            if query.get("last_event_id"):
                found = record.event_index(query["last_event_id"])
                if found is None:
                    raise invalid(f"Unknown last_event_id '{query['last_event_id']}'.")
                after = found
            return StreamReply(record, after)
        return JsonReply(record.view(full=True, include_input=_flag(query.get("include_input"))))

    async def _send_stream(
        self, send: Send, receive: Receive, reply: StreamReply, *, cut: bool
    ) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-cache"),
                    (b"x-accel-buffering", b"no"),
                ],
            }
        )
        if cut:
            return
        record = reply.record
        limit = None
        if record.drop_after is not None and not record.drop_used:
            record.drop_used, limit = True, record.drop_after
        sent = 0
        async with anyio.create_task_group() as group:
            group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
            events: AsyncIterator[dict[str, Any]] = self.emulator.tail(record, reply.after)
            async for event in events:
                if limit is not None and sent >= limit:
                    cut = True
                    break
                await send(
                    {"type": "http.response.body", "body": sse.frame(event), "more_body": True}
                )
                sent += 1
            group.cancel_scope.cancel()
        if not cut:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        # Returning without the final body message makes the server cut the connection.


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send_json(send: Send, reply: JsonReply, *, cut: bool) -> None:
    body = json.dumps(reply.body, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json")]
    if not cut:
        # A known length: without it the answer goes out chunked, and the client then
        # waits on a separate final chunk (tens of ms of loopback delayed ACK per request).
        headers.append((b"content-length", str(len(body)).encode()))
    headers += [(k.lower().encode(), v.encode()) for k, v in reply.headers.items()]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    if not cut:
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


def _credentials(headers: dict[str, str], query: dict[str, str]) -> tuple[str | None, str | None]:
    """The API key and the bearer token a request carries (either may be missing)."""
    key = headers.get("x-goog-api-key") or query.get("key") or None
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return key, (token.strip() if scheme.lower() == "bearer" and token.strip() else None)


def _recorded(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], payload: Any
) -> RecordedRequest:
    return RecordedRequest(
        method=method,
        path=path,
        query={k: REDACTED if k == "key" else v for k, v in query.items()},
        headers={k: REDACTED if k in _SECRET_HEADERS else v for k, v in headers.items()},
        json=payload,
    )


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """The emulator as a Starlette app; ``app.state.emulator`` is its :class:`Emulator`."""
    emulator = Emulator(config or EmulatorConfig())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            emulator.attach(group)
            try:
                yield
            finally:
                emulator.shutdown()
                group.cancel_scope.cancel()

    app = Starlette(
        routes=[StarletteRoute("/{path:path}", InteractionsEndpoint(emulator))], lifespan=lifespan
    )
    app.state.emulator = emulator
    return app
