"""One tool call as the core sees it: who calls, where progress goes, and when it must end.

Every wait of a call is a cancel scope made by `Call.within`, so that when the server stops
(SIGTERM over HTTP) `InFlight.stop` can bring each call's end forward: a turn then returns
`in_progress` with its handle, collectable from another replica or after the restart. The
recording of a turn's interaction id is shielded and is never cut short.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import anyio

from .errors import ToolError
from .progress import Progress

__all__ = ["Call", "InFlight"]

STOPPING = (
    "This server is shutting down; call again in a moment (another replica, or the server "
    "once restarted, will answer)."
)
STOPPED = (
    "This server is shutting down, so the call ended early; Gemini keeps working and the "
    "answer can be collected from another replica or after the restart."
)


@dataclass(eq=False)
class Call:
    """The caller of one tool call; `budget` seconds bound everything the call waits for."""

    owner: str
    progress: Progress
    budget: float
    local_files: bool = False
    started: float = field(default_factory=anyio.current_time)
    # Set when the server stops and brings this call's end forward: the note to give.
    stopping: str | None = None
    _scopes: list[anyio.CancelScope] = field(default_factory=list)

    @property
    def deadline(self) -> float:
        """When the call's budget runs out (on anyio's clock)."""
        return self.started + self.budget

    def remaining(self) -> float:
        """Seconds left of this call's budget."""
        return max(0.0, self.deadline - anyio.current_time())

    def elapsed(self) -> float:
        return anyio.current_time() - self.started

    def within(self, deadline: float | None = None, *, shield: bool = False) -> anyio.CancelScope:
        """A scope for one wait: it ends at `deadline` (default: the end of the budget), or
        sooner if the server stops (unless shielded then)."""
        scope = anyio.CancelScope(
            deadline=self.deadline if deadline is None else min(deadline, self.deadline),
            shield=shield,
        )
        self._scopes = [s for s in self._scopes if not s.cancel_called]
        self._scopes.append(scope)
        return scope

    def end_by(self, when: float, note: str) -> None:
        """Bring the call's end forward to `when` (anyio's clock): waits end then, except a
        shielded one, which meets the new deadline when it lifts its shield."""
        if when >= self.deadline:
            return
        self.budget = max(0.0, when - self.started)
        self.stopping = note
        for scope in self._scopes:
            if not scope.shield:
                scope.deadline = min(scope.deadline, when)


class InFlight:
    """The tool calls this server is answering; a stop ends them in time, refuses new ones,
    and tells when none is left."""

    def __init__(self) -> None:
        self._calls: set[Call] = set()
        self._idle = anyio.Event()
        self._idle.set()
        self.stopping = False

    def __len__(self) -> int:
        return len(self._calls)

    @contextmanager
    def admit(self, call: Call) -> Iterator[Call]:
        """Count `call` as in flight while the block runs; refused once the server stops."""
        if self.stopping:
            raise ToolError(STOPPING)
        self._calls.add(call)
        if len(self._calls) == 1:
            self._idle = anyio.Event()
        try:
            yield call
        finally:
            self._calls.discard(call)
            if not self._calls:
                self._idle.set()

    def stop(self, grace: float) -> None:
        """Refuse new calls; calls in flight get `grace` seconds more at most."""
        self.stopping = True
        when = anyio.current_time() + grace
        for call in list(self._calls):
            call.end_by(when, STOPPED)

    async def idle(self) -> None:
        """Return once no call is in flight."""
        await self._idle.wait()
