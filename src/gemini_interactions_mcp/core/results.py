"""What the core returns for each tool, as pydantic models (the tools' output schemas).

Descriptions stay short on purpose: every schema here is read by a model and costs context.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..state.values import Source, Usage

# Result models are validated only when a tool first returns one, not at start-up.
_LAZY = ConfigDict(defer_build=True)

#: Where a finished research's report is served as an MCP resource.
REPORT_URI = "gemini://research/{research_id}/report"
#: Where the models this server can use are listed.
MODELS_URI = "gemini://models"

__all__ = [
    "MODELS_URI",
    "REPORT_URI",
    "Answer",
    "ConversationInfo",
    "ConversationList",
    "FunctionCall",
    "ModelListing",
    "Research",
    "ResearchProgressView",
    "Source",
    "SpendSummary",
    "ToolActivity",
    "UsableModel",
    "Usage",
]


class ToolActivity(BaseModel):
    model_config = _LAZY

    kind: str
    detail: str = ""


class FunctionCall(BaseModel):
    model_config = _LAZY

    call_id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


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
    follow_ups: int | None = Field(default=None, description="research: follow-up questions")
    status: str
    updated: str
    cost_usd: float | None = Field(default=None, description="estimated so far")


class SpendSummary(BaseModel):
    """The caller's estimated spend in the current UTC day and month."""

    model_config = _LAZY

    today_usd: float
    month_usd: float


class ConversationList(BaseModel):
    """Result of gemini_conversations."""

    model_config = _LAZY

    conversations: list[ConversationInfo]
    forgotten: str | None = None
    spend: SpendSummary | None = None
    notes: list[str] = Field(default_factory=list)


class ResearchProgressView(BaseModel):
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
    progress: ResearchProgressView | None = None
    plan: str | None = Field(default=None, description="the proposed plan, to confirm")
    report: str | None = None
    next_offset: int | None = Field(default=None, description="more report: pass as offset")
    report_uri: str | None = None
    sources: list[Source] | None = None
    usage: Usage | None = None
    error: str | None = None
    notes: list[str] = Field(default_factory=list)


class UsableModel(BaseModel):
    """A model the upstream lists for this server's key."""

    model_config = _LAZY

    id: str
    display_name: str | None = None
    input_token_limit: int | None = None
    output_token_limit: int | None = None
    thinking: bool | None = None


class ModelListing(BaseModel):
    """The content of the gemini://models resource."""

    model_config = _LAZY

    default: str
    aliases: dict[str, str]
    current: list[str]
    agents: list[str]
    available: list[UsableModel] | None = None
    note: str | None = None
