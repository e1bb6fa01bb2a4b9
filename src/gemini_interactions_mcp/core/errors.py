"""Errors the caller can act on. Their message is the sentence the caller sees."""

from __future__ import annotations

__all__ = ["ConversationBusy", "ToolError", "UnknownHandle"]


class ToolError(Exception):
    """A problem the caller can fix; the message says how."""


class ConversationBusy(ToolError):
    """Another call is working on this conversation right now."""


class UnknownHandle(ToolError):
    """No such conversation or research for this caller (someone else's looks the same)."""
