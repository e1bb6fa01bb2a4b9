"""The interaction config a conversation carries: built from a call's arguments, and the
rules for how a later call's arguments override it. Every such rule lives here.

- ``system_instruction`` and ``response_schema`` replace the stored value.
- ``thinking_level``, ``thought_summaries`` and ``max_output_tokens`` replace their own key of
  ``generation_config`` and keep the others.
- Built-in ``tools`` and ``functions`` override separately: giving one keeps the other;
  deferred functions need ``tool_search`` among the tools that result.
- What a turn used becomes the conversation's config only once that turn succeeds.
"""

from __future__ import annotations

from typing import Any

from ..state.records import InteractionConfig
from .arguments import BuiltinTool
from .errors import ToolError
from .inputs import build_tools, check_response_schema
from .requests import ConfigChange, ResearchRequest

__all__ = ["apply", "for_follow_up", "for_research"]


def apply(change: ConfigChange, base: InteractionConfig | None = None) -> InteractionConfig:
    """`base` (a new conversation's empty config if None) with the fields `change` sets."""
    config = base.model_copy(deep=True) if base is not None else InteractionConfig()
    if change.system_instruction is not None:
        config.system_instruction = change.system_instruction
    if change.tools is not None or change.functions is not None:
        given = build_tools(change.tools, change.functions)
        replace_builtins, replace_functions = change.tools is not None, change.functions is not None
        kept = [
            tool
            for tool in config.tools
            if not (replace_functions if tool.get("type") == "function" else replace_builtins)
        ]
        config.tools = [*kept, *given]
        _check_deferred(config.tools)
    config.generation_config = {**config.generation_config, **_generation(change)}
    if change.response_schema is not None:
        config.response_format = check_response_schema(change.response_schema)
    return config


def _check_deferred(tools: list[dict[str, Any]]) -> None:
    """Deferred functions are only ever found by a tool search among the same tools."""
    deferred = any(tool.get("defer_loading") for tool in tools)
    if deferred and not any(tool.get("type") == "tool_search" for tool in tools):
        raise ToolError(
            "Deferred functions are found through tool search; add 'tool_search' to tools "
            "or declare the functions without 'deferred'."
        )


def _generation(change: ConfigChange) -> dict[str, Any]:
    generation: dict[str, Any] = {}
    if change.thinking_level is not None:
        generation["thinking_level"] = change.thinking_level
    if change.thought_summaries is not None:
        generation["thinking_summaries"] = "auto" if change.thought_summaries else "none"
    if change.max_output_tokens is not None:
        generation["max_output_tokens"] = change.max_output_tokens
    return generation


def for_research(request: ResearchRequest) -> InteractionConfig:
    """The config a Deep Research run is started with."""
    tools: list[BuiltinTool] = []
    if request.file_search_stores:
        tools.append(BuiltinTool(type="file_search", stores=list(request.file_search_stores)))
    for spec in request.mcp_servers or ():
        tools.append(BuiltinTool(type="mcp_server", **spec.model_dump()))
    return InteractionConfig(
        tools=build_tools(tools, None),
        agent_config={
            "type": "deep-research",
            "thinking_summaries": "auto",
            "visualization": "auto" if request.visualization else "off",
            "collaborative_planning": request.collaborative_planning,
        },
    )


def for_follow_up(config: InteractionConfig) -> InteractionConfig:
    """A research's config for the turns after its start: a reply must not plan again."""
    follow = config.model_copy(deep=True)
    follow.agent_config = {**(follow.agent_config or {}), "collaborative_planning": False}
    return follow
