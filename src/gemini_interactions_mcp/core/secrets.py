"""Credentials in a conversation's config (headers of remote MCP servers) never reach the
store: what is stored says a header is kept in memory only, and its value stays in this
process. A turn after a restart (or on another replica) that would need it says so, and the
caller passes the tool again with its headers.
"""

from __future__ import annotations

from typing import Any

from ..state.records import InteractionConfig
from .errors import ToolError

__all__ = ["KEPT_IN_MEMORY", "Vault"]

#: What the store holds instead of a header's value.
KEPT_IN_MEMORY = "(kept in memory only)"


class Vault:
    """Header values of remote MCP server tools, per record, in this process only."""

    def __init__(self) -> None:
        self._headers: dict[tuple[str, str], dict[str, str]] = {}

    def stored(self, record_id: str, config: InteractionConfig) -> InteractionConfig:
        """`config` as it may be stored: header values kept here, replaced by a marker."""
        if not any(_headers(tool) for tool in config.tools):
            return config
        safe = config.model_copy(deep=True)
        for tool in safe.tools:
            headers = _headers(tool)
            if headers and any(value != KEPT_IN_MEMORY for value in headers.values()):
                self._headers[(record_id, _name(tool))] = dict(headers)
                tool["headers"] = dict.fromkeys(headers, KEPT_IN_MEMORY)
        return safe

    def usable(self, record_id: str, config: InteractionConfig) -> InteractionConfig:
        """`config` with the header values put back, ready to send."""
        if not any(_headers(tool) for tool in config.tools):
            return config
        full = config.model_copy(deep=True)
        for tool in full.tools:
            headers = _headers(tool)
            if not headers or KEPT_IN_MEMORY not in headers.values():
                continue
            kept = self._headers.get((record_id, _name(tool)))
            if kept is None:
                raise ToolError(
                    f"The headers of the remote MCP server {_name(tool)!r} were kept in memory "
                    "only and this server no longer has them (it restarted, or another one "
                    "answers); pass it again in tools with its headers."
                )
            tool["headers"] = dict(kept)
        return full

    def forget(self, record_id: str) -> None:
        for key in [key for key in self._headers if key[0] == record_id]:
            del self._headers[key]


def _headers(tool: dict[str, Any]) -> dict[str, str] | None:
    headers = tool.get("headers") if tool.get("type") == "mcp_server" else None
    return headers if isinstance(headers, dict) and headers else None


def _name(tool: dict[str, Any]) -> str:
    return str(tool.get("name") or "mcp")
