"""Serving any ASGI app on a loopback port inside the test's event loop."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import uvicorn

STARTUP_TIMEOUT = 10.0


class _InTest(uvicorn.Server):
    """A uvicorn server that leaves the test process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: Any, **options: Any) -> AsyncIterator[str]:
    """Serve `app` (its lifespan included) on a free loopback port; yields its base URL.
    `options` go to uvicorn's Config (e.g. another `http` protocol class)."""
    config = {"log_level": "warning", "lifespan": "on", "timeout_graceful_shutdown": 2}
    server = _InTest(uvicorn.Config(app, host="127.0.0.1", port=0, **{**config, **options}))
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        try:
            with anyio.fail_after(STARTUP_TIMEOUT):
                while not server.started:  # uvicorn says so by a flag only
                    if server.should_exit:
                        raise RuntimeError("the app did not start")
                    await anyio.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
