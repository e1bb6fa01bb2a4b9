"""The server class: MCPServer with a compact ``tools/list`` and readable argument errors.

Tools return ``CallToolResult`` built from a pydantic result model (always valid by
construction). The advertised ``outputSchema`` is an outline of that model made from its
fields, not pydantic's full JSON Schema: generating that for every tool at start-up cost
more than all the rest of this server's start-up together.
"""

from __future__ import annotations

import io
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar, cast

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError as SdkToolError
from mcp.server.stdio import stdio_server
from mcp.types import CallToolResult, InputRequiredResult, TextContent
from mcp.types import Tool as MCPTool
from pydantic import BaseModel, ValidationError

from ..explain import explain, unknown_arguments
from .notify import ResearchNotifier
from .schema import compact
from .stdio import PARSE_ERROR_METHOD, ParseErrorParams, checked_lines, refuse

F = TypeVar("F", bound=Callable[..., Any])
LifespanT = TypeVar("LifespanT")


class GeminiMCPServer(MCPServer[LifespanT]):
    """MCPServer whose tools declare a result model and whose tool list is compact."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.notifier = ResearchNotifier()
        super().__init__(*args, subscriptions=self.notifier.bus, **kwargs)
        self.notifier.install(self)
        self.add_request_handler(PARSE_ERROR_METHOD, ParseErrorParams, refuse)
        self._results: dict[str, type[BaseModel]] = {}
        self._listed: list[MCPTool] | None = None
        #: The lifespan's context while the server runs (static resources take no Context).
        self.running: LifespanT | None = None

    def result_tool(self, result: type[BaseModel], **kwargs: Any) -> Callable[[F], F]:
        """Like ``@tool()``, for a tool returning ``CallToolResult`` shaped like `result`."""

        def decorate(fn: F) -> F:
            self.tool(**kwargs)(fn)
            self._results[kwargs.get("name") or fn.__name__] = result
            return fn

        return decorate

    def add_request_handler(self, method: str, params: type[Any], handler: Any) -> None:
        """Serve a protocol method MCPServer has no public hook for (resources/subscribe)."""
        self._lowlevel_server.add_request_handler(method, params, handler)

    async def run_stdio_async(self) -> None:
        """Serve over stdio, answering lines that are not JSON-RPC messages (see tools.stdio)."""
        stdin = anyio.wrap_file(
            io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
        )
        # stdio_server only iterates its stdin, line by line.
        lines = cast("anyio.AsyncFile[str]", _Lines(checked_lines(stdin)))
        async with stdio_server(stdin=lines) as (read, write):
            lowlevel = self._lowlevel_server
            await lowlevel.run(read, write, lowlevel.create_initialization_options())

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[LifespanT, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Call a tool; arguments it does not take or cannot accept get one clear sentence."""
        listed = {tool.name: tool for tool in await self.list_tools()}
        if name in listed:
            known = list(listed[name].input_schema.get("properties", {}))
            refused = unknown_arguments(name, arguments, known)
            if refused is not None:
                return _refusal(refused)
        try:
            return await super().call_tool(name, arguments, context)
        except SdkToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                return _refusal(explain(exc.__cause__))
            raise

    async def list_tools(self) -> list[MCPTool]:
        # The tools never change after start-up, so the compact list is built once.
        if self._listed is None:
            listed = []
            for tool in await super().list_tools():
                result = self._results.get(tool.name)
                update: dict[str, Any] = {"input_schema": compact(tool.input_schema)}
                if result is not None:
                    update["output_schema"] = outline(result)
                listed.append(tool.model_copy(update=update))
            self._listed = listed
        return self._listed


class _Lines:
    """An async iterable of lines, as stdio_server reads its stdin."""

    def __init__(self, lines: AsyncIterator[str]) -> None:
        self._lines = lines

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines


def _refusal(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=message)], is_error=True)


def outline(model: type[BaseModel]) -> dict[str, Any]:
    """An object schema naming the fields of `model` (which are required), not their types:
    the byte budget of tools/list goes to describing the inputs, which a model reads; the
    fields of each result are described in the README."""
    properties: dict[str, Any] = {name: {} for name in model.model_fields}
    required = [name for name, field in model.model_fields.items() if field.is_required()]
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
