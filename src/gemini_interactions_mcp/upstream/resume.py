"""Reading one hop's event stream to its end, resuming it when the connection drops.

A drop (a transport error, or a stream that ends before the interaction did) is
followed by `GET /{v}/interactions/{id}?stream=true&last_event_id=<last seen>`, with
backoff, at most `max_resumes` times in a row without a new event. Every event reaches
the callback once, in order: events the server replays again are recognised by their
`event_id` and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing

import anyio
import httpx2

from .errors import APIStatusError, GeminiError, StreamError, StreamInterruptedError
from .retry import RetryPolicy, Sleeper
from .streaming import InteractionAssembler, iter_events
from .wire import ErrorEvent, Interaction, StreamEvent, is_running, merge_hops

__all__ = ["EventCallback", "Opener", "StreamRunner"]

_log = logging.getLogger(__name__)

# How long to read on after the completion event for the stream to end (it normally ends at
# once); past it the connection is closed instead of reused.
_DRAIN_SECONDS = 1.0

EventCallback = Callable[[StreamEvent], Awaitable[None]]
Opener = Callable[[], Awaitable[httpx2.Response]]
ResumeOpener = Callable[[str, str | None], Opener]
Fetch = Callable[[str], Awaitable[Interaction]]


class _Delivered:
    """What the caller has already been handed, so that a replay is never passed on twice."""

    def __init__(self, last_event_id: str | None) -> None:
        self.last_event_id = last_event_id
        self._ids: set[str] = set()
        # Events without an id cannot be named in a resume request; count them so
        # that the replay of those that follow the last id can be skipped.
        self._since_last_id = 0
        self._to_skip = 0

    def is_repeat(self, event: StreamEvent) -> bool:
        event_id = _event_id(event)
        if event_id is not None:
            return event_id in self._ids
        if self._to_skip:
            self._to_skip -= 1
            return True
        return False

    def record(self, event: StreamEvent) -> None:
        event_id = _event_id(event)
        if event_id is None:
            self._since_last_id += 1
            return
        self._ids.add(event_id)
        self.last_event_id = event_id
        self._since_last_id = 0

    def rewind(self) -> None:
        """Prepare for a replay that starts right after `last_event_id`."""
        self._to_skip = self._since_last_id


def _event_id(event: StreamEvent) -> str | None:
    value = event.event_id
    return value if isinstance(value, str) and value else None


class StreamRunner:
    """Runs hop streams for one client call; see the module docstring for the rules."""

    def __init__(
        self,
        *,
        on_event: EventCallback | None,
        fetch: Fetch,
        resume_opener: ResumeOpener,
        policy: RetryPolicy,
        sleep: Sleeper,
        max_resumes: int,
    ) -> None:
        self._on_event = on_event
        self._fetch = fetch
        self._resume_opener = resume_opener
        self._policy = policy
        self._sleep = sleep
        self._max_resumes = max_resumes

    async def run(
        self,
        opener: Opener,
        *,
        interaction_id: str | None = None,
        last_event_id: str | None = None,
        resumable: bool = True,
        previous: Sequence[Interaction] = (),
    ) -> Interaction:
        """Read a stream opened by `opener` until the interaction ends; return it assembled.

        Errors from the first `opener()` call propagate unchanged (nothing was read).
        `previous` hops only serve to build the `partial` of a raised error.
        """
        assembler = InteractionAssembler(interaction_id)
        delivered = _Delivered(last_event_id)
        failures = 0
        first = True
        while True:
            try:
                response = await opener()
            except GeminiError as exc:
                if first:
                    raise
                failures += 1
                if isinstance(exc, APIStatusError) or failures > self._max_resumes:
                    raise self._interrupted(
                        "the stream could not be resumed", assembler, delivered, previous
                    ) from exc
                await self._sleep(self._policy.backoff(failures - 1))
                continue
            first = False
            fresh, dropped = await self._consume(response, assembler, delivered, previous)
            if assembler.completed:
                return assembler.result()
            if fresh:
                failures = 0
            if dropped is None and await self._has_ended(assembler, fresh):
                return assembler.result()
            if not resumable:
                raise self._interrupted(
                    "the stream broke and an unstored interaction cannot be resumed",
                    assembler,
                    delivered,
                    previous,
                ) from dropped
            target = assembler.interaction_id
            if target is None:
                raise self._interrupted(
                    "the stream broke before the interaction id arrived",
                    assembler,
                    delivered,
                    previous,
                ) from dropped
            failures += 1
            if failures > self._max_resumes:
                raise self._interrupted(
                    f"the stream broke {failures} times without progress",
                    assembler,
                    delivered,
                    previous,
                ) from dropped
            wait = self._policy.backoff(failures - 1)
            _log.info(
                "stream of %s broke (%s); resuming after %s in %.2f s",
                target,
                type(dropped).__name__ if dropped else "early end",
                delivered.last_event_id,
                wait,
            )
            await self._sleep(wait)
            delivered.rewind()
            opener = self._resume_opener(target, delivered.last_event_id)

    async def _consume(
        self,
        response: httpx2.Response,
        assembler: InteractionAssembler,
        delivered: _Delivered,
        previous: Sequence[Interaction],
    ) -> tuple[bool, httpx2.TransportError | None]:
        """Deliver new events until the stream ends; say whether any were new and why it ended."""
        fresh = False
        try:
            async with aclosing(iter_events(response)) as events:
                async for event in events:
                    if delivered.is_repeat(event):
                        continue
                    fresh = True
                    delivered.record(event)
                    assembler.feed(event)
                    if self._on_event is not None:
                        await self._on_event(event)
                    if isinstance(event, ErrorEvent):
                        raise StreamError(
                            None if event.error.code is None else str(event.error.code),
                            event.error.message or "the interaction failed while streaming",
                            interaction_id=assembler.interaction_id,
                            partial=merge_hops([*previous, assembler.result()]),
                        )
                    if assembler.completed:
                        # Read the stream to its end (the server ends it right away) so that
                        # its connection goes back to the pool for the next request.
                        with anyio.move_on_after(_DRAIN_SECONDS):
                            async for _ in events:
                                pass
                        break
        except httpx2.TransportError as exc:
            return fresh, exc
        finally:
            await response.aclose()
        return fresh, None

    async def _has_ended(self, assembler: InteractionAssembler, fresh: bool) -> bool:
        """After a clean end of stream without `interaction.completed`: is the work over?"""
        if not is_running(assembler.status):
            return True
        interaction_id = assembler.interaction_id
        # Only ask when this stream had nothing new: a replay that adds nothing while
        # the interaction has stopped means the completion event will never come.
        if fresh or interaction_id is None:
            return False
        try:
            current = await self._fetch(interaction_id)
        except GeminiError as exc:
            _log.debug("status check of %s failed: %s", interaction_id, type(exc).__name__)
            return False
        if current.is_running:
            return False
        assembler.update(current)
        return True

    def _interrupted(
        self,
        message: str,
        assembler: InteractionAssembler,
        delivered: _Delivered,
        previous: Sequence[Interaction],
    ) -> StreamInterruptedError:
        return StreamInterruptedError(
            message,
            interaction_id=assembler.interaction_id,
            last_event_id=delivered.last_event_id,
            partial=merge_hops([*previous, assembler.result()]),
        )
