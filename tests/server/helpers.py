"""Small helpers for driving the server through a real MCP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.types import CallToolResult, TextContent

from gemini_interactions_mcp.server import build_server
from gemini_interactions_mcp.settings import Settings
from tests.messages import ACCEPT, INITIALIZE, INITIALIZED

MODES = ["auto", "legacy"]


@asynccontextmanager
async def connect(
    settings: Settings, *, mode: str = "auto", **kwargs: Any
) -> AsyncIterator[Client]:
    """An in-memory MCP client session against a fresh server."""
    server = build_server(settings, **kwargs)
    async with Client(server, mode=mode) as client:
        yield client


def text_of(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def ok(result: CallToolResult) -> dict[str, Any]:
    """The structured result of a successful call (fails the test with the error text)."""
    assert not result.is_error, text_of(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def error(result: CallToolResult) -> str:
    assert result.is_error, f"expected an error, got {result.structured_content}"
    return text_of(result)


async def ask_until_writing(
    client: Client, prompt: str, then: Callable[[], Awaitable[None]]
) -> CallToolResult:
    """`gemini_ask` with `prompt`; once the answer streams (its id recorded), run `then` while
    the call goes on; the call's result."""
    writing = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        if message and message.startswith("writing"):
            writing.set()

    result: list[CallToolResult] = []

    async def ask() -> None:
        result.append(
            await client.call_tool("gemini_ask", {"prompt": prompt}, progress_callback=on_progress)
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(ask)
        with anyio.fail_after(30):
            await writing.wait()
        await then()
    return result[0]


async def open_session(http: httpx2.AsyncClient, url: str) -> dict[str, str]:
    """Open a handshake-era MCP session over HTTP; the headers its later requests carry."""
    opened = await http.post(url, json=INITIALIZE, headers=ACCEPT)
    session = {**ACCEPT, "mcp-session-id": opened.headers["mcp-session-id"]}
    session["mcp-protocol-version"] = INITIALIZE["params"]["protocolVersion"]
    await http.post(url, json=INITIALIZED, headers=session)
    return session


async def collect(client: Client, answer: dict[str, Any]) -> dict[str, Any]:
    """Collect an answer returned `in_progress` with `gemini_continue` and no prompt, as a
    client following the tools' notes does, until it is no longer running."""
    with anyio.fail_after(60):
        while answer["status"] == "in_progress":
            answer = ok(
                await client.call_tool(
                    "gemini_continue", {"conversation_id": answer["conversation_id"]}
                )
            )
    return answer


class ProgressLog:
    """A progress callback that records every notification."""

    def __init__(self) -> None:
        self.events: list[tuple[float, float | None, str | None]] = []

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.events.append((progress, total, message))

    @property
    def messages(self) -> list[str]:
        return [m for _, _, m in self.events if m]

    def assert_monotonic(self) -> None:
        values = [p for p, _, _ in self.events]
        assert values == sorted(values) and len(set(values)) == len(values), values


@asynccontextmanager
async def counting_proxy(target: str) -> AsyncIterator[tuple[str, list[int]]]:
    """A loopback TCP proxy to `target` (http://host:port); yields its URL and a one-item list
    counting the connections it accepted."""
    from anyio.abc import SocketStream

    host, port = target.removeprefix("http://").rsplit(":", 1)
    accepted = [0]

    async def pipe(source: SocketStream, sink: SocketStream) -> None:
        try:
            async for chunk in source:
                await sink.send(chunk)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        finally:
            await sink.aclose()

    async def serve(client: SocketStream) -> None:
        accepted[0] += 1
        async with (
            client,
            await anyio.connect_tcp(host, int(port)) as upstream,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(pipe, client, upstream)
            tg.start_soon(pipe, upstream, client)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    bound = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, serve)
        try:
            yield f"http://127.0.0.1:{bound}", accepted
        finally:
            tg.cancel_scope.cancel()
