"""Background runs: returning at once, polling, and the cancel rules."""

from __future__ import annotations

import httpx2
import pytest

from .helpers import MODEL, URL, create, get, reply_text, wait_status

pytestmark = pytest.mark.anyio


async def test_background_returns_in_progress_at_once_and_polling_sees_it_complete(
    client: httpx2.AsyncClient,
) -> None:
    started = await create(client, input="later", background=True)
    assert (started["status"], started["steps"]) == ("in_progress", [])
    done = await wait_status(client, started["id"], "completed")
    assert reply_text(done) == "turn 1: later"
    assert done["usage"]["total_tokens"] > 0


async def test_cancel_moves_a_running_background_interaction_to_cancelled(
    client: httpx2.AsyncClient,
) -> None:
    started = await create(client, input="slow [[delay 100]] [[chars 300]]", background=True)
    response = await client.post(f"{URL}/{started['id']}/cancel")
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    after = await get(client, started["id"])
    assert after["status"] == "cancelled"


@pytest.mark.parametrize("background", [True, False])
async def test_cancelling_a_finished_or_foreground_interaction_is_400_and_changes_nothing(
    client: httpx2.AsyncClient, background: bool
) -> None:
    created = await create(client, input="x", background=background)
    done = await wait_status(client, created["id"], "completed")
    response = await client.post(f"{URL}/{created['id']}/cancel")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "failed_precondition")
    assert await get(client, created["id"]) == done


async def test_cancelling_an_unknown_interaction_is_404(client: httpx2.AsyncClient) -> None:
    assert (await client.post(f"{URL}/v1_nope/cancel")).status_code == 404


async def test_chaining_onto_a_running_interaction_is_400_failed_precondition(
    client: httpx2.AsyncClient,
) -> None:
    started = await create(client, input="slow [[delay 100]]", background=True)
    response = await client.post(
        URL, json={"model": MODEL, "input": "next", "previous_interaction_id": started["id"]}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "failed_precondition")
    await client.post(f"{URL}/{started['id']}/cancel")


async def test_deleting_a_running_interaction_stops_it(client: httpx2.AsyncClient) -> None:
    started = await create(client, input="slow [[delay 100]]", background=True)
    assert (await client.delete(f"{URL}/{started['id']}")).status_code == 200
    assert (await client.get(f"{URL}/{started['id']}")).status_code == 404
