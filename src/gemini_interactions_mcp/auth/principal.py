"""Who a verified token speaks for: the owner of the conversations and research it starts."""

from __future__ import annotations

from mcp.server.auth.provider import AccessToken, principal_components

__all__ = ["NamedToken", "principal_of"]


class NamedToken(AccessToken):
    """A bearer token from the tokens file; its principal is the name it is listed under."""

    name: str


def principal_of(token: AccessToken) -> str:
    """``token:NAME`` for a tokens-file token, else ``auth:ISSUER|CLIENT_ID|SUBJECT``."""
    if isinstance(token, NamedToken):
        return f"token:{token.name}"
    client_id, issuer, subject = principal_components(token)
    return f"auth:{issuer or ''}|{client_id}|{subject or ''}"
