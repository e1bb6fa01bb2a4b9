"""``gemini-interactions-mcp demo``: a scripted MCP client session against the server.

It runs on the built-in emulator unless an API key is set, through the real MCP protocol
(the SDK's in-memory client): an ask with Google Search, a continue that shows the server
remembered, a function-call round trip, a structured answer, and a Deep Research run.
"""

from __future__ import annotations

import json
import sys
import textwrap
from typing import Any

import anyio

from .settings import Settings


def run_demo(settings: Settings) -> None:
    """Run the scripted session and print it readably to stdout."""
    offline = settings.api_key is None or settings.emulator
    updates: dict[str, Any] = {"emulator": offline}
    if settings.state == "":
        updates["state"] = "memory"
    anyio.run(_session, settings.model_copy(update=updates), offline)


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _show(title: str, args: dict[str, Any], result: Any) -> dict[str, Any]:
    _out(f"\n── {title}")
    _out("   call: " + json.dumps(args, ensure_ascii=False)[:300])
    body = result.structured_content or {}
    text = "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")
    marker = "   ERROR: " if result.is_error else "   "
    _out(textwrap.indent(text.strip(), marker.rstrip() + " ").rstrip())
    return dict(body)


async def _session(settings: Settings, offline: bool) -> None:
    from mcp import Client

    from .server import build_server

    # Directives script the emulator's answers; a real model gets plain prompts.
    def d(directive: str) -> str:
        return f" {directive}" if offline else ""

    server = build_server(settings)
    where = "the built-in emulator (offline)" if offline else f"Gemini ({settings.backend})"
    _out(f"gemini-interactions-mcp demo — talking to {where}")
    async with Client(server) as client:
        tools = await client.list_tools()
        _out("tools: " + ", ".join(t.name for t in tools.tools))

        async def call(title: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
            async def on_progress(
                progress: float, total: float | None, message: str | None
            ) -> None:
                if message:
                    _out(f"   … {message[:100]}")

            result = await client.call_tool(name, args, progress_callback=on_progress)
            return _show(title, args, result)

        first = await call(
            "1. Ask with Google Search",
            "gemini_ask",
            {
                "prompt": "Which is the tallest mountain on Earth?"
                + d("[[search tallest mountain on earth]]"),
                "tools": ["google_search"],
                "system_instruction": "Answer in one short paragraph.",
            },
        )
        cid = first.get("conversation_id")
        await call(
            "2. Continue: the server remembers the conversation",
            "gemini_continue",
            {"conversation_id": cid, "prompt": "And how high is it, in metres?"},
        )
        weather = {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
        asked = await call(
            "3. Function calling: Gemini asks the client to run get_weather",
            "gemini_ask",
            {
                "prompt": "What's the weather in Paris right now?"
                + d('[[call get_weather {"city": "Paris"}]]'),
                "functions": [weather],
            },
        )
        calls = asked.get("function_calls") or []
        if calls:
            await call(
                "   … the client answers the call",
                "gemini_continue",
                {
                    "conversation_id": asked["conversation_id"],
                    "function_results": [
                        {"call_id": c["call_id"], "result": {"temp_c": 18, "sky": "clear"}}
                        for c in calls
                    ],
                },
            )
        structured = await call(
            "4. Structured answer (JSON Schema)",
            "gemini_ask",
            {
                "prompt": "Name a famous mountain and its height in metres.",
                "response_schema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "height_m": {"type": "integer"}},
                    "required": ["name", "height_m"],
                },
            },
        )
        if "parsed" in structured:
            _out("   parsed: " + json.dumps(structured["parsed"]))
        if not offline:
            # With a real key a Deep Research is billed and takes minutes: not for a demo.
            _out("\n── 5. Deep Research: skipped with a real key (runs for minutes, billed)")
            await call("6. Your conversations", "gemini_conversations", {})
            _out("\nDone.")
            return
        research = await call(
            "5. Deep Research in the background (start returns at once)",
            "deep_research_start",
            {"query": "How do glaciers shape mountain valleys?"},
        )
        rid = research.get("research_id")
        status = research.get("status")
        while rid and status in ("queued", "in_progress"):
            done = await call(
                "   … waiting for it (deep_research_status)",
                "deep_research_status",
                {"research_id": rid, "wait_seconds": 30, "max_chars": 600},
            )
            status = done.get("status")
        await call("6. Your conversations and research", "gemini_conversations", {})
    _out("\nDone.")
