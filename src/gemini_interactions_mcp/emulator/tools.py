"""The ``tools`` of a create body: their checks, and what the scripted model may use.

Types as in google-genai 3.6.1, ``tool_search`` included: with ``execution: "server"``
(the default) the API searches the deferred tools itself; with ``"client"`` it is a
function (``name``, ``description``, ``parameters``) that the client runs. ``function``
tools take ``defer_loading`` and ``short_description``, ``mcp_server`` tools
``defer_loading``.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid

TOOL_TYPES = frozenset(
    {
        "function",
        "google_search",
        "code_execution",
        "url_context",
        "file_search",
        "google_maps",
        "mcp_server",
        "computer_use",
        "retrieval",
        "tool_search",
    }
)
TOOL_SEARCH_EXECUTIONS = frozenset({"server", "client"})
_STRINGS = {
    "function": ("name", "description", "short_description"),
    "tool_search": ("name", "description"),
    "mcp_server": ("name", "url"),
}
_FLAGS = {"function": ("defer_loading",), "mcp_server": ("defer_loading",)}


def check_tools(tools: list[Any]) -> list[dict[str, Any]]:
    """Validate the tools array, raising the API's 400 for the first bad entry."""
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind not in TOOL_TYPES:
            raise invalid(f"The value '{kind}' is not supported for 'type' at '{where}'.")
        assert isinstance(tool, dict)
        for name in _STRINGS.get(kind, ()):
            if name in tool and not isinstance(tool[name], str):
                raise invalid(f"Invalid value at '{where}.{name}': expected a string.")
        for name in _FLAGS.get(kind, ()):
            if name in tool and not isinstance(tool[name], bool):
                raise invalid(f"Invalid value at '{where}.{name}': expected a boolean.")
        if kind == "function" and not tool.get("name"):
            raise invalid(f"'name' is required at '{where}'.")
        if kind == "tool_search":
            _check_tool_search(tool, where)
    return list(tools)


def _check_tool_search(tool: dict[str, Any], where: str) -> None:
    execution = tool.get("execution", "server")
    if execution not in TOOL_SEARCH_EXECUTIONS:
        raise invalid(f"The value '{execution}' is not supported for 'execution' at '{where}'.")
    if execution == "client" and not tool.get("name"):
        raise invalid(f"'name' is required at '{where}' when 'execution' is 'client'.")
    if "parameters" in tool and not isinstance(tool["parameters"], dict):
        raise invalid(f"Invalid value at '{where}.parameters': expected a JSON Schema object.")


def tool_search(tools: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The request's tool_search tool, if it declares one."""
    return next((t for t in tools if t["type"] == "tool_search"), None)


def declaration(tool: dict[str, Any]) -> dict[str, Any]:
    """A function tool as a tool search returns it: the declaration, now loaded."""
    return {**tool, "defer_loading": False}


def labels(tools: list[dict[str, Any]]) -> list[str]:
    """How the reply text names the tools: built-in ones by type, functions as ``fn:NAME``."""
    return [f"fn:{t['name']}" if t["type"] == "function" else str(t["type"]) for t in tools]
