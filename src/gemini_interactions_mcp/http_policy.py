"""What the streamable HTTP transport accepts: which ``Host`` and ``Origin`` headers (DNS
rebinding protection), how large a request body may be, and how long a client may take.

Behind a TLS-terminating proxy the ``Host`` a client sends has no port (``mcp.example.com``)
or the TLS one (``mcp.example.com:443``), and browsers send ``https://`` origins: every
allowed host name is accepted in all these forms. Binding beyond loopback needs the names
clients use (or ``*`` when the proxy in front checks ``Host`` itself).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mcp.server.transport_security import TransportSecuritySettings

if TYPE_CHECKING:
    from .settings import Settings

__all__ = [
    "ANY_HOST",
    "BODY_SECONDS",
    "HEADER_SECONDS",
    "KEEP_ALIVE_SECONDS",
    "MAX_CONNECTIONS",
    "body_limit",
    "body_too_large",
    "host_names",
    "host_problem",
    "transport_security",
]

ANY_HOST = "*"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# A client has this long to send a request's headers, and an idle kept-alive connection is
# closed after the second figure; past MAX_CONNECTIONS new connections are answered 503.
HEADER_SECONDS = 10.0
# ... and this long for its body (up to the body limit: tens of MB on a slow link).
BODY_SECONDS = 60.0
KEEP_ALIVE_SECONDS = 5.0
MAX_CONNECTIONS = 1000
# Room in a request body beyond its attachments: the prompt (up to a million characters),
# the system instruction, schemas and function declarations, as JSON.
_BODY_ROOM = 8 * 1024 * 1024


def host_names(settings: Settings) -> list[str]:
    """The host names clients may reach the server by: loopback's when it listens there, the
    allowed ones, and the public URL's (OAuth's audience, as clients reach the server)."""
    names = [*LOOPBACK_NAMES] if settings.is_loopback else []
    names += [name.strip().lower() for name in settings.allowed_hosts if name.strip()]
    if settings.public_url:
        public = urlsplit(settings.public_url).netloc.rsplit("@", 1)[-1].lower()
        if public and public not in names:
            names.append(public)
    return names


def host_problem(settings: Settings) -> str | None:
    """Why HTTP cannot be served as configured (None: it can), in one sentence."""
    if host_names(settings):
        return None
    return (
        f"Serving HTTP on {settings.host} needs the host names clients reach it by, for the "
        "Host checks: pass --allowed-host mcp.example.com (repeat for each name), or "
        "--allowed-host '*' when a proxy in front checks Host itself."
    )


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Host and Origin checks for the configured bind address and allowed host names."""
    if ANY_HOST in settings.allowed_hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    names = host_names(settings)
    hosts: list[str] = []
    origins: list[str] = []
    for name in names:
        forms = [name] if _has_port(name) else [name, f"{name}:*"]
        hosts += forms
        origins += [f"{scheme}://{form}" for scheme in ("http", "https") for form in forms]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def body_limit(settings: Settings) -> int:
    """The largest request body accepted: a turn's attachments, base64-encoded, and room."""
    return math.ceil(settings.max_attachment_bytes * 4 / 3) + _BODY_ROOM


def body_too_large(settings: Settings) -> str:
    """What a client whose request body is over the limit is told."""
    return (
        f"The request body is over this server's limit of {_mb(body_limit(settings))} "
        f"(a turn's attachments may total {_mb(settings.max_attachment_bytes)}); pass large "
        "files by uri instead."
    )


def _has_port(name: str) -> bool:
    """True for ``host:port`` and ``[v6]:port`` (a bare IPv6 literal is bracketed)."""
    tail = name.rsplit("]", 1)[-1]
    return ":" in tail and tail.rsplit(":", 1)[1].isdigit()


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"
