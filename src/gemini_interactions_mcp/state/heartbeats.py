"""Heartbeats of the server processes sharing one Redis server: each process says, every few
seconds, until when it is surely alive (a sorted set under the store's key prefix: member the
process, score that time). A process whose time has passed is gone, on whatever host it ran."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .redis import DEFAULT_PREFIX

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisHeartbeats"]

logger = logging.getLogger(__name__)


class RedisHeartbeats:
    """Beat for one process, and read every process's last word."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.url = url
        self.key = f"{prefix}holders"
        self._client: Redis | None = None

    def _connected(self) -> Redis:
        if self._client is None:
            from redis.asyncio import Redis

            # A beat that cannot get through soon is as good as none: never wait longer.
            self._client = Redis.from_url(
                self.url, decode_responses=True, socket_timeout=5.0, socket_connect_timeout=5.0
            )
        return self._client

    async def beat(
        self, holder: str, until: float, *, forget_before: float
    ) -> dict[str, float] | None:
        """Record that `holder` is alive until `until`, drop processes silent since before
        `forget_before`, and return every process's time (None: Redis did not answer)."""
        from redis.exceptions import RedisError

        try:
            async with self._connected().pipeline(transaction=True) as pipe:
                pipe.zadd(self.key, {holder: until})
                pipe.zremrangebyscore(self.key, "-inf", forget_before)
                pipe.zrange(self.key, 0, -1, withscores=True)
                *_, members = await pipe.execute()
        except RedisError as exc:
            logger.warning("could not record this process's heartbeat on %s: %s", self.url, exc)
            return None
        return {str(holder_): float(score) for holder_, score in members}

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
