"""Routing, authentication, the error envelope and request recording."""

from __future__ import annotations

import httpx2
import pytest
from starlette.applications import Starlette

from gemini_interactions_mcp.emulator import EmulatorConfig, create_app

from .helpers import MODEL, URL, create

pytestmark = pytest.mark.anyio


async def test_any_version_segment_and_path_prefix_reach_the_interactions_routes(
    client: httpx2.AsyncClient,
) -> None:
    created = await client.post(
        "/some/prefix/v1alpha/interactions", json={"model": MODEL, "input": "x"}
    )
    assert created.status_code == 200
    interaction_id = created.json()["id"]
    fetched = await client.get(f"/other/v1/interactions/{interaction_id}")
    assert fetched.status_code == 200
    assert fetched.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1beta/models"),
        ("GET", "/v1beta1/projects/p/locations/l/models"),
        ("POST", "/v1beta1/projects/p/interactions"),
        ("POST", "/v1beta1/projects/p/zones/l/interactions"),
        ("GET", "/v1beta/interactions"),
        ("PUT", "/v1beta/interactions/abc"),
        ("GET", "/v1beta/interactions/abc/cancel"),
        ("POST", "/interactions"),
    ],
)
async def test_unknown_routes_answer_404_with_the_error_envelope(
    client: httpx2.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["message"]


async def test_a_missing_api_key_is_401_authentication(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        URL, json={"model": MODEL, "input": "x"}, headers={"x-goog-api-key": ""}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication"


async def test_a_configured_key_must_match_and_may_come_as_query() -> None:
    app = create_app(EmulatorConfig(api_key="right"))
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emu") as c:
        body = {"model": MODEL, "input": "x"}
        wrong = await c.post(URL, json=body, headers={"x-goog-api-key": "wrong"})
        assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "authentication")
        assert (
            await c.post(URL, json=body, headers={"x-goog-api-key": "right"})
        ).status_code == 200
        assert (await c.post(URL, json=body, params={"key": "right"})).status_code == 200


async def test_bearer_tokens_pass_unless_the_config_names_the_one_to_expect() -> None:
    body = {"model": MODEL, "input": "x"}
    for config, token, status in [
        (EmulatorConfig(), "anything", 200),
        (EmulatorConfig(access_token="fresh"), "fresh", 200),
        (EmulatorConfig(access_token="fresh"), "stale", 401),
        (EmulatorConfig(), " ", 401),
    ]:
        transport = httpx2.ASGITransport(app=create_app(config))
        async with httpx2.AsyncClient(transport=transport, base_url="http://emu") as c:
            response = await c.post(URL, json=body, headers={"authorization": f"Bearer {token}"})
            assert response.status_code == status, (config, token)
            if status == 401:
                assert response.json()["error"]["code"] == "authentication"


async def test_vertex_paths_reach_the_interactions_of_their_own_project_and_location(
    client: httpx2.AsyncClient,
) -> None:
    vertex = "/v1beta1/projects/proj-1/locations/us-central1/interactions"
    created = await client.post(vertex, json={"model": MODEL, "input": "x"})
    assert created.status_code == 200
    interaction_id = created.json()["id"]
    assert (await client.get(f"{vertex}/{interaction_id}")).status_code == 200
    elsewhere = [
        f"/v1beta1/projects/proj-2/locations/us-central1/interactions/{interaction_id}",
        f"/v1beta1/projects/proj-1/locations/global/interactions/{interaction_id}",
        f"/v1beta1/interactions/{interaction_id}",
        f"{URL}/{interaction_id}",
    ]
    for path in elsewhere:
        assert (await client.get(path)).status_code == 404, path
    chained = {"model": MODEL, "input": "y", "previous_interaction_id": interaction_id}
    assert (await client.post(URL, json=chained)).status_code == 404
    assert (await client.post(vertex, json=chained)).json()["status"] == "completed"
    assert (await client.delete(f"{vertex}/{interaction_id}")).status_code == 200


async def test_express_mode_paths_share_the_api_key_scope(client: httpx2.AsyncClient) -> None:
    created = await create(client, input="x")
    fetched = await client.get(f"/v1beta1/interactions/{created['id']}")
    assert fetched.status_code == 200


async def test_recorded_requests_keep_method_path_query_and_body_but_redact_keys(
    app: Starlette, client: httpx2.AsyncClient
) -> None:
    await client.post(URL, json={"model": MODEL, "input": "x"}, params={"key": "secret", "a": "1"})
    await client.post(
        URL, json={"model": MODEL, "input": "x"}, headers={"authorization": "Bearer tok"}
    )
    recorded, bearer = app.state.emulator.requests
    assert (recorded.method, recorded.path) == ("POST", URL)
    assert recorded.query == {"key": "REDACTED", "a": "1"}
    assert recorded.headers["x-goog-api-key"] == "REDACTED"
    assert recorded.json == {"model": MODEL, "input": "x"}
    assert bearer.headers["authorization"] == "REDACTED"


async def test_reset_forgets_requests_and_interactions(
    app: Starlette, client: httpx2.AsyncClient
) -> None:
    await create(client, input="x")
    app.state.emulator.reset()
    assert app.state.emulator.requests == []
    assert app.state.emulator.interactions == {}


async def test_the_emulator_serves_in_process_without_a_lifespan() -> None:
    app = create_app(EmulatorConfig())
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emu") as c:
        response = await c.post(
            URL, json={"model": MODEL, "input": "x"}, headers={"x-goog-api-key": "k"}
        )
    assert response.json()["status"] == "completed"
