"""Bearer tokens for small deployments: a TOML file of names and token digests.

::

    [tokens]
    alice = "sha256:<64 hex digits>"

The file holds only SHA-256 digests, so reading it grants nothing. `new_token` makes a token
of 256 random bits, and `entry` is the line that lists it under its name. A presented token
is hashed and compared with every entry in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

from mcp.server.auth.provider import AccessToken

from .errors import AuthConfigError
from .principal import NamedToken

__all__ = ["TokenFileVerifier", "digest_of", "entry", "load_tokens", "name_problem", "new_token"]

TOKEN_BYTES = 32
TOKEN_PREFIX = "gim_"
DIGEST_PREFIX = "sha256:"
NEW_TOKEN_COMMAND = "gemini-interactions-mcp token new NAME"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def new_token() -> str:
    """A fresh bearer token: 256 random bits, URL-safe, with a recognisable prefix."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def digest_of(token: str) -> str:
    """How the tokens file lists `token`: ``sha256:`` and the hex digest of its UTF-8 bytes."""
    return DIGEST_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a token, in one sentence, or None if it can."""
    if _NAME.fullmatch(name):
        return None
    return (
        f"The token name {name!r} cannot be used; use 1 to 64 letters, digits and . _ @ + - "
        "(starting with a letter or digit)."
    )


def entry(name: str, token: str) -> str:
    """The line of the ``[tokens]`` table that lets `token` in as `name`."""
    key = name if _BARE_KEY.fullmatch(name) else json.dumps(name)
    return f'{key} = "{digest_of(token)}"'


def load_tokens(path: Path) -> dict[str, bytes]:
    """The tokens file's entries (name → SHA-256 digest); `AuthConfigError` names what is wrong."""
    where = f"The tokens file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuthConfigError(
            f"{where} does not exist; create it with a [tokens] table "
            f"(`{NEW_TOKEN_COMMAND}` prints a token and its line)."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise AuthConfigError(f"{where} cannot be read ({reason}); fix the file.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AuthConfigError(f"{where} is not valid TOML ({exc}); fix that line.") from None
    others = sorted(set(data) - {"tokens"})
    if others:
        raise AuthConfigError(
            f"{where} has {', '.join(others)} besides the [tokens] table; remove it."
        )
    table = data.get("tokens")
    if not isinstance(table, dict) or not table:
        raise AuthConfigError(
            f"{where} lists no tokens; add a [tokens] table with a line from `{NEW_TOKEN_COMMAND}`."
        )
    entries: dict[str, bytes] = {}
    names_by_digest: dict[bytes, str] = {}
    for name, value in table.items():
        if name_problem(name) is not None:
            raise AuthConfigError(
                f"{where}: entry {name!r} cannot be a name; rename it with 1 to 64 letters, "
                "digits and . _ @ + -."
            )
        digest = _digest(value)
        if digest is None:
            raise AuthConfigError(
                f'{where}: entry {name!r} must be "sha256:" and 64 hex digits, as '
                f"`gemini-interactions-mcp token new {name}` prints it."
            )
        if digest in names_by_digest:
            raise AuthConfigError(
                f"{where}: entries {names_by_digest[digest]!r} and {name!r} hold the same "
                "token; give each name its own."
            )
        names_by_digest[digest] = name
        entries[name] = digest
    return entries


def _digest(value: object) -> bytes | None:
    if not isinstance(value, str) or not value.startswith(DIGEST_PREFIX):
        return None
    hex_digest = value[len(DIGEST_PREFIX) :].lower()
    return bytes.fromhex(hex_digest) if _HEX_DIGEST.fullmatch(hex_digest) else None


class TokenFileVerifier:
    """A `TokenVerifier` for the tokens file: a token is valid when its digest is listed.

    `scopes` and `resource` are what a listed token is taken to carry, so it passes the same
    checks as an OAuth token when both kinds are accepted.
    """

    def __init__(
        self,
        entries: Mapping[str, bytes],
        *,
        scopes: Sequence[str] = (),
        resource: str | None = None,
    ) -> None:
        self._entries = list(entries.items())
        self._scopes = list(scopes)
        self._resource = resource

    async def verify_token(self, token: str) -> AccessToken | None:
        presented = hashlib.sha256(token.encode()).digest()
        found: str | None = None
        for name, expected in self._entries:
            # Every entry is compared, each in constant time: how long this takes tells
            # nothing about which entry, if any, came close.
            if hmac.compare_digest(presented, expected):
                found = name
        if found is None:
            return None
        return NamedToken(
            token=token,
            client_id=found,
            subject=found,
            scopes=list(self._scopes),
            resource=self._resource,
            name=found,
        )
