"""Errors the caller can act on. Their message is the sentence the caller sees."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..state.records import ConversationRecord

__all__ = ["ConversationBusy", "StartupError", "ToolError", "UnknownHandle", "elsewhere"]


class ToolError(Exception):
    """A problem the caller can fix; the message says how."""


class ConversationBusy(ToolError):
    """Another call is working on this conversation right now."""


class UnknownHandle(ToolError):
    """No such conversation or research for this caller (someone else's looks the same)."""


class StartupError(Exception):
    """The server cannot run as configured (say, its state store cannot be opened)."""


def elsewhere(record: ConversationRecord, upstream: str) -> str:
    """The sentence for a record made on another upstream than the one this server uses."""
    what = "research" if record.kind == "research" else "conversation"
    return (
        f"{record.id} was made on {record.upstream}, and this server now talks to {upstream}, "
        f"which does not have it; start a new {what} here."
    )
