"""Limits per caller that protect a shared key: tool calls per minute, and research running at
once. The call rate is counted in this process (a sliding minute, on the server's clock); the
running research are counted in the store, so replicas agree on them.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

from .errors import ToolError
from .lease import start_cut_short

if TYPE_CHECKING:
    from .context import ServerContext

__all__ = ["CallRate", "check_running_research"]

MINUTE = 60.0


class CallRate:
    """Each caller's tool calls over the last minute."""

    def __init__(self, server: ServerContext) -> None:
        self.server = server
        self._calls: dict[str, deque[float]] = {}

    def admit(self, owner: str) -> None:
        """Count one call of `owner`, or refuse it when the last minute already had the limit."""
        limit = self.server.settings.calls_per_minute
        if limit <= 0:
            return
        now = self.server.clock()
        calls = self._calls.setdefault(owner, deque())
        while calls and calls[0] <= now - MINUTE:
            calls.popleft()
        if len(calls) >= limit:
            wait = max(1, math.ceil(calls[0] + MINUTE - now))
            raise ToolError(
                f"Over the limit of {limit} tool calls per minute for each caller; "
                f"try again in {wait} s."
            )
        calls.append(now)
        if len(self._calls) > 10_000:
            # Forget callers that have been quiet for a minute (bounded memory).
            self._calls = {o: c for o, c in self._calls.items() if c and c[-1] > now - MINUTE}


async def check_running_research(server: ServerContext, owner: str) -> None:
    """Refuse a new research when `owner` already has the limit running (any replica's)."""
    limit = server.settings.max_running_research
    if limit <= 0:
        return
    store = await server.store()
    now = server.clock()
    # A start cut short by a crash runs nowhere, though its record still reads queued.
    running = [
        r
        for r in await store.active_research()
        if r.owner == owner and not start_cut_short(r, server, now)
    ]
    if len(running) >= limit:
        raise ToolError(
            f"You already have {len(running)} Deep Research running, the limit for each caller; "
            "wait for one to finish (deep_research_status) or cancel one (deep_research_cancel)."
        )
