"""The models resource: what this server can run, and what its key can use."""

from __future__ import annotations

from ..core.context import ServerContext
from ..core.results import MODELS_URI
from .base import ToolSet

__all__ = ["TOOLS"]

TOOLS = ToolSet()


@TOOLS.static_resource(
    MODELS_URI,
    name="models",
    description="Models and agents: the registry's aliases and ids, and what the key can use.",
    mime_type="application/json",
)
async def models(server: ServerContext) -> str:
    from ..core.catalog import listing  # the seam: the upstream client loads on first use

    return (await listing(server)).model_dump_json(exclude_none=True, indent=1)
