"""Records of the first schema (``settings`` and an untyped ``data`` dict) in today's shape.

Used by every backend's migration, and on read for a record an older replica may still write.
The first schema replaced a research's report with each follow-up answer in place; the texts
it kept of earlier answers are carried over as ``ResearchState.earlier``, so nothing is lost.
"""

from __future__ import annotations

from typing import Any

from .records import (
    Chain,
    ConversationRecord,
    EarlierAnswer,
    InteractionConfig,
    Lease,
    PendingTurn,
    Report,
    ResearchProgress,
    ResearchState,
    Source,
    Usage,
)

__all__ = ["upgrade_v1"]


def upgrade_v1(raw: dict[str, Any]) -> ConversationRecord:
    """Today's record for a record of the first schema, as its JSON object.

    Raises ValueError when `raw` is not shaped like one.
    """
    try:
        return _upgrade(raw)
    except (AttributeError, KeyError, TypeError) as exc:
        raise ValueError(f"not a record of the first schema ({type(exc).__name__}: {exc})") from exc


def _upgrade(raw: dict[str, Any]) -> ConversationRecord:
    data: dict[str, Any] = raw.get("data") or {}
    status = str(raw.get("status") or "new")
    head = raw.get("last_interaction_id")
    model = str(raw.get("model") or "")
    pending_id = data.get("pending")
    pending_turn = data.get("pending_turn") or {}
    chain = Chain(
        head=head,
        turns=int(raw.get("turns") or 0),
        status=status,
        text=data.get("last_text") or "",
        owed_calls=dict(data.get("pending_calls") or {}),
        stored_upstream=bool(data.get("store", True)),
        pending=PendingTurn(
            interaction_id=pending_id,
            model=pending_turn.get("model") or model,
            config=InteractionConfig.model_validate(pending_turn.get("settings") or {}),
        )
        if pending_id
        else None,
    )
    research = None
    if raw.get("kind") == "research":
        research, chain = _research(raw, data, status, head)
    lease = data.get("lease")
    return ConversationRecord(
        id=raw["id"],
        owner=raw["owner"],
        kind=raw.get("kind") or "chat",
        title=raw.get("title") or "",
        model=model,
        config=InteractionConfig.model_validate(raw.get("settings") or {}),
        chain=chain,
        research=research,
        lease=Lease.model_validate(lease) if isinstance(lease, dict) else None,
        interaction_ids=list(data.get("interaction_ids") or []),
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        version=int(raw.get("version") or 0),
    )


def _research(
    raw: dict[str, Any], data: dict[str, Any], status: str, head: str | None
) -> tuple[ResearchState, Chain]:
    text = data.get("report")
    usage = data.get("usage")
    research = ResearchState(
        query=data.get("query") or raw.get("title") or "",
        status=status,
        interaction_id=head,
        planning=bool(data.get("planning")),
        progress=ResearchProgress.model_validate(data.get("progress") or {}),
        last_event_id=data.get("last_event_id"),
        started_at=data.get("started_at") or raw["created_at"],
        finished_at=data.get("finished_at"),
        error=data.get("error"),
        earlier=[
            EarlierAnswer(interaction_id=h.get("interaction_id"), text=h.get("report"))
            for h in data.get("history") or []
        ],
    )
    # Follow-ups were not turns of their own in the first schema: the chain starts here.
    chain = Chain()
    if status == "awaiting_plan_confirmation":
        research.plan = text
        chain.head = head
    elif text is not None and head is not None and status == "completed":
        research.report = Report(
            interaction_id=head,
            text=text,
            sources=[Source.model_validate(s) for s in data.get("sources") or []],
            usage=Usage.model_validate(usage) if usage else None,
        )
        chain.head = head
    return research, chain
