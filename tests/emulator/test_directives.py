"""Every prompt directive of the scripted model."""

from __future__ import annotations

import json

import httpx2
import pytest
from starlette.applications import Starlette

from .helpers import MODEL, URL, create, get, reply_text, step_types, wait_status

pytestmark = pytest.mark.anyio

FN = [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}]


async def test_directives_are_removed_and_unknown_markers_kept(client: httpx2.AsyncClient) -> None:
    created = await create(client, input="  keep [[wat]]   this [[think]]  text ")
    assert reply_text(created) == "turn 1: keep [[wat]] this text"


async def test_call_a_declared_function_ends_in_requires_action(client: httpx2.AsyncClient) -> None:
    created = await create(client, input='find [[call lookup {"q": [1, [2]]}]]', tools=FN)
    assert created["status"] == "requires_action"
    (call,) = created["steps"]
    assert call["type"] == "function_call"
    assert (call["name"], call["arguments"]) == ("lookup", {"q": [1, [2]]})
    assert call["id"]


async def test_call_of_an_undeclared_function_is_ignored(client: httpx2.AsyncClient) -> None:
    created = await create(client, input="find [[call other]]", tools=FN)
    assert created["status"] == "completed"
    assert reply_text(created) == "turn 1: find | tools: fn:lookup"


async def test_function_results_are_answered_by_name_with_compact_json(
    client: httpx2.AsyncClient,
) -> None:
    first = await create(client, input='[[call lookup]] [[call lookup {"n": 2}]]', tools=FN)
    ids = [s["id"] for s in first["steps"]]
    results = [
        {"type": "function_result", "call_id": ids[0], "result": {"a": [1, 2]}},
        {"type": "function_result", "call_id": ids[1], "name": "lookup", "result": "plain"},
    ]
    second = await create(client, input=results, previous_interaction_id=first["id"])
    assert reply_text(second) == (
        'turn 2: function lookup returned {"a":[1,2]}; function lookup returned "plain"'
    )
    timeline = await get(client, second["id"])
    assert step_types(timeline) == ["function_result", "function_result", "model_output"]


async def test_a_function_result_for_an_unknown_call_id_is_400(client: httpx2.AsyncClient) -> None:
    first = await create(client, input="[[call lookup]]", tools=FN)
    response = await client.post(
        URL,
        json={
            "model": MODEL,
            "previous_interaction_id": first["id"],
            "input": [{"type": "function_result", "call_id": "call_forged", "result": {}}],
        },
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")


async def test_function_results_may_answer_calls_resent_in_a_store_false_history(
    client: httpx2.AsyncClient,
) -> None:
    history = [
        {"type": "user_input", "content": [{"type": "text", "text": "go"}]},
        {"type": "function_call", "id": "c1", "name": "lookup", "arguments": {}},
        {"type": "function_result", "call_id": "c1", "result": 7},
    ]
    created = await create(client, input=history, store=False)
    assert reply_text(created) == "turn 2: function lookup returned 7"


async def test_search_adds_search_steps_and_byte_exact_citations(
    client: httpx2.AsyncClient,
) -> None:
    created = await create(
        client, input="café news [[search café]]", tools=[{"type": "google_search"}]
    )
    assert step_types(created) == ["google_search_call", "google_search_result", "model_output"]
    call, result, output = created["steps"]
    assert call["arguments"] == {"queries": ["café"]}
    assert result["call_id"] == call["id"]
    block = output["content"][0]
    (citation,) = block["annotations"]
    assert citation["type"] == "url_citation"
    cited = block["text"].encode()[citation["start_index"] : citation["end_index"]].decode()
    assert cited == "café news"


async def test_search_without_the_google_search_tool_does_nothing(
    client: httpx2.AsyncClient,
) -> None:
    created = await create(client, input="news [[search x]]")
    assert step_types(created) == ["model_output"]
    assert "annotations" not in created["steps"][0]["content"][0]


async def test_code_returns_a_canned_result_and_never_runs(client: httpx2.AsyncClient) -> None:
    created = await create(
        client,
        input="[[code import os; os.remove('x')]]",
        tools=[{"type": "code_execution"}],
    )
    call, result, _ = created["steps"]
    assert call["arguments"] == {"code": "import os; os.remove('x')", "language": "python"}
    assert result["result"] == "[emulated] ran 1 line(s) of python, no output"


async def test_url_reads_the_url_with_url_context(client: httpx2.AsyncClient) -> None:
    created = await create(
        client, input="[[url https://a.example/p]]", tools=[{"type": "url_context"}]
    )
    call, result, _ = created["steps"]
    assert call["arguments"] == {"urls": ["https://a.example/p"]}
    assert result["result"] == [{"url": "https://a.example/p", "status": "success"}]


async def test_mcp_calls_a_tool_of_a_declared_server_only(client: httpx2.AsyncClient) -> None:
    tools = [{"type": "mcp_server", "name": "srv", "url": "https://x/mcp"}]
    created = await create(client, input="[[mcp srv search]] [[mcp other t]]", tools=tools)
    call, result, _ = created["steps"]
    assert (call["type"], call["server_name"], call["name"]) == (
        "mcp_server_tool_call",
        "srv",
        "search",
    )
    assert (result["type"], result["call_id"]) == ("mcp_server_tool_result", call["id"])


@pytest.mark.parametrize(
    ("summaries", "has_summary"), [("auto", True), ("none", False), (None, False)]
)
async def test_think_adds_a_signed_thought_with_a_summary_only_when_asked(
    client: httpx2.AsyncClient, summaries: str | None, has_summary: bool
) -> None:
    config = {} if summaries is None else {"thinking_summaries": summaries}
    created = await create(client, input="hmm [[think]]", generation_config=config)
    thought = created["steps"][0]
    assert thought["type"] == "thought"
    assert thought["signature"]
    assert ("summary" in thought) is has_summary
    assert created["usage"]["total_thought_tokens"] > 0


async def test_chars_pads_the_reply_to_exactly_n_characters_in_many_deltas(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post(
        URL, json={"model": MODEL, "input": "pad [[chars 2000]]", "stream": True}
    )
    deltas = [
        json.loads(line[6:])["delta"]["text"]
        for line in response.text.splitlines()
        if line.startswith("data: ") and '"type":"text"' in line
    ]
    assert len(deltas) >= 50
    assert len("".join(deltas)) == 2000
    assert "".join(deltas).startswith("turn 1: pad")


async def test_delay_paces_a_background_run_so_polling_sees_it_running(
    client: httpx2.AsyncClient,
) -> None:
    started = await create(client, input="wait [[delay 30]]", background=True)
    assert (await get(client, started["id"]))["status"] == "in_progress"
    await wait_status(client, started["id"], "completed")


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, "service_unavailable"), (429, "rate_limit_exceeded"), (418, "invalid_request")],
)
async def test_error_fails_the_create_with_that_status_and_stores_nothing(
    app: Starlette, client: httpx2.AsyncClient, status: int, code: str
) -> None:
    response = await client.post(URL, json={"model": MODEL, "input": f"[[error {status}]]"})
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert app.state.emulator.interactions == {}


async def test_fail_makes_a_unary_create_an_http_error_and_stores_a_failed_interaction(
    app: Starlette, client: httpx2.AsyncClient
) -> None:
    response = await client.post(
        URL, json={"model": MODEL, "input": "x [[fail service_unavailable]]"}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (503, "service_unavailable")
    (stored,) = app.state.emulator.interactions.values()
    assert stored["status"] == "failed"
    assert stored["errors"][0]["code"] == "service_unavailable"


async def test_fail_ends_a_background_run_failed_with_an_errors_entry(
    client: httpx2.AsyncClient,
) -> None:
    started = await create(client, input="doomed [[fail recitation]]", background=True)
    failed = await wait_status(client, started["id"], "failed")
    assert failed["errors"] == [{"code": "recitation", "message": "Emulated failure: recitation."}]
    assert reply_text(failed)  # some text streamed before the failure


async def test_continue_splits_the_reply_into_two_hops_with_new_ids(
    client: httpx2.AsyncClient,
) -> None:
    hop1 = await create(client, input="long [[continue]]")
    assert hop1["status"] == "requires_continuation"
    token = hop1["continuation_token"]
    hop2 = await create(client, continuation_token=token, previous_interaction_id=hop1["id"])
    assert hop2["id"] != hop1["id"]
    assert hop2["status"] == "completed"
    assert reply_text(hop1) + reply_text(hop2) == "turn 1: long"
    assert step_types(await get(client, hop2["id"])) == ["model_output"]


async def test_continue_without_store_resumes_with_the_token_and_original_input(
    client: httpx2.AsyncClient,
) -> None:
    hop1 = await create(client, input="quiet [[continue]]", store=False)
    hop2 = await create(
        client,
        input="quiet [[continue]]",
        store=False,
        continuation_token=hop1["continuation_token"],
    )
    assert reply_text(hop1) + reply_text(hop2) == "turn 1: quiet"


async def test_a_continuation_token_of_another_interaction_is_400(
    client: httpx2.AsyncClient,
) -> None:
    hop1 = await create(client, input="a [[continue]]")
    other = await create(client, input="b")
    for body in (
        {"continuation_token": hop1["continuation_token"], "previous_interaction_id": other["id"]},
        {"continuation_token": "ctok_forged", "previous_interaction_id": hop1["id"]},
    ):
        response = await client.post(URL, json={"model": MODEL, **body})
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")


async def test_a_continuation_token_resumes_only_once(client: httpx2.AsyncClient) -> None:
    hop1 = await create(client, input="once [[continue]]")
    body = {
        "model": MODEL,
        "continuation_token": hop1["continuation_token"],
        "previous_interaction_id": hop1["id"],
    }
    assert (await client.post(URL, json=body)).status_code == 200
    again = await client.post(URL, json=body)
    assert (again.status_code, again.json()["error"]["code"]) == (400, "invalid_request")
    assert "already been used" in again.json()["error"]["message"]


async def test_a_store_false_continuation_token_only_resumes_its_original_input(
    client: httpx2.AsyncClient,
) -> None:
    hop1 = await create(client, input="secret plan [[continue]]", store=False)
    body = {"model": MODEL, "store": False, "continuation_token": hop1["continuation_token"]}
    for other in ("another input [[continue]]", [{"type": "text", "text": "secret plan"}]):
        response = await client.post(URL, json={**body, "input": other})
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")
        assert "different input" in response.json()["error"]["message"]
    # The rejected attempts did not spend the token.
    hop2 = await create(client, **body, input="secret plan [[continue]]")
    assert reply_text(hop1) + reply_text(hop2) == "turn 1: secret plan"


async def test_drop_zero_is_refused_because_nothing_could_be_resumed(
    client: httpx2.AsyncClient,
) -> None:
    body = {"model": MODEL, "input": "cut early [[drop 0]]", "stream": True}
    response = await client.post(URL, json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")
    assert "K >= 1" in response.json()["error"]["message"]


async def test_continue_is_ignored_for_background_runs(client: httpx2.AsyncClient) -> None:
    started = await create(client, input="bg [[continue]]", background=True)
    done = await wait_status(client, started["id"], "completed")
    assert reply_text(done) == "turn 1: bg"


@pytest.mark.parametrize(
    "text",
    [
        "[[think hard]]",
        "[[drop]]",
        "[[drop 0]]",
        "[[error 200]]",
        "[[delay soon]]",
        "[[mcp onlyserver]]",
        "[[search]]",
        "[[chars 5",
        "[[call]]",
        "[[call f {} extra]]",
        "[[idle now]]",
    ],
)
async def test_a_malformed_directive_is_400_invalid_request(
    client: httpx2.AsyncClient, text: str
) -> None:
    response = await client.post(URL, json={"model": MODEL, "input": text})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")


async def test_idle_ends_the_turn_idle_and_the_next_input_continues_it(
    client: httpx2.AsyncClient,
) -> None:
    first = await create(client, input="wait for me [[idle]]")
    assert first["status"] == "idle"
    assert reply_text(first) == "turn 1: wait for me"
    assert (await get(client, first["id"]))["status"] == "idle"
    second = await create(client, input="here I am", previous_interaction_id=first["id"])
    assert second["status"] == "completed"
    assert reply_text(second) == "turn 2: here I am"


async def test_idle_gives_way_to_function_calls_and_failures(client: httpx2.AsyncClient) -> None:
    calling = await create(client, input="[[idle]] [[call lookup]]", tools=FN)
    assert calling["status"] == "requires_action"
    failing = await create(client, input="[[idle]] [[fail safety]]", background=True)
    assert (await wait_status(client, failing["id"], "failed"))["status"] == "failed"


async def test_idle_with_continue_ends_the_last_hop_idle(client: httpx2.AsyncClient) -> None:
    first = await create(client, input="long [[continue]] [[idle]]")
    assert first["status"] == "requires_continuation"
    second = await create(
        client,
        continuation_token=first["continuation_token"],
        previous_interaction_id=first["id"],
    )
    assert second["status"] == "idle"


async def test_a_cancel_of_an_idle_interaction_is_refused(client: httpx2.AsyncClient) -> None:
    started = await create(client, input="[[idle]]", background=True)
    await wait_status(client, started["id"], "idle")
    response = await client.post(f"{URL}/{started['id']}/cancel")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "failed_precondition")
