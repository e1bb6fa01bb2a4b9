"""From the settings to what MCPServer takes to authenticate HTTP callers.

The MCP SDK does the HTTP half: it reads ``Authorization: Bearer``, answers 401 with
``WWW-Authenticate`` (naming the RFC 9728 metadata under OAuth), serves that metadata,
checks required scopes and binds a handshake-era session to the credential that opened it.
This package supplies the `TokenVerifier` it asks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings

from ..settings import Settings
from .errors import AuthConfigError
from .tokens import TokenFileVerifier, load_tokens

__all__ = ["HttpAccess", "http_access"]

# AuthSettings requires an issuer URL even when no OAuth issuer exists; without
# resource_server_url nothing ever shows it (no metadata route is served).
_NO_ISSUER = "http://localhost"


@dataclass
class HttpAccess:
    """The verifier and settings MCPServer authenticates HTTP callers with."""

    verifier: TokenVerifier
    auth: AuthSettings
    summary: str
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def server_options(self) -> dict[str, Any]:
        """Keyword arguments for ``MCPServer(...)``."""
        return {"token_verifier": self.verifier, "auth": self.auth}

    async def aclose(self) -> None:
        for close in self.closers:
            await close()


class FirstOf:
    """A `TokenVerifier` accepting what any of several accepts (the first that does)."""

    def __init__(self, verifiers: Sequence[TokenVerifier]) -> None:
        self.verifiers = list(verifiers)

    async def verify_token(self, token: str) -> AccessToken | None:
        for verifier in self.verifiers:
            accepted = await verifier.verify_token(token)
            if accepted is not None:
                return accepted
        return None


def http_access(settings: Settings) -> HttpAccess | None:
    """How HTTP callers authenticate under `settings`, or None when they need not.

    Raises `AuthConfigError` (one sentence) for settings that cannot work together.
    """
    if not settings.has_auth:
        return None
    _check(settings)
    verifiers: list[TokenVerifier] = []
    closers: list[Callable[[], Awaitable[None]]] = []
    ways: list[str] = []
    if settings.auth_tokens_file is not None:
        entries = load_tokens(settings.auth_tokens_file)
        verifiers.append(
            TokenFileVerifier(
                entries, scopes=settings.required_scopes, resource=settings.public_url
            )
        )
        names = "1 name" if len(entries) == 1 else f"{len(entries)} names"
        ways.append(f"a bearer token listed in {settings.auth_tokens_file} ({names})")
    if settings.oauth_issuer is not None and settings.public_url is not None:
        try:
            from .oauth import OAuthConfig, OAuthVerifier
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise AuthConfigError(
                "--oauth-issuer needs the oauth extra; install gemini-interactions-mcp[oauth]."
            ) from None

        secret = settings.oauth_client_secret
        oauth = OAuthVerifier(
            OAuthConfig(
                issuer=settings.oauth_issuer,
                resource=settings.public_url,
                introspection_url=settings.oauth_introspection_url,
                client_id=settings.oauth_client_id,
                client_secret=secret.get_secret_value() if secret is not None else None,
            )
        )
        verifiers.append(oauth)
        closers.append(oauth.aclose)
        ways.append(f"an OAuth access token from {settings.oauth_issuer} for {settings.public_url}")
        # Validated from strings, so AuthSettings keeps a path-less URL as given: an issuer
        # is compared character for character, and a trailing slash would be another one.
        auth = AuthSettings.model_validate(
            {
                "issuer_url": settings.oauth_issuer,
                "resource_server_url": settings.public_url,
                "required_scopes": settings.required_scopes or None,
                "validate_token_resource": True,
            }
        )
    else:
        auth = AuthSettings.model_validate(
            {
                "issuer_url": _NO_ISSUER,
                "resource_server_url": None,
                "validate_token_resource": False,
            }
        )
    verifier = verifiers[0] if len(verifiers) == 1 else FirstOf(verifiers)
    summary = (
        f"HTTP callers need {' or '.join(ways)}; each principal sees only the conversations "
        "and research it started."
    )
    return HttpAccess(verifier=verifier, auth=auth, summary=summary, closers=closers)


def _check(settings: Settings) -> None:
    """Refuse settings that cannot work together, in one sentence."""
    issuer = settings.oauth_issuer
    if issuer is None:
        for value, flag in [
            (settings.required_scopes, "--required-scope"),
            (settings.oauth_introspection_url, "--oauth-introspection-url"),
        ]:
            if value:
                raise AuthConfigError(
                    f"{flag} applies to OAuth access tokens; pass --oauth-issuer too, or drop it."
                )
        return
    _url(issuer, "--oauth-issuer", secure=True)
    if urlsplit(issuer).query or urlsplit(issuer).fragment:
        raise AuthConfigError(
            f"--oauth-issuer {issuer} has a query or fragment, which an issuer never has; "
            "give the issuer URL exactly as the issuer names itself."
        )
    if settings.public_url is None:
        raise AuthConfigError(
            "--oauth-issuer needs --public-url, this server's MCP URL as clients reach it "
            "(for example https://mcp.example.com/mcp): tokens must name it as their audience."
        )
    _url(settings.public_url, "--public-url", secure=False)
    introspection = settings.oauth_introspection_url
    if introspection is not None:
        _url(introspection, "--oauth-introspection-url", secure=True)
        if settings.oauth_client_id is None or settings.oauth_client_secret is None:
            raise AuthConfigError(
                "--oauth-introspection-url needs this server's client credentials: set "
                "GEMINI_MCP_OAUTH_CLIENT_ID and GEMINI_MCP_OAUTH_CLIENT_SECRET."
            )


def _url(value: str, flag: str, *, secure: bool) -> None:
    from .discovery import is_secure

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AuthConfigError(f"{flag} {value!r} is not an http(s) URL; give the whole URL.")
    if secure and not is_secure(value):
        raise AuthConfigError(
            f"{flag} {value} must be an https URL (plain http only on loopback), so what "
            "comes from it cannot be changed on the way."
        )
