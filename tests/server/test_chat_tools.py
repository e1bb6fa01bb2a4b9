"""gemini_ask, gemini_continue and gemini_conversations through the in-memory MCP client."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from gemini_interactions_mcp.emulator import Emulator
from gemini_interactions_mcp.state.memory import MemoryStore
from gemini_interactions_mcp.state.records import Chain, ConversationRecord
from tests.reliability import fault

from .helpers import MODES, ProgressLog, connect, error, ok, text_of

pytestmark = pytest.mark.anyio

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.mark.parametrize("mode", MODES)
async def test_ask_then_continue_keeps_the_conversation(make_settings: Any, mode: str) -> None:
    async with connect(make_settings(), mode=mode) as client:
        first = ok(await client.call_tool("gemini_ask", {"prompt": "hello there"}))
        assert first["status"] == "completed"
        assert "turn 1: hello there" in first["text"]
        assert first["conversation_id"].startswith("c_")
        assert first["model"] == "gemini-3.8-flash"
        assert first["usage"]["total_tokens"] > 0

        second = ok(
            await client.call_tool(
                "gemini_continue",
                {"conversation_id": first["conversation_id"], "prompt": "and again"},
            )
        )
        assert "turn 2: and again" in second["text"]
        assert second["conversation_id"] == first["conversation_id"]
        assert second["interaction_id"] != first["interaction_id"]

        # No conversation_id: the caller's latest conversation.
        third = ok(await client.call_tool("gemini_continue", {"prompt": "third"}))
        assert "turn 3: third" in third["text"]


async def test_interaction_scoped_settings_are_resent_every_turn(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        first = ok(
            await client.call_tool(
                "gemini_ask",
                {
                    "prompt": "hi",
                    "system_instruction": "be brief",
                    "tools": ["google_search"],
                    "functions": [WEATHER],
                },
            )
        )
        assert "system: be brief" in first["text"]
        second = ok(
            await client.call_tool(
                "gemini_continue", {"conversation_id": first["conversation_id"], "prompt": "more"}
            )
        )
        assert "turn 2: more" in second["text"]
        assert "system: be brief" in second["text"]
        assert "google_search" in second["text"] and "fn:get_weather" in second["text"]

        # A turn may override a setting; the override is used for that turn.
        third = ok(
            await client.call_tool(
                "gemini_continue",
                {"prompt": "again", "system_instruction": "be verbose"},
            )
        )
        assert "system: be verbose" in third["text"]


async def test_google_search_reports_activity_and_sources(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        result = ok(
            await client.call_tool(
                "gemini_ask",
                {
                    "prompt": "tallest mountain [[search tallest mountain]]",
                    "tools": ["google_search"],
                },
            )
        )
    kinds = [a["kind"] for a in result["tool_activity"]]
    assert "google_search" in kinds
    assert result["sources"] and all(s["url"].startswith("http") for s in result["sources"])


async def test_deprecated_model_is_substituted_with_a_note(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        result = ok(
            await client.call_tool("gemini_ask", {"prompt": "hi", "model": "gemini-1.5-pro"})
        )
    assert result["model"] == "gemini-3.8-flash"
    assert any(
        "gemini-1.5-pro is deprecated; used gemini-3.8-flash instead" in n for n in result["notes"]
    )


async def test_alias_resolves_to_the_current_model(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        result = ok(await client.call_tool("gemini_ask", {"prompt": "hi", "model": "pro"}))
    assert result["model"] == "gemini-3.1-pro-preview"


async def test_unknown_model_error_lists_the_current_choices(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        message = error(
            await client.call_tool("gemini_ask", {"prompt": "hi", "model": "gemini-9-ultra"})
        )
        assert "gemini-9-ultra" in message
        assert "gemini-3.8-flash" in message
        # The server keeps serving.
        ok(await client.call_tool("gemini_ask", {"prompt": "still there?"}))


async def test_an_idle_turn_ends_the_call_and_the_next_message_continues_it(
    make_settings: Any,
) -> None:
    async with connect(make_settings()) as client:
        waiting = await client.call_tool("gemini_ask", {"prompt": "wait for me [[idle]]"})
        first = ok(waiting)
        resumed = ok(
            await client.call_tool(
                "gemini_continue", {"conversation_id": first["conversation_id"], "prompt": "here"}
            )
        )
    # idle is not an end: the call returns at once, says what to do, and the conversation is
    # free for the next message (no lease left behind, no turn reported as running).
    assert first["status"] == "idle"
    assert "send it with gemini_continue" in " ".join(first["notes"])
    assert "gemini_continue" in text_of(waiting)
    assert resumed["status"] == "completed" and "turn 2: here" in resumed["text"]


@pytest.mark.parametrize("mode", MODES)
async def test_function_call_round_trip(make_settings: Any, mode: str) -> None:
    async with connect(make_settings(), mode=mode) as client:
        asked = ok(
            await client.call_tool(
                "gemini_ask",
                {
                    "prompt": 'weather? [[call get_weather {"city": "Paris"}]]',
                    "functions": [WEATHER],
                },
            )
        )
        assert asked["status"] == "requires_action"
        (call,) = asked["function_calls"]
        assert call["name"] == "get_weather" and call["arguments"] == {"city": "Paris"}

        # A prompt is refused while results are owed.
        assert "function results" in error(
            await client.call_tool(
                "gemini_continue", {"conversation_id": asked["conversation_id"], "prompt": "x"}
            )
        )
        assert "Unknown call_id" in error(
            await client.call_tool(
                "gemini_continue",
                {
                    "conversation_id": asked["conversation_id"],
                    "function_results": [{"call_id": "nope", "result": 1}],
                },
            )
        )
        answered = ok(
            await client.call_tool(
                "gemini_continue",
                {
                    "conversation_id": asked["conversation_id"],
                    "function_results": [{"call_id": call["call_id"], "result": {"temp_c": 18}}],
                },
            )
        )
    assert answered["status"] == "completed"
    assert "get_weather" in answered["text"] and "18" in answered["text"]


OSLO = '[[call get_weather {"city": "Oslo"}]]'


async def test_deferred_functions_are_loaded_by_tool_search_and_then_called(
    make_settings: Any, emulator: Emulator
) -> None:
    deferred = [{**WEATHER, "deferred": True}, {"name": "get_tides", "deferred": True}]
    log = ProgressLog()
    async with connect(make_settings()) as client:
        result = await client.call_tool(
            "gemini_ask",
            {
                "prompt": "weather? [[toolsearch get_weather]] " + OSLO,
                "tools": ["tool_search"],
                "functions": deferred,
            },
            progress_callback=log,
        )
        refused = error(
            await client.call_tool(
                "gemini_ask", {"prompt": "x", "functions": [{**WEATHER, "deferred": True}]}
            )
        )
        # The conversation's tool search stays when only its functions change, not when the
        # built-in tools are replaced without it.
        cid = ok(result)["conversation_id"]
        call_id = ok(result)["function_calls"][0]["call_id"]
        ok(
            await client.call_tool(
                "gemini_continue",
                {
                    "conversation_id": cid,
                    "function_results": [{"call_id": call_id, "result": {"temp_c": 3}}],
                    "functions": [{"name": "get_tides", "deferred": True}],
                },
            )
        )
        dropped = error(
            await client.call_tool(
                "gemini_continue",
                {"conversation_id": cid, "prompt": "and now?", "tools": ["google_search"]},
            )
        )
    asked = ok(result)
    assert asked["status"] == "requires_action"
    assert asked["function_calls"][0]["name"] == "get_weather"
    assert {"kind": "tool_search", "detail": "get_weather"} in asked["tool_activity"]
    assert "Tools used: tool_search: get_weather" in text_of(result)
    assert "loading functions: get_weather" in log.messages
    sent, then = [r.json for r in emulator.requests if r.method == "POST"]
    assert sent["tools"][0] == {"type": "tool_search"}
    assert [t.get("defer_loading") for t in sent["tools"][1:]] == [True, True]
    assert then["tools"] == [{"type": "tool_search"}, {**sent["tools"][2]}]
    # Deferred functions without a tool search could never be found: refused before sending.
    assert "add 'tool_search' to tools" in refused and "add 'tool_search' to tools" in dropped


async def test_response_schema_gives_a_parsed_valid_value(make_settings: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "height_m": {"type": "integer"}},
        "required": ["name", "height_m"],
    }
    async with connect(make_settings()) as client:
        result = ok(
            await client.call_tool(
                "gemini_ask", {"prompt": "a mountain", "response_schema": schema}
            )
        )
    assert isinstance(result["parsed"], dict)
    assert isinstance(result["parsed"]["height_m"], int)
    assert isinstance(result["parsed"]["name"], str)


async def test_progress_notifications_carry_text_so_far(make_settings: Any) -> None:
    log = ProgressLog()
    async with connect(make_settings()) as client:
        ok(
            await client.call_tool(
                "gemini_ask",
                {
                    "prompt": "long [[chars 800]] [[delay 2]] [[search x]]",
                    "tools": ["google_search"],
                },
                progress_callback=log,
            )
        )
    assert any(m.startswith("writing") for m in log.messages), log.messages
    assert any(m.startswith("searching") for m in log.messages), log.messages
    log.assert_monotonic()


async def test_heartbeat_progress_while_upstream_is_silent(make_settings: Any) -> None:
    log = ProgressLog()
    async with connect(make_settings(progress_interval=0.1)) as client:
        ok(
            await client.call_tool(
                "gemini_ask", {"prompt": "slow [[chars 40]] [[delay 150]]"}, progress_callback=log
            )
        )
    assert any("waiting for Gemini" in m for m in log.messages), log.messages
    log.assert_monotonic()


async def test_concurrent_continues_never_fork_the_conversation(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        first = ok(await client.call_tool("gemini_ask", {"prompt": "start [[delay 5]]"}))
        cid = first["conversation_id"]
        texts: list[str] = []

        async def go(prompt: str) -> None:
            result = ok(
                await client.call_tool(
                    "gemini_continue",
                    {"conversation_id": cid, "prompt": f"{prompt} [[chars 200]] [[delay 5]]"},
                )
            )
            texts.append(result["text"])

        async with anyio.create_task_group() as tg:
            tg.start_soon(go, "left")
            tg.start_soon(go, "right")
        assert sorted(t.split(":")[0] for t in texts) == ["turn 2", "turn 3"]
        listing = ok(await client.call_tool("gemini_conversations", {}))
        assert listing["conversations"][0]["turns"] == 3


async def test_call_past_the_budget_returns_in_progress_then_collects(make_settings: Any) -> None:
    async with connect(make_settings(call_budget=2.0)) as client:
        # 20 deltas, 250 ms apart: the answer cannot be ready within one 2 s budget.
        began = anyio.current_time()
        started = ok(
            await client.call_tool("gemini_ask", {"prompt": "slow [[chars 240]] [[delay 250]]"})
        )
        took = anyio.current_time() - began
        assert started["status"] == "in_progress"
        assert any("no prompt" in n for n in started["notes"])
        # The note tells the time the call really waited (not, say, the budget's figure).
        (said,) = [n for n in started["notes"] if n.startswith("Still running after")]
        assert abs(int(said.split()[3]) - took) <= 1
        cid = started["conversation_id"]
        # A new prompt must wait until the running answer is collected.
        assert "still being generated" in error(
            await client.call_tool("gemini_continue", {"conversation_id": cid, "prompt": "next"})
        )
        result: dict[str, Any] = started
        with anyio.fail_after(30):
            while result["status"] == "in_progress":
                result = ok(await client.call_tool("gemini_continue", {"conversation_id": cid}))
        assert result["status"] == "completed"
        assert "turn 1: slow" in result["text"]
        nxt = ok(
            await client.call_tool("gemini_continue", {"conversation_id": cid, "prompt": "next"})
        )
        assert "turn 2: next" in nxt["text"]


async def test_long_text_is_cut_and_paged_by_offset(make_settings: Any) -> None:
    async with connect(make_settings(max_text_chars=1000)) as client:
        first = ok(await client.call_tool("gemini_ask", {"prompt": "big [[chars 2500]]"}))
        assert len(first["text"]) == 1000 and first["next_offset"] == 1000
        pieces = [first["text"]]
        offset = first["next_offset"]
        while offset is not None:
            page = ok(
                await client.call_tool(
                    "gemini_continue",
                    {"conversation_id": first["conversation_id"], "offset": offset},
                )
            )
            pieces.append(page["text"])
            offset = page.get("next_offset")
        full = "".join(pieces)
    assert len(full) >= 2500 and full.startswith("turn 1: big")


async def test_conversations_lists_and_forgets(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        a = ok(await client.call_tool("gemini_ask", {"prompt": "first one", "title": "Alpha"}))
        b = ok(await client.call_tool("gemini_ask", {"prompt": "second one"}))
        listing = ok(await client.call_tool("gemini_conversations", {}))
        ids = [c["conversation_id"] for c in listing["conversations"]]
        assert ids == [b["conversation_id"], a["conversation_id"]]
        assert listing["conversations"][1]["title"] == "Alpha"
        assert listing["conversations"][0]["status"] == "completed"

        gone = ok(
            await client.call_tool(
                "gemini_conversations", {"forget": a["conversation_id"], "delete_upstream": True}
            )
        )
        assert gone["forgotten"] == a["conversation_id"]
        assert [c["conversation_id"] for c in gone["conversations"]] == [b["conversation_id"]]
        assert "Unknown conversation_id" in error(
            await client.call_tool(
                "gemini_continue", {"conversation_id": a["conversation_id"], "prompt": "x"}
            )
        )


async def test_foreign_handle_answers_like_an_unknown_one(make_settings: Any) -> None:
    store = MemoryStore()
    await store.open()
    now = time.time()
    await store.insert(
        ConversationRecord(
            id="c_someone_elses",
            owner="auth:mallory",
            created_at=now,
            updated_at=now,
            chain=Chain(head="v1_x", status="completed", turns=1),
        )
    )
    async with connect(make_settings(), store=store) as client:
        foreign = error(
            await client.call_tool(
                "gemini_continue", {"conversation_id": "c_someone_elses", "prompt": "hi"}
            )
        )
        unknown = error(
            await client.call_tool(
                "gemini_continue", {"conversation_id": "c_made_up", "prompt": "hi"}
            )
        )
        assert foreign.replace("c_someone_elses", "X") == unknown.replace("c_made_up", "X")
        listing = ok(await client.call_tool("gemini_conversations", {}))
        assert listing["conversations"] == []


async def test_expired_conversation_says_to_start_anew(make_settings: Any) -> None:
    clock = [time.time()]
    async with connect(make_settings(), clock=lambda: clock[0]) as client:
        first = ok(await client.call_tool("gemini_ask", {"prompt": "old"}))
        clock[0] += 56 * 86_400
        message = error(
            await client.call_tool(
                "gemini_continue", {"conversation_id": first["conversation_id"], "prompt": "hi"}
            )
        )
        assert "expired" in message and "gemini_ask" in message
        listing = ok(await client.call_tool("gemini_conversations", {}))
        assert listing["conversations"][0]["status"] == "expired"


async def test_store_false_conversations_cannot_be_continued(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        first = ok(await client.call_tool("gemini_ask", {"prompt": "private", "store": False}))
        assert "turn 1: private" in first["text"]
        message = error(
            await client.call_tool(
                "gemini_continue", {"conversation_id": first["conversation_id"], "prompt": "more"}
            )
        )
    assert "store=false" in message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x", "tools": ["web_browser"]}, "google_search"),
        ({"prompt": "x", "response_schema": {"type": "objekt"}}, "not a valid JSON Schema"),
        ({"prompt": "x", "tools": [{"type": "file_search"}]}, "stores"),
        ({"prompt": "x", "attachments": [{"data": "!!!", "mime_type": "image/png"}]}, "base64"),
        ({"prompt": "x", "attachments": [{"uri": "gs://b/f.png"}]}, "mime_type"),
        ({"prompt": "x", "attachments": [{"path": "/etc/passwd"}]}, "disabled"),
        ({"prompt": "x", "thinking_level": "extreme"}, "minimal"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
async def test_bad_arguments_give_a_helpful_error(
    make_settings: Any, args: dict[str, Any], expected: str, mode: str
) -> None:
    async with connect(make_settings(), mode=mode) as client:
        message = error(await client.call_tool("gemini_ask", args))
        assert expected in message
        ok(await client.call_tool("gemini_ask", {"prompt": "still serving"}))


async def test_local_attachments_only_from_allowed_directories(
    make_settings: Any, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "note.txt").write_text("hello file")
    (allowed / "big.bin").write_bytes(b"x" * 2048)
    outside = tmp_path / "secret.txt"
    outside.write_text("nope")
    settings = make_settings(attachment_dirs=[allowed], max_attachment_bytes=1024)
    async with connect(settings) as client:
        good = ok(
            await client.call_tool(
                "gemini_ask",
                {"prompt": "read it", "attachments": [{"path": str(allowed / "note.txt")}]},
            )
        )
        assert "turn 1: read it" in good["text"]
        assert "outside the allowed" in error(
            await client.call_tool(
                "gemini_ask", {"prompt": "x", "attachments": [{"path": str(outside)}]}
            )
        )
        assert "not a file in the allowed directories" in error(
            await client.call_tool(
                "gemini_ask", {"prompt": "x", "attachments": [{"path": str(allowed / "gone.txt")}]}
            )
        )
        assert "limit" in error(
            await client.call_tool(
                "gemini_ask", {"prompt": "x", "attachments": [{"path": str(allowed / "big.bin")}]}
            )
        )
        inline = base64.b64encode(b"y" * 2048).decode()
        assert "limit" in error(
            await client.call_tool(
                "gemini_ask",
                {"prompt": "x", "attachments": [{"data": inline, "mime_type": "image/png"}]},
            )
        )


async def test_paths_outside_the_allowed_directories_reveal_nothing(
    make_settings: Any, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    (allowed / "link.txt").symlink_to(secret)
    settings = make_settings(attachment_dirs=[allowed])

    async def refusal(client: Any, path: str) -> str:
        result = await client.call_tool(
            "gemini_ask", {"prompt": "x", "attachments": [{"path": path}]}
        )
        return error(result).replace(repr(path), "PATH")

    async with connect(settings) as client:
        existing = await refusal(client, str(secret))
        missing = await refusal(client, str(tmp_path / "missing.txt"))
        through_link = await refusal(client, str(allowed / "link.txt"))
        under_a_file = await refusal(client, str(secret) + "/x")
        with_nul = await refusal(client, str(allowed) + "/a\x00b")
    assert existing == missing == through_link == under_a_file == with_nul
    assert "outside the allowed directories" in existing


async def test_the_attachment_limit_counts_every_attachment_of_a_turn(
    make_settings: Any, tmp_path: Path
) -> None:
    data = base64.b64encode(b"z" * 600).decode()
    one = {"data": data, "mime_type": "image/png"}
    async with connect(make_settings(max_attachment_bytes=1000)) as client:
        message = error(
            await client.call_tool("gemini_ask", {"prompt": "x", "attachments": [one, one]})
        )
    assert "attachments[1] is 600 bytes, more than the 400 bytes left" in message


async def test_continue_without_any_conversation_says_how_to_start(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        message = error(await client.call_tool("gemini_continue", {"prompt": "hi"}))
    assert "gemini_ask" in message


async def test_upstream_failure_is_a_tool_error_and_the_server_keeps_serving(
    make_settings: Any,
) -> None:
    async with connect(make_settings()) as client:
        message = error(await client.call_tool("gemini_ask", {"prompt": "boom [[error 500]]"}))
        assert "Gemini" in message
        message = error(await client.call_tool("gemini_ask", {"prompt": "mid [[fail safety]]"}))
        assert "safety" in message
        ok(await client.call_tool("gemini_ask", {"prompt": "fine"}))


async def test_tools_list_is_small_and_annotated(make_settings: Any) -> None:
    import json

    async with connect(make_settings()) as client:
        listed = await client.list_tools()
    payload = json.dumps(
        [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools],
        separators=(",", ":"),
    )
    assert len(payload.encode()) <= 8_036, len(payload)
    by_name = {t.name: t for t in listed.tools}
    assert set(by_name) == {
        "gemini_ask",
        "gemini_continue",
        "gemini_conversations",
        "deep_research_start",
        "deep_research_status",
        "deep_research_cancel",
    }
    # Unset hints mean the spec's defaults: not read-only, destructive, open world.
    status = by_name["deep_research_status"].annotations
    assert status is not None and status.read_only_hint is True
    assert status.open_world_hint is False
    for name in ("gemini_ask", "gemini_continue", "deep_research_start"):
        hints = by_name[name].annotations
        assert hints is not None and hints.destructive_hint is False
        assert not hints.read_only_hint and hints.open_world_hint in (None, True)
    cancel = by_name["deep_research_cancel"].annotations
    assert cancel is not None and cancel.destructive_hint and cancel.idempotent_hint
    assert all(by_name[n].output_schema for n in by_name)
    # Every parameter says what it is, with its limits and allowed values.
    for tool in listed.tools:
        for param, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), (tool.name, param)
    ask = by_name["gemini_ask"].input_schema["properties"]
    assert "max 1M chars" in ask["prompt"]["description"]
    assert "tool_search" in ask["tools"]["items"]["anyOf"][0]["enum"]
    cont = by_name["gemini_continue"].input_schema["properties"]
    assert all(cont[p]["items"]["type"] for p in ("tools", "functions", "attachments"))
    assert by_name["gemini_conversations"].input_schema["properties"]["limit"]["maximum"] == 200
    status = by_name["deep_research_status"].input_schema["properties"]
    assert "call budget" in status["wait_seconds"]["description"]


async def test_a_cancelled_call_leaves_the_answer_collectable(make_settings: Any) -> None:
    """The client gives up waiting; Gemini keeps working and the answer is collected later."""
    async with connect(make_settings()) as client:
        with anyio.CancelScope() as waiting:

            async def give_up(progress: float, total: float | None, message: str | None) -> None:
                # The answer has begun to stream: the caller stops waiting for it.
                waiting.cancel()

            await client.call_tool(
                "gemini_ask",
                {"prompt": "slow [[chars 300]] [[delay 20]]"},
                progress_callback=give_up,
            )
        assert waiting.cancelled_caught
        listing = ok(await client.call_tool("gemini_conversations", {}))
        (item,) = listing["conversations"]
        result: dict[str, Any] = {"status": "in_progress"}
        with anyio.fail_after(15):
            while result["status"] == "in_progress":
                result = ok(
                    await client.call_tool(
                        "gemini_continue", {"conversation_id": item["conversation_id"]}
                    )
                )
    assert result["status"] == "completed"
    assert "turn 1: slow" in result["text"]


async def test_a_failed_first_turn_leaves_no_conversation_behind(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        ok(await client.call_tool("gemini_ask", {"prompt": "keep me"}))
        error(await client.call_tool("gemini_ask", {"prompt": "x", "model": "gemini-9-ultra"}))
        error(await client.call_tool("gemini_ask", {"prompt": "x [[error 400]]"}))
        listing = ok(await client.call_tool("gemini_conversations", {}))
        assert [c["title"] for c in listing["conversations"]] == ["keep me"]
        # "Latest" is still the good conversation.
        nxt = ok(await client.call_tool("gemini_continue", {"prompt": "next"}))
        assert "turn 2: next" in nxt["text"]


async def test_a_turn_that_fails_after_the_budget_is_reported_and_unblocks(
    make_settings: Any,
) -> None:
    async with connect(make_settings(call_budget=2.0)) as client:
        first = ok(await client.call_tool("gemini_ask", {"prompt": "base"}))
        cid = first["conversation_id"]
        # Half the text (15 deltas, 250 ms apart) streams before the failure: past the budget.
        slow = ok(
            await client.call_tool(
                "gemini_continue",
                {
                    "conversation_id": cid,
                    "prompt": "doomed [[chars 360]] [[delay 250]] [[fail api_error]]",
                },
            )
        )
        assert slow["status"] == "in_progress"
        with anyio.fail_after(30):
            while True:
                result = await client.call_tool("gemini_continue", {"conversation_id": cid})
                if result.is_error:
                    break
                assert ok(result)["status"] == "in_progress"
        assert "api_error" in error(result)
        listing = ok(await client.call_tool("gemini_conversations", {}))
        assert listing["conversations"][0]["status"] == "failed"
        # The failed turn is not part of the conversation: the next one chains on turn 1.
        again = ok(
            await client.call_tool("gemini_continue", {"conversation_id": cid, "prompt": "again"})
        )
        assert "turn 2: again" in again["text"]


async def test_response_schema_given_on_continue_is_used_for_that_answer(
    make_settings: Any,
) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    async with connect(make_settings()) as client:
        ok(await client.call_tool("gemini_ask", {"prompt": "plain"}))
        result = ok(
            await client.call_tool(
                "gemini_continue", {"prompt": "count", "response_schema": schema}
            )
        )
    assert isinstance(result["parsed"]["n"], int)
    assert not any("does not match" in n for n in result["notes"])


async def test_overriding_functions_keeps_the_built_in_tools_and_back(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        ok(await client.call_tool("gemini_ask", {"prompt": "a", "tools": ["google_search"]}))
        with_fn = ok(
            await client.call_tool("gemini_continue", {"prompt": "b", "functions": [WEATHER]})
        )
        assert "google_search" in with_fn["text"] and "fn:get_weather" in with_fn["text"]
        with_tools = ok(
            await client.call_tool("gemini_continue", {"prompt": "c", "tools": ["url_context"]})
        )
    assert "url_context" in with_tools["text"] and "fn:get_weather" in with_tools["text"]
    assert "google_search" not in with_tools["text"]


async def test_arguments_that_cannot_work_together_are_refused(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        assert "store=true" in error(
            await client.call_tool(
                "gemini_ask", {"prompt": "x", "store": False, "functions": [WEATHER]}
            )
        )
        assert "agent" in error(
            await client.call_tool("gemini_ask", {"prompt": "x", "model": "deep-research"})
        )
        ok(await client.call_tool("gemini_ask", {"prompt": "x"}))
        assert "agent" in error(
            await client.call_tool("gemini_continue", {"prompt": "y", "model": "deep-research"})
        )


async def test_a_second_server_on_the_same_store_gets_conversation_busy(
    make_settings: Any,
) -> None:
    store = MemoryStore()
    await store.open()
    settings = make_settings()
    async with connect(settings, store=store) as one, connect(settings, store=store) as two:
        cid = ok(await one.call_tool("gemini_ask", {"prompt": "shared"}))["conversation_id"]
        running = anyio.Event()
        results: dict[str, Any] = {}

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            running.set()

        async def slow() -> None:
            results["slow"] = await one.call_tool(
                "gemini_continue",
                {"conversation_id": cid, "prompt": "long [[chars 300]] [[delay 20]]"},
                progress_callback=on_progress,
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            await running.wait()
            results["other"] = await two.call_tool(
                "gemini_continue", {"conversation_id": cid, "prompt": "meanwhile"}
            )
        assert "busy" in error(results["other"])
        assert "turn 2: long" in ok(results["slow"])["text"]
        after = ok(
            await two.call_tool("gemini_continue", {"conversation_id": cid, "prompt": "now"})
        )
        assert "turn 3: now" in after["text"]


async def test_two_replicas_on_one_redis_store_share_conversations(
    make_settings: Any, redis_url: str
) -> None:
    settings = make_settings(state=redis_url)
    async with connect(settings) as one, connect(settings) as two:
        first = ok(await one.call_tool("gemini_ask", {"prompt": "on replica one"}))
        second = ok(
            await two.call_tool(
                "gemini_continue",
                {"conversation_id": first["conversation_id"], "prompt": "on replica two"},
            )
        )
        assert "turn 2: on replica two" in second["text"]
        listing = ok(await one.call_tool("gemini_conversations", {}))
        assert any(
            c["conversation_id"] == first["conversation_id"] for c in listing["conversations"]
        )


@fault(
    "upstream",
    "the stream cannot be opened while plain GETs work",
    sees="collects fall back to a GET and return the answer once it is done",
    kept="the answer",
)
async def test_a_collect_falls_back_to_a_plain_get_when_no_stream_can_be_had(
    make_settings: Any, emulator: Any
) -> None:
    async with connect(make_settings(call_budget=2.0)) as client:
        started = ok(
            await client.call_tool("gemini_ask", {"prompt": "slow [[chars 120]] [[delay 250]]"})
        )
        assert started["status"] == "in_progress"
        # From now on every stream fails to open; plain GETs still work.
        emulator.fail_next(503, count=1_000, methods=("GET",), streams_only=True)
        result = started
        with anyio.fail_after(30):
            while result["status"] == "in_progress":
                result = ok(
                    await client.call_tool(
                        "gemini_continue", {"conversation_id": started["conversation_id"]}
                    )
                )
        emulator.reset()
    assert result["status"] == "completed" and result["text"].startswith("turn 1: slow")


@fault(
    "store",
    "one corrupt record",
    sees="the listing skips it and names it; using it says so; it can be forgotten",
    kept="every other record",
)
async def test_an_unreadable_record_is_named_in_the_listing_and_can_be_forgotten(
    make_settings: Any, tmp_path: Path
) -> None:
    import sqlite3

    path = tmp_path / "state.sqlite3"
    async with connect(make_settings(state=str(path))) as client:
        kept = ok(await client.call_tool("gemini_ask", {"prompt": "keep me"}))
        broken = ok(await client.call_tool("gemini_ask", {"prompt": "break me"}))
        with sqlite3.connect(path) as conn:
            conn.execute(
                'UPDATE records SET body = \'{"not": "a record"}\' WHERE id = ?',
                (broken["conversation_id"],),
            )
        listing = ok(await client.call_tool("gemini_conversations", {}))
        message = error(
            await client.call_tool(
                "gemini_continue", {"conversation_id": broken["conversation_id"], "prompt": "x"}
            )
        )
        forgotten = ok(
            await client.call_tool("gemini_conversations", {"forget": broken["conversation_id"]})
        )
    assert [c["conversation_id"] for c in listing["conversations"]] == [kept["conversation_id"]]
    assert any(broken["conversation_id"] in n and "forget" in n for n in listing["notes"])
    assert message.startswith(f"The stored record {broken['conversation_id']} cannot be read")
    assert forgotten["forgotten"] == broken["conversation_id"] and not forgotten["notes"]


async def test_a_thinking_level_the_model_rejects_is_refused_before_sending(
    make_settings: Any, emulator: Any
) -> None:
    async with connect(make_settings()) as client:
        message = error(
            await client.call_tool(
                "gemini_ask", {"prompt": "x", "model": "flash", "thinking_level": "minimal"}
            )
        )
        ok(await client.call_tool("gemini_ask", {"prompt": "x", "thinking_level": "low"}))
        later = error(
            await client.call_tool("gemini_continue", {"prompt": "y", "thinking_level": "xhigh"})
        )
        alone = error(await client.call_tool("gemini_continue", {"thinking_level": "high"}))
    assert alone == "thinking_level applies to a new turn; give a prompt (or function_results) too."
    assert "gemini-3.8-flash does not accept thinking level 'minimal'" in message
    assert "xhigh" in later
    assert len([r for r in emulator.requests if r.method == "POST"]) == 1
