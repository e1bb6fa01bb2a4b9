"""Fixtures shared by the server tests: the emulator on a loopback port, settings, clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gemini_interactions_mcp.emulator import (
    Emulator,
    EmulatorConfig,
    create_app,
    serve_in_background,
)
from gemini_interactions_mcp.settings import Settings

TEST_KEY = "test-key-not-secret"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(research_seconds=0.4)


@pytest.fixture
async def emulator_app(emulator_config: EmulatorConfig) -> AsyncIterator[tuple[Any, str]]:
    app = create_app(emulator_config)
    async with serve_in_background(app=app, host="127.0.0.1", port=0) as url:
        yield app, url


@pytest.fixture
def emulator_url(emulator_app: tuple[Any, str]) -> str:
    return emulator_app[1]


@pytest.fixture
def emulator(emulator_app: tuple[Any, str]) -> Emulator:
    """The emulator serving this test, for looking at what reached it."""
    emu: Emulator = emulator_app[0].state.emulator
    return emu


@pytest.fixture
def make_settings(emulator_url: str) -> Any:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "api_key": TEST_KEY,
            "base_url": emulator_url,
            "state": "memory",
            "call_budget": 20.0,
            "progress_interval": 5.0,
        }
        values.update(overrides)
        return Settings(**values)

    return make
