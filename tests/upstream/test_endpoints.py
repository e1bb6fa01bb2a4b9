"""Where requests go: the Gemini API, Vertex AI in a project, Vertex AI express mode."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from gemini_interactions_mcp.upstream import (
    BearerAuth,
    Endpoint,
    InteractionsClient,
    Platform,
    StaticToken,
    gemini_api,
    vertex_ai,
    vertex_express,
)
from gemini_interactions_mcp.upstream.endpoints import vertex_base_url

DONE = {"id": "v1_a", "status": "completed"}


@pytest.mark.parametrize(
    ("location", "host"),
    [
        ("global", "https://aiplatform.googleapis.com"),
        ("us-central1", "https://us-central1-aiplatform.googleapis.com"),
        ("europe-west4", "https://europe-west4-aiplatform.googleapis.com"),
        ("us", "https://aiplatform.us.rep.googleapis.com"),
        ("eu", "https://aiplatform.eu.rep.googleapis.com"),
    ],
)
def test_each_vertex_location_has_its_host(location: str, host: str) -> None:
    assert vertex_base_url(location) == host
    assert vertex_ai("p", location).base_url == host


def test_the_three_shapes_put_version_and_parent_before_interactions() -> None:
    gemini = gemini_api()
    assert (gemini.root, gemini.prefix, gemini.platform) == (
        "https://generativelanguage.googleapis.com/",
        "v1beta",
        Platform.GEMINI_API,
    )
    project = vertex_ai("my-proj", "us-central1")
    assert project.prefix == "v1beta1/projects/my-proj/locations/us-central1"
    assert project.platform is Platform.VERTEX_AI
    express = vertex_express()
    assert (express.root, express.prefix) == ("https://aiplatform.googleapis.com/", "v1beta1")
    assert gemini.lists_models and not project.lists_models and not express.lists_models


def test_a_base_url_replaces_the_host_and_keeps_its_path_prefix() -> None:
    endpoint = vertex_ai("p", "global", base_url="http://proxy.test/vertex/")
    assert endpoint.root == "http://proxy.test/vertex/"
    assert endpoint.prefix == "v1beta1/projects/p/locations/global"


@pytest.mark.parametrize(
    "make",
    [
        lambda: vertex_ai("", "global"),
        lambda: vertex_ai("p", ""),
        lambda: Endpoint("https://x", ""),
        lambda: Endpoint("", "v1"),
    ],
)
def test_incomplete_endpoints_are_refused(make: Any) -> None:
    with pytest.raises(ValueError):
        make()


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return httpx2.Response(200, json=DONE)


async def _every_operation(client: InteractionsClient) -> None:
    async with client:
        await client.create({"model": "m", "input": "x"})
        await client.get("v1_a")
        await client.cancel("v1_a")
        await client.delete("v1_a")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("endpoint", "base"),
    [
        (
            vertex_ai("test-project", "us-central1"),
            "https://us-central1-aiplatform.googleapis.com/v1beta1/projects/test-project"
            "/locations/us-central1",
        ),
        (
            vertex_ai("test-project", "global"),
            "https://aiplatform.googleapis.com/v1beta1/projects/test-project/locations/global",
        ),
        (vertex_express(), "https://aiplatform.googleapis.com/v1beta1"),
        (gemini_api(), "https://generativelanguage.googleapis.com/v1beta"),
    ],
)
async def test_every_operation_uses_the_endpoint_urls(endpoint: Endpoint, base: str) -> None:
    rec = Recorder()
    await _every_operation(
        InteractionsClient("k", endpoint=endpoint, transport=httpx2.MockTransport(rec))
    )
    assert [(r.method, str(r.url)) for r in rec.requests] == [
        ("POST", f"{base}/interactions"),
        ("GET", f"{base}/interactions/v1_a"),
        ("POST", f"{base}/interactions/v1_a/cancel"),
        ("DELETE", f"{base}/interactions/v1_a"),
    ]
    assert json.loads(rec.requests[0].content) == {"model": "m", "input": "x"}


@pytest.mark.anyio
async def test_express_mode_sends_the_api_key_and_no_bearer_token() -> None:
    rec = Recorder()
    await _every_operation(
        InteractionsClient(
            "AQ.express", endpoint=vertex_express(), transport=httpx2.MockTransport(rec)
        )
    )
    assert all(r.headers["x-goog-api-key"] == "AQ.express" for r in rec.requests)
    assert all("authorization" not in r.headers for r in rec.requests)


@pytest.mark.anyio
async def test_a_project_endpoint_with_bearer_auth_sends_no_api_key() -> None:
    rec = Recorder()
    auth = BearerAuth(StaticToken("ya29.t", quota_project="billing-proj"))
    await _every_operation(
        InteractionsClient(
            auth=auth, endpoint=vertex_ai("p", "global"), transport=httpx2.MockTransport(rec)
        )
    )
    for request in rec.requests:
        assert request.headers["authorization"] == "Bearer ya29.t"
        assert request.headers["x-goog-user-project"] == "billing-proj"
        assert "x-goog-api-key" not in request.headers


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"api_key": "k", "auth": BearerAuth(StaticToken("t"))},
        {"api_key": "k", "endpoint": vertex_express(), "base_url": "http://x"},
        {"api_key": "k", "endpoint": vertex_express(), "api_version": "v1"},
    ],
)
def test_the_constructor_wants_one_credential_and_one_way_to_say_where(
    kwargs: dict[str, Any],
) -> None:
    with pytest.raises(ValueError):
        InteractionsClient(**kwargs)
