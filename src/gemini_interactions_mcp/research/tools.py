"""The Deep Research tools and the report resource."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import CallToolResult, ResourceLink, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from ..errors import ToolError
from ..inputs import build_tools
from ..progress import reporting
from ..results import BuiltinTool, Research
from ..surface import GeminiMCPServer
from ..tools import Ctx, app_of, guarded, owner_of, render
from . import REPORT_URI

if TYPE_CHECKING:
    from .service import ResearchService

# Hints that differ from the spec's defaults (see tools.py).
_START = ToolAnnotations(destructive_hint=False)
_STATUS = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_CANCEL = ToolAnnotations(destructive_hint=True, idempotent_hint=True)


class McpServerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    name: str | None = None
    headers: dict[str, str] | None = None
    allowed_tools: list[str] | None = None


@asynccontextmanager
async def research_for(ctx: Ctx) -> AsyncIterator[ResearchService]:
    from .service import ResearchService

    app = app_of(ctx)
    if app.monitor is None:
        raise ToolError("Deep Research is not available in this server.")

    async def send(progress: float, message: str) -> None:
        await ctx.report_progress(progress, None, message)

    async with reporting(
        send, interval=app.settings.progress_interval, waiting="research running"
    ) as progress:
        yield ResearchService(app, app.monitor, owner_of(ctx), progress)


def render_research(result: Research) -> CallToolResult:
    lines = [f"research_id={result.research_id} status={result.status} agent={result.agent}"]
    if result.elapsed_seconds is not None:
        lines[0] += f" elapsed={result.elapsed_seconds:g}s"
    if result.progress is not None and result.status not in ("completed",):
        p = result.progress
        lines.append(f"phase: {p.phase}; {p.searches} searches; {p.pages_read} pages read")
        lines.extend(f"thought: {t}" for t in p.thoughts[-3:])
    if result.error:
        lines.append(f"error: {result.error}")
    if result.report:
        lines.append(result.report)
    if result.sources:
        lines.append("Sources:")
        lines.extend(f"- {s.title or s.url}: {s.url}" for s in result.sources)
    lines.extend(f"Note: {n}" for n in result.notes)
    out = render(result, "\n".join(lines))
    if result.report_uri:
        out.content.append(
            ResourceLink(
                name=f"report {result.research_id}",
                uri=result.report_uri,
                mime_type="text/markdown",
            )
        )
    return out


def register(server: GeminiMCPServer[Any]) -> None:
    """Add the Deep Research tools and the report resource to `server`."""

    @server.result_tool(
        Research,
        description=(
            "Start Google's Deep Research agent in the background (takes minutes); returns "
            "research_id at once."
        ),
        annotations=_START,
    )
    async def deep_research_start(
        ctx: Ctx,
        query: Annotated[str, Field(min_length=1, max_length=100_000)],
        max: Annotated[bool, Field(description="Deeper, slower agent")] = False,
        file_search_stores: Annotated[
            list[str] | None, Field(description="File search stores to use")
        ] = None,
        mcp_servers: list[McpServerSpec] | None = None,
        collaborative_planning: Annotated[
            bool, Field(description="Plan first; confirm via gemini_continue")
        ] = False,
        visualization: Annotated[bool, Field(description="Charts in the report")] = False,
    ) -> CallToolResult:
        async def work() -> CallToolResult:
            app = app_of(ctx)
            resolved = app.registry.resolve_agent("deep-research-max" if max else "deep-research")
            tools: list[BuiltinTool] = []
            if file_search_stores:
                tools.append(BuiltinTool(type="file_search", stores=file_search_stores))
            for spec in mcp_servers or []:
                tools.append(BuiltinTool(type="mcp_server", **spec.model_dump()))
            async with research_for(ctx) as service:
                result = await service.start(
                    query,
                    agent=resolved.id,
                    tools=build_tools(tools, None),
                    collaborative_planning=collaborative_planning,
                    visualization=visualization,
                    notes=[resolved.note] if resolved.note else [],
                )
            return render_research(result)

        return await guarded(work)

    @server.result_tool(
        Research,
        description=(
            "Deep Research status and progress; when done, the report (paged by offset). "
            "wait_seconds waits for news."
        ),
        annotations=_STATUS,
    )
    async def deep_research_status(
        ctx: Ctx,
        research_id: Annotated[str, Field(min_length=1)],
        wait_seconds: Annotated[float, Field(ge=0, le=3600)] = 0,
        offset: Annotated[int, Field(ge=0)] = 0,
        max_chars: Annotated[int | None, Field(ge=0, le=1_000_000)] = None,
    ) -> CallToolResult:
        async def work() -> CallToolResult:
            async with research_for(ctx) as service:
                result = await service.status(
                    research_id, wait_seconds=wait_seconds, offset=offset, max_chars=max_chars
                )
            return render_research(result)

        return await guarded(work)

    @server.result_tool(
        Research, description="Cancel a running Deep Research.", annotations=_CANCEL
    )
    async def deep_research_cancel(
        ctx: Ctx, research_id: Annotated[str, Field(min_length=1)]
    ) -> CallToolResult:
        async def work() -> CallToolResult:
            async with research_for(ctx) as service:
                result = await service.cancel(research_id)
            return render_research(result)

        return await guarded(work)

    @server.resource(
        REPORT_URI,
        name="research_report",
        description="The markdown report of a finished Deep Research.",
        mime_type="text/markdown",
    )
    async def research_report(research_id: str, ctx: Context[Any, Any]) -> str:
        app = app_of(ctx)
        store = await app.store()
        rec = await store.get(owner_of(ctx), research_id)
        if rec is None or rec.kind != "research":
            raise ResourceNotFoundError(f"Unknown research_id {research_id!r}.")
        report = rec.data.get("report")
        if report is None:
            raise ResourceError(
                f"Research {research_id} has no report yet (status {rec.status}); "
                "check deep_research_status."
            )
        return str(report)
