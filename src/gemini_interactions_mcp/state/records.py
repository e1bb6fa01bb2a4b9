"""The stored record of a conversation or research run, in typed parts.

A record is what the store keeps per handle::

    ConversationRecord          id, owner, kind, title, model, timestamps, version
    ├── config: InteractionConfig   request fields re-sent on every turn (upstream keeps none)
    ├── chain: Chain                the turns chained by previous_interaction_id
    │   └── pending: PendingTurn    a turn created upstream and not yet collected
    ├── research: ResearchState     research only: the run, its progress and its report
    │   └── report: Report          immutable once written: what was paid for
    └── lease: Lease                a turn in flight holds the record

Backends parse and validate records at their boundary (``codec.parse_record``), so the code
above the store only ever sees these types.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..statuses import RUNNING
from .values import Source, Usage

__all__ = [
    "ACTIVE_RESEARCH_STATUSES",
    "Chain",
    "ConversationRecord",
    "EarlierAnswer",
    "InteractionConfig",
    "Kind",
    "Lease",
    "PendingTurn",
    "Report",
    "ResearchProgress",
    "ResearchState",
    "Source",
    "Spend",
    "Usage",
]

#: Research in these states still has paid work running upstream.
ACTIVE_RESEARCH_STATUSES = RUNNING

Kind = Literal["chat", "research"]

# Built on first use, not at import: the server imports these types at start-up.
_PART = ConfigDict(defer_build=True, extra="forbid")


class InteractionConfig(BaseModel):
    """The interaction-scoped request fields a conversation carries from turn to turn.

    Upstream keeps only the history (``previous_interaction_id``); these fields apply to one
    interaction, so every turn sends them again. Values are in the upstream's own shape.
    """

    model_config = _PART

    system_instruction: str | None = None
    tools: list[dict[str, Any]] = Field(default_factory=list)
    generation_config: dict[str, Any] = Field(default_factory=dict)
    response_format: dict[str, Any] | None = None
    agent_config: dict[str, Any] | None = None

    def request_fields(self) -> dict[str, Any]:
        """The fields to put in a create request (empty ones left out)."""
        fields: dict[str, Any] = {}
        if self.system_instruction is not None:
            fields["system_instruction"] = self.system_instruction
        if self.tools:
            fields["tools"] = self.tools
        if self.generation_config:
            fields["generation_config"] = self.generation_config
        if self.response_format is not None:
            fields["response_format"] = self.response_format
        if self.agent_config is not None:
            fields["agent_config"] = self.agent_config
        return fields


class PendingTurn(BaseModel):
    """A turn created upstream whose outcome is not recorded yet."""

    model_config = _PART

    interaction_id: str
    model: str
    # What the turn was sent with: it becomes the conversation's config once the turn succeeds.
    config: InteractionConfig = Field(default_factory=InteractionConfig)


class Chain(BaseModel):
    """The conversation's turns upstream (for a research: the follow-up questions)."""

    model_config = _PART

    head: str | None = Field(default=None, description="the latest good interaction")
    turns: int = 0
    status: str = "new"
    text: str = Field(default="", description="the latest answer, for paging")
    pending: PendingTurn | None = None
    owed_calls: dict[str, str] = Field(
        default_factory=dict, description="function calls awaiting results: call id -> name"
    )
    stored_upstream: bool = Field(default=True, description="False: created with store=false")


class Lease(BaseModel):
    """Held by the call running a turn; another call may take it only after `until`, or
    once the process that holds it (`holder`) is known to be gone."""

    model_config = _PART

    token: str
    until: float
    holder: str = ""


class ResearchProgress(BaseModel):
    """What a running research has done so far, folded from its event stream."""

    model_config = _PART

    phase: str = "queued"
    thoughts: list[str] = Field(default_factory=list)
    searches: list[str] = Field(default_factory=list)
    pages: list[str] = Field(default_factory=list)
    search_count: int = 0
    page_count: int = 0
    text_chars: int = 0
    counted_steps: list[int] = Field(default_factory=list)


class Report(BaseModel):
    """A finished research's report: written once, never replaced."""

    model_config = _PART

    interaction_id: str
    text: str
    sources: list[Source] = Field(default_factory=list)
    usage: Usage | None = None


class EarlierAnswer(BaseModel):
    """An answer kept from a record of the first schema (which replaced them in place)."""

    model_config = _PART

    interaction_id: str | None = None
    text: str | None = None


class ResearchState(BaseModel):
    """One Deep Research run: what was asked, how it goes, and what it produced."""

    model_config = _PART

    query: str
    status: str = "queued"
    interaction_id: str | None = Field(
        default=None, description="the run being watched: the plan, then the research"
    )
    planning: bool = Field(default=False, description="the current run ends with a plan")
    plan: str | None = None
    progress: ResearchProgress = Field(default_factory=ResearchProgress)
    last_event_id: str | None = None
    started_at: float
    finished_at: float | None = None
    report: Report | None = None
    error: str | None = None
    earlier: list[EarlierAnswer] = Field(default_factory=list)
    watcher: Lease | None = Field(
        default=None, description="the one server process following the run upstream"
    )

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_RESEARCH_STATUSES


class Spend(BaseModel):
    """What a conversation or research is estimated to have cost so far."""

    model_config = _PART

    usd: float = 0.0
    unpriced: int = Field(default=0, description="turns whose cost could not be estimated")


class ConversationRecord(BaseModel):
    """One conversation (or research run) as the store keeps it."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    id: str
    owner: str
    kind: Kind = "chat"
    title: str = ""
    model: str = Field(default="", description="the model, or for a research the agent")
    upstream: str = Field(default="", description="where it was made ('' when not known)")
    config: InteractionConfig = Field(default_factory=InteractionConfig)
    chain: Chain = Field(default_factory=Chain)
    research: ResearchState | None = None
    lease: Lease | None = None
    interaction_ids: list[str] = Field(
        default_factory=list, description="every interaction made for this record"
    )
    spend: Spend = Field(default_factory=Spend)
    created_at: float
    updated_at: float
    version: int = 0

    @model_validator(mode="after")
    def _research_iff_kind(self) -> ConversationRecord:
        if (self.kind == "research") != (self.research is not None):
            raise ValueError("a record has research state exactly when its kind is research")
        return self

    @property
    def status(self) -> str:
        """The research's status for a research, else the latest turn's."""
        return self.research.status if self.research is not None else self.chain.status

    @property
    def is_active_research(self) -> bool:
        return self.research is not None and self.research.active
