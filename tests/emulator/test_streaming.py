"""SSE framing, replay, live tailing and dropped connections."""

from __future__ import annotations

import httpx2
import pytest

from .helpers import MODEL, URL, create, get, read_sse, rebuild

pytestmark = pytest.mark.anyio

RICH = {
    "model": MODEL,
    "input": (
        "all of it [[think]] [[search owls]] [[code x=1]] [[url https://u.example]] [[mcp s t]]"
    ),
    "tools": [
        {"type": "google_search"},
        {"type": "code_execution"},
        {"type": "url_context"},
        {"type": "mcp_server", "name": "s"},
    ],
    "generation_config": {"thinking_summaries": "auto"},
}


async def test_a_streamed_create_follows_the_documented_event_sequence(
    client: httpx2.AsyncClient,
) -> None:
    events, cut = await read_sse(client, "POST", URL, json={**RICH, "stream": True})
    assert not cut
    kinds = [e["event_type"] for e in events]
    assert kinds[:2] == ["interaction.created", "interaction.status_update"]
    assert kinds[-1] == "interaction.completed"
    interaction_id = events[0]["interaction"]["id"]
    assert [e["event_id"] for e in events] == [
        f"{interaction_id}.{n}" for n in range(1, len(events) + 1)
    ]
    index = -1
    for kind, event in zip(kinds[2:-1], events[2:-1], strict=True):
        if kind == "step.start":
            assert event["index"] == index + 1
            index = event["index"]
        else:
            assert (kind, event["index"]) in {("step.delta", index), ("step.stop", index)}
    final = events[-1]["interaction"]
    assert "steps" not in final
    assert final["status"] == "completed"
    assert final["usage"]["total_tokens"] > 0


async def test_steps_rebuilt_from_deltas_equal_the_stored_steps(client: httpx2.AsyncClient) -> None:
    events, _ = await read_sse(client, "POST", URL, json={**RICH, "stream": True})
    stored = await get(client, events[0]["interaction"]["id"])
    assert rebuild(events) == stored["steps"][1:]


async def test_function_call_arguments_stream_as_json_fragments(client: httpx2.AsyncClient) -> None:
    body = {
        "model": MODEL,
        "input": '[[call f {"city": "Paris", "days": [1, 2, 3], "units": "metric"}]]',
        "tools": [{"type": "function", "name": "f"}],
        "stream": True,
    }
    events, _ = await read_sse(client, "POST", URL, json=body)
    fragments = [e for e in events if e.get("delta", {}).get("type") == "arguments_delta"]
    assert len(fragments) > 1
    (call,) = rebuild(events)
    assert call["arguments"] == {"city": "Paris", "days": [1, 2, 3], "units": "metric"}
    assert events[-1]["interaction"]["status"] == "requires_action"


async def test_get_stream_replays_every_event_or_those_after_last_event_id(
    client: httpx2.AsyncClient,
) -> None:
    events, _ = await read_sse(
        client, "POST", URL, json={"model": MODEL, "input": "x", "stream": True}
    )
    path = f"{URL}/{events[0]['interaction']['id']}"
    replay, _ = await read_sse(client, "GET", path, params={"stream": "true"})
    assert replay == events
    tail, _ = await read_sse(
        client, "GET", path, params={"stream": "true", "last_event_id": events[3]["event_id"]}
    )
    assert tail == events[4:]
    response = await client.get(path, params={"stream": "true", "last_event_id": "v1_other.2"})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")


async def test_stream_and_background_together_stream_the_background_run(
    live: httpx2.AsyncClient,
) -> None:
    body = {"model": MODEL, "input": "both", "stream": True, "background": True}
    events, cut = await read_sse(live, "POST", URL, json=body)
    assert not cut
    assert events[-1]["event_type"] == "interaction.completed"


async def test_get_stream_tails_a_running_background_interaction_live(
    live: httpx2.AsyncClient,
) -> None:
    started = await create(live, input="tail me [[chars 200]] [[delay 5]]", background=True)
    events, cut = await read_sse(live, "GET", f"{URL}/{started['id']}", params={"stream": "true"})
    assert not cut
    assert events[0]["event_type"] == "interaction.created"
    assert events[-1]["event_type"] == "interaction.completed"
    assert rebuild(events)[0]["content"][0]["text"].startswith("turn 1: tail me")


async def test_a_dropped_stream_resumes_by_last_event_id_without_duplicates(
    live: httpx2.AsyncClient,
) -> None:
    body = {"model": MODEL, "input": "drop me [[drop 4]] [[chars 120]]", "stream": True}
    first, cut = await read_sse(live, "POST", URL, json=body)
    assert cut
    assert len(first) == 4
    path = f"{URL}/{first[0]['interaction']['id']}"
    rest, cut_again = await read_sse(
        live, "GET", path, params={"stream": "true", "last_event_id": first[-1]["event_id"]}
    )
    assert not cut_again
    whole, _ = await read_sse(live, "GET", path, params={"stream": "true"})
    assert first + rest == whole
    assert len({e["event_id"] for e in whole}) == len(whole)
    assert whole[-1]["event_type"] == "interaction.completed"


async def test_an_in_stream_failure_ends_with_an_error_event(client: httpx2.AsyncClient) -> None:
    body = {"model": MODEL, "input": "oops [[fail safety]]", "stream": True}
    events, _ = await read_sse(client, "POST", URL, json=body)
    assert [e["event_type"] for e in events[-2:]] == ["interaction.status_update", "error"]
    assert events[-2]["status"] == "failed"
    assert events[-1]["error"]["code"] == "safety"
    assert "interaction.completed" not in [e["event_type"] for e in events]
    assert rebuild(events)[0]["content"][0]["text"]


async def test_a_cancelled_run_ends_its_stream_with_a_cancelled_interaction(
    live: httpx2.AsyncClient,
) -> None:
    started = await create(live, input="slow [[delay 50]] [[chars 400]]", background=True)
    async with live.stream("GET", f"{URL}/{started['id']}", params={"stream": "true"}) as response:
        cancelled = False
        last = None
        async for sse in httpx2.EventSource(response):
            last = sse
            if not cancelled:
                assert (await live.post(f"{URL}/{started['id']}/cancel")).status_code == 200
                cancelled = True
    assert last is not None
    assert last.event == "interaction.completed"
    assert last.json()["interaction"]["status"] == "cancelled"  # type: ignore[index]


async def test_an_idle_stream_ends_with_an_idle_status_update_and_completion(
    client: httpx2.AsyncClient,
) -> None:
    body = {"model": MODEL, "input": "pause [[idle]]", "stream": True}
    events, cut = await read_sse(client, "POST", URL, json=body)
    assert not cut
    assert [e["event_type"] for e in events[-2:]] == [
        "interaction.status_update",
        "interaction.completed",
    ]
    assert events[-2]["status"] == "idle"
    assert events[-1]["interaction"]["status"] == "idle"
