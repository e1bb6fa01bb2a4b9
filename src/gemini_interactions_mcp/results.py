"""Tool inputs and results as pydantic models: their JSON Schemas are what MCP clients see.

Descriptions stay short on purpose: every schema here is read by a model and costs context.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Result models are validated only when a tool first returns one, not at start-up.
_LAZY = ConfigDict(defer_build=True)

BuiltinToolName = Literal[
    "google_search", "code_execution", "url_context", "file_search", "mcp_server"
]
ThinkingLevel = Literal["minimal", "low", "medium", "high"]


class BuiltinTool(BaseModel):
    """file_search: stores, top_k. mcp_server: url, name, headers, allowed_tools."""

    model_config = ConfigDict(extra="forbid")

    type: BuiltinToolName
    stores: list[str] | None = None
    top_k: int | None = Field(default=None, ge=1, le=100)
    name: str | None = None
    url: str | None = None
    headers: dict[str, str] | None = None
    allowed_tools: list[str] | None = None


class FunctionDeclaration(BaseModel):
    """parameters: JSON Schema of the arguments."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z_][\w.\-]*$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class Attachment(BaseModel):
    """uri+mime_type, data (base64)+mime_type, or path (stdio only)."""

    model_config = ConfigDict(extra="forbid")

    uri: str | None = None
    data: str | None = None
    path: str | None = None
    mime_type: str | None = None


class FunctionResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(min_length=1)
    result: Any
    is_error: bool = False


class ToolActivity(BaseModel):
    model_config = _LAZY

    kind: str
    detail: str = ""


class Source(BaseModel):
    model_config = _LAZY

    url: str
    title: str | None = None


class FunctionCall(BaseModel):
    model_config = _LAZY

    call_id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Usage(BaseModel):
    model_config = _LAZY

    input_tokens: int = 0
    output_tokens: int = 0
    thought_tokens: int = 0
    total_tokens: int = 0


class Answer(BaseModel):
    """Result of gemini_ask and gemini_continue."""

    model_config = _LAZY

    conversation_id: str
    interaction_id: str | None = None
    status: str
    text: str = ""
    model: str = ""
    notes: list[str] = Field(default_factory=list)
    thoughts: list[str] | None = None
    tool_activity: list[ToolActivity] | None = None
    sources: list[Source] | None = None
    function_calls: list[FunctionCall] | None = None
    parsed: Any = Field(default=None, description="the JSON answer when response_schema was given")
    usage: Usage | None = None
    next_offset: int | None = Field(default=None, description="more text: continue with offset")


class ConversationInfo(BaseModel):
    model_config = _LAZY

    conversation_id: str
    kind: Literal["chat", "research"]
    title: str
    model: str
    turns: int
    status: str
    updated: str


class ConversationList(BaseModel):
    """Result of gemini_conversations."""

    model_config = _LAZY

    conversations: list[ConversationInfo]
    forgotten: str | None = None
    notes: list[str] = Field(default_factory=list)


class ResearchProgress(BaseModel):
    model_config = _LAZY

    phase: str
    searches: int = 0
    pages_read: int = 0
    thoughts: list[str] = Field(default_factory=list, description="latest thought summaries")
    recent_searches: list[str] = Field(default_factory=list)
    recent_pages: list[str] = Field(default_factory=list)


class Research(BaseModel):
    """Result of deep_research_start, deep_research_status and deep_research_cancel."""

    model_config = _LAZY

    research_id: str
    status: str
    agent: str = ""
    elapsed_seconds: float | None = None
    progress: ResearchProgress | None = None
    report: str | None = None
    next_offset: int | None = Field(default=None, description="more report: pass as offset")
    report_uri: str | None = None
    sources: list[Source] | None = None
    usage: Usage | None = None
    error: str | None = None
    notes: list[str] = Field(default_factory=list)
