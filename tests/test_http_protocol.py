"""The HTTP protocol closes connections whose request headers never complete."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from gemini_interactions_mcp.http_protocol import HeaderDeadlineProtocol

from .reliability import fault
from .serving import serving

pytestmark = pytest.mark.anyio


class QuickDeadline(HeaderDeadlineProtocol):
    header_seconds = 2.0


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]}
    )
    await send({"type": "http.response.body", "body": b"hello"})


@asynccontextmanager
async def serving_quick() -> AsyncIterator[int]:
    async with serving(hello, http=QuickDeadline, lifespan="off") as url:
        yield int(url.rsplit(":", 1)[1])


async def read_all(stream: anyio.abc.ByteStream) -> bytes:
    data = b""
    while True:
        try:
            chunk = await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            return data
        data += chunk


@fault(
    "transport",
    "a client that sends its request headers a byte at a time (or never finishes them)",
    sees="its connection is closed after 10 s; other clients are served",
    kept="connections for everyone else (at most 1,000 at once; past that, 503)",
)
async def test_a_connection_that_never_finishes_its_headers_is_closed() -> None:
    async with serving_quick() as port, await anyio.connect_tcp("127.0.0.1", port) as slow:
        await slow.send(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        with anyio.fail_after(20):
            assert await read_all(slow) == b""  # closed by the server, no answer


async def test_complete_requests_are_answered_and_the_connection_kept() -> None:
    async with serving_quick() as port, await anyio.connect_tcp("127.0.0.1", port) as fine:
        for _ in range(2):  # two requests, one connection
            await fine.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            with anyio.fail_after(20):
                answer = b""
                while not answer.endswith(b"hello"):
                    answer += await fine.receive()
            assert answer.startswith(b"HTTP/1.1 200")
