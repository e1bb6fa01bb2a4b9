"""What models the server's key can really use: the Gemini API's model listing, fetched lazily
(never at start-up), kept for a while, and quietly done without when it fails.

It feeds the hints of a "model not found" error and the ``gemini://models`` resource. Vertex
AI serves no such listing; there the registry alone answers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio

from ..upstream import errors as up
from ..upstream.client import MAX_MODEL_PAGE_SIZE
from ..upstream.wire import ModelInfo
from .errors import ToolError
from .results import ModelListing, UsableModel

if TYPE_CHECKING:
    from .context import ServerContext

__all__ = ["LISTING_TTL", "RETRY_AFTER_FAILURE", "ModelCatalog", "listing"]

logger = logging.getLogger(__name__)

# How long a listing is trusted, and how long to wait after a failed one before asking again.
LISTING_TTL = 3600.0
RETRY_AFTER_FAILURE = 300.0
# At most this long is spent on one listing (it only feeds hints and a resource).
FETCH_SECONDS = 10.0


class ModelCatalog:
    """The upstream's model listing, cached."""

    def __init__(self, server: ServerContext) -> None:
        self.server = server
        self._models: list[ModelInfo] | None = None
        self._fetched_at = 0.0
        self._failed_at: float | None = None
        self._lock = anyio.Lock()

    async def models(self) -> list[ModelInfo] | None:
        """The models the key can use, or None when the listing cannot be had."""
        async with self._lock:
            now = self.server.clock()
            if self._models is not None and now - self._fetched_at < LISTING_TTL:
                return self._models
            if self._failed_at is not None and now - self._failed_at < RETRY_AFTER_FAILURE:
                return self._models  # the last good one, if any
            try:
                listed = await self._fetch()
            except (up.GeminiError, ToolError, ValueError) as exc:
                logger.info("model listing unavailable: %s", exc)
                self._failed_at = now
                return self._models
            if listed is not None:
                self._models, self._fetched_at, self._failed_at = listed, now, None
            return listed

    async def _fetch(self) -> list[ModelInfo] | None:
        client = await self.server.client()
        if not client.endpoint.lists_models:
            return None
        try:
            with anyio.fail_after(FETCH_SECONDS):
                models = await client.list_models(page_size=MAX_MODEL_PAGE_SIZE)
        except TimeoutError:
            raise up.APITimeoutError("the model listing took too long") from None
        return [m for m in models if m.id]

    async def usable_ids(self) -> list[str] | None:
        """The ids of the models that can answer an interaction, if the listing says."""
        models = await self.models()
        if models is None:
            return None
        return [m.id for m in models if _generates(m)]


def _generates(model: ModelInfo) -> bool:
    methods = model.supported_generation_methods
    return not methods or "generateContent" in methods or "createInteraction" in methods


async def listing(server: ServerContext) -> ModelListing:
    """The registry's view of models, with what the key can really use when that is known."""
    registry = server.registry
    listed = await server.catalog.models()
    usable = None
    if listed is not None:
        usable = [
            UsableModel(
                id=m.id,
                display_name=m.display_name,
                input_token_limit=m.input_token_limit,
                output_token_limit=m.output_token_limit,
                thinking=m.thinking,
            )
            for m in listed
        ]
    return ModelListing(
        default=registry.default_model,
        aliases=dict(registry.aliases),
        current=list(registry.current),
        agents=list(registry.agents),
        available=usable,
        note=None
        if usable is not None
        else "The upstream lists no models for this server (Vertex AI serves no listing, or "
        "the listing failed); the registry above is what this server knows.",
    )
