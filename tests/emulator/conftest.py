"""Fixtures of the emulator tests: an in-process app and clients (helpers are in helpers.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from starlette.applications import Starlette

from gemini_interactions_mcp.emulator import Emulator, EmulatorConfig, create_app

from .helpers import (
    KEY,
)


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(research_seconds=0.15)


@pytest.fixture
async def app(config: EmulatorConfig) -> AsyncIterator[Starlette]:
    application = create_app(config)
    # ASGITransport runs no lifespan; enter it so work runs on the app's task group.
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def emu(app: Starlette) -> Emulator:
    emulator: Emulator = app.state.emulator
    return emulator


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emu", headers=KEY) as c:
        yield c


@pytest.fixture
async def live(app: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    """A client for the same app served on a real loopback port (for streaming)."""
    from gemini_interactions_mcp.emulator import serve_in_background

    async with (
        serve_in_background(app=app) as base_url,
        httpx2.AsyncClient(base_url=base_url, headers=KEY) as c,
    ):
        yield c
