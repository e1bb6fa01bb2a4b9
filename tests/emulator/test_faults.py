"""Injected faults, rate limits and latency, for client retry tests."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from gemini_interactions_mcp.emulator import EmulatorConfig, create_app

from .helpers import KEY, MODEL, URL, create, read_sse

pytestmark = pytest.mark.anyio
BODY = {"model": MODEL, "input": "x"}


async def test_fail_next_answers_the_status_with_retry_headers_then_recovers(
    client: httpx2.AsyncClient, app: Starlette
) -> None:
    app.state.emulator.fail_next(503, count=2, retry_after=2, retry_after_ms=1)
    for _ in range(2):
        response = await client.post(URL, json=BODY)
        assert (response.status_code, response.json()["error"]["code"]) == (
            503,
            "service_unavailable",
        )
        assert (response.headers["retry-after"], response.headers["retry-after-ms"]) == ("2", "1")
    assert (await client.post(URL, json=BODY)).status_code == 200
    assert app.state.emulator.interactions.keys().__len__() == 1


async def test_fail_next_only_hits_the_chosen_methods(
    client: httpx2.AsyncClient, app: Starlette
) -> None:
    created = await create(client, input="x")
    app.state.emulator.fail_next(500, methods=("GET",))
    assert (await client.post(URL, json=BODY)).status_code == 200
    response = await client.get(f"{URL}/{created['id']}")
    assert (response.status_code, response.json()["error"]["code"]) == (500, "api_error")
    assert (await client.get(f"{URL}/{created['id']}")).status_code == 200


async def test_a_dropped_response_still_creates_the_interaction(
    app: Starlette, live: httpx2.AsyncClient
) -> None:
    app.state.emulator.fail_next(200, drop_after_headers=True)
    with pytest.raises(httpx2.TransportError):
        await live.post(URL, json=BODY)
    (stored,) = app.state.emulator.interactions.values()
    assert stored["status"] == "completed"


async def test_a_dropped_stream_response_is_cut_before_any_event(
    app: Starlette, live: httpx2.AsyncClient
) -> None:
    app.state.emulator.fail_next(200, drop_after_headers=True)
    events, cut = await read_sse(live, "POST", URL, json={**BODY, "stream": True})
    assert (events, cut) == ([], True)
    assert len(app.state.emulator.interactions) == 1


async def test_over_the_rate_limit_is_429_with_retry_after_until_the_minute_passes() -> None:
    app = create_app(EmulatorConfig(requests_per_minute=2))
    now = [1000.0]
    app.state.emulator.clock = lambda: now[0]
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emu", headers=KEY) as c:
        assert (await c.post(URL, json=BODY)).status_code == 200
        now[0] += 15
        assert (await c.post(URL, json=BODY)).status_code == 200
        limited = await c.post(URL, json=BODY)
        assert (limited.status_code, limited.json()["error"]["code"]) == (
            429,
            "rate_limit_exceeded",
        )
        assert limited.headers["retry-after"] == "45"
        now[0] += 45
        assert (await c.post(URL, json=BODY)).status_code == 200


async def test_latency_delays_creates_without_breaking_them() -> None:
    app = create_app(EmulatorConfig(latency_ms=5, delta_delay_ms=1))
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emu", headers=KEY) as c:
        response = await c.post(URL, json=BODY)
    assert response.json()["status"] == "completed"


async def test_the_sdk_retries_an_injected_fault_and_succeeds(app: Starlette) -> None:
    from google import genai

    app.state.emulator.fail_next(503, retry_after_ms=1)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emu") as http:
        options = genai.types.HttpOptions(
            base_url="http://emu",
            api_version="v1beta",
            retry_options=genai.types.HttpRetryOptions(attempts=2),
            httpx_async_client=http,
        )
        client = genai.Client(api_key="k", http_options=options)
        result: Any = await client.aio.interactions.create(model=MODEL, input="retry")
        await client.aio.aclose()
    assert result.output_text == "turn 1: retry"
    assert [r.method for r in app.state.emulator.requests] == ["POST", "POST"]
