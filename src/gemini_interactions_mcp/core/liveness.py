"""Which server processes still run, so that their leases are trusted and no one else's.

On this host a process that no longer exists is gone (`holders.gone`). With a Redis store every
process also beats (`state.heartbeats`): one whose heartbeat stopped is gone wherever it ran,
and its turns and research are taken over without waiting for their leases to expire. A process
this one has not heard of is trusted until its lease expires.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskStatus

from .holders import gone

if TYPE_CHECKING:
    from ..state.heartbeats import RedisHeartbeats
    from .context import ServerContext

__all__ = ["BEAT_SECONDS", "Liveness"]

logger = logging.getLogger(__name__)

# A process beats this often and counts as alive for three beats. A replica that died is
# known to be gone within four beats; hosts' clocks must agree to within two beats, less the
# time a beat takes to reach Redis (at most a beat: the client's socket timeout).
BEAT_SECONDS = 5.0
_ALIVE_FOR = 3 * BEAT_SECONDS
# Heartbeats read longer ago than this say nothing (Redis did not answer since).
_FRESH_FOR = 2 * BEAT_SECONDS
# Processes silent for longer than this are dropped from the heartbeats.
_FORGET_AFTER = 24 * 3600.0


class Liveness:
    """This process's view of which lease holders are gone."""

    def __init__(self, server: ServerContext) -> None:
        self.server = server
        self._beats: dict[str, float] | None = None
        self._heard_at = 0.0

    def gone(self, holder: str) -> bool:
        """True when `holder` is known not to run any more."""
        me = self.server.holder
        if gone(holder, me):
            return True
        if self._beats is None or holder == me:
            return False
        if self.server.clock() - self._heard_at > _FRESH_FOR:
            return False  # nothing heard lately: trust leases until they expire
        # Gone only if its time had already passed when the heartbeats were read: a live
        # process's time is then at least two beats ahead, whatever happened since.
        until = self._beats.get(holder)
        return until is not None and until <= self._heard_at

    async def run(
        self, beats: RedisHeartbeats, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Beat until cancelled; on the way out, say this process is gone."""
        me = self.server.holder
        try:
            started = False
            while True:
                now = self.server.clock()
                heard = await beats.beat(me, now + _ALIVE_FOR, forget_before=now - _FORGET_AFTER)
                if heard is not None:
                    self._beats, self._heard_at = heard, now
                if not started:
                    started = True
                    task_status.started()
                await anyio.sleep(BEAT_SECONDS)
        finally:
            with anyio.CancelScope(shield=True):
                now = self.server.clock()
                await beats.beat(me, now, forget_before=now - _FORGET_AFTER)
                await beats.aclose()
