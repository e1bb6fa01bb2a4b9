"""Fixtures shared by the server tests: the emulator on a loopback port, settings, clients."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
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


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a Unix socket (no port to collide); skip if not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    socket = tmp_path_factory.mktemp("redis") / "redis.sock"
    process = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.stdout
    assert output is not None
    ready = threading.Event()

    def watch() -> None:
        # Drains the output for the server's whole life, so the pipe never fills up.
        for line in output:
            if "ready to accept connections" in line.lower():
                ready.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        # The server says when it is ready, so there is nothing to poll for.
        if not ready.wait(timeout=10):
            pytest.fail("redis-server did not become ready")
        yield f"unix://{socket}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        watcher.join(timeout=10)
        output.close()
