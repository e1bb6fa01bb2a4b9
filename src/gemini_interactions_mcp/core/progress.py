"""Progress notifications for a long call: monotonic, with a heartbeat when upstream is idle."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio

Send = Callable[[float, str], Awaitable[None]]

# Text-so-far updates are throttled; state changes (a search, a thought) always go out.
_TEXT_EVERY = 0.25


class Progress:
    """Numbers each report so progress strictly increases, and remembers when it last spoke."""

    def __init__(self, send: Send | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._send = send
        self._clock = clock
        self._count = 0
        self._last = clock()
        self._last_text = -_TEXT_EVERY
        self.started = self._last

    async def report(self, message: str) -> None:
        """Send one progress notification (nothing if the caller asked for none)."""
        self._count += 1
        self._last = self._clock()
        if self._send is not None:
            await self._send(float(self._count), message)

    async def text(self, message: str) -> None:
        """A text-so-far update, throttled."""
        now = self._clock()
        if now - self._last_text >= _TEXT_EVERY:
            self._last_text = now
            await self.report(message)

    def silent_for(self) -> float:
        return self._clock() - self._last

    def elapsed(self) -> float:
        return self._clock() - self.started


@asynccontextmanager
async def reporting(
    send: Send | None, *, interval: float, waiting: str = "waiting for Gemini"
) -> AsyncIterator[Progress]:
    """A Progress that also reports at least every `interval` seconds while nothing happens."""
    progress = Progress(send)

    async def heartbeat() -> None:
        while True:
            await anyio.sleep(max(0.05, interval - progress.silent_for()))
            if progress.silent_for() >= interval:
                await progress.report(f"{waiting} ({progress.elapsed():.0f} s)")

    if send is None:
        yield progress
        return
    failure: BaseException | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(heartbeat)
        try:
            yield progress
        except BaseException as exc:
            # Re-raised below, outside the task group, so callers see it unwrapped.
            failure = exc
        finally:
            tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
