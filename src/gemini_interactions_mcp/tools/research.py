"""The Deep Research tools and the report resource."""

from __future__ import annotations

from typing import Annotated, Any

from mcp import MCPError
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.types import INVALID_PARAMS, CallToolResult, InputRequiredResult, ToolAnnotations
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import Field, StrictBool

from ..core.arguments import McpServerSpec, Text
from ..core.errors import ToolError, UnknownHandle
from ..core.requests import ResearchRequest
from ..core.results import REPORT_URI, Research
from . import plans, render
from .base import Ctx, ToolSet, calling, notifier_of

TOOLS = ToolSet()

# Hints that differ from the spec's defaults (see tools.chat).
_START = ToolAnnotations(destructive_hint=False)
_STATUS = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_CANCEL = ToolAnnotations(destructive_hint=True, idempotent_hint=True)
_RUNNING = "research running"
ResearchId = Annotated[str, Field(min_length=1, description="From deep_research_start")]


@TOOLS.tool(
    Research,
    description=(
        "Start Google's Deep Research agent in the background (takes minutes); returns "
        "research_id at once."
    ),
    annotations=_START,
)
async def deep_research_start(
    ctx: Ctx,
    query: Annotated[
        Text, Field(max_length=100_000, description="What to research (max 100k chars)")
    ],
    max: Annotated[StrictBool, Field(description="Deeper, slower agent")] = False,
    file_search_stores: Annotated[
        list[str] | None, Field(description="File search stores to use")
    ] = None,
    mcp_servers: Annotated[
        list[McpServerSpec] | None, Field(description="Remote MCP servers to use")
    ] = None,
    collaborative_planning: Annotated[
        StrictBool, Field(description="Plan first, for you to confirm")
    ] = False,
    visualization: Annotated[StrictBool, Field(description="Charts in the report")] = False,
) -> CallToolResult | InputRequiredResult:
    answering = plans.state_of(ctx)
    if answering is not None:
        # The client's retry with the person's answer to the plan (2026-07-28).
        return await _plan_answered(ctx, answering, plans.reply_of(ctx))
    request = ResearchRequest(
        query=query,
        max=max,
        file_search_stores=file_search_stores,
        mcp_servers=mcp_servers,
        collaborative_planning=collaborative_planning,
        visualization=visualization,
    )
    async with calling(ctx, waiting=_RUNNING) as core:
        started = await core.research_start(request)
        if collaborative_planning and plans.can_ask(ctx):
            planned = await core.research_plan(started.research_id)
            if planned.plan is not None:
                started = planned
    if ctx.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS:
        # A session to tell when the research ends (2026-07-28 has none: clients listen).
        notifier_of(ctx).started_by(started.research_id, ctx.request_context.session)
    if started.plan is None:
        return render.research(started)
    if not plans.asks_in_call(ctx):
        return plans.question(started)
    return await _plan_answered(ctx, started.research_id, await plans.ask_now(ctx, started))


async def _plan_answered(ctx: Ctx, research_id: str, reply: plans.Reply) -> CallToolResult:
    async with calling(ctx, waiting=_RUNNING) as core:
        if reply.dismissed:
            result = await core.research_status(research_id, wait_seconds=0, offset=0, max_chars=0)
            result.notes.insert(0, "The plan question was dismissed without an answer.")
        else:
            result = await core.research_plan_reply(
                research_id, approved=reply.approved, changes=reply.changes
            )
    return render.research(result)


@TOOLS.tool(
    Research,
    description=("Deep Research status, progress, plan to confirm, and the report when done."),
    annotations=_STATUS,
)
async def deep_research_status(
    ctx: Ctx,
    research_id: ResearchId,
    wait_seconds: Annotated[
        float, Field(ge=0, le=3600, description="Wait for the end, within the call budget")
    ] = 0,
    offset: Annotated[int, Field(ge=0, description="Report offset (next_offset)")] = 0,
    max_chars: Annotated[
        int | None, Field(ge=0, le=1_000_000, description="Report chars per page")
    ] = None,
) -> CallToolResult:
    async with calling(ctx, waiting=_RUNNING) as core:
        result = await core.research_status(
            research_id, wait_seconds=wait_seconds, offset=offset, max_chars=max_chars
        )
    return render.research(result)


@TOOLS.tool(Research, description="Cancel a running Deep Research.", annotations=_CANCEL)
async def deep_research_cancel(ctx: Ctx, research_id: ResearchId) -> CallToolResult:
    async with calling(ctx, waiting=_RUNNING) as core:
        return render.research(await core.research_cancel(research_id))


@TOOLS.resource(
    REPORT_URI,
    name="research_report",
    description="The markdown report of a finished Deep Research.",
    mime_type="text/markdown",
)
async def research_report(research_id: str, ctx: Context[Any, Any]) -> str:
    async with calling(ctx) as core:
        try:
            return await core.research_report(research_id)
        except UnknownHandle:
            raise ResourceNotFoundError(f"Unknown research_id {research_id!r}.") from None
        except ToolError as exc:
            # Not a server fault: the caller asked too early (or for a research without one).
            raise MCPError(INVALID_PARAMS, str(exc)) from None
