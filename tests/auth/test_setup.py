"""From settings to authentication: what can be combined, and what the operator is told."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gemini_interactions_mcp import cli
from gemini_interactions_mcp.auth import AuthConfigError, http_access
from gemini_interactions_mcp.auth.setup import FirstOf
from gemini_interactions_mcp.auth.tokens import digest_of
from gemini_interactions_mcp.settings import Settings

ISSUER = "https://issuer.example"
PUBLIC = "https://mcp.example/mcp"


def settings(**values: Any) -> Settings:
    return Settings(transport="http", **values)


def test_without_auth_settings_http_callers_are_not_asked_for_anything() -> None:
    assert http_access(settings()) is None
    assert cli.access_lines(None) == cli.NO_AUTH_LINES
    assert "lost when it reconnects" in cli.NO_AUTH_LINES[0]
    assert "--auth-tokens FILE" in cli.NO_AUTH_LINES[1]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"auth_tokens_file": "t.toml", "required_scopes": ["x"]}, "--required-scope applies"),
        (
            {"auth_tokens_file": "t.toml", "oauth_introspection_url": "https://i.example/i"},
            "--oauth-introspection-url applies",
        ),
        ({"oauth_issuer": ISSUER}, "--oauth-issuer needs --public-url"),
        ({"oauth_issuer": "issuer.example", "public_url": PUBLIC}, "is not an http(s) URL"),
        ({"oauth_issuer": "http://issuer.example", "public_url": PUBLIC}, "must be an https URL"),
        ({"oauth_issuer": ISSUER + "?x=1", "public_url": PUBLIC}, "has a query or fragment"),
        ({"oauth_issuer": ISSUER, "public_url": "mcp.example/mcp"}, "is not an http(s) URL"),
        (
            {
                "oauth_issuer": ISSUER,
                "public_url": PUBLIC,
                "oauth_introspection_url": "https://issuer.example/introspect",
            },
            "set GEMINI_MCP_OAUTH_CLIENT_ID and GEMINI_MCP_OAUTH_CLIENT_SECRET",
        ),
    ],
)
def test_settings_that_cannot_work_together_are_one_sentence(
    tmp_path: Path, values: dict[str, Any], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.toml").write_text(f'[tokens]\na = "{digest_of("a")}"\n')
    with pytest.raises(AuthConfigError) as refused:
        http_access(settings(**values))
    message = str(refused.value)
    assert expected in message
    assert "\n" not in message and message.endswith(".")


def test_blank_auth_settings_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_MCP_OAUTH_ISSUER", " ")
    monkeypatch.setenv("GEMINI_MCP_AUTH_TOKENS_FILE", "")
    assert not Settings().has_auth


@pytest.mark.anyio
async def test_tokens_and_oauth_together_accept_either(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(f'[tokens]\nci = "{digest_of("ci-token")}"\n')
    access = http_access(
        settings(
            auth_tokens_file=tokens,
            oauth_issuer=ISSUER,
            public_url=PUBLIC,
            required_scopes=["mcp"],
            oauth_introspection_url="https://issuer.example/introspect",
            oauth_client_id="me",
            oauth_client_secret="secret",
        )
    )
    assert access is not None
    try:
        assert isinstance(access.verifier, FirstOf)
        ci = await access.verifier.verify_token("ci-token")
        # A listed token passes the SDK's scope and audience checks like an OAuth token.
        assert ci is not None and ci.scopes == ["mcp"] and ci.resource == PUBLIC
        assert await access.verifier.verify_token("not.a.jwt") is None
        assert access.auth.required_scopes == ["mcp"] and access.auth.validate_token_resource
        assert str(access.auth.resource_server_url) == PUBLIC
        assert "bearer token listed in" in access.summary and ISSUER in access.summary
        assert "secret" not in access.summary
    finally:
        await access.aclose()
