"""The Gemini API's model listing, page after page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from gemini_interactions_mcp.emulator import EmulatorConfig, create_app
from gemini_interactions_mcp.upstream import (
    InteractionsClient,
    ModelInfo,
    ResponseDecodeError,
    RetryPolicy,
    vertex_ai,
)

from .helpers import FakeTime


@pytest.fixture
async def app() -> AsyncIterator[Starlette]:
    application = create_app(EmulatorConfig())
    async with application.router.lifespan_context(application):
        yield application


def emulated(app: Starlette) -> InteractionsClient:
    return InteractionsClient("k", base_url="http://emu", transport=httpx2.ASGITransport(app=app))


@pytest.mark.anyio
async def test_list_models_reads_every_page_into_typed_models(app: Starlette) -> None:
    async with emulated(app) as client:
        models = await client.list_models(page_size=7)
    served = sorted(app.state.emulator.config.models)
    assert [m.id for m in models] == served
    assert all(isinstance(m, ModelInfo) for m in models)
    flash = next(m for m in models if m.id == "gemini-3-flash-preview")
    assert flash.name == "models/gemini-3-flash-preview"
    assert flash.display_name == "Gemini 3 Flash Preview"
    assert flash.input_token_limit and flash.output_token_limit
    assert "generateContent" in flash.supported_generation_methods
    assert flash.thinking is True
    requests = app.state.emulator.requests
    assert len(requests) == -(-len(served) // 7)
    assert requests[0].query == {"pageSize": "7"}
    assert all(r.query["pageToken"] for r in requests[1:])


@pytest.mark.anyio
async def test_one_page_can_be_read_on_its_own(app: Starlette) -> None:
    async with emulated(app) as client:
        first = await client.list_model_page(page_size=2)
        second = await client.list_model_page(page_size=2, page_token=first.next_page_token)
    assert len(first.models) == len(second.models) == 2
    assert first.models[-1].id < second.models[0].id


class Pages:
    """A listing server answering with the given pages in turn."""

    def __init__(self, *pages: Any) -> None:
        self.pages = list(pages)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        page = self.pages.pop(0) if len(self.pages) > 1 else self.pages[0]
        if isinstance(page, httpx2.Response):
            return page
        return httpx2.Response(200, json=page)


def mocked(pages: Pages, fake_time: FakeTime) -> InteractionsClient:
    return InteractionsClient(
        "k",
        base_url="http://upstream.test",
        transport=httpx2.MockTransport(pages),
        retry=RetryPolicy(jitter=0.0),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )


@pytest.mark.anyio
async def test_a_listing_that_repeats_a_page_token_is_an_error(fake_time: FakeTime) -> None:
    pages = Pages({"models": [{"name": "models/a"}], "nextPageToken": "same"})
    async with mocked(pages, fake_time) as client:
        with pytest.raises(ResponseDecodeError, match="twice"):
            await client.list_models()


@pytest.mark.anyio
async def test_a_listing_that_never_ends_stops_at_the_page_bound() -> None:
    counter = iter(range(100))

    def endless(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"models": [], "nextPageToken": f"t{next(counter)}"})

    client = InteractionsClient(
        "k", base_url="http://upstream.test", transport=httpx2.MockTransport(endless)
    )
    async with client:
        with pytest.raises(ResponseDecodeError, match="3 pages"):
            await client.list_models(max_pages=3)


@pytest.mark.anyio
async def test_a_transient_failure_of_a_page_is_retried(fake_time: FakeTime) -> None:
    pages = Pages(
        httpx2.Response(503, json={"error": {"code": "service_unavailable", "message": "x"}}),
        {"models": [{"name": "models/a", "unknownField": 1}]},
    )
    async with mocked(pages, fake_time) as client:
        (model,) = await client.list_models()
    assert model.id == "a" and model.model_extra == {"unknownField": 1}
    assert fake_time.sleeps == [0.5]


@pytest.mark.anyio
async def test_an_answer_that_is_not_a_listing_is_an_error(fake_time: FakeTime) -> None:
    async with mocked(Pages({"models": "everything"}), fake_time) as client:
        with pytest.raises(ResponseDecodeError, match="not a model listing"):
            await client.list_models()


@pytest.mark.anyio
@pytest.mark.parametrize("size", [0, 1001])
async def test_a_page_size_out_of_range_is_refused(fake_time: FakeTime, size: int) -> None:
    async with mocked(Pages({"models": []}), fake_time) as client:
        with pytest.raises(ValueError):
            await client.list_models(page_size=size)


@pytest.mark.anyio
async def test_listing_models_on_vertex_ai_is_refused_before_any_request() -> None:
    def never(request: httpx2.Request) -> httpx2.Response:
        raise AssertionError("no request expected")

    client = InteractionsClient(
        "k", endpoint=vertex_ai("p", "global"), transport=httpx2.MockTransport(never)
    )
    async with client:
        with pytest.raises(ValueError, match="Gemini API"):
            await client.list_models()


def test_a_model_keeps_the_camel_case_wire_names_when_written_back() -> None:
    raw = {
        "name": "models/gemini-x",
        "baseModelId": "gemini-x",
        "displayName": "Gemini X",
        "inputTokenLimit": 10,
        "maxTemperature": 2.0,
        "topK": 64,
        "supportedActions": ["generateContent"],
    }
    model = ModelInfo.model_validate(raw)
    assert (model.id, model.base_model_id, model.top_k) == ("gemini-x", "gemini-x", 64)
    assert model.to_wire() == raw
