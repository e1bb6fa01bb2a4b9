"""Reading an OAuth issuer's published documents: its metadata and its keys.

Metadata is looked up where the MCP authorization spec says clients look (RFC 8414 first,
then OpenID Connect Discovery), and accepted only if it names the very issuer asked for
(RFC 8414 §3.3). Every fetch goes over https, or plain http to a loopback address.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx2

__all__ = ["FetchError", "fetch_json", "is_secure", "metadata_urls"]

FETCH_TIMEOUT = 10.0
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class FetchError(Exception):
    """A document could not be fetched or was not a JSON object; the message says which."""


def is_secure(url: str) -> bool:
    """True for an https URL, or an http URL on this machine (nothing on the way to tamper)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)


def metadata_urls(issuer: str) -> list[str]:
    """Where the metadata of `issuer` may be, in the order the MCP authorization spec gives."""
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if not path:
        return [
            f"{origin}/.well-known/oauth-authorization-server",
            f"{origin}/.well-known/openid-configuration",
        ]
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}/.well-known/openid-configuration{path}",
        f"{origin}{path}/.well-known/openid-configuration",
    ]


async def fetch_json(http: httpx2.AsyncClient, url: str) -> dict[str, Any] | None:
    """The JSON object at `url`; None when the server says there is none there (a 4xx)."""
    if not is_secure(url):
        raise FetchError(f"{url} is not an https URL")
    try:
        response = await http.get(url, headers={"accept": "application/json"})
    except httpx2.HTTPError as exc:
        raise FetchError(f"{url} could not be reached ({type(exc).__name__})") from exc
    if 400 <= response.status_code < 500:
        return None
    if response.status_code != 200:
        raise FetchError(f"{url} answered HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise FetchError(f"{url} did not answer JSON") from None
    if not isinstance(data, dict):
        raise FetchError(f"{url} did not answer a JSON object")
    return data
