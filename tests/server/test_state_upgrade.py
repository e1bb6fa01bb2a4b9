"""A state file written by the first schema keeps working through the tools."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.state.helpers import V1_FILE, V1_IDS

from .helpers import connect, error, ok

pytestmark = pytest.mark.anyio


async def test_a_first_schema_state_file_serves_every_tool(
    make_settings: Any, tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite3"
    shutil.copyfile(V1_FILE, path)
    # The file was written in December 2026: keep its records within the retention whenever
    # this runs.
    async with connect(make_settings(state=str(path), retention_days=10_000)) as client:
        listing = ok(await client.call_tool("gemini_conversations", {}))
        assert {c["conversation_id"] for c in listing["conversations"]} == set(V1_IDS.values())

        research = ok(
            await client.call_tool("deep_research_status", {"research_id": V1_IDS["research"]})
        )
        assert research["status"] == "completed" and len(research["sources"]) == 3
        assert research["report"].startswith("# Research report: plain research")
        resource = await client.read_resource(research["report_uri"])
        assert resource.contents[0].text == research["report"]  # type: ignore[union-attr]

        planned = ok(
            await client.call_tool("deep_research_status", {"research_id": V1_IDS["planned"]})
        )
        assert planned["status"] == "awaiting_plan_confirmation"
        assert planned["plan"].startswith("Research plan")

        chat = ok(
            await client.call_tool(
                "gemini_continue", {"conversation_id": V1_IDS["chat"], "offset": 0}
            )
        )
        assert chat["status"] == "completed" and chat["text"].startswith("{")
        assert "function results" in error(
            await client.call_tool(
                "gemini_continue", {"conversation_id": V1_IDS["calls"], "prompt": "hello?"}
            )
        )
