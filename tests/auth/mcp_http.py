"""The MCP server built from settings, served over streamable HTTP inside the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from gemini_interactions_mcp.auth import http_access
from gemini_interactions_mcp.cli import HTTP_PATH
from gemini_interactions_mcp.server import build_server
from gemini_interactions_mcp.settings import Settings

from .. import messages
from ..serving import serving

ACCEPT, INITIALIZE = messages.ACCEPT, messages.INITIALIZE


@asynccontextmanager
async def mcp_over_http(settings: Settings) -> AsyncIterator[str]:
    """Serve the server `settings` describe (authentication included); yields its base URL."""
    server = build_server(settings, http_access=http_access(settings))
    app = server.streamable_http_app(streamable_http_path=HTTP_PATH, host="127.0.0.1")
    async with serving(app) as base:
        yield base


@asynccontextmanager
async def client_with(url: str, token: str, mode: str = "auto") -> AsyncIterator[Client]:
    """The official MCP client, presenting `token` as a bearer token."""
    http = httpx2.AsyncClient(headers={"authorization": f"Bearer {token}"}, timeout=30)
    async with http, Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        yield client
