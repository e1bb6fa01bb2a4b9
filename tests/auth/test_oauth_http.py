"""OAuth over real HTTP: the server as a resource server of a local issuer, both protocol eras."""

from __future__ import annotations

import time
from typing import Any

import httpx2
import jwt
import pytest

from ..server.helpers import error, ok
from .issuer import RESOURCE, Issuer, ec_key, rsa_key
from .mcp_http import ACCEPT, INITIALIZE, client_with, mcp_over_http

pytestmark = pytest.mark.anyio

METADATA_URL = "https://mcp.example.test/.well-known/oauth-protected-resource/mcp"


def refused_tokens(issuer: Issuer) -> dict[str, str]:
    now = int(time.time())
    intruder = rsa_key("intruder")
    return {
        "expired": issuer.token(iat=now - 900, exp=now - 600),
        "wrong audience": issuer.token(aud="https://other.example/mcp"),
        "wrong issuer": issuer.token(iss="https://evil.example"),
        "unknown kid": issuer.token(intruder),
        "bad signature": issuer.token(intruder, headers={"kid": issuer.keys[-1].kid}),
        "alg none": issuer.unsigned_token(),
        "not yet valid": issuer.token(nbf=now + 600),
        "no subject": issuer.token(sub=None),
        "garbage": "not-a-token",
        # The classic confusion: HMAC "signed" with the name of an RSA key.
        "HS256 for an RSA key": jwt.encode(
            issuer.claims(),
            b"thirty-two-bytes-of-shared-secret",
            algorithm="HS256",
            headers={"kid": issuer.keys[-1].kid},
        ),
    }


async def test_oauth_access_tokens_are_checked_before_any_mcp_message(
    issuer: Issuer, make_settings: Any
) -> None:
    settings = make_settings(
        transport="http",
        oauth_issuer=issuer.url,
        public_url=RESOURCE,
        required_scopes=["mcp:use"],
    )
    async with mcp_over_http(settings) as base, httpx2.AsyncClient(timeout=30) as http:
        url = f"{base}/mcp"
        bare = await http.post(url, json=INITIALIZE, headers=ACCEPT)
        assert bare.status_code == 401
        challenge = bare.headers["www-authenticate"]
        assert (
            challenge.startswith("Bearer ") and f'resource_metadata="{METADATA_URL}"' in challenge
        )
        metadata = (await http.get(f"{base}/.well-known/oauth-protected-resource/mcp")).json()
        assert metadata["resource"] == RESOURCE
        assert metadata["authorization_servers"] == [issuer.url]
        assert metadata["scopes_supported"] == ["mcp:use"]
        for case, token in refused_tokens(issuer).items():
            headers = {**ACCEPT, "authorization": f"Bearer {token}"}
            answer = await http.post(url, json=INITIALIZE, headers=headers)
            assert answer.status_code == 401, case
            assert answer.headers["www-authenticate"].startswith("Bearer "), case
        headers = {**ACCEPT, "authorization": f"Bearer {issuer.token(scope='other')}"}
        unscoped = await http.post(url, json=INITIALIZE, headers=headers)
        assert unscoped.status_code == 403
        assert 'error="insufficient_scope"' in unscoped.headers["www-authenticate"]
        headers = {**ACCEPT, "authorization": f"Bearer {issuer.token()}"}
        assert (await http.post(url, json=INITIALIZE, headers=headers)).status_code == 200


async def test_an_oauth_user_keeps_their_conversations_in_both_eras_and_across_a_key_switch(
    issuer: Issuer, make_settings: Any
) -> None:
    """Others see none of them. (A key published after the last fetch: see test_oauth.py.)"""
    issuer.keys = [rsa_key("k1"), ec_key("next")]
    settings = make_settings(transport="http", oauth_issuer=issuer.url, public_url=RESOURCE)
    async with mcp_over_http(settings) as base:
        url = f"{base}/mcp"
        alice = issuer.token(rsa_key("k1"), sub="alice")
        async with client_with(url, alice, mode="legacy") as client:
            cid = ok(await client.call_tool("gemini_ask", {"prompt": "mine"}))["conversation_id"]
        # The issuer signs with its next key (of another kind) and withdraws the first.
        issuer.keys = [ec_key("next")]
        async with client_with(url, issuer.token(sub="alice")) as client:
            assert client.protocol_version == "2026-07-28"
            turn = ok(
                await client.call_tool("gemini_continue", {"conversation_id": cid, "prompt": "on"})
            )
        assert "turn 2: on" in turn["text"]
        async with client_with(url, issuer.token(sub="bob")) as client:
            foreign = error(
                await client.call_tool("gemini_continue", {"conversation_id": cid, "prompt": "x"})
            )
            unknown = error(
                await client.call_tool(
                    "gemini_continue", {"conversation_id": "c_nope", "prompt": "x"}
                )
            )
            listing = ok(await client.call_tool("gemini_conversations", {}))
        assert foreign.replace(cid, "ID") == unknown.replace("c_nope", "ID")
        assert listing["conversations"] == []
