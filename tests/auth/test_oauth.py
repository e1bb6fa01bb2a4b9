"""The OAuth verifier against a real local issuer: keys, rotation, discovery, introspection."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from gemini_interactions_mcp.auth import principal_of
from gemini_interactions_mcp.auth.discovery import metadata_urls
from gemini_interactions_mcp.auth.oauth import (
    INTROSPECTION_CACHE_SECONDS,
    JWKS_MAX_AGE,
    JWKS_MIN_REFRESH,
    OAuthConfig,
    OAuthVerifier,
)

from .issuer import CLIENT_ID, CLIENT_SECRET, RESOURCE, Issuer, ec_key, rsa_key

pytestmark = pytest.mark.anyio


class Clock:
    """The verifier's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier_for(
    issuer: Issuer, clock: Callable[[], float] | None = None, **options: str
) -> OAuthVerifier:
    config = OAuthConfig(issuer=issuer.url, resource=RESOURCE, **options)
    return OAuthVerifier(config, clock=clock or Clock())


@pytest.mark.parametrize("make_key", [rsa_key, ec_key], ids=["RS256", "ES256"])
async def test_a_token_the_issuer_signed_for_this_server_names_its_principal(
    issuer: Issuer, make_key: Callable[[str], object]
) -> None:
    key = make_key("current")
    issuer.keys = [rsa_key("old"), key]  # type: ignore[list-item]
    verifier = verifier_for(issuer)
    try:
        accepted = await verifier.verify_token(issuer.token(sub="alice", client_id="ide"))
    finally:
        await verifier.aclose()
    assert accepted is not None
    assert accepted.subject == "alice" and accepted.client_id == "ide"
    assert accepted.scopes == ["mcp:use", "other"] and accepted.resource == RESOURCE
    assert principal_of(accepted) == f"auth:{issuer.url}|ide|alice"


async def test_a_rotated_key_is_picked_up_and_refetches_are_rate_limited(issuer: Issuer) -> None:
    clock = Clock()
    verifier = verifier_for(issuer, clock)
    old, new = rsa_key("k1"), ec_key("k2")
    try:
        assert await verifier.verify_token(issuer.token(old)) is not None
        assert issuer.jwks_fetches == 1
        issuer.keys = [new]  # the issuer rotates: the old key is withdrawn
        # Right after a fetch, an unknown key id does not make the verifier fetch again...
        assert await verifier.verify_token(issuer.token(new)) is None
        assert issuer.jwks_fetches == 1
        clock.now += JWKS_MIN_REFRESH
        # ...later it does, once, and then knows the new key.
        assert await verifier.verify_token(issuer.token(new)) is not None
        assert issuer.jwks_fetches == 2
        for kid in ("k1", "made-up", "another"):
            headers = {"kid": kid}
            assert await verifier.verify_token(issuer.token(new, headers=headers)) is None
        assert issuer.jwks_fetches == 2
        clock.now += JWKS_MAX_AGE + 1
        assert await verifier.verify_token(issuer.token(new)) is not None
        assert issuer.jwks_fetches == 3, "keys older than the maximum age are fetched again"
    finally:
        await verifier.aclose()


async def test_a_token_without_a_key_id_needs_a_single_published_key(issuer: Issuer) -> None:
    verifier = verifier_for(issuer)
    try:
        assert await verifier.verify_token(issuer.token(headers={"kid": None})) is not None
        issuer.keys = [rsa_key("k1"), ec_key("k2")]
        await verifier.aclose()
        verifier = verifier_for(issuer)
        assert await verifier.verify_token(issuer.token(headers={"kid": None})) is None
    finally:
        await verifier.aclose()


async def test_a_shared_secret_in_the_key_set_is_never_a_signing_key(issuer: Issuer) -> None:
    import base64

    import jwt

    secret = b"a-shared-secret-published-by-mistake"
    issuer.extra_jwks = [
        {
            "kty": "oct",
            "kid": "shared",
            "alg": "HS256",
            "k": base64.urlsafe_b64encode(secret).decode(),
        }
    ]
    verifier = verifier_for(issuer)
    forged = jwt.encode(issuer.claims(), secret, algorithm="HS256", headers={"kid": "shared"})
    try:
        assert await verifier.verify_token(forged) is None
        assert await verifier.verify_token(issuer.token()) is not None
    finally:
        await verifier.aclose()


def test_metadata_is_looked_up_where_the_mcp_spec_says() -> None:
    assert metadata_urls("https://as.example.com") == [
        "https://as.example.com/.well-known/oauth-authorization-server",
        "https://as.example.com/.well-known/openid-configuration",
    ]
    assert metadata_urls("https://as.example.com/tenant/") == [
        "https://as.example.com/.well-known/oauth-authorization-server/tenant",
        "https://as.example.com/.well-known/openid-configuration/tenant",
        "https://as.example.com/tenant/.well-known/openid-configuration",
    ]


@pytest.mark.parametrize("issuer_options", [{"path": "/tenant", "discovery": "oidc"}])
async def test_an_openid_connect_issuer_with_a_path_is_found(issuer: Issuer) -> None:
    verifier = verifier_for(issuer)
    try:
        assert await verifier.verify_token(issuer.token()) is not None
    finally:
        await verifier.aclose()


async def test_metadata_naming_another_issuer_is_not_trusted(
    issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    issuer.claimed_issuer = "https://evil.example"
    verifier = verifier_for(issuer)
    try:
        with caplog.at_level(logging.WARNING):
            assert await verifier.verify_token(issuer.token()) is None
    finally:
        await verifier.aclose()
    assert issuer.jwks_fetches == 0
    assert "give --oauth-issuer exactly as the issuer names itself" in caplog.text


async def test_an_issuer_that_is_down_is_asked_again_later(
    issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    issuer.down = True
    verifier = verifier_for(issuer, clock)
    token = issuer.token()
    try:
        with caplog.at_level(logging.WARNING):
            assert await verifier.verify_token(token) is None
        assert "answered HTTP 503" in caplog.text
        issuer.down = False
        assert await verifier.verify_token(token) is None, "asked again only after a pause"
        clock.now += JWKS_MIN_REFRESH
        assert await verifier.verify_token(token) is not None
    finally:
        await verifier.aclose()
    assert token not in caplog.text


async def test_an_unreachable_issuer_refuses_tokens(caplog: pytest.LogCaptureFixture) -> None:
    from ..server.processes import free_port

    gone = Issuer(base=f"http://127.0.0.1:{free_port()}")
    verifier = verifier_for(gone)
    try:
        with caplog.at_level(logging.WARNING):
            assert await verifier.verify_token(gone.token()) is None
    finally:
        await verifier.aclose()
    assert "could not be reached" in caplog.text


def introspecting(issuer: Issuer, clock: Clock, secret: str = CLIENT_SECRET) -> OAuthVerifier:
    return verifier_for(
        issuer,
        clock,
        introspection_url=f"{issuer.base}/introspect",
        client_id=CLIENT_ID,
        client_secret=secret,
    )


async def test_an_opaque_token_is_introspected_and_the_answer_kept_briefly(issuer: Issuer) -> None:
    clock = Clock()
    issuer.opaque["opaque-alice"] = {
        "active": True,
        "sub": "alice",
        "client_id": "cli",
        "aud": [RESOURCE, "https://other.example"],
        "scope": "mcp:use",
    }
    verifier = introspecting(issuer, clock)
    try:
        accepted = await verifier.verify_token("opaque-alice")
        assert accepted is not None
        assert principal_of(accepted) == f"auth:{issuer.url}|cli|alice"
        assert accepted.scopes == ["mcp:use"]
        assert await verifier.verify_token("opaque-alice") is not None
        assert issuer.introspections == 1
        clock.now += INTROSPECTION_CACHE_SECONDS
        issuer.opaque["opaque-alice"]["active"] = False  # revoked at the issuer
        assert await verifier.verify_token("opaque-alice") is None
        assert issuer.introspections == 2
    finally:
        await verifier.aclose()


@pytest.mark.parametrize(
    "answer",
    [
        {"active": False},
        {"active": True, "sub": "alice", "aud": "https://other.example"},
        {"active": True, "sub": "alice"},
        {"active": True, "sub": "alice", "aud": RESOURCE, "exp": 1_000_000},
        {"active": True, "sub": "alice", "aud": RESOURCE, "nbf": 9_999_999_999},
        {"active": True, "sub": "alice", "aud": RESOURCE, "iss": "https://evil.example"},
        {"active": True, "aud": RESOURCE},
    ],
    ids=[
        "inactive",
        "other-audience",
        "no-audience",
        "expired",
        "not-yet",
        "other-issuer",
        "nobody",
    ],
)
async def test_introspected_tokens_that_must_not_pass_are_refused(
    issuer: Issuer, answer: dict[str, object]
) -> None:
    issuer.opaque["opaque"] = answer
    verifier = introspecting(issuer, Clock())
    try:
        assert await verifier.verify_token("opaque") is None
    finally:
        await verifier.aclose()


async def test_introspection_with_wrong_credentials_is_refused_and_logged(
    issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    issuer.opaque["tok-never-logged"] = {"active": True, "sub": "alice", "aud": RESOURCE}
    verifier = introspecting(issuer, Clock(), secret="wrong")
    try:
        with caplog.at_level(logging.DEBUG):
            assert await verifier.verify_token("tok-never-logged") is None
    finally:
        await verifier.aclose()
    assert "answered 401" in caplog.text and "tok-never-logged" not in caplog.text


async def test_an_opaque_token_without_introspection_is_refused(issuer: Issuer) -> None:
    issuer.opaque["opaque"] = {"active": True, "sub": "alice", "aud": RESOURCE}
    verifier = verifier_for(issuer)
    try:
        assert await verifier.verify_token("opaque") is None
    finally:
        await verifier.aclose()
    assert issuer.introspections == 0


@pytest.mark.parametrize(
    ("problem", "logged"),
    [
        ({"jwks_uri": "http://keys.example/jwks"}, "names no https jwks_uri"),
        ({"jwks_body": "<html>"}, "did not answer JSON"),
        ({"jwks_body": "[]"}, "did not answer a JSON object"),
        ({"jwks_body": '{"keys": []}'}, "did not contain any keys"),
        ({"path": "/elsewhere"}, "publishes no metadata at"),
    ],
)
async def test_an_issuer_whose_keys_cannot_be_had_gets_no_token_through(
    issuer: Issuer, problem: dict[str, str], logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = issuer.token()
    for name, value in problem.items():
        setattr(issuer, name, value)
    verifier = OAuthVerifier(OAuthConfig(issuer=issuer.url, resource=RESOURCE), clock=Clock())
    try:
        with caplog.at_level(logging.WARNING):
            assert await verifier.verify_token(token) is None
    finally:
        await verifier.aclose()
    assert logged in caplog.text


async def test_an_introspection_endpoint_that_fails_gets_no_token_through(
    issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    from ..server.processes import free_port

    issuer.opaque["opaque"] = {"active": True, "sub": "alice", "aud": RESOURCE}
    issuer.introspection_body = "not json"
    verifier = introspecting(issuer, Clock())
    gone = verifier_for(
        issuer,
        introspection_url=f"http://127.0.0.1:{free_port()}/introspect",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    try:
        with caplog.at_level(logging.WARNING):
            assert await verifier.verify_token("opaque") is None
            assert await gone.verify_token("opaque") is None
    finally:
        await verifier.aclose()
        await gone.aclose()
    assert "ConnectError" in caplog.text


async def test_introspection_answers_kept_stay_few(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gemini_interactions_mcp.auth import oauth

    monkeypatch.setattr(oauth, "INTROSPECTION_CACHE_SIZE", 2)
    verifier = introspecting(issuer, Clock())
    try:
        for n in range(4):
            issuer.opaque[f"t{n}"] = {"active": True, "sub": f"u{n}", "aud": RESOURCE}
            assert await verifier.verify_token(f"t{n}") is not None
        assert await verifier.verify_token("t0") is not None
    finally:
        await verifier.aclose()
    assert issuer.introspections == 5, "the oldest answer made room for newer ones"
