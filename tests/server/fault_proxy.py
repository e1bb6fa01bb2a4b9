"""A loopback HTTP proxy between the server and the emulator that makes faults happen at a
chosen point of one request: before it is forwarded, once upstream has answered, after some
events of a stream, after the whole answer, or never answering at all.

Each request gets a connection of its own (the proxy asks upstream to close it after the
answer), so the proxy always knows which request the bytes belong to. It notes every request
it saw and, for creates, the interaction id upstream assigned (read from upstream's bytes, so
it is known even when the server never received them).
"""

from __future__ import annotations

import re
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import Enum

import anyio
from anyio.abc import SocketAttribute, SocketStream

__all__ = ["Exchange", "FaultProxy", "Point", "Trap", "fault_proxy"]

_ID = re.compile(rb'"id":\s*"([A-Za-z0-9_]+)"')
_HEAD_LIMIT = 64 * 1024


class Point(Enum):
    """Where in one request a trap springs."""

    BEFORE_REQUEST = "before the request is forwarded"
    AFTER_REQUEST = "once upstream answered, before any of it is relayed"
    AFTER_EVENTS = "after relaying some events of the answer"
    AFTER_RESPONSE = "after relaying the whole answer"
    HANG = "the request is taken and never answered"
    HOLD = "upstream's answer is held back until released"
    RESET = "the connection is reset after some events"


@dataclass
class Exchange:
    """One request the proxy saw."""

    method: str
    target: str
    interaction_id: str | None = None  # the first id upstream's answer names
    relayed_events: int = 0

    @property
    def is_create(self) -> bool:
        return self.method == "POST" and self.target.split("?")[0].endswith("/interactions")

    @property
    def is_stream_get(self) -> bool:
        return self.method == "GET" and "stream=true" in self.target


Action = Callable[[], Awaitable[None]]


@dataclass
class Trap:
    """A fault for the first request `matches` accepts (then the trap is spent).

    `action` runs at the point (say, killing the server); the connection to the server is then
    dropped, except for HOLD (the answer goes on once `release` is set) and AFTER_RESPONSE.
    For AFTER_EVENTS, the proxy relays `events` events, then waits for `ready` (if given) before
    acting, holding the rest back meanwhile."""

    matches: Callable[[Exchange], bool]
    point: Point
    action: Action | None = None
    events: int = 0
    ready: anyio.Event | None = None
    release: anyio.Event | None = None
    sprung: anyio.Event = field(default_factory=anyio.Event)
    exchange: Exchange | None = None

    async def spring(self, exchange: Exchange) -> None:
        self.exchange = exchange
        if self.ready is not None:
            with anyio.fail_after(60):  # a guard against a hang, not a measure of speed
                await self.ready.wait()
        if self.action is not None:
            await self.action()
        self.sprung.set()


class _Dropped(Exception):
    """The connection to the server is to be dropped here."""


class FaultProxy:
    """The proxy's state: what it saw, and the trap armed for the next matching request."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.url = ""
        self.exchanges: list[Exchange] = []
        self.trap: Trap | None = None

    @property
    def creates(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.is_create]

    @property
    def created_ids(self) -> list[str]:
        """The interaction ids upstream assigned to the creates it answered."""
        return [e.interaction_id for e in self.creates if e.interaction_id]

    def arm(self, trap: Trap) -> Trap:
        self.trap = trap
        return trap

    def _take(self, exchange: Exchange) -> Trap | None:
        trap = self.trap
        if trap is None or not trap.matches(exchange):
            return None
        self.trap = None
        return trap

    async def serve(self, client: SocketStream) -> None:
        async with client:
            try:
                await self._serve(client)
            except (_Dropped, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass
            except anyio.EndOfStream:
                pass

    async def _serve(self, client: SocketStream) -> None:
        head, body = await _read_request(client)
        method, target = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[:2]
        exchange = Exchange(method, target)
        self.exchanges.append(exchange)
        trap = self._take(exchange)
        point = trap.point if trap else None
        if trap is not None and point is Point.BEFORE_REQUEST:
            await trap.spring(exchange)
            raise _Dropped
        if trap is not None and point is Point.HANG:
            trap.exchange = exchange
            trap.sprung.set()
            await anyio.sleep_forever()  # until the proxy closes
        async with await anyio.connect_tcp(self.host, self.port) as upstream:
            await upstream.send(_closing(head) + body)
            await self._relay(upstream, client, exchange, trap)

    async def _relay(
        self, upstream: SocketStream, client: SocketStream, exchange: Exchange, trap: Trap | None
    ) -> None:
        seen = b""
        first = True
        async for chunk in upstream:
            if exchange.interaction_id is None:
                seen = (seen + chunk)[-_HEAD_LIMIT:]
                found = _ID.search(seen)
                if found:
                    exchange.interaction_id = found.group(1).decode()
            if first and trap is not None:
                first = False
                if trap.point is Point.AFTER_REQUEST:
                    await _read_id(upstream, exchange, seen)
                    await trap.spring(exchange)
                    raise _Dropped
                if trap.point is Point.HOLD:
                    trap.exchange = exchange
                    trap.sprung.set()
                    assert trap.release is not None
                    await trap.release.wait()
            if trap is not None and trap.point in (Point.AFTER_EVENTS, Point.RESET):
                await self._relay_counting(chunk, client, exchange, trap)
                continue
            await client.send(chunk)
            exchange.relayed_events += chunk.count(b"\n\n")
        if trap is not None and trap.point is Point.AFTER_RESPONSE:
            await trap.spring(exchange)

    async def _relay_counting(
        self, chunk: bytes, client: SocketStream, exchange: Exchange, trap: Trap
    ) -> None:
        """Relay `chunk` up to the trap's event, then spring it."""
        frames = chunk.split(b"\n\n")
        for i, frame in enumerate(frames):
            last = i == len(frames) - 1
            piece = frame if last else frame + b"\n\n"
            if piece:
                await client.send(piece)
            if not last:
                exchange.relayed_events += 1
                if exchange.relayed_events >= trap.events:
                    if trap.point is Point.RESET:
                        _reset(client)
                    await trap.spring(exchange)
                    raise _Dropped


async def _read_request(client: SocketStream) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _HEAD_LIMIT:
            raise _Dropped
        data += await client.receive()
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        body += await client.receive()
    return head, body


def _closing(head: bytes) -> bytes:
    """The request head asking upstream to close the connection after its answer."""
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n"


async def _read_id(upstream: SocketStream, exchange: Exchange, seen: bytes) -> None:
    """Read upstream's answer until it names the interaction (or ends)."""
    while exchange.interaction_id is None:
        try:
            seen += await upstream.receive()
        except anyio.EndOfStream:
            return
        found = _ID.search(seen)
        if found:
            exchange.interaction_id = found.group(1).decode()


def _reset(client: SocketStream) -> None:
    """Make the coming close a reset (RST) instead of an orderly end."""
    raw: socket.socket = client.extra(SocketAttribute.raw_socket)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@asynccontextmanager
async def fault_proxy(target: str) -> AsyncIterator[FaultProxy]:
    """A FaultProxy in front of `target` (http://host:port) for the length of the block."""
    proxy = FaultProxy(target)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    proxy.url = f"http://127.0.0.1:{listener.extra(SocketAttribute.local_port)}"
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, proxy.serve)
        try:
            yield proxy
        finally:
            tg.cancel_scope.cancel()
