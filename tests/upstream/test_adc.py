"""Application Default Credentials through google-auth, refreshed over httpx2."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx2
import pytest
from google.oauth2.credentials import Credentials
from starlette.applications import Starlette

from gemini_interactions_mcp.emulator import EmulatorConfig, create_app
from gemini_interactions_mcp.upstream import (
    BearerAuth,
    CredentialsError,
    GoogleCredentials,
    InteractionsClient,
    application_default_credentials,
    vertex_ai,
)


class TokenEndpoint:
    """An OAuth token endpoint: hands out numbered access tokens for a refresh token.

    It answers on the mock transport, so google-auth's real token URL is never reached.
    """

    def __init__(self, *, status: int = 200, error: Exception | None = None) -> None:
        self.status = status
        self.error = error
        self.forms: list[dict[str, list[str]]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if self.error is not None:
            raise self.error
        assert (request.method, request.url.path) == ("POST", "/token")
        self.forms.append(parse_qs(request.content.decode()))
        if self.status != 200:
            return httpx2.Response(self.status, json={"error": "invalid_grant"})
        body = {
            "access_token": f"ya29.n{len(self.forms)}",
            "expires_in": 3600,
            "token_type": "Bearer",
        }
        return httpx2.Response(200, json=body)


@pytest.fixture
def adc_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An authorized-user ADC file whose token endpoint is the mock above."""
    path = tmp_path / "adc.json"
    info = {
        "type": "authorized_user",
        "client_id": "client.apps.example",
        "client_secret": "client-secret",
        "refresh_token": "1//refresh-secret",
        "quota_project_id": "billing-proj",
    }
    path.write_text(json.dumps(info))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "adc-proj")
    return path


@pytest.mark.anyio
async def test_adc_refreshes_a_token_through_the_given_transport(adc_file: Path) -> None:
    endpoint = TokenEndpoint()
    source, project = application_default_credentials(transport=httpx2.MockTransport(endpoint))
    assert project == "adc-proj"
    before = time.time()
    token = await source.token(refresh=False)
    assert token.value.get_secret_value() == "ya29.n1"
    assert token.quota_project == "billing-proj"
    assert token.expires_at is not None and before + 3000 < token.expires_at < before + 3700
    (form,) = endpoint.forms
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == ["1//refresh-secret"]
    # A token in hand is reused until a refresh is asked for.
    assert (await source.token(refresh=False)).value.get_secret_value() == "ya29.n1"
    assert (await source.token(refresh=True)).value.get_secret_value() == "ya29.n2"


@pytest.mark.anyio
async def test_a_quota_project_given_to_adc_overrides_the_file(adc_file: Path) -> None:
    source, _ = application_default_credentials(
        quota_project="other-proj", transport=httpx2.MockTransport(TokenEndpoint())
    )
    assert (await source.token(refresh=False)).quota_project == "other-proj"


@pytest.mark.anyio
async def test_a_refused_refresh_is_a_credentials_error_without_the_secret(adc_file: Path) -> None:
    source, _ = application_default_credentials(
        transport=httpx2.MockTransport(TokenEndpoint(status=400))
    )
    with pytest.raises(CredentialsError, match="application-default login") as caught:
        await source.token(refresh=False)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "refresh-secret" not in str(caught.value)


@pytest.mark.anyio
async def test_an_unreachable_token_endpoint_is_a_credentials_error(adc_file: Path) -> None:
    down = TokenEndpoint(error=httpx2.ConnectError("refused"))
    source, _ = application_default_credentials(transport=httpx2.MockTransport(down))
    with pytest.raises(CredentialsError, match="TransportError"):
        await source.token(refresh=True)


def test_missing_adc_names_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    with pytest.raises(CredentialsError, match="gcloud auth application-default login"):
        application_default_credentials()


def test_without_google_auth_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "google.auth" or m.startswith("google.auth.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "google.auth", None)
    with pytest.raises(CredentialsError) as caught:
        application_default_credentials()
    assert "pip install 'gemini-interactions-mcp[vertex]'" in str(caught.value)
    assert caught.value.__cause__ is None


@pytest.mark.anyio
async def test_static_google_credentials_give_their_token_and_cannot_refresh() -> None:
    source = GoogleCredentials(Credentials(token="ya29.static"))
    token = await source.token(refresh=False)
    assert (token.value.get_secret_value(), token.expires_at) == ("ya29.static", None)
    with pytest.raises(CredentialsError):
        await source.token(refresh=True)
    assert "ya29" not in repr(source)


@pytest.mark.anyio
async def test_vertex_requests_carry_the_adc_token_and_quota_project(adc_file: Path) -> None:
    endpoint = TokenEndpoint()
    source, project = application_default_credentials(transport=httpx2.MockTransport(endpoint))
    assert project is not None
    app: Starlette = create_app(EmulatorConfig(access_token="ya29.n1"))
    async with app.router.lifespan_context(app):
        client = InteractionsClient(
            auth=BearerAuth(source),
            endpoint=vertex_ai(project, "us-central1", base_url="http://emu"),
            transport=httpx2.ASGITransport(app=app),
        )
        async with client:
            created = await client.create({"model": "gemini-3-flash-preview", "input": "hi"})
            fetched = await client.get(created.id)
    assert fetched.output_text == "turn 1: hi"
    recorded: list[Any] = app.state.emulator.requests
    assert [r.path for r in recorded] == [
        "/v1beta1/projects/adc-proj/locations/us-central1/interactions",
        f"/v1beta1/projects/adc-proj/locations/us-central1/interactions/{created.id}",
    ]
    assert {r.headers["x-goog-user-project"] for r in recorded} == {"billing-proj"}
    assert len(endpoint.forms) == 1
