"""Host and Origin checks, the request body limit, and the start-up rule for public binds."""

from __future__ import annotations

import pytest
from mcp.server.transport_security import TransportSecurityMiddleware

from gemini_interactions_mcp.http_policy import (
    body_limit,
    body_too_large,
    host_problem,
    transport_security,
)
from gemini_interactions_mcp.settings import Settings


def accepts(settings: Settings, host: str, origin: str | None = None) -> bool:
    checks = TransportSecurityMiddleware(transport_security(settings))
    return checks._validate_host(host) and checks._validate_origin(origin)


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("mcp.example.com", None),  # behind TLS: no port
        ("mcp.example.com:443", "https://mcp.example.com"),
        ("MCP.example.com:8443", "https://mcp.example.com:8443"),
        ("localhost:8000", "http://localhost:8000"),
        ("127.0.0.1", None),
    ],
)
def test_an_allowed_host_is_accepted_in_every_form_a_proxy_sends(
    host: str, origin: str | None
) -> None:
    settings = Settings(allowed_hosts=["mcp.example.com"])
    assert accepts(settings, host.lower(), origin)


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("evil.example", None),
        ("mcp.example.com.evil.example", None),
        ("mcp.example.com", "https://evil.example"),
    ],
)
def test_other_hosts_and_origins_are_refused(host: str, origin: str | None) -> None:
    assert not accepts(Settings(allowed_hosts=["mcp.example.com"]), host, origin)


def test_a_host_given_with_its_port_is_taken_exactly() -> None:
    settings = Settings(allowed_hosts=["mcp.example.com:8443"])
    assert accepts(settings, "mcp.example.com:8443", "https://mcp.example.com:8443")
    assert not accepts(settings, "mcp.example.com:9000")


def test_a_public_bind_needs_host_names_or_an_explicit_star() -> None:
    public = Settings(host="0.0.0.0", allow_remote=True)
    problem = host_problem(public)
    assert problem is not None and "--allowed-host mcp.example.com" in problem
    named = Settings(host="0.0.0.0", allowed_hosts=["mcp.example.com"])
    assert host_problem(named) is None
    assert not accepts(named, "127.0.0.1:8000")  # loopback names only on a loopback bind
    star = Settings(host="0.0.0.0", allowed_hosts=["*"])
    assert host_problem(star) is None
    assert transport_security(star).enable_dns_rebinding_protection is False


def test_the_body_limit_leaves_room_for_a_turn_s_attachments() -> None:
    settings = Settings(max_attachment_bytes=20 * 1024 * 1024)
    assert body_limit(settings) > 20 * 1024 * 1024 * 4 / 3
    message = body_too_large(settings)
    assert message.startswith("The request body is over this server's limit of 35 MB")
    assert "attachments may total 20 MB" in message


def test_the_public_url_s_host_is_accepted_without_naming_it_again() -> None:
    settings = Settings(host="0.0.0.0", public_url="https://mcp.example.com/mcp")
    assert host_problem(settings) is None
    assert accepts(settings, "mcp.example.com", "https://mcp.example.com")
    assert not accepts(settings, "evil.example")
