"""The MCP-facing layer: tool functions and resources, thin over the core."""

from __future__ import annotations

from ..core.context import ServerContext
from . import chat, models, research
from .surface import GeminiMCPServer

__all__ = ["register"]


def register(server: GeminiMCPServer[ServerContext]) -> None:
    """Add every tool and resource to `server`."""
    chat.TOOLS.register(server)
    research.TOOLS.register(server)
    models.TOOLS.register(server)
