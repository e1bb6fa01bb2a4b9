"""Conversation and research state: the store interface and its backends."""

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
from gemini_interactions_mcp.state.memory import MemoryStore
from gemini_interactions_mcp.state.redis import RedisStore
from gemini_interactions_mcp.state.sqlite import SqliteStore, default_state_path

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
