"""What a model reads: most clients show it only the text content, so the text carries every
part of the structured result a model would use, each once."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from .helpers import connect, ok, text_of

pytestmark = pytest.mark.anyio


async def test_an_answer_text_carries_thoughts_tool_activity_sources_and_usage(
    make_settings: Any,
) -> None:
    async with connect(make_settings()) as client:
        result = await client.call_tool(
            "gemini_ask",
            {
                "prompt": "tides [[think]] [[search moon tides]] [[code print(2 + 2)]]",
                "tools": ["google_search", "code_execution"],
                "thought_summaries": True,
            },
        )
    answer, text = ok(result), text_of(result)
    assert text.startswith(answer["text"])
    assert answer["thoughts"] and all(t in text for t in answer["thoughts"])
    for activity in answer["tool_activity"]:
        assert activity["kind"] in text and activity["detail"] in text
    assert answer["sources"] and all(text.count(s["url"]) == 1 for s in answer["sources"])
    usage = answer["usage"]
    assert f"tokens: {usage['input_tokens']} in, {usage['output_tokens']} out" in text
    assert f"conversation_id={answer['conversation_id']}" in text


async def test_a_function_call_is_shown_with_its_json_arguments(make_settings: Any) -> None:
    weather = {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    async with connect(make_settings()) as client:
        result = await client.call_tool(
            "gemini_ask",
            {"prompt": 'w [[call get_weather {"city": "Oslo"}]]', "functions": [weather]},
        )
    (call,) = ok(result)["function_calls"]
    assert f"[function call {call['call_id']}] get_weather({json.dumps({'city': 'Oslo'})})" in (
        text_of(result)
    )


async def test_a_report_text_lists_each_source_once(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "coral"}))["research_id"]
        with anyio.fail_after(20):
            while True:
                result = await client.call_tool(
                    "deep_research_status", {"research_id": rid, "wait_seconds": 5}
                )
                if ok(result)["status"] == "completed":
                    break
    done, text = ok(result), text_of(result)
    assert len(done["sources"]) == 3
    for source in done["sources"]:
        assert text.count(source["url"]) == 1, source["url"]
    assert "tokens:" in text
