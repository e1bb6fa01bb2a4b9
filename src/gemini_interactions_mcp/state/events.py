"""Events shared by every replica on one Redis server: a research that ended is announced
once and heard by all of them (Redis pub/sub on a channel under the store's key prefix)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskStatus

from .redis import DEFAULT_PREFIX

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisEvents"]

logger = logging.getLogger(__name__)

# Seconds between attempts to listen again after the connection to Redis broke.
_RELISTEN = 2.0


class RedisEvents:
    """Publish short text events, and hear every replica's (this one's included)."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.url = url
        self.channel = f"{prefix}events"
        self._client: Redis | None = None

    def _connected(self) -> Redis:
        if self._client is None:
            from redis.asyncio import Redis

            self._client = Redis.from_url(self.url, decode_responses=True)
        return self._client

    async def publish(self, message: str) -> None:
        from redis.exceptions import RedisError

        try:
            await self._connected().publish(self.channel, message)
        except RedisError as exc:
            logger.warning("could not announce %s on %s: %s", message, self.url, exc)

    async def run(
        self,
        deliver: Callable[[str], Awaitable[None]],
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Hand every event to `deliver` until cancelled (listening again after a drop)."""
        from redis.exceptions import RedisError

        started = False
        while True:
            pubsub = self._connected().pubsub()
            try:
                await pubsub.subscribe(self.channel)
                if not started:
                    started = True
                    task_status.started()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        await deliver(str(message["data"]))
            except RedisError as exc:
                logger.warning("listening for events on %s failed: %s", self.url, exc)
            finally:
                with anyio.CancelScope(shield=True):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            if not started:
                started = True
                task_status.started()
            await anyio.sleep(_RELISTEN)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
