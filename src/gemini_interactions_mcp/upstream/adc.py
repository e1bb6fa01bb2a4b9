"""Google credentials (Application Default Credentials) as a bearer `TokenSource`.

Needs google-auth, the `vertex` extra (`pip install 'gemini-interactions-mcp[vertex]'`);
it is imported only when credentials are loaded. google-auth refreshes tokens through
the small httpx2 transport below, so neither `requests` nor `urllib3` is needed.
Refreshing blocks, so it runs in a worker thread.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import anyio
import httpx2
from pydantic import SecretStr

from .auth import AccessToken
from .errors import CredentialsError

__all__ = [
    "CLOUD_PLATFORM_SCOPE",
    "DEFAULT_REFRESH_TIMEOUT",
    "INSTALL_HINT",
    "GoogleCredentials",
    "application_default_credentials",
]

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
INSTALL_HINT = "pip install 'gemini-interactions-mcp[vertex]'"
DEFAULT_REFRESH_TIMEOUT = 30.0


def _google_auth(module: str = "google.auth") -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise CredentialsError(
            f"Vertex AI credentials need google-auth; install it with: {INSTALL_HINT}"
        ) from None


def application_default_credentials(
    *,
    scopes: Sequence[str] = (CLOUD_PLATFORM_SCOPE,),
    quota_project: str | None = None,
    transport: httpx2.BaseTransport | None = None,
) -> tuple[GoogleCredentials, str | None]:
    """Load Application Default Credentials; return them and the project they name, if any.

    `quota_project` overrides the quota project of the credentials. `transport` carries
    the token refreshes (tests pass a mock one). This blocks (it reads files and, on
    Google Cloud, may ask the metadata server): from async code, run it in a worker
    thread. No token is fetched until the first request.
    """
    google_auth = _google_auth()
    exceptions = _google_auth("google.auth.exceptions")
    try:
        credentials, project = google_auth.default(
            scopes=list(scopes), quota_project_id=quota_project
        )
    except exceptions.DefaultCredentialsError:
        # The google-auth message can be long and names files; ours says what to do.
        raise CredentialsError(
            "No usable Application Default Credentials were found; run "
            "`gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS."
        ) from None
    return GoogleCredentials(credentials, transport=transport), project or None


class GoogleCredentials:
    """A `TokenSource` over a google-auth `Credentials` object (ADC, service account, ...)."""

    def __init__(
        self,
        credentials: Any,
        *,
        transport: httpx2.BaseTransport | None = None,
        timeout: float = DEFAULT_REFRESH_TIMEOUT,
    ) -> None:
        self._credentials = credentials
        self._transport = transport
        self._timeout = timeout

    async def token(self, *, refresh: bool) -> AccessToken:
        """The credentials' token; refreshed when asked, or when there is none yet."""
        if refresh or not self._credentials.token:
            await anyio.to_thread.run_sync(self._refresh)
        credentials = self._credentials
        if not credentials.token:
            raise CredentialsError("The Google credentials produced no access token; log in again.")
        return AccessToken(
            SecretStr(str(credentials.token)),
            _timestamp(getattr(credentials, "expiry", None)),
            getattr(credentials, "quota_project_id", None) or None,
        )

    def _refresh(self) -> None:
        exceptions = _google_auth("google.auth.exceptions")
        with httpx2.Client(transport=self._transport, timeout=self._timeout) as http:
            try:
                self._credentials.refresh(_Request(http, exceptions))
            except exceptions.GoogleAuthError as exc:
                # Not chained: google-auth errors may quote the token endpoint's answer.
                raise CredentialsError(
                    f"Refreshing the Google access token failed ({type(exc).__name__}); "
                    "log in again with `gcloud auth application-default login` "
                    "or check GOOGLE_APPLICATION_CREDENTIALS."
                ) from None

    def __repr__(self) -> str:
        return f"GoogleCredentials({type(self._credentials).__name__})"


def _timestamp(expiry: object) -> float | None:
    # google-auth keeps expiry as a naive datetime in UTC.
    if not isinstance(expiry, datetime):
        return None
    if expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=UTC)
    return expiry.timestamp()


class _Response:
    """The response shape google-auth reads (`status`, `headers`, `data`)."""

    def __init__(self, response: httpx2.Response) -> None:
        self.status = response.status_code
        self.headers = dict(response.headers)
        self.data = response.content


class _Request:
    """The `google.auth.transport.Request` interface over a synchronous httpx2 client."""

    def __init__(self, http: httpx2.Client, exceptions: ModuleType) -> None:
        self._http = http
        self._exceptions = exceptions

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Response:
        try:
            response = self._http.request(
                method,
                url,
                content=body,
                headers=dict(headers or {}),
                timeout=timeout if timeout is not None else httpx2.USE_CLIENT_DEFAULT,
            )
        except httpx2.HTTPError as exc:
            raise self._exceptions.TransportError(
                f"{type(exc).__name__} while reaching the token endpoint"
            ) from None
        return _Response(response)
