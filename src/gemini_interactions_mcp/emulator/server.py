"""Running the emulator on a real port: forever (the CLI) or for the length of a test."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Iterator

import anyio
import uvicorn
from starlette.applications import Starlette

from .app import REDACTED, create_app
from .config import SHUTDOWN_GRACE_S, EmulatorConfig
from .emulator import Emulator

STARTUP_TIMEOUT_S = 10.0

_KEY_IN_QUERY = re.compile(r"([?&]key=)[^&\s\"']*", re.IGNORECASE)


class _IntentionalDrops(logging.Filter):
    """Hides uvicorn's complaint about the connections the emulator cuts on purpose.

    The emulator only ever leaves a response unfinished to emulate a dropped connection
    (``[[drop K]]``, ``fail_next(drop_after_headers=True)``), so it is not an error here.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("ASGI callable returned without completing")


class _RedactedKeys(logging.Filter):
    """Blanks the API key a client may send as ``?key=...``, which access lines would show."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: _redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def _redact(text: str) -> str:
    return _KEY_IN_QUERY.sub(rf"\g<1>{REDACTED}", text)


@contextlib.contextmanager
def _log_filters() -> Iterator[None]:
    """Quiet intentional drops and redact API keys in uvicorn's logs while serving."""
    attached = [
        (logging.getLogger("uvicorn.error"), _IntentionalDrops()),
        (logging.getLogger("uvicorn.error"), _RedactedKeys()),
        (logging.getLogger("uvicorn.access"), _RedactedKeys()),
    ]
    for logger, log_filter in attached:
        logger.addFilter(log_filter)
    try:
        yield
    finally:
        for logger, log_filter in attached:
            logger.removeFilter(log_filter)


async def serve(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the emulator until the process is told to stop.

    Access lines are logged (to stdout, as uvicorn does) with any ``?key=`` value redacted.
    """
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host=host, port=port, log_level="info", timeout_graceful_shutdown=SHUTDOWN_GRACE_S
        )
    )
    with _log_filters():
        await server.serve()


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves the host process's signal handlers alone.

    It also stops as soon as it is told to, instead of at uvicorn's next 0.1 s poll:
    test suites start and stop one for nearly every test.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stop = anyio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def main_loop(self) -> None:
        while not self.should_exit:
            with anyio.move_on_after(1.0):
                await self._stop.wait()
            # Counter 0 makes uvicorn refresh its cached Date header, as its own loop does.
            self.should_exit = await self.on_tick(0) or self.should_exit

    def stop(self) -> None:
        self.should_exit = True
        self._stop.set()


@contextlib.asynccontextmanager
async def serve_in_background(
    config: EmulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    app: Starlette | None = None,
) -> AsyncIterator[str]:
    """Serve on a loopback port inside the current event loop; yields the base URL.

    ``port=0`` picks a free port. Pass ``app`` (from :func:`create_app`) instead of a
    config to inspect its ``app.state.emulator`` while it serves. On exit, open streams
    are ended and the server stops.
    """
    if app is None:
        app = create_app(config)
    emulator: Emulator = app.state.emulator
    server = _EmbeddedServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        )
    )
    # uvicorn binds the port itself: handing it a socket bound here made every request
    # on a kept-alive connection wait ~40 ms on loopback.
    with _log_filters():
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve)
            try:
                bound = await _bound_port(server)
                yield f"http://{_url_host(host)}:{bound}"
            finally:
                emulator.shutdown()
                server.stop()


async def _bound_port(server: uvicorn.Server) -> int:
    """The port uvicorn listens on, once it has started (it says so by a flag)."""
    with anyio.fail_after(STARTUP_TIMEOUT_S):
        while not server.started:
            if server.should_exit:
                raise RuntimeError("the emulator failed to start")
            await anyio.sleep(0.005)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return port


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
