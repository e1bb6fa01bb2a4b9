"""Every failure as the one sentence a caller sees (upstream errors included).

What the calling model can act on (a bad argument, an unknown handle, a rate limit, an upstream
failure) is a sentence saying what to do next; what only the operator can fix (a rejected API
key) says so, so that the model can tell the person it works for.
"""

from __future__ import annotations

import logging

from ..state.base import CorruptRecordError, StoreError
from ..upstream import errors as up
from .errors import ToolError

__all__ = ["REJECTED_KEY", "describe", "turn_failed"]

logger = logging.getLogger(__name__)

REJECTED_KEY = (
    "Gemini rejected the server's API key, so nothing was done. Ask the person running this "
    "server to set a valid GEMINI_API_KEY (https://aistudio.google.com/apikey) and restart it."
)


def describe(exc: BaseException, *, upstream: str = "") -> str:
    """The sentence a caller sees for an exception (`upstream`: the base URL in use)."""
    if isinstance(exc, ToolError):
        return str(exc)
    if isinstance(exc, CorruptRecordError):
        text = str(exc)
        return text[:1].upper() + text[1:] + "."
    if isinstance(exc, StoreError):
        return f"The state store cannot be used: {exc}."
    if isinstance(exc, up.CredentialsError):
        return str(exc)
    if isinstance(exc, up.AuthenticationError):
        return REJECTED_KEY
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
        return _stopped(f"{exc.code}: {exc.message}") + "."
    if isinstance(exc, up.APIConnectionError):
        return _unreachable(exc, upstream)
    if isinstance(exc, up.GeminiError):
        return f"Gemini request failed: {exc}"
    logger.exception("unexpected error in a tool", exc_info=exc)
    return f"Internal error ({type(exc).__name__}); the server log has details."


def _unreachable(exc: up.APIConnectionError, upstream: str) -> str:
    where = f" at {upstream}" if upstream else ""
    if exc.request_sent:
        return (
            f"The connection to Gemini{where} failed ({type(exc).__name__}); try again in a moment."
        )
    detail = exc.message.lower()
    if "name or service not known" in detail or "nodename" in detail or "getaddrinfo" in detail:
        problem = "its host name does not resolve"
    elif "refused" in detail or "all connection attempts failed" in detail:
        problem = "nothing accepted the connection there"
    else:
        problem = "no connection could be made"
    return (
        f"Could not reach Gemini{where}: {problem}. If that address is wrong, the server's "
        "operator must fix --base-url (GEMINI_MCP_BASE_URL); otherwise check the network."
    )


def turn_failed(reason: str) -> str:
    """A conversation turn that failed upstream (which leaves the conversation as it was)."""
    return (
        _stopped(reason) + "; the conversation is as it was before this turn, so the prompt "
        "can be sent again."
    )


def _stopped(reason: str) -> str:
    return f"Gemini stopped with an error ({reason})"
