"""A research plan approved, changed or declined by the person, through elicitation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from mcp.types import ElicitRequestParams, ElicitResult, InputRequiredResult

from gemini_interactions_mcp.emulator import Emulator
from gemini_interactions_mcp.server import build_server
from gemini_interactions_mcp.settings import Settings, load_settings
from gemini_interactions_mcp.state.memory import MemoryStore

from .helpers import MODES, ok, text_of

pytestmark = pytest.mark.anyio

PLANNED = {"query": "urban beekeeping", "collaborative_planning": True}


class Person:
    """An elicitation callback that answers as told and remembers what it was asked."""

    def __init__(self, action: str, content: dict[str, Any] | None = None) -> None:
        self.action, self.content = action, content
        self.asked: list[ElicitRequestParams] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(params)
        return ElicitResult(action=self.action, content=self.content)


@asynccontextmanager
async def person_client(
    settings: Settings, person: Person | None, mode: str
) -> AsyncIterator[Client]:
    async with Client(build_server(settings), mode=mode, elicitation_callback=person) as client:
        yield client


async def wait_ended(client: Client, rid: str) -> dict[str, Any]:
    with anyio.fail_after(20):
        while True:
            status = ok(
                await client.call_tool(
                    "deep_research_status", {"research_id": rid, "wait_seconds": 5}
                )
            )
            if status["status"] not in ("queued", "in_progress"):
                return status


@pytest.mark.parametrize("mode", MODES)
async def test_an_approved_plan_runs_to_the_report(make_settings: Any, mode: str) -> None:
    person = Person("accept", {"approve": True})
    async with person_client(make_settings(), person, mode) as client:
        started = ok(await client.call_tool("deep_research_start", PLANNED))
        done = await wait_ended(client, started["research_id"])
    (asked,) = person.asked
    assert asked.message.startswith("Deep Research proposes this plan:\n\nResearch plan")
    assert set(asked.requested_schema["properties"]) == {"approve", "changes"}  # type: ignore[union-attr]
    # The call that asked returns the research already running on the approved plan.
    assert started["status"] == "in_progress" and "plan" not in started
    assert any("confirmed plan" in note for note in started["notes"])
    assert done["status"] == "completed" and "urban beekeeping" in done["report"]


@pytest.mark.parametrize("mode", MODES)
async def test_changes_go_with_the_confirmation(make_settings: Any, mode: str) -> None:
    person = Person("accept", {"approve": True, "changes": "Focus on rooftop hives."})
    async with person_client(make_settings(), person, mode) as client:
        started = ok(await client.call_tool("deep_research_start", PLANNED))
        done = await wait_ended(client, started["research_id"])
    assert "Your changes went with the confirmation." in started["notes"]
    assert "Focus on rooftop hives." in done["report"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("answer", [("decline", None), ("accept", {"approve": False})])
async def test_a_declined_plan_cancels_the_research_upstream(
    make_settings: Any, emulator: Emulator, mode: str, answer: tuple[str, Any]
) -> None:
    person = Person(*answer)
    async with person_client(make_settings(), person, mode) as client:
        result = await client.call_tool("deep_research_start", PLANNED)
        listed = ok(await client.call_tool("gemini_conversations", {}))
    declined = ok(result)
    assert declined["status"] == "cancelled"
    assert declined["notes"][:2] == [
        "You declined the proposed plan: the research is cancelled.",
        "It was waiting for its plan to be confirmed, so nothing more ran upstream.",
    ]
    assert "You declined the proposed plan" in text_of(result)
    # Only the planning run was ever created: the research itself never started.
    assert len([r for r in emulator.requests if r.method == "POST"]) == 1
    assert listed["conversations"][0]["status"] == "cancelled"


async def test_deep_research_cancel_ends_a_research_that_waits_for_its_plan(
    make_settings: Any,
) -> None:
    async with person_client(make_settings(), None, "auto") as client:
        rid = ok(await client.call_tool("deep_research_start", PLANNED))["research_id"]
        assert (await wait_ended(client, rid))["status"] == "awaiting_plan_confirmation"
        cancelled = ok(await client.call_tool("deep_research_cancel", {"research_id": rid}))
        again = ok(await client.call_tool("deep_research_cancel", {"research_id": rid}))
        # A later message is a follow-up question, not a confirmation that would start it.
        ok(await client.call_tool("gemini_continue", {"conversation_id": rid, "prompt": "Why?"}))
        after = ok(await client.call_tool("deep_research_status", {"research_id": rid}))
    assert cancelled["status"] == "cancelled" and "plan" not in cancelled
    assert again["notes"] == ["This research is already cancelled; nothing was changed."]
    assert after["status"] == "cancelled"


@pytest.mark.parametrize("mode", MODES)
async def test_a_dismissed_question_leaves_the_plan_waiting(make_settings: Any, mode: str) -> None:
    async with person_client(make_settings(), Person("cancel"), mode) as client:
        waiting = ok(await client.call_tool("deep_research_start", PLANNED))
        confirmed = ok(
            await client.call_tool(
                "gemini_continue",
                {"conversation_id": waiting["research_id"], "prompt": "Go ahead."},
            )
        )
    assert waiting["status"] == "awaiting_plan_confirmation" and waiting["plan"]
    assert waiting["notes"][0] == "The plan question was dismissed without an answer."
    assert any("gemini_continue" in note for note in waiting["notes"])
    assert confirmed["status"] == "in_progress"


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_without_elicitation_confirms_with_gemini_continue(
    make_settings: Any, mode: str
) -> None:
    async with person_client(make_settings(), None, mode) as client:
        started = ok(await client.call_tool("deep_research_start", PLANNED))
        planned = await wait_ended(client, started["research_id"])
    assert started["status"] in ("queued", "in_progress") and "plan" not in started
    assert planned["status"] == "awaiting_plan_confirmation" and planned["plan"]


KEY = "k" * 32


@pytest.mark.parametrize("keys", [(KEY, KEY), (KEY, "z" * 32), (None, None)])
async def test_the_answer_may_reach_another_replica_that_shares_the_key(
    make_settings: Any, keys: tuple[str | None, str | None]
) -> None:
    store = MemoryStore()
    await store.open()
    replica_a, replica_b = (
        build_server(make_settings(request_state_key=key), store=store) for key in keys
    )
    person = Person("accept", {"approve": True})
    async with (
        Client(replica_a, mode="2026-07-28", elicitation_callback=person) as a,
        Client(replica_b, mode="2026-07-28", elicitation_callback=person) as b,
    ):
        asked = await a.session.call_tool("deep_research_start", PLANNED, allow_input_required=True)
        assert isinstance(asked, InputRequiredResult) and set(asked.input_requests or {}) == {
            "plan"
        }
        answer = {"plan": ElicitResult(action="accept", content={"approve": True})}
        retry = b.session.call_tool(
            "deep_research_start",
            PLANNED,
            input_responses=answer,  # type: ignore[arg-type]
            request_state=asked.request_state,
        )
        if keys[0] is not None and keys[0] == keys[1]:
            assert ok(await retry)["status"] == "in_progress"
        else:
            with pytest.raises(MCPError, match="Invalid or expired requestState"):
                await retry


def test_a_short_request_state_key_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^--request-state-key: needs at least 32 characters"):
        load_settings({"request_state_key": "short-secret"})
