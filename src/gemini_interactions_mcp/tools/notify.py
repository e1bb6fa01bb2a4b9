"""Research that calls back: when a research ends (or waits for its plan to be confirmed), the
clients that asked are told, in both protocol eras.

- 2026-07-28: a resource-updated event for ``gemini://research/{id}/report`` on the server's
  subscription bus reaches every ``subscriptions/listen`` stream that asked for that URI.
- Handshake era: ``resources/subscribe`` to that URI, then ``notifications/resources/updated``
  on the subscribing session; the session that started the research also gets a log message
  (``notifications/message``, level info) while it is still open.

The core announces updates; with a Redis store every replica hears them, so a client connected
to one replica learns about a research another replica recorded.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any

from mcp import MCPDeprecationWarning
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated
from mcp.types import EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

from ..core.results import REPORT_URI

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext
    from mcp.server.session import ServerSession

    from ..core.context import ServerContext
    from .surface import GeminiMCPServer

__all__ = ["ResearchNotifier"]

logger = logging.getLogger(__name__)


class ResearchNotifier:
    """Who asked to hear about which research report, and telling them."""

    def __init__(self) -> None:
        self.bus = InMemorySubscriptionBus()
        self._subscribers: dict[str, list[ServerSession]] = {}
        self._starters: dict[str, ServerSession] = {}

    def install(self, server: GeminiMCPServer[Any]) -> None:
        """Serve the handshake era's resources/subscribe and resources/unsubscribe."""
        server.add_request_handler("resources/subscribe", SubscribeRequestParams, self._subscribe)
        server.add_request_handler(
            "resources/unsubscribe", UnsubscribeRequestParams, self._unsubscribe
        )

    def attach(self, context: ServerContext) -> None:
        """Listen for the research updates the core announces."""
        context.on_research_update(self.updated)

    def started_by(self, research_id: str, session: ServerSession) -> None:
        """Remember the session that started a research, to tell it when the research ends."""
        self._starters[research_id] = session

    async def updated(self, research_id: str) -> None:
        uri = REPORT_URI.format(research_id=research_id)
        await self.bus.publish(ResourceUpdated(uri=uri))
        for session in list(self._subscribers.get(uri, [])):
            try:
                await session.send_resource_updated(uri)
            except Exception:  # a session that went away: forget it
                self._subscribers[uri].remove(session)
        starter = self._starters.pop(research_id, None)
        if starter is not None:
            try:
                with warnings.catch_warnings():
                    # Deprecated from 2026-07-28 on; this session is of the handshake era.
                    warnings.simplefilter("ignore", MCPDeprecationWarning)
                    await starter.send_log_message(
                        level="info",
                        data=f"Research {research_id} has an update: read {uri} or call "
                        f"deep_research_status(research_id={research_id!r}).",
                        logger="gemini-interactions-mcp",
                    )
            except Exception:
                logger.debug("the session that started %s is gone", research_id)

    async def _subscribe(
        self, ctx: ServerRequestContext[Any], params: SubscribeRequestParams
    ) -> EmptyResult:
        subscribers = self._subscribers.setdefault(str(params.uri), [])
        if ctx.session not in subscribers:
            subscribers.append(ctx.session)
        return EmptyResult()

    async def _unsubscribe(
        self, ctx: ServerRequestContext[Any], params: UnsubscribeRequestParams
    ) -> EmptyResult:
        subscribers = self._subscribers.get(str(params.uri), [])
        if ctx.session in subscribers:
            subscribers.remove(ctx.session)
        return EmptyResult()
