"""Which upstream the server talks to, and how it authenticates: the Gemini API with an API
key, Vertex AI with Google credentials (Application Default Credentials, or injected tokens),
Vertex AI express mode with an API key, or the built-in emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread

from ..upstream.auth import BearerAuth, TokenSource
from ..upstream.client import InteractionsClient
from ..upstream.endpoints import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    DEFAULT_VERTEX_API_VERSION,
    gemini_api,
    vertex_ai,
    vertex_express,
)
from ..upstream.errors import CredentialsError

if TYPE_CHECKING:
    from .context import ServerContext

__all__ = ["open_client"]


async def open_client(server: ServerContext) -> InteractionsClient:
    """The upstream client the settings ask for."""
    settings = server.settings
    if settings.emulator or settings.backend == "gemini":
        key = settings.api_key
        if key is None:
            raise CredentialsError(
                "No Gemini API key is set; the server's operator must set GEMINI_API_KEY."
            )
        endpoint = gemini_api(
            server.base_url or DEFAULT_BASE_URL, settings.api_version or DEFAULT_API_VERSION
        )
        return InteractionsClient(key, endpoint=endpoint, transport=server.transport)
    version = settings.api_version or DEFAULT_VERTEX_API_VERSION
    if settings.api_key is not None and not settings.vertex_project:
        # Express mode: an API key, no project.
        express = vertex_express(api_version=version, base_url=server.base_url)
        return InteractionsClient(settings.api_key, endpoint=express, transport=server.transport)
    source, project = await _credentials(server.token_source)
    project = settings.vertex_project or project
    if not project:
        raise CredentialsError(
            "Vertex AI needs a project: the server's operator must set --vertex-project "
            "(GOOGLE_CLOUD_PROJECT), or use credentials that name one."
        )
    endpoint = vertex_ai(
        project, settings.vertex_location, api_version=version, base_url=server.base_url
    )
    return InteractionsClient(
        auth=BearerAuth(source), endpoint=endpoint, transport=server.transport
    )


async def _credentials(injected: TokenSource | None) -> tuple[TokenSource, str | None]:
    if injected is not None:
        return injected, None
    from ..upstream.adc import application_default_credentials

    # Loading them reads files and may ask the metadata server: not on the event loop.
    credentials, project = await anyio.to_thread.run_sync(application_default_credentials)
    return credentials, project
