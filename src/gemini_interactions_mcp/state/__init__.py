"""Conversation and research state: the store interface and its backends."""

from typing import TYPE_CHECKING, Any

from gemini_interactions_mcp.state.base import (
    ACTIVE_RESEARCH_STATUSES,
    ConversationRecord,
    DuplicateHandleError,
    Store,
    StoreConflictError,
    StoreError,
    mutate,
    new_handle,
    open_store,
)

if TYPE_CHECKING:
    from gemini_interactions_mcp.state.memory import MemoryStore
    from gemini_interactions_mcp.state.redis import RedisStore
    from gemini_interactions_mcp.state.sqlite import SqliteStore, default_state_path

# Backends load when first named: the server imports this package at start-up and opens
# its one store later.
_BACKENDS = {
    "MemoryStore": "memory",
    "RedisStore": "redis",
    "SqliteStore": "sqlite",
    "default_state_path": "sqlite",
}


def __getattr__(name: str) -> Any:
    module = _BACKENDS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = [
    "ACTIVE_RESEARCH_STATUSES",
    "ConversationRecord",
    "DuplicateHandleError",
    "MemoryStore",
    "RedisStore",
    "SqliteStore",
    "Store",
    "StoreConflictError",
    "StoreError",
    "default_state_path",
    "mutate",
    "new_handle",
    "open_store",
]
