"""Errors on the MCP side, and the one function that turns an exception into a tool result.

What the calling model can act on (a bad argument, an unknown handle, a rate limit, an upstream
failure) becomes a tool result with ``isError: true`` and a sentence saying what to do next.
What only the operator can fix (a rejected API key) becomes a protocol error (``MCPError``).
"""

from __future__ import annotations

import logging

from mcp import MCPError
from mcp.types import CallToolResult, TextContent

logger = logging.getLogger(__name__)

INTERNAL_ERROR = -32603


class ToolError(Exception):
    """A problem the caller can fix; the message says how."""


class ConversationBusy(ToolError):
    """Another call is working on this conversation right now."""


def error_result(exc: BaseException) -> CallToolResult:
    """Map an exception to a tool error result (or raise MCPError for operator problems)."""
    return CallToolResult(content=[TextContent(text=describe(exc))], is_error=True)


def describe(exc: BaseException) -> str:
    """The sentence a caller sees for an exception."""
    if isinstance(exc, ToolError):
        return str(exc)
    # Imported here: the upstream client is loaded on first use, not at start-up.
    from .upstream import errors as up

    if isinstance(exc, up.AuthenticationError):
        # Only the operator can fix a rejected key: make it a protocol error.
        raise MCPError(
            INTERNAL_ERROR,
            "Gemini rejected the API key; the server operator must set a valid GEMINI_API_KEY.",
        )
    if isinstance(exc, up.ModelNotFoundError):
        return f"Gemini does not know that model ({exc.message}). Pick another model."
    if isinstance(exc, up.NotFoundError):
        return (
            "Gemini no longer has this conversation (deleted or past retention); "
            "start a new one with gemini_ask."
        )
    if isinstance(exc, up.RateLimitError):
        wait = f" in {exc.retry_after:.0f} s" if exc.retry_after else " shortly"
        return f"Gemini rate limit reached ({exc.message}); try again{wait}."
    if isinstance(exc, up.PermissionDeniedError):
        return f"Gemini refused access: {exc.message}. Check the resource names you passed."
    if isinstance(exc, up.BadRequestError):
        return f"Gemini rejected the request: {exc.message}. Fix the arguments and try again."
    if isinstance(exc, up.APIStatusError):
        return (
            f"Gemini failed ({exc.status_code} {exc.code}: {exc.message}); try again in a moment."
        )
    if isinstance(exc, up.StreamError):
        return f"Gemini stopped with an error ({exc.code}: {exc.message})."
    if isinstance(exc, up.APIConnectionError):
        return f"Could not reach Gemini ({type(exc).__name__}); try again in a moment."
    if isinstance(exc, up.GeminiError):
        return f"Gemini request failed: {exc}"
    logger.exception("unexpected error in a tool", exc_info=exc)
    return f"Internal error ({type(exc).__name__}); the server log has details."
