"""Building records for the store tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gemini_interactions_mcp.state.records import Chain, ConversationRecord, ResearchState


def make_record(
    id: str,
    owner: str = "alice",
    *,
    at: float = 1000.0,
    kind: str = "chat",
    status: str | None = None,
    turns: int = 0,
    **fields: Any,
) -> ConversationRecord:
    """A record created and last updated at `at`; `status` and `turns` go where the kind keeps
    them, and any other field is set as given."""
    values: dict[str, Any] = {"id": id, "owner": owner, "kind": kind}
    values.update(created_at=at, updated_at=at)
    chain = Chain(turns=turns)
    if kind == "research":
        values["research"] = ResearchState(query="q", status=status or "queued", started_at=at)
    elif status is not None:
        chain.status = status
    values["chain"] = chain
    values.update(fields)
    return ConversationRecord.model_validate(values)


FIXTURES = Path(__file__).with_name("fixtures")
#: A state file written by the first schema (through the server of that release).
V1_FILE = FIXTURES / "state-v1.sqlite3"
#: The same records as JSON lines, as the first schema's Redis store kept them.
V1_LINES = FIXTURES / "records-v1.jsonl"
#: What each record of those files is: a chat, a chat owing function results, a chat whose
#: answer was still pending, a research, a research asked a follow-up, a research awaiting
#: its plan's confirmation.
V1_IDS: dict[str, str] = json.loads((FIXTURES / "v1-ids.json").read_text())


def check_first_schema_records(records: dict[str, ConversationRecord]) -> None:
    """The records of the first-schema fixtures, upgraded, say what they said then."""
    assert set(records) == set(V1_IDS.values())
    chat = records[V1_IDS["chat"]]
    assert (chat.kind, chat.status, chat.chain.turns, chat.title) == (
        "chat",
        "completed",
        2,
        "Plain chat",
    )
    # It was asked for JSON (response_schema), so its latest answer is JSON.
    assert chat.chain.head and chat.chain.text.startswith("{")
    assert chat.config.system_instruction == "be brief"
    assert chat.config.tools == [{"type": "google_search"}]
    assert chat.config.generation_config == {"thinking_level": "low"}
    assert chat.config.response_format is not None
    assert len(chat.interaction_ids) == 2 and chat.lease is None

    calls = records[V1_IDS["calls"]]
    assert calls.status == "requires_action"
    assert list(calls.chain.owed_calls.values()) == ["get_weather"]

    pending = records[V1_IDS["pending"]].chain
    assert pending.pending is not None and pending.head is None
    assert pending.pending.model == "gemini-3-flash-preview"

    research = records[V1_IDS["research"]]
    assert research.research is not None and research.research.report is not None
    assert research.status == "completed"
    assert research.research.report.text.startswith("# Research report: plain research")
    assert len(research.research.report.sources) == 3
    assert research.research.report.usage is not None
    assert research.chain.head == research.research.interaction_id
    assert research.research.finished_at is not None

    planned = records[V1_IDS["planned"]]
    assert planned.status == "awaiting_plan_confirmation" and planned.research is not None
    assert (planned.research.plan or "").startswith("Research plan")
    assert planned.research.report is None and planned.chain.head is not None

    # The first schema replaced a report with its follow-up's answer; the report it kept
    # aside is carried over, not lost.
    followed = records[V1_IDS["followed"]]
    assert followed.research is not None
    (earlier,) = followed.research.earlier
    assert (earlier.text or "").startswith("# Research report: followed research")
