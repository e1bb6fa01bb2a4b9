"""What every tool shares: the caller's identity, the call's link to the core, and the one
wrapper that turns exceptions into tool results.

Tools are module-level functions registered through a `ToolSet`, which wraps each once so that
an exception becomes a result the calling model can read (`isError: true` and a sentence).
The core's heavy half (the turn runner, research, the upstream client) is loaded through
`calling` on the first tool call, so start-up stays as light as a bare MCP server.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from mcp import MCPError
from mcp.server.mcpserver import Context
from mcp.types import (
    INTERNAL_ERROR,
    CallToolResult,
    InputRequiredResult,
    TextContent,
    ToolAnnotations,
)
from pydantic import BaseModel

from ..core.call import Call
from ..core.context import ServerContext
from ..core.errors import ToolError
from ..core.progress import reporting
from .notify import ResearchNotifier
from .surface import GeminiMCPServer

if TYPE_CHECKING:
    from ..core.service import GeminiService

__all__ = ["Ctx", "ToolSet", "calling", "owner_of", "server_of"]

Ctx = Context[ServerContext, Any]
# A tool answers with a result, or (2026-07-28) with a question for the client to ask first.
ToolFn = Callable[..., Awaitable[CallToolResult | InputRequiredResult]]
F = TypeVar("F", bound=ToolFn)
R = TypeVar("R", bound=Callable[..., Awaitable[str]])
StaticFn = Callable[[ServerContext], Awaitable[str]]


@dataclass
class ToolSet:
    """The tools (and resources) of one module, added to a server by `register`."""

    tools: list[tuple[ToolFn, type[BaseModel], dict[str, Any]]] = field(default_factory=list)
    resources: list[tuple[Callable[..., Awaitable[str]], str, dict[str, Any]]] = field(
        default_factory=list
    )
    static: list[tuple[Callable[[ServerContext], Awaitable[str]], str, dict[str, Any]]] = field(
        default_factory=list
    )

    def tool(
        self, result: type[BaseModel], *, description: str, annotations: ToolAnnotations
    ) -> Callable[[F], F]:
        """Mark a tool returning a `CallToolResult` shaped like `result`."""

        def mark(fn: F) -> F:
            self.tools.append(
                (fn, result, {"description": description, "annotations": annotations})
            )
            return fn

        return mark

    def resource(self, uri: str, **options: Any) -> Callable[[R], R]:
        """Mark a resource template served at `uri`."""

        def mark(fn: R) -> R:
            self.resources.append((fn, uri, options))
            return fn

        return mark

    def static_resource(self, uri: str, **options: Any) -> Callable[[StaticFn], StaticFn]:
        """Mark a resource at a fixed `uri`, read from the running server's context."""

        def mark(fn: StaticFn) -> StaticFn:
            self.static.append((fn, uri, options))
            return fn

        return mark

    def register(self, server: GeminiMCPServer[ServerContext]) -> None:
        for fn, result, options in self.tools:
            server.result_tool(result, **options)(_guarded(fn))
        for resource, uri, options in self.resources:
            server.resource(uri, **options)(resource)
        for read, uri, options in self.static:
            server.resource(uri, **options)(_reading(server, read))


def _reading(
    server: GeminiMCPServer[ServerContext], read: StaticFn
) -> Callable[[], Awaitable[str]]:
    """`read` bound to the context of `server` while it runs."""

    async def run() -> str:
        if server.running is None:
            raise MCPError(INTERNAL_ERROR, "The server is not running; try again once it is.")
        return await read(server.running)

    # Not functools.wraps: the SDK would read `read`'s parameters through __wrapped__.
    run.__name__, run.__doc__ = read.__name__, read.__doc__
    return run


def _guarded(fn: ToolFn) -> ToolFn:
    """`fn` with every exception turned into a tool error result (applied once, at registration)."""

    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> CallToolResult | InputRequiredResult:
        try:
            return await fn(*args, **kwargs)
        except ToolError as exc:
            return error_result(str(exc))
        except Exception as exc:
            from ..core import failures  # loaded already: only a tool body gets this far

            ctx = kwargs.get("ctx")
            upstream = server_of(ctx).address if isinstance(ctx, Context) else ""
            return error_result(failures.describe(exc, upstream=upstream))

    return run


def error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=message)], is_error=True)


def server_of(ctx: Context[Any, Any]) -> ServerContext:
    server: ServerContext = ctx.request_context.lifespan_context
    return server


def notifier_of(ctx: Context[Any, Any]) -> ResearchNotifier:
    server = ctx.mcp_server
    assert isinstance(server, GeminiMCPServer)
    return server.notifier


def owner_of(ctx: Context[Any, Any]) -> str:
    """Who owns the handles this call sees: the auth principal (``token:NAME`` or
    ``auth:ISSUER|CLIENT_ID|SUBJECT``), else the legacy session, else local (stdio)."""
    from mcp.server.auth.middleware.auth_context import get_access_token
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

    from ..auth.principal import principal_of

    token = get_access_token()
    if token is not None:
        return principal_of(token)
    # Only a handshake-era request has a session the transport checked; on 2026-07-28 the
    # header would be whatever the caller chose to send.
    if ctx.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS:
        session = (ctx.headers or {}).get("mcp-session-id")
        if session:
            return f"session:{session}"
    return "local"


@asynccontextmanager
async def calling(
    ctx: Context[Any, Any], *, waiting: str = "waiting for Gemini"
) -> AsyncIterator[GeminiService]:
    """The core for this call, with progress notifications wired to it."""
    from ..core.service import GeminiService  # the seam: the heavy core loads on first use

    server = server_of(ctx)
    owner = owner_of(ctx)
    server.call_rate.admit(owner)

    async def send(progress: float, message: str) -> None:
        await ctx.report_progress(progress, None, message)

    async with reporting(
        send, interval=server.settings.progress_interval, waiting=waiting
    ) as progress:
        call = Call(
            owner=owner,
            progress=progress,
            budget=server.settings.call_budget,
            # Local file paths only where the caller is on this machine (stdio).
            local_files=ctx.headers is None,
        )
        with server.in_flight.admit(call):
            yield GeminiService(server, call)
