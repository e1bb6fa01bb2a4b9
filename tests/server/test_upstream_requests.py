"""What the tools send upstream, read off the emulator's request log."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from gemini_interactions_mcp.emulator import Emulator

from .helpers import connect, counting_proxy, error, ok

pytestmark = pytest.mark.anyio

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


def creates(emulator: Emulator) -> list[dict[str, Any]]:
    return [
        r.json
        for r in emulator.requests
        if r.method == "POST" and r.path.endswith("/interactions") and isinstance(r.json, dict)
    ]


async def test_ask_sends_every_setting_in_the_upstream_shape(
    make_settings: Any, emulator: Emulator, tmp_path: Path
) -> None:
    doc = tmp_path / "notes.pdf"
    doc.write_bytes(b"%PDF-1.4 fake")
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    async with connect(make_settings(attachment_dirs=[tmp_path])) as client:
        ok(
            await client.call_tool(
                "gemini_ask",
                {
                    "prompt": "look",
                    "model": "flash",
                    "system_instruction": "be exact",
                    "tools": [
                        "google_search",
                        {"type": "file_search", "stores": ["fileSearchStores/s1"], "top_k": 3},
                        {
                            "type": "mcp_server",
                            "name": "srv",
                            "url": "https://mcp.example.com/mcp",
                            "headers": {"Authorization": "Bearer t"},
                            "allowed_tools": ["lookup"],
                        },
                    ],
                    "thinking_level": "low",
                    "thought_summaries": True,
                    "max_output_tokens": 256,
                    "response_schema": schema,
                    "attachments": [
                        {"data": PNG, "mime_type": "image/png"},
                        {"uri": "gs://bucket/clip.mp4", "mime_type": "video/mp4"},
                        {"path": str(doc)},
                    ],
                },
            )
        )
    (body,) = creates(emulator)
    assert body["model"] == "gemini-3.8-flash"
    # One streaming create, run in the background so that a broken stream loses nothing.
    assert body["background"] is True and body["stream"] is True
    assert body["system_instruction"] == "be exact"
    assert body["generation_config"] == {
        "thinking_level": "low",
        "thinking_summaries": "auto",
        "max_output_tokens": 256,
    }
    assert body["response_format"] == {
        "type": "text",
        "mime_type": "application/json",
        "schema": schema,
    }
    assert body["tools"] == [
        {"type": "google_search"},
        {"type": "file_search", "file_search_store_names": ["fileSearchStores/s1"], "top_k": 3},
        {
            "type": "mcp_server",
            "name": "srv",
            "url": "https://mcp.example.com/mcp",
            "headers": {"Authorization": "Bearer t"},
            "allowed_tools": [{"mode": "auto", "tools": ["lookup"]}],
        },
    ]
    (step,) = body["input"]
    assert step["type"] == "user_input"
    text, image, video, document = step["content"]
    assert text == {"type": "text", "text": "look"}
    assert image == {"type": "image", "data": PNG, "mime_type": "image/png"}
    assert video == {"type": "video", "uri": "gs://bucket/clip.mp4", "mime_type": "video/mp4"}
    assert document["type"] == "document" and document["mime_type"] == "application/pdf"
    assert base64.b64decode(document["data"]) == b"%PDF-1.4 fake"


async def test_a_turn_that_does_not_break_is_one_upstream_request(
    make_settings: Any, emulator: Emulator
) -> None:
    async with connect(make_settings()) as client:
        first = ok(
            await client.call_tool(
                "gemini_ask",
                {"prompt": "one [[chars 400]] [[search x]]", "tools": ["google_search"]},
            )
        )
        assert len(emulator.requests) == 1
        calls = ok(
            await client.call_tool(
                "gemini_continue",
                {"conversation_id": first["conversation_id"], "prompt": "two [[chars 300]]"},
            )
        )
        assert len(emulator.requests) == 2
    assert calls["text"].startswith("turn 2: two") and len(calls["text"]) == 300
    assert first["sources"] and first["usage"]["total_tokens"] > 0


async def test_a_broken_stream_is_resumed_from_its_last_event(
    make_settings: Any, emulator: Emulator
) -> None:
    async with connect(make_settings()) as client:
        broken = ok(
            await client.call_tool("gemini_ask", {"prompt": "cut [[chars 300]] [[drop 5]]"})
        )
        whole = ok(await client.call_tool("gemini_ask", {"prompt": "cut [[chars 300]]"}))
    assert broken["status"] == "completed" and broken["text"] == whole["text"]
    (resume,) = [r for r in emulator.requests if r.method == "GET"]
    assert resume.query.get("stream") == "true" and resume.query.get("last_event_id")


async def test_continue_chains_on_the_latest_interaction(
    make_settings: Any, emulator: Emulator
) -> None:
    async with connect(make_settings()) as client:
        first = ok(await client.call_tool("gemini_ask", {"prompt": "one", "model": "pro"}))
        ok(await client.call_tool("gemini_continue", {"prompt": "two"}))
    ask, cont = creates(emulator)
    assert "previous_interaction_id" not in ask
    assert cont["previous_interaction_id"] == first["interaction_id"]
    assert cont["model"] == "gemini-3.1-pro-preview"


async def test_store_false_sends_no_background_and_store_false(
    make_settings: Any, emulator: Emulator
) -> None:
    async with connect(make_settings()) as client:
        ok(await client.call_tool("gemini_ask", {"prompt": "private", "store": False}))
    (body,) = creates(emulator)
    assert body["store"] is False and "background" not in body


async def test_research_start_asks_for_the_agent_in_the_background(
    make_settings: Any, emulator: Emulator
) -> None:
    async with connect(make_settings()) as client:
        ok(
            await client.call_tool(
                "deep_research_start",
                {
                    "query": "deep one",
                    "max": True,
                    "file_search_stores": ["fileSearchStores/docs"],
                    "mcp_servers": [{"url": "https://mcp.example.com/mcp", "name": "kb"}],
                    "collaborative_planning": True,
                    "visualization": True,
                },
            )
        )
        ok(await client.call_tool("deep_research_start", {"query": "plain one"}))
    deep, plain = creates(emulator)
    assert deep["agent"] == "deep-research-max-preview-04-2026"
    assert deep["background"] is True and deep["store"] is True
    assert deep["agent_config"] == {
        "type": "deep-research",
        "thinking_summaries": "auto",
        "visualization": "auto",
        "collaborative_planning": True,
    }
    assert deep["tools"] == [
        {"type": "file_search", "file_search_store_names": ["fileSearchStores/docs"]},
        {"type": "mcp_server", "name": "kb", "url": "https://mcp.example.com/mcp"},
    ]
    assert "model" not in deep and "generation_config" not in deep
    assert plain["agent"] == "deep-research-preview-04-2026"
    assert plain["agent_config"]["visualization"] == "off"
    assert "tools" not in plain


async def test_forget_with_delete_upstream_deletes_every_interaction(
    make_settings: Any, emulator: Emulator
) -> None:
    async with connect(make_settings()) as client:
        first = ok(await client.call_tool("gemini_ask", {"prompt": "one"}))
        second = ok(await client.call_tool("gemini_continue", {"prompt": "two"}))
        ids = {first["interaction_id"], second["interaction_id"]}
        assert ids <= set(emulator.interactions)
        ok(
            await client.call_tool(
                "gemini_conversations",
                {"forget": first["conversation_id"], "delete_upstream": True},
            )
        )
    assert not ids & set(emulator.interactions)
    deletes = [r.path for r in emulator.requests if r.method == "DELETE"]
    assert len(deletes) == 2


async def test_api_key_reaches_upstream_only_in_its_header(
    make_settings: Any, emulator: Emulator
) -> None:
    async with connect(make_settings()) as client:
        ok(await client.call_tool("gemini_ask", {"prompt": "hi"}))
        message = error(await client.call_tool("gemini_ask", {"prompt": "x [[error 400]]"}))
    assert "test-key" not in message
    for request in emulator.requests:
        assert request.headers.get("x-goog-api-key") == "REDACTED"
        assert "key" not in request.query


async def test_turns_reuse_one_connection_to_gemini(make_settings: Any, emulator_url: str) -> None:
    """A finished stream is read to its end, so the next turn does not pay a new handshake."""
    async with counting_proxy(emulator_url) as (url, accepted):
        async with connect(make_settings(base_url=url)) as client:
            first = ok(await client.call_tool("gemini_ask", {"prompt": "one [[chars 200]]"}))
            for prompt in ("two", "three"):
                ok(
                    await client.call_tool(
                        "gemini_continue",
                        {"conversation_id": first["conversation_id"], "prompt": prompt},
                    )
                )
        assert accepted == [1]
