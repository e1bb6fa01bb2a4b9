"""What a tool asks of the core, as typed requests built from its arguments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .arguments import (
    Attachment,
    BuiltinTool,
    FunctionDeclaration,
    FunctionResult,
    McpServerSpec,
)

__all__ = ["AskRequest", "ConfigChange", "ContinueRequest", "ResearchRequest"]


@dataclass(frozen=True)
class ConfigChange:
    """The interaction config fields a call sets; None leaves a field as it is."""

    system_instruction: str | None = None
    tools: Sequence[str | BuiltinTool] | None = None
    functions: Sequence[FunctionDeclaration] | None = None
    thinking_level: str | None = None
    thought_summaries: bool | None = None
    max_output_tokens: int | None = None
    response_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class AskRequest:
    """gemini_ask: a new conversation and its first turn."""

    prompt: str
    model: str | None = None
    config: ConfigChange = field(default_factory=ConfigChange)
    attachments: Sequence[Attachment] | None = None
    store: bool = True
    title: str | None = None


@dataclass(frozen=True)
class ContinueRequest:
    """gemini_continue: the next turn, a collect, or a page of the latest answer."""

    conversation_id: str | None = None
    prompt: str | None = None
    function_results: Sequence[FunctionResult] | None = None
    offset: int | None = None
    model: str | None = None
    config: ConfigChange = field(default_factory=ConfigChange)
    attachments: Sequence[Attachment] | None = None

    @property
    def sends_a_turn(self) -> bool:
        return self.prompt is not None or bool(self.function_results) or bool(self.attachments)

    def chat_only_arguments(self) -> list[str]:
        """Arguments given that only a chat turn can take (a research follow-up takes a prompt)."""
        given = {
            "function_results": self.function_results,
            "attachments": self.attachments,
            "model": self.model,
            "system_instruction": self.config.system_instruction,
            "tools": self.config.tools,
            "functions": self.config.functions,
            "response_schema": self.config.response_schema,
            "thinking_level": self.config.thinking_level,
            "thought_summaries": self.config.thought_summaries,
            "max_output_tokens": self.config.max_output_tokens,
        }
        return [name for name, value in given.items() if value is not None and value != []]


@dataclass(frozen=True)
class ResearchRequest:
    """deep_research_start."""

    query: str
    max: bool = False
    file_search_stores: Sequence[str] | None = None
    mcp_servers: Sequence[McpServerSpec] | None = None
    collaborative_planning: bool = False
    visualization: bool = False
