"""Storage, timelines, input forms, turn counting and interaction-scoped fields."""

from __future__ import annotations

import httpx2
import pytest
from starlette.applications import Starlette

from .helpers import URL, create, get, reply_text, step_types

pytestmark = pytest.mark.anyio


async def test_post_returns_model_steps_and_get_the_full_timeline(
    client: httpx2.AsyncClient,
) -> None:
    created = await create(client, input="hello")
    assert created["object"] == "interaction"
    assert created["id"].startswith("v1_")
    assert created["created"].endswith("Z")
    assert step_types(created) == ["model_output"]
    assert reply_text(created) == "turn 1: hello"
    fetched = await get(client, created["id"])
    assert step_types(fetched) == ["user_input", "model_output"]
    assert fetched["steps"][0]["content"] == [{"type": "text", "text": "hello"}]
    assert "input" not in fetched


async def test_include_input_echoes_the_request_input(client: httpx2.AsyncClient) -> None:
    created = await create(client, input="hello")
    response = await client.get(f"{URL}/{created['id']}", params={"include_input": "true"})
    assert response.json()["input"] == "hello"


@pytest.mark.parametrize(
    "value",
    [
        "what now",
        {"type": "text", "text": "what now"},
        [{"type": "text", "text": "what"}, {"text": "now"}],
        [{"type": "user_input", "content": [{"type": "text", "text": "what now"}]}],
        [{"type": "image", "uri": "gs://b/i.png"}, {"type": "text", "text": "what now"}],
    ],
)
async def test_every_input_form_is_answered_with_its_text(
    client: httpx2.AsyncClient, value: object
) -> None:
    created = await create(client, input=value)
    assert reply_text(created) == "turn 1: what now"


async def test_a_step_history_counts_every_user_turn(client: httpx2.AsyncClient) -> None:
    history = [
        {"type": "user_input", "content": [{"type": "text", "text": "one"}]},
        {"type": "model_output", "content": [{"type": "text", "text": "ok"}]},
        {"role": "user", "content": [{"type": "text", "text": "two"}]},
    ]
    assert reply_text(await create(client, input=history)) == "turn 2: two"


async def test_turns_count_along_the_previous_interaction_chain(client: httpx2.AsyncClient) -> None:
    first = await create(client, input="a")
    second = await create(client, input="b", previous_interaction_id=first["id"])
    third = await create(client, input="c", previous_interaction_id=second["id"])
    assert reply_text(third) == "turn 3: c"
    assert third["previous_interaction_id"] == second["id"]
    branch = await create(client, input="d", previous_interaction_id=first["id"])
    assert reply_text(branch) == "turn 2: d"


async def test_scoped_fields_show_only_on_the_turn_that_sends_them(
    client: httpx2.AsyncClient,
) -> None:
    first = await create(
        client,
        input="a",
        system_instruction="be brief",
        tools=[{"type": "google_search"}, {"type": "function", "name": "f"}],
        generation_config={"thinking_summaries": "auto"},
    )
    assert reply_text(first) == "turn 1: a | system: be brief | tools: google_search, fn:f"
    assert first["system_instruction"] == "be brief"
    second = await create(client, input="b [[think]]", previous_interaction_id=first["id"])
    assert reply_text(second) == "turn 2: b"
    assert "system_instruction" not in second
    assert "tools" not in second
    assert "summary" not in second["steps"][0]


async def test_delete_answers_an_empty_object_and_the_interaction_is_gone(
    app: Starlette, client: httpx2.AsyncClient
) -> None:
    created = await create(client, input="x")
    response = await client.delete(f"{URL}/{created['id']}")
    assert (response.status_code, response.json()) == (200, {})
    assert (await client.get(f"{URL}/{created['id']}")).status_code == 404
    assert (await client.delete(f"{URL}/{created['id']}")).status_code == 404
    assert app.state.emulator.interactions == {}


async def test_every_completed_interaction_reports_usage(client: httpx2.AsyncClient) -> None:
    usage = (await create(client, input="x" * 40 + " [[chars 400]]"))["usage"]
    assert usage["total_input_tokens"] >= 10
    assert usage["total_output_tokens"] == 100
    assert usage["total_tokens"] == (
        usage["total_input_tokens"] + usage["total_output_tokens"] + usage["total_thought_tokens"]
    )


async def test_last_event_id_without_stream_is_accepted_and_ignored(
    client: httpx2.AsyncClient,
) -> None:
    created = await create(client, input="x")
    response = await client.get(
        f"{URL}/{created['id']}", params={"stream": "false", "last_event_id": "whatever"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "completed"


async def test_emulator_interactions_exposes_stored_dicts_with_status(
    app: Starlette, client: httpx2.AsyncClient
) -> None:
    created = await create(client, input="x")
    await create(client, input="y", store=False)
    stored = app.state.emulator.interactions
    assert list(stored) == [created["id"]]
    assert stored[created["id"]]["status"] == "completed"
