"""Deep Research tools through the in-memory MCP client, against the emulator on a port."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import MCPError
from mcp.types import INVALID_PARAMS

from gemini_interactions_mcp.emulator import EmulatorConfig
from gemini_interactions_mcp.state.memory import MemoryStore
from gemini_interactions_mcp.state.records import ConversationRecord, Report, ResearchState

from .helpers import MODES, ProgressLog, connect, error, ok

pytestmark = pytest.mark.anyio


async def wait_done(client: Any, research_id: str, **extra: Any) -> dict[str, Any]:
    """Poll deep_research_status (with waiting) until the research ends."""
    with anyio.fail_after(20):
        while True:
            status = ok(
                await client.call_tool(
                    "deep_research_status",
                    {"research_id": research_id, "wait_seconds": 5, **extra},
                )
            )
            if status["status"] not in ("queued", "in_progress"):
                return status


@pytest.mark.parametrize("mode", MODES)
async def test_research_runs_to_a_report_with_sources(make_settings: Any, mode: str) -> None:
    async with connect(make_settings(), mode=mode) as client:
        began = time.monotonic()
        started = ok(
            await client.call_tool("deep_research_start", {"query": "history of the bicycle"})
        )
        assert time.monotonic() - began < 2
        rid = started["research_id"]
        assert rid.startswith("r_")
        assert started["status"] in ("queued", "in_progress")
        assert started["agent"] == "deep-research-preview-04-2026"

        done = await wait_done(client, rid)
        assert done["status"] == "completed"
        assert "history of the bicycle" in done["report"]
        assert done["sources"] and all(s["url"].startswith("http") for s in done["sources"])
        assert done["usage"]["total_tokens"] > 0
        assert done["progress"]["searches"] >= 1 and done["progress"]["pages_read"] >= 1
        assert done["report_uri"] == f"gemini://research/{rid}/report"

        resource = await client.read_resource(done["report_uri"])
        assert resource.contents[0].text == done["report"]  # type: ignore[union-attr]

        listing = ok(await client.call_tool("gemini_conversations", {}))
        (item,) = listing["conversations"]
        assert item["conversation_id"] == rid and item["kind"] == "research"
        assert item["status"] == "completed"


async def test_report_is_paged_by_offset_and_max_chars(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "tides"}))["research_id"]
        full = (await wait_done(client, rid))["report"]
        pieces: list[str] = []
        offset: int | None = 0
        while offset is not None:
            page = ok(
                await client.call_tool(
                    "deep_research_status",
                    {"research_id": rid, "offset": offset, "max_chars": 100},
                )
            )
            assert len(page["report"]) <= 100
            pieces.append(page["report"])
            offset = page.get("next_offset")
    assert "".join(pieces) == full


async def test_waiting_ends_when_the_research_does_not_at_each_progress(
    make_settings: Any,
) -> None:
    async with connect(make_settings()) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "moss"}))["research_id"]
        done = ok(
            await client.call_tool("deep_research_status", {"research_id": rid, "wait_seconds": 15})
        )
    assert done["status"] == "completed" and done["report"]


@pytest.mark.parametrize("emulator_config", [EmulatorConfig(research_seconds=30.0)])
async def test_a_wait_cut_by_the_call_budget_says_so(make_settings: Any) -> None:
    async with connect(make_settings(call_budget=2.0)) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "slow"}))["research_id"]
        status = ok(
            await client.call_tool(
                "deep_research_status", {"research_id": rid, "wait_seconds": 600}
            )
        )
        ok(await client.call_tool("deep_research_cancel", {"research_id": rid}))
    assert status["status"] in ("queued", "in_progress")
    assert any("(the call budget)" in n and "again" in n for n in status["notes"])


async def test_waiting_status_sends_progress_notifications(make_settings: Any) -> None:
    logs: list[ProgressLog] = []
    async with connect(make_settings(progress_interval=0.1)) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "volcanoes"}))[
            "research_id"
        ]
        with anyio.fail_after(20):
            status = "in_progress"
            while status in ("queued", "in_progress"):
                logs.append(ProgressLog())
                result = ok(
                    await client.call_tool(
                        "deep_research_status",
                        {"research_id": rid, "wait_seconds": 5},
                        progress_callback=logs[-1],
                    )
                )
                status = result["status"]
    messages = [m for log in logs for m in log.messages]
    # Recorded progress, not just the heartbeat: the phase and what the agent did.
    assert any("searches" in m and "pages read" in m for m in messages), messages
    for log in logs:
        log.assert_monotonic()


@pytest.mark.parametrize("emulator_config", [EmulatorConfig(research_seconds=30.0)])
async def test_cancel_while_running(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "long one"}))[
            "research_id"
        ]
        cancelled = ok(await client.call_tool("deep_research_cancel", {"research_id": rid}))
        assert cancelled["status"] == "cancelled"
        again = ok(await client.call_tool("deep_research_cancel", {"research_id": rid}))
        assert again["status"] == "cancelled"
        assert any("already cancelled" in n for n in again["notes"])
        status = ok(await client.call_tool("deep_research_status", {"research_id": rid}))
        assert status["status"] == "cancelled"


async def test_cancel_after_completion_changes_nothing(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "quick"}))["research_id"]
        done = await wait_done(client, rid)
        result = ok(await client.call_tool("deep_research_cancel", {"research_id": rid}))
        assert result["status"] == "completed"
        assert any("already completed" in n for n in result["notes"])
        after = ok(await client.call_tool("deep_research_status", {"research_id": rid}))
        assert after["report"] == done["report"]


async def test_dropped_stream_is_resumed_without_duplicates(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        dropped = ok(
            await client.call_tool("deep_research_start", {"query": "coral reefs [[drop 6]]"})
        )["research_id"]
        plain = ok(await client.call_tool("deep_research_start", {"query": "coral reefs"}))[
            "research_id"
        ]
        after_drop = await wait_done(client, dropped)
        reference = await wait_done(client, plain)
    assert after_drop["status"] == "completed"
    # The same deterministic research, once with a cut stream: nothing lost, nothing twice.
    assert after_drop["report"] == reference["report"]
    assert after_drop["sources"] == reference["sources"]
    assert after_drop["progress"]["thoughts"] == reference["progress"]["thoughts"]
    assert after_drop["progress"]["searches"] == reference["progress"]["searches"]
    assert after_drop["progress"]["pages_read"] == reference["progress"]["pages_read"]


async def test_twenty_researches_at_once_each_get_their_own_report(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        ids: dict[str, str] = {}

        async def start(n: int) -> None:
            result = ok(
                await client.call_tool("deep_research_start", {"query": f"topic number {n}"})
            )
            ids[result["research_id"]] = f"topic number {n}"

        async with anyio.create_task_group() as tg:
            for n in range(20):
                tg.start_soon(start, n)
        assert len(ids) == 20
        for rid, query in ids.items():
            done = await wait_done(client, rid)
            assert done["status"] == "completed"
            assert query in done["report"]
            others = [q for q in ids.values() if q != query]
            assert not any(f"{q}\n" in done["report"] for q in others)


async def test_made_up_research_id_looks_unknown(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        for tool in ("deep_research_status", "deep_research_cancel"):
            message = error(await client.call_tool(tool, {"research_id": "r_made_up"}))
            assert "Unknown research_id" in message
        chat = ok(await client.call_tool("gemini_ask", {"prompt": "hi"}))
        # A conversation id is not a research id.
        assert "Unknown research_id" in error(
            await client.call_tool("deep_research_status", {"research_id": chat["conversation_id"]})
        )


async def test_follow_up_question_carries_the_research_context(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "solar sails"}))[
            "research_id"
        ]
        await wait_done(client, rid)
        answer = ok(
            await client.call_tool(
                "gemini_continue", {"conversation_id": rid, "prompt": "what about cost?"}
            )
        )
        with anyio.fail_after(20):
            while answer["status"] in ("queued", "in_progress"):
                answer = ok(await client.call_tool("gemini_continue", {"conversation_id": rid}))
    assert "turn 2: what about cost?" in answer["text"]
    assert "solar sails" in answer["text"]


async def test_collaborative_planning_waits_for_confirmation(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        rid = ok(
            await client.call_tool(
                "deep_research_start",
                {"query": "urban beekeeping", "collaborative_planning": True},
            )
        )["research_id"]
        planned = await wait_done(client, rid)
        assert planned["status"] == "awaiting_plan_confirmation"
        assert planned["plan"].startswith("Research plan")
        assert "report" not in planned and "report_uri" not in planned
        assert planned["progress"]["phase"] == "awaiting_plan_confirmation"
        confirmed = ok(
            await client.call_tool(
                "gemini_continue", {"conversation_id": rid, "prompt": "Looks good, go ahead."}
            )
        )
        assert confirmed["status"] == "in_progress"
        assert any("deep_research_status" in n for n in confirmed["notes"])
        done = await wait_done(client, rid)
        listing = ok(await client.call_tool("gemini_conversations", {}))
    assert done["status"] == "completed"
    assert "urban beekeeping" in done["report"] and "Looks good, go ahead." in done["report"]
    assert "plan" not in done
    # Confirming the plan led to the report; it was not a follow-up question.
    (item,) = listing["conversations"]
    assert item["follow_ups"] == 0


async def test_a_follow_up_never_replaces_the_report(make_settings: Any) -> None:
    """The report, its sources, usage and elapsed time stay what was paid for."""
    now = [time.time()]
    async with connect(make_settings(), clock=lambda: now[0]) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "tidal power"}))[
            "research_id"
        ]
        now[0] += 30
        before = await wait_done(client, rid)
        resource_before = await client.read_resource(before["report_uri"])
        now[0] += 100
        follow = ok(
            await client.call_tool(
                "gemini_continue", {"conversation_id": rid, "prompt": "One-line summary"}
            )
        )
        with anyio.fail_after(20):
            while follow["status"] in ("queued", "in_progress"):
                follow = ok(await client.call_tool("gemini_continue", {"conversation_id": rid}))
        assert follow["text"].startswith("turn 2: One-line summary")
        second = ok(
            await client.call_tool("gemini_continue", {"conversation_id": rid, "prompt": "More?"})
        )
        with anyio.fail_after(20):
            while second["status"] in ("queued", "in_progress"):
                second = ok(await client.call_tool("gemini_continue", {"conversation_id": rid}))
        assert second["text"].startswith("turn 3: More?")
        # Without a prompt: the latest answer, which is the latest follow-up's.
        latest = ok(await client.call_tool("gemini_continue", {"conversation_id": rid}))
        assert latest["text"] == second["text"]
        now[0] += 100
        after = ok(await client.call_tool("deep_research_status", {"research_id": rid}))
        resource_after = await client.read_resource(before["report_uri"])
        listing = ok(await client.call_tool("gemini_conversations", {}))
    for key in ("status", "report", "sources", "usage", "elapsed_seconds", "report_uri"):
        assert after[key] == before[key], key
    assert before["report"].startswith("# Research report: tidal power")
    assert len(before["sources"]) == 3
    assert resource_after.contents == resource_before.contents
    (item,) = listing["conversations"]
    assert (item["status"], item["follow_ups"], item["turns"]) == ("completed", 2, 3)


async def test_a_research_without_follow_ups_answers_with_its_report(make_settings: Any) -> None:
    async with connect(make_settings(max_text_chars=1000)) as client:
        query = "kelp forests along the cold rocky coasts of the northern Pacific and their otters"
        rid = ok(await client.call_tool("deep_research_start", {"query": query}))["research_id"]
        # No prompt while it runs: wait for the report (within the call budget).
        answer: dict[str, Any] = {"status": "in_progress"}
        with anyio.fail_after(20):
            while answer["status"] in ("queued", "in_progress"):
                answer = ok(await client.call_tool("gemini_continue", {"conversation_id": rid}))
        status = ok(
            await client.call_tool(
                "deep_research_status", {"research_id": rid, "max_chars": 1_000_000}
            )
        )
        pieces, offset = [answer["text"]], answer.get("next_offset")
        while offset is not None:
            page = ok(
                await client.call_tool(
                    "gemini_continue", {"conversation_id": rid, "offset": offset}
                )
            )
            pieces.append(page["text"])
            offset = page.get("next_offset")
    assert answer["status"] == "completed" and answer["sources"] == status["sources"]
    assert len(pieces) > 1 and "".join(pieces) == status["report"]


async def test_a_research_follow_up_takes_only_a_prompt(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "bats"}))["research_id"]
        await wait_done(client, rid)
        message = error(
            await client.call_tool(
                "gemini_continue",
                {"conversation_id": rid, "prompt": "?", "thinking_level": "high", "model": "pro"},
            )
        )
    assert "only a prompt" in message and "thinking_level" in message and "model" in message


async def test_upstream_failure_becomes_status_failed_with_its_message(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        rid = ok(
            await client.call_tool("deep_research_start", {"query": "doomed [[fail api_error]]"})
        )["research_id"]
        done = await wait_done(client, rid)
    assert done["status"] == "failed"
    assert "api_error" in done["error"]


async def test_foreign_research_looks_unknown_everywhere(make_settings: Any) -> None:
    store = MemoryStore()
    await store.open()
    now = time.time()
    await store.insert(
        ConversationRecord(
            id="r_not_yours",
            owner="auth:mallory",
            kind="research",
            created_at=now,
            updated_at=now,
            research=ResearchState(
                query="q",
                status="completed",
                interaction_id="v1_x",
                started_at=now,
                report=Report(interaction_id="v1_x", text="secret findings"),
            ),
        )
    )
    async with connect(make_settings(), store=store) as client:
        for tool in ("deep_research_status", "deep_research_cancel"):
            foreign = error(await client.call_tool(tool, {"research_id": "r_not_yours"}))
            unknown = error(await client.call_tool(tool, {"research_id": "r_made_up"}))
            assert foreign.replace("r_not_yours", "X") == unknown.replace("r_made_up", "X")
        with pytest.raises(MCPError) as caught:
            await client.read_resource("gemini://research/r_not_yours/report")
        assert "secret" not in str(caught.value)
        assert "Unknown research_id" in str(caught.value)


@pytest.mark.parametrize("emulator_config", [EmulatorConfig(research_seconds=30.0)])
@pytest.mark.parametrize("mode", MODES)
async def test_every_tool_and_its_errors_in_both_protocol_eras(
    make_settings: Any, mode: str
) -> None:
    async with connect(make_settings(), mode=mode) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "era check"}))[
            "research_id"
        ]
        running = ok(await client.call_tool("deep_research_status", {"research_id": rid}))
        assert running["status"] in ("queued", "in_progress") and "report" not in running
        assert "still running" in error(
            await client.call_tool("gemini_continue", {"conversation_id": rid, "prompt": "?"})
        )
        with pytest.raises(MCPError, match=r"still running .*not ready yet") as early:
            await client.read_resource(f"gemini://research/{rid}/report")
        assert early.value.error.code == INVALID_PARAMS
        assert (
            ok(await client.call_tool("deep_research_cancel", {"research_id": rid}))["status"]
            == "cancelled"
        )
        assert "Unknown research_id" in error(
            await client.call_tool("deep_research_status", {"research_id": "r_nope"})
        )
        assert "wait_seconds" in error(
            await client.call_tool("deep_research_status", {"research_id": rid, "wait_seconds": -1})
        )
        assert "query" in error(await client.call_tool("deep_research_start", {"query": ""}))
        chat = ok(await client.call_tool("gemini_ask", {"prompt": "hello"}))
        assert "offset" in error(
            await client.call_tool(
                "gemini_continue",
                {"conversation_id": chat["conversation_id"], "offset": 10_000},
            )
        )
        assert "either a prompt or function_results" in error(
            await client.call_tool(
                "gemini_continue",
                {
                    "conversation_id": chat["conversation_id"],
                    "prompt": "x",
                    "function_results": [{"call_id": "c", "result": 1}],
                },
            )
        )
        assert "not waiting for function results" in error(
            await client.call_tool(
                "gemini_continue",
                {
                    "conversation_id": chat["conversation_id"],
                    "function_results": [{"call_id": "c", "result": 1}],
                },
            )
        )
        assert "nothing was forgotten" in error(
            await client.call_tool("gemini_conversations", {"forget": "c_nope"})
        )
        listing = ok(await client.call_tool("gemini_conversations", {"limit": 1}))
        assert len(listing["conversations"]) == 1


async def test_elapsed_time_stops_when_the_research_ends(make_settings: Any) -> None:
    now = [time.time()]
    async with connect(make_settings(), clock=lambda: now[0]) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "clock"}))["research_id"]
        now[0] += 7
        done = await wait_done(client, rid)
        now[0] += 100
        later = ok(await client.call_tool("deep_research_status", {"research_id": rid}))
    assert done["elapsed_seconds"] == later["elapsed_seconds"] == 7


@pytest.mark.parametrize("emulator_config", [EmulatorConfig(research_seconds=30.0)])
async def test_forgetting_a_running_research_cancels_it(make_settings: Any, emulator: Any) -> None:
    async with connect(make_settings()) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "forget me"}))[
            "research_id"
        ]
        gone = ok(await client.call_tool("gemini_conversations", {"forget": rid}))
        assert any("cancelled" in n for n in gone["notes"])
    (interaction,) = [i for i in emulator.interactions.values() if i.get("agent")]
    assert interaction["status"] == "cancelled"


async def test_finished_reports_are_also_written_to_the_reports_directory(
    make_settings: Any, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    query = "tides ../../../../etc/passwd and more"
    async with connect(make_settings(reports_dir=reports)) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": query}))["research_id"]
        done = await wait_done(client, rid)
    check_written(reports, tmp_path, rid, query, done)


def check_written(
    reports: Path, tmp_path: Path, rid: str, query: str, done: dict[str, Any]
) -> None:
    (written,) = reports.iterdir()
    assert written.name.endswith(f"-{rid}.md") and "etc-passwd" in written.name
    assert written.parent == reports and not list(tmp_path.glob("*.md"))
    text = written.read_text()
    assert text.startswith(f"# {query}\n") and f"- Research id: {rid}" in text
    assert done["report"].rstrip() in text
    for number, source in enumerate(done["sources"], 1):
        assert f"{number}. [{source['title']}]({source['url']})" in text
