"""Conversation and research state: typed records (``records``), the store contract
(``base``) and its backends (``memory``, ``sqlite``, ``redis``).

Nothing here is imported at start-up but ``values``; backends load when a store is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Store

__all__ = ["is_redis", "open_store"]

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def is_redis(spec: str) -> bool:
    """True when the state store `spec` names is Redis (shared by replicas)."""
    return spec.strip().startswith(_REDIS_SCHEMES)


def open_store(spec: str) -> Store:
    """Build the backend named by `spec`; the caller still has to `await store.open()`.

    `spec` is ``memory``, a Redis URL (``redis://``, ``rediss://``, ``unix://``), or a
    SQLite file path (empty: the default path in the user's data directory).
    """
    spec = spec.strip()
    if spec == "memory":
        from .memory import MemoryStore

        return MemoryStore()
    if is_redis(spec):
        from .redis import RedisStore

        return RedisStore(spec)
    if "://" in spec:
        from .base import StoreError

        raise StoreError(
            f"unknown state store {spec!r}; use a file path, 'memory', or a redis:// URL"
        )
    from .sqlite import SqliteStore, default_state_path

    if spec:
        return SqliteStore(spec)
    return SqliteStore(default_state_path(), create_parent=True)
