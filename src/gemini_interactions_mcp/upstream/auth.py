"""How requests prove who sends them: an API key, or a bearer access token.

* `ApiKeyAuth`: `x-goog-api-key` on every request (Gemini API, Vertex AI express mode).
* `BearerAuth`: `Authorization: Bearer <token>` from a `TokenSource` (Vertex AI), and
  `x-goog-user-project` naming the quota project when the credentials have one. The
  token is refreshed before it expires (`refresh_margin` seconds ahead, on `clock`), and
  once more when the API answers 401, after which the request is sent again, once.

Both add their header per request, so no long-lived headers object holds the secret,
and both scrub their secrets from text (`redact`) before it reaches a message.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from typing import Protocol

import anyio
import httpx2
from pydantic import SecretStr

from .errors import CredentialsError

__all__ = [
    "API_KEY_HEADER",
    "DEFAULT_REFRESH_MARGIN",
    "USER_PROJECT_HEADER",
    "AccessToken",
    "ApiKeyAuth",
    "BearerAuth",
    "StaticToken",
    "TokenSource",
    "UpstreamAuth",
]

API_KEY_HEADER = "x-goog-api-key"
USER_PROJECT_HEADER = "x-goog-user-project"
# Google access tokens live an hour; renewing five minutes early keeps a request that
# is slow to reach the server from carrying a token that expires on the way.
DEFAULT_REFRESH_MARGIN = 300.0
_MASK = "**********"

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An OAuth access token, when it expires (seconds on the wall clock), its quota project."""

    value: SecretStr
    expires_at: float | None = None
    quota_project: str | None = None


class TokenSource(Protocol):
    """Where bearer tokens come from (ADC through google-auth, a fixed token, ...)."""

    async def token(self, *, refresh: bool) -> AccessToken:
        """A usable token; with `refresh`, a new one (the last expired or was refused)."""
        ...


class StaticToken:
    """A fixed access token (one minted elsewhere); it cannot be refreshed."""

    def __init__(self, value: str | SecretStr, *, quota_project: str | None = None) -> None:
        secret = value if isinstance(value, SecretStr) else SecretStr(value)
        if not secret.get_secret_value():
            raise ValueError("an access token is required")
        self._token = AccessToken(secret, None, quota_project)

    async def token(self, *, refresh: bool) -> AccessToken:
        """The same token every time."""
        return self._token

    def __repr__(self) -> str:
        return f"StaticToken(value={_MASK})"


class UpstreamAuth(httpx2.Auth, ABC):
    """Authentication of upstream requests; knows its secrets so that it can scrub them."""

    @abstractmethod
    def redact(self, text: str) -> str:
        """`text` with every secret of this auth masked."""


class ApiKeyAuth(UpstreamAuth):
    """An API key in the `x-goog-api-key` header."""

    def __init__(self, key: str | SecretStr) -> None:
        secret = key if isinstance(key, SecretStr) else SecretStr(key)
        if not secret.get_secret_value():
            raise ValueError("an API key is required")
        self._key = secret

    def auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers[API_KEY_HEADER] = self._key.get_secret_value()
        yield request

    def redact(self, text: str) -> str:
        return text.replace(self._key.get_secret_value(), _MASK)

    def __repr__(self) -> str:
        return f"ApiKeyAuth(key={_MASK})"


class BearerAuth(UpstreamAuth):
    """Bearer access tokens from a `TokenSource`, renewed before expiry and after a 401.

    `quota_project` overrides the quota project the tokens name. Async clients only.
    """

    def __init__(
        self,
        source: TokenSource,
        *,
        quota_project: str | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._source = source
        self._quota_project = quota_project
        self._margin = refresh_margin
        self._clock = clock
        self._token: AccessToken | None = None
        self._lock = anyio.Lock()
        # Tokens handed out recently: an error message may still quote one of them.
        self._issued: deque[str] = deque(maxlen=4)

    async def current(self) -> AccessToken:
        """The token to send now: the cached one, or a new one when it is about to expire."""
        token = self._token
        if token is not None and not self._expiring(token):
            return token
        async with self._lock:
            token = self._token
            if token is None:
                token = await self._source.token(refresh=False)
            if self._expiring(token):
                # Even when the new one is short-lived too, it is used: no refresh loop.
                token = await self._source.token(refresh=True)
            return self._keep(token)

    async def refused(self, token: AccessToken) -> AccessToken:
        """A replacement for `token`, which the API refused (401)."""
        async with self._lock:
            current = self._token
            if current is not None and current.value != token.value:
                return current  # another request already renewed it
            return self._keep(await self._source.token(refresh=True))

    def sync_auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        raise RuntimeError("BearerAuth fetches tokens asynchronously; use an async client.")

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        token = await self.current()
        self._apply(request, token)
        response = yield request
        if response.status_code != 401:
            return
        # Authentication is checked before the API starts any work, so a 401 proves the
        # request did nothing: sending it again, even a create, cannot start paid work
        # twice. Once only: a second 401 is the caller's to see.
        _log.info("the access token was refused (401); sending the request again with a new one")
        self._apply(request, await self.refused(token))
        yield request

    def redact(self, text: str) -> str:
        for value in self._issued:
            text = text.replace(value, _MASK)
        return text

    def __repr__(self) -> str:
        return f"BearerAuth(source={type(self._source).__name__})"

    def _expiring(self, token: AccessToken) -> bool:
        return token.expires_at is not None and token.expires_at - self._clock() <= self._margin

    def _keep(self, token: AccessToken) -> AccessToken:
        value = token.value.get_secret_value()
        if not value:
            raise CredentialsError(
                "The credentials produced an empty access token; check them or log in again."
            )
        self._token = token
        if value not in self._issued:
            self._issued.append(value)
        return token

    def _apply(self, request: httpx2.Request, token: AccessToken) -> None:
        request.headers["authorization"] = f"Bearer {token.value.get_secret_value()}"
        project = self._quota_project or token.quota_project
        if project:
            request.headers[USER_PROJECT_HEADER] = project
