"""The Deep Research agent: lifecycle, report, planning, follow-ups, faults."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from .helpers import AGENT, URL, create, read_sse, reply_text, step_types, wait_status

pytestmark = pytest.mark.anyio


async def research(client: httpx2.AsyncClient, text: str, **config: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"agent": AGENT, "input": text, "background": True}
    if config:
        body["agent_config"] = {"type": "deep-research", **config}
    return await create(client, **body)


async def test_a_research_run_progresses_and_ends_in_a_cited_markdown_report(
    client: httpx2.AsyncClient,
) -> None:
    started = await research(client, "coral reefs")
    assert started["status"] == "in_progress"
    assert started["agent"] == AGENT
    done = await wait_status(client, started["id"], "completed")
    kinds = step_types(done)
    assert kinds[0] == "user_input"
    assert {"thought", "google_search_call", "url_context_call", "url_context_result"} <= set(kinds)
    assert kinds[-1] == "model_output"
    report = done["steps"][-1]["content"][0]
    text = report["text"]
    assert text.startswith("# Research report: coral reefs\n")
    assert text.count("\n## ") >= 4
    encoded = text.encode()
    urls = {a["url"] for a in report["annotations"]}
    assert len(urls) >= 3
    for annotation in report["annotations"]:
        assert annotation["type"] == "url_citation"
        cited = encoded[annotation["start_index"] : annotation["end_index"]].decode()
        assert cited.endswith(".")
    assert done["usage"]["total_output_tokens"] > 100
    assert done["usage"]["total_thought_tokens"] > 0


async def test_research_progress_streams_thought_summaries_and_tool_steps(
    live: httpx2.AsyncClient,
) -> None:
    started = await research(live, "wind farms")
    events, _ = await read_sse(live, "GET", f"{URL}/{started['id']}", params={"stream": "true"})
    deltas = [e["delta"]["type"] for e in events if e["event_type"] == "step.delta"]
    assert deltas.count("thought_summary") >= 3
    assert {"google_search_call", "url_context_result", "text_annotation_delta"} <= set(deltas)
    assert events[-1]["interaction"]["status"] == "completed"


async def test_thinking_summaries_none_leaves_thoughts_without_summaries(
    client: httpx2.AsyncClient,
) -> None:
    done = await wait_status(
        client, (await research(client, "x", thinking_summaries="none"))["id"], "completed"
    )
    thoughts = [s for s in done["steps"] if s["type"] == "thought"]
    assert thoughts
    assert all("summary" not in t and t["signature"] for t in thoughts)


async def test_visualization_auto_adds_a_table(client: httpx2.AsyncClient) -> None:
    started = await research(client, "bees", visualization="auto")
    done = await wait_status(client, started["id"], "completed")
    assert "| Aspect | Finding | Source |" in reply_text(done)


async def test_a_research_run_can_be_cancelled(client: httpx2.AsyncClient) -> None:
    started = await research(client, "long topic")
    response = await client.post(f"{URL}/{started['id']}/cancel")
    assert response.json()["status"] == "cancelled"
    again = await client.post(f"{URL}/{started['id']}/cancel")
    assert again.status_code == 400


async def test_collaborative_planning_proposes_a_plan_then_researches_on_confirmation(
    client: httpx2.AsyncClient,
) -> None:
    planned = await research(client, "urban heat", collaborative_planning=True)
    plan = await wait_status(client, planned["id"], "completed")
    assert reply_text(plan).startswith('Research plan for "urban heat":')
    assert "?" in reply_text(plan)
    confirmed = await create(
        client, agent=AGENT, input="yes, go", background=True, previous_interaction_id=plan["id"]
    )
    report = await wait_status(client, confirmed["id"], "completed")
    assert reply_text(report).startswith("# Research report: urban heat")
    assert 'You said: "yes, go"' in reply_text(report)
    follow = await create(
        client,
        agent=AGENT,
        input="and trees?",
        background=True,
        previous_interaction_id=report["id"],
    )
    answer = await wait_status(client, follow["id"], "completed")
    assert reply_text(answer) == "turn 3: and trees? | research: urban heat"


async def test_a_follow_up_on_a_finished_research_is_a_short_turn(
    client: httpx2.AsyncClient,
) -> None:
    done = await wait_status(client, (await research(client, "tides"))["id"], "completed")
    follow = await create(
        client, agent=AGENT, input="more?", background=True, previous_interaction_id=done["id"]
    )
    answer = await wait_status(client, follow["id"], "completed")
    assert reply_text(answer) == "turn 2: more? | research: tides"


async def test_fail_in_a_research_query_ends_the_run_failed(client: httpx2.AsyncClient) -> None:
    started = await research(client, "doomed [[fail deadline_exceeded]]")
    failed = await wait_status(client, started["id"], "failed")
    assert failed["errors"][0]["code"] == "deadline_exceeded"


async def test_drop_in_a_research_query_cuts_the_first_stream_then_resume_completes_it(
    live: httpx2.AsyncClient,
) -> None:
    started = await research(live, "glaciers [[drop 5]]")
    path = f"{URL}/{started['id']}"
    first, cut = await read_sse(live, "GET", path, params={"stream": "true"})
    assert (cut, len(first)) == (True, 5)
    rest, cut_again = await read_sse(
        live, "GET", path, params={"stream": "true", "last_event_id": first[-1]["event_id"]}
    )
    assert not cut_again
    ids = [e["event_id"] for e in first + rest]
    assert len(ids) == len(set(ids))
    assert rest[-1]["interaction"]["status"] == "completed"
    assert "# Research report: glaciers\n" in reply_text(
        await wait_status(live, started["id"], "completed")
    )
