"""Invalid arguments get one sentence each: the argument, what is wrong, what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import MODES, connect, error, ok

pytestmark = pytest.mark.anyio

WEATHER = {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("gemini_ask", {}, "prompt is required."),
        ("gemini_ask", {"prompt": ""}, "prompt must not be empty."),
        ("gemini_ask", {"prompt": "  \n\t"}, "prompt: is only whitespace; write some text."),
        (
            "gemini_ask",
            {"prompt": "x", "thinking_level": "extreme"},
            "thinking_level must be one of 'minimal', 'low', 'medium', 'high' or 'xhigh'.",
        ),
        (
            "gemini_ask",
            {"prompt": "x", "tools": ["web_browser"]},
            "tools[0] must be one of 'google_search', 'code_execution', 'url_context', "
            "'file_search', 'mcp_server' or 'tool_search'.",
        ),
        (
            "gemini_ask",
            {"prompt": "x", "tools": [{"type": "file_search", "stores": ["s"], "color": 1}]},
            "tools[0] has no field 'color'; remove it.",
        ),
        ("gemini_ask", {"prompt": "x", "store": "no"}, "store must be true or false"),
        (
            "gemini_ask",
            {"prompt": "x", "max_output_tokens": 0},
            "max_output_tokens must be at least 1.",
        ),
        (
            "gemini_ask",
            {"prompt": "x", "functions": [{**WEATHER, "name": "1st"}]},
            "functions[0].name has characters that are not allowed",
        ),
        (
            "gemini_ask",
            {"prompt": "x", "title": "t" * 201},
            "title is longer than the 200 characters",
        ),
        (
            "gemini_ask",
            {"prompt": "x", "system_instruction": "s" * 100_001},
            "system_instruction is longer than the 100,000 characters allowed.",
        ),
        ("gemini_conversations", {"limit": 0}, "limit must be at least 1."),
        ("gemini_conversations", {"limit": "many"}, "limit must be a whole number."),
        (
            "deep_research_status",
            {"research_id": "r", "wait_seconds": -1},
            "wait_seconds must be at least 0.",
        ),
        ("deep_research_start", {"query": " "}, "query: is only whitespace"),
        (
            "gemini_continue",
            {"function_results": [{"call_id": "c", "result": 1, "is_error": "yes"}]},
            "function_results[0].is_error must be true or false",
        ),
    ],
)
@pytest.mark.parametrize("mode", MODES)
async def test_an_invalid_argument_gets_one_sentence_saying_what_is_allowed(
    make_settings: Any, tool: str, args: dict[str, Any], expected: str, mode: str
) -> None:
    async with connect(make_settings(), mode=mode) as client:
        message = error(await client.call_tool(tool, args))
    assert expected in message
    for noise in ("validation error", "pydantic", "Input should", "type=", "For further"):
        assert noise not in message


async def test_several_invalid_arguments_are_each_named(make_settings: Any) -> None:
    async with connect(make_settings()) as client:
        message = error(
            await client.call_tool(
                "gemini_ask",
                {"prompt": "", "thinking_level": "x", "max_output_tokens": -5, "title": "t" * 300},
            )
        )
    assert message.count(".") >= 3 and "prompt" in message and "thinking_level" in message
    assert "1 more arguments are invalid too" in message


@pytest.mark.parametrize("mode", MODES)
async def test_an_unknown_argument_is_refused_not_ignored(make_settings: Any, mode: str) -> None:
    async with connect(make_settings(), mode=mode) as client:
        message = error(await client.call_tool("gemini_ask", {"prompt": "hi", "temprature": 0.2}))
        # Nothing was sent: the typo is not silently dropped.
        listing = ok(await client.call_tool("gemini_conversations", {}))
    assert message.startswith("gemini_ask takes no argument temprature; it takes: prompt, model")
    assert listing["conversations"] == []
