"""Conversation and research state: typed records, the store contract and its backends.

Backends load when first named: the server imports this package at start-up and opens its
one store later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import (
    DuplicateHandleError,
    Store,
    StoreConflictError,
    StoreError,
    mutate,
    new_handle,
)
from .records import ACTIVE_RESEARCH_STATUSES, ConversationRecord

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "ACTIVE_RESEARCH_STATUSES",
    "ConversationRecord",
    "DuplicateHandleError",
    "Store",
    "StoreConflictError",
    "StoreError",
    "mutate",
    "new_handle",
    "open_store",
]


def open_store(spec: str) -> Store:
    """Build the backend named by `spec`; the caller still has to `await store.open()`.

    `spec` is ``memory``, a Redis URL (``redis://``, ``rediss://``, ``unix://``), or a
    SQLite file path (empty: the default path in the user's data directory).
    """
    spec = spec.strip()
    if spec == "memory":
        from .memory import MemoryStore

        return MemoryStore()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        from .redis import RedisStore

        return RedisStore(spec)
    from .sqlite import SqliteStore, default_state_path

    path: Path | str = spec or default_state_path()
    return SqliteStore(path)
