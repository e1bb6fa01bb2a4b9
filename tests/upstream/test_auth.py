"""Bearer tokens: renewed before expiry, renewed and resent exactly once after a 401."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx2
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from gemini_interactions_mcp.emulator import EmulatorConfig, create_app
from gemini_interactions_mcp.upstream import (
    AccessToken,
    AuthenticationError,
    BearerAuth,
    CredentialsError,
    InteractionsClient,
    RetryPolicy,
    StaticToken,
    vertex_ai,
)

MODEL = "gemini-3-flash-preview"
VERTEX = "/v1beta1/projects/proj/locations/global/interactions"


class Tokens:
    """A token source handing out the given tokens in turn; records every ask."""

    def __init__(self, *tokens: AccessToken | Exception) -> None:
        self.tokens = list(tokens)
        self.asks: list[bool] = []

    async def token(self, *, refresh: bool) -> AccessToken:
        self.asks.append(refresh)
        answer = self.tokens.pop(0) if len(self.tokens) > 1 else self.tokens[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def tok(value: str, expires_at: float | None = None, project: str | None = None) -> AccessToken:
    return AccessToken(SecretStr(value), expires_at, project)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def app() -> AsyncIterator[Starlette]:
    """The emulator accepting only the bearer token `fresh`."""
    application = create_app(EmulatorConfig(access_token="fresh"))
    async with application.router.lifespan_context(application):
        yield application


def vertex_client(app: Starlette, auth: BearerAuth) -> InteractionsClient:
    return InteractionsClient(
        auth=auth,
        endpoint=vertex_ai("proj", "global", base_url="http://emu"),
        transport=httpx2.ASGITransport(app=app),
        retry=RetryPolicy(jitter=0.0, max_attempts=3),
    )


def posts(app: Starlette) -> list[Any]:
    return [r for r in app.state.emulator.requests if r.method == "POST"]


@pytest.mark.anyio
async def test_a_refused_token_is_renewed_once_and_the_create_sent_again(app: Starlette) -> None:
    tokens = Tokens(tok("stale"), tok("fresh"))
    async with vertex_client(app, BearerAuth(tokens)) as client:
        created = await client.create({"model": MODEL, "input": "hi"})
        assert created.status == "completed"
        # The renewed token stays in use: no further asks.
        assert (await client.get(created.id)).id == created.id
    assert tokens.asks == [False, True]
    assert [r.path for r in posts(app)] == [VERTEX, VERTEX]
    # The 401 came before any work: exactly one interaction exists.
    assert len(app.state.emulator.interactions) == 1


@pytest.mark.anyio
async def test_a_second_401_is_raised_without_another_renewal(app: Starlette) -> None:
    tokens = Tokens(tok("stale"), tok("also-stale"), tok("fresh"))
    async with vertex_client(app, BearerAuth(tokens)) as client:
        with pytest.raises(AuthenticationError):
            await client.create({"model": MODEL, "input": "hi"})
    assert tokens.asks == [False, True]
    assert len(posts(app)) == 2
    assert app.state.emulator.interactions == {}


@pytest.mark.anyio
async def test_a_streamed_create_is_also_sent_again_once_after_a_401(app: Starlette) -> None:
    tokens = Tokens(tok("stale"), tok("fresh"))
    events: list[Any] = []

    async def collect(event: Any) -> None:
        events.append(event)

    async with vertex_client(app, BearerAuth(tokens)) as client:
        done = await client.create_stream({"model": MODEL, "input": "stream"}, collect)
    assert done.output_text == "turn 1: stream"
    assert events and len(posts(app)) == 2
    assert len(app.state.emulator.interactions) == 1


@pytest.mark.anyio
async def test_a_token_is_renewed_before_it_expires() -> None:
    clock = Clock()
    tokens = Tokens(tok("t1", expires_at=2_000.0), tok("t2", expires_at=6_000.0))
    auth = BearerAuth(tokens, clock=clock, refresh_margin=300.0)
    assert (await auth.current()).value.get_secret_value() == "t1"
    clock.now = 1_699.0
    assert (await auth.current()).value.get_secret_value() == "t1"
    clock.now = 1_700.0
    assert (await auth.current()).value.get_secret_value() == "t2"
    assert tokens.asks == [False, True]


@pytest.mark.anyio
async def test_a_token_already_expiring_when_first_fetched_is_renewed_at_once() -> None:
    clock = Clock()
    tokens = Tokens(tok("old", expires_at=1_010.0), tok("new", expires_at=1_020.0))
    auth = BearerAuth(tokens, clock=clock)
    # Even the renewed token expires soon: it is used, with no loop of renewals.
    assert (await auth.current()).value.get_secret_value() == "new"
    assert tokens.asks == [False, True]


@pytest.mark.anyio
async def test_concurrent_requests_share_one_renewal() -> None:
    tokens = Tokens(tok("stale"), tok("fresh"))
    auth = BearerAuth(tokens)
    stale = await auth.current()
    renewed: list[str] = []

    async def renew() -> None:
        renewed.append((await auth.refused(stale)).value.get_secret_value())

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(renew)
    assert renewed == ["fresh"] * 5
    assert tokens.asks == [False, True]


@pytest.mark.anyio
async def test_the_quota_project_header_comes_from_the_token_or_the_override(
    app: Starlette,
) -> None:
    async with vertex_client(app, BearerAuth(Tokens(tok("fresh", project="q1")))) as client:
        await client.create({"model": MODEL, "input": "x"})
    override = BearerAuth(Tokens(tok("fresh", project="q1")), quota_project="q2")
    async with vertex_client(app, override) as client:
        await client.create({"model": MODEL, "input": "x"})
    async with vertex_client(app, BearerAuth(Tokens(tok("fresh")))) as client:
        await client.create({"model": MODEL, "input": "x"})
    headers = [r.headers for r in posts(app)]
    assert [h.get("x-goog-user-project") for h in headers] == ["q1", "q2", None]
    assert all(h["authorization"] == "REDACTED" for h in headers)


@pytest.mark.anyio
async def test_a_credentials_failure_sends_nothing(app: Starlette) -> None:
    broken = Tokens(CredentialsError("No credentials; log in again."))
    async with vertex_client(app, BearerAuth(broken)) as client:
        with pytest.raises(CredentialsError, match="log in"):
            await client.create({"model": MODEL, "input": "x"})
    assert app.state.emulator.requests == []


@pytest.mark.anyio
async def test_an_empty_token_is_a_credentials_error() -> None:
    with pytest.raises(CredentialsError):
        await BearerAuth(Tokens(tok(""))).current()


@pytest.mark.anyio
async def test_tokens_never_leak_into_logs_errors_or_reprs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    def echo(request: httpx2.Request) -> httpx2.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        return httpx2.Response(400, json={"error": {"code": "invalid_request", "message": token}})

    auth = BearerAuth(Tokens(tok("ya29.secret-one")))
    client = InteractionsClient(
        auth=auth, endpoint=vertex_ai("p", "global"), transport=httpx2.MockTransport(echo)
    )
    async with client:
        with pytest.raises(Exception) as caught:
            await client.get("v1_a")
    texts = [str(caught.value), repr(caught.value), repr(client), repr(auth)]
    texts += [r.getMessage() for r in caplog.records]
    assert all("ya29.secret-one" not in text for text in texts)
    assert "**********" in str(caught.value)


@pytest.mark.anyio
async def test_a_static_token_is_the_same_after_a_refresh_and_never_empty() -> None:
    static = StaticToken("ya29.s", quota_project="q")
    first, again = await static.token(refresh=False), await static.token(refresh=True)
    assert first == again and first.quota_project == "q"
    assert "ya29.s" not in repr(static)
    with pytest.raises(ValueError):
        StaticToken("")


def test_bearer_auth_refuses_a_synchronous_client() -> None:
    auth = BearerAuth(StaticToken("t"))
    with (
        httpx2.Client(
            auth=auth, transport=httpx2.MockTransport(lambda r: httpx2.Response(200))
        ) as c,
        pytest.raises(RuntimeError, match="async"),
    ):
        c.get("http://x.test/")
