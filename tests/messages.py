"""JSON-RPC messages the process tests send as they are (a handshake-era session opening)."""

from __future__ import annotations

from typing import Any

#: What a streamable HTTP client accepts in answer to a POST.
ACCEPT = {"accept": "application/json, text/event-stream"}
INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"},
    },
}
INITIALIZED: dict[str, Any] = {"jsonrpc": "2.0", "method": "notifications/initialized"}
TOOLS_LIST: dict[str, Any] = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
#: Open a session and list the tools (the answer to id 2 is the tool list).
HANDSHAKE = [INITIALIZE, INITIALIZED, TOOLS_LIST]
