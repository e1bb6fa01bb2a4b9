"""The HTTP front of the server, in this process: the body limit answered with a sentence, and
the long-lived streams a stop ends cleanly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx2
import pytest

from gemini_interactions_mcp import http_serving
from gemini_interactions_mcp.http_protocol import HeaderDeadlineProtocol
from gemini_interactions_mcp.http_serving import Front, http_app, http_config
from gemini_interactions_mcp.server import build_server
from gemini_interactions_mcp.settings import Settings
from tests.messages import ACCEPT, INITIALIZE
from tests.serving import serving

from .helpers import open_session

pytestmark = pytest.mark.anyio

LISTEN = {"jsonrpc": "2.0", "id": 5, "method": "subscriptions/listen", "params": {}}


@pytest.fixture
async def front(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Front, str]]:
    # The deadline under test (not work that must finish): short, to keep the test short.
    monkeypatch.setattr(http_serving, "BODY_SECONDS", 2.0)
    settings = make_settings(max_attachment_bytes=3)
    app = http_app(build_server(settings), settings, "/mcp")
    async with serving(app) as base:
        yield app, f"{base}/mcp"


async def test_a_body_over_the_limit_gets_a_json_rpc_error_naming_it(
    front: tuple[Front, str],
) -> None:
    app, url = front
    too_big = b"x" * (app.limit + 1)

    async def chunks() -> AsyncIterator[bytes]:
        yield too_big[: app.limit]
        yield too_big[app.limit :]

    async with httpx2.AsyncClient(timeout=30) as http:
        declared = await http.post(url, content=too_big, headers=ACCEPT)
        streamed = await http.post(url, content=chunks(), headers=ACCEPT)
        fits = await http.post(url, json=INITIALIZE, headers=ACCEPT)
    for refused in (declared, streamed):
        assert refused.status_code == 413
        assert refused.headers["content-type"] == "application/json"
        assert refused.json()["error"]["message"] == app.too_large
    assert fits.status_code == 200


async def test_a_stop_ends_an_open_stream_cleanly_and_refuses_new_ones(
    front: tuple[Front, str],
) -> None:
    app, url = front
    async with httpx2.AsyncClient(timeout=30) as http:
        session = await open_session(http, url)
        async with http.stream("GET", url, headers=session) as stream:
            assert stream.status_code == 200
            app.close_streams()
            with anyio.fail_after(20):
                async for _ in stream.aiter_bytes():
                    pass  # ends without an error: the response was finished
        again = await http.get(url, headers=session)
        listen = await http.post(url, json=LISTEN, headers=ACCEPT)
        health = await http.get(url.removesuffix("/mcp") + "/healthz")
    for refused in (again, listen):
        assert refused.status_code == 503
        assert "shutting down" in refused.json()["error"]["message"]
    assert (health.status_code, health.text) == (200, "ok")


async def test_a_body_that_does_not_arrive_in_time_ends_the_request(
    front: tuple[Front, str],
) -> None:
    _, url = front
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    async with await anyio.connect_tcp(host, int(port)) as stream:
        head = (
            f"POST /mcp HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
            "accept: application/json, text/event-stream\r\ncontent-length: 100\r\n\r\n"
        )
        await stream.send(head.encode() + b'{"jsonrpc": "2.0"')  # and nothing more
        answer = b""
        with anyio.fail_after(30):  # a guard: the deadline is 2 s
            try:
                while chunk := await stream.receive():
                    answer += chunk
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                pass
    # The request ended, answered with what happened, instead of holding its connection.
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"did not arrive within 2 s" in answer


def test_uvicorn_gets_the_header_deadline_timeouts_cap_and_drain() -> None:
    settings = Settings(drain_seconds=7.0)
    config = http_config(Front(None, 1, ""), settings)  # type: ignore[arg-type]
    assert config.http is HeaderDeadlineProtocol
    assert config.timeout_keep_alive == 5 and config.limit_concurrency == 1000
    assert config.timeout_graceful_shutdown == 7.0 + 5.0
