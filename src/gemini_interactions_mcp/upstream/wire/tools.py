"""Tools a request declares (reference §2.3, with what google-genai 3.6.1 added).

The server echoes them on the Interaction. Function declarations also travel inside
steps: a tool search returns the declarations it loaded, and a client-side tool search
answers with them as `function_result` items.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, Tag

from ._base import UNKNOWN, UnknownModel, WireModel, fallback, open_tag

__all__ = [
    "AllowedTools",
    "CodeExecutionTool",
    "ComputerUseTool",
    "FileSearchTool",
    "FunctionTool",
    "GoogleMapsTool",
    "GoogleSearchTool",
    "McpServerTool",
    "RetrievalTool",
    "Tool",
    "ToolSearchTool",
    "UnknownTool",
    "UrlContextTool",
]


class FunctionTool(WireModel):
    """A function the client runs (also the shape of a loaded function declaration).

    With `defer_loading` the model first sees only `short_description`, and loads
    the full declaration through a tool search when it needs it.
    """

    type: Literal["function"] = "function"
    name: str | None = None
    description: str | None = None
    parameters: Any = None
    defer_loading: bool | None = None
    short_description: str | None = None


class ToolSearchTool(WireModel):
    """Lets the model search deferred tools and load them on demand.

    `execution` is `server` (the API searches; `tool_search_call`/`_result` steps) or
    `client` (the model calls the function `name` with `parameters`, and the client
    answers with a `function_result` listing function declarations).
    """

    type: Literal["tool_search"] = "tool_search"
    execution: str | None = None
    name: str | None = None
    description: str | None = None
    parameters: Any = None


class AllowedTools(WireModel):
    """Which tools of an MCP server the model may call, and how."""

    mode: str | None = None
    tools: list[str] = Field(default_factory=list)


class McpServerTool(WireModel):
    """A remote MCP server the API calls on the model's behalf."""

    type: Literal["mcp_server"] = "mcp_server"
    name: str | None = None
    url: str | None = None
    headers: dict[str, str] | None = None
    allowed_tools: list[AllowedTools] | None = None
    defer_loading: bool | None = None


class GoogleSearchTool(WireModel):
    """Grounding with Google Search."""

    type: Literal["google_search"] = "google_search"
    search_types: list[str] | None = None


class CodeExecutionTool(WireModel):
    """A Python sandbox the model may run code in."""

    type: Literal["code_execution"] = "code_execution"


class UrlContextTool(WireModel):
    """Lets the model read the URLs it is given."""

    type: Literal["url_context"] = "url_context"


class FileSearchTool(WireModel):
    """Retrieval from file search stores."""

    type: Literal["file_search"] = "file_search"
    file_search_store_names: list[str] | None = None
    top_k: int | None = None
    metadata_filter: str | None = None


class GoogleMapsTool(WireModel):
    """Grounding with Google Maps."""

    type: Literal["google_maps"] = "google_maps"
    enable_widget: bool | None = None
    latitude: float | None = None
    longitude: float | None = None


class ComputerUseTool(WireModel):
    """Computer use in a browser, mobile or desktop environment."""

    type: Literal["computer_use"] = "computer_use"
    environment: str | None = None
    excluded_predefined_functions: list[str] | None = None
    disabled_safety_policies: list[str] | None = None
    enable_prompt_injection_detection: bool | None = None


class RetrievalTool(WireModel):
    """Retrieval from Vertex AI Search, RAG stores or partner search engines."""

    type: Literal["retrieval"] = "retrieval"
    retrieval_types: list[str] | None = None
    # Nested backend configurations are the caller's own data; kept as sent.
    vertex_ai_search_config: dict[str, Any] | None = None
    rag_store_config: dict[str, Any] | None = None
    exa_ai_search_config: dict[str, Any] | None = None
    parallel_ai_search_config: dict[str, Any] | None = None


class UnknownTool(UnknownModel):
    """A tool type this client does not know; `raw` keeps it."""

    type: Any = None


Tool = Annotated[
    Annotated[FunctionTool, Tag("function")]
    | Annotated[ToolSearchTool, Tag("tool_search")]
    | Annotated[McpServerTool, Tag("mcp_server")]
    | Annotated[GoogleSearchTool, Tag("google_search")]
    | Annotated[CodeExecutionTool, Tag("code_execution")]
    | Annotated[UrlContextTool, Tag("url_context")]
    | Annotated[FileSearchTool, Tag("file_search")]
    | Annotated[GoogleMapsTool, Tag("google_maps")]
    | Annotated[ComputerUseTool, Tag("computer_use")]
    | Annotated[RetrievalTool, Tag("retrieval")]
    | Annotated[UnknownTool, Tag(UNKNOWN)],
    open_tag("type", UnknownTool),
    fallback(UnknownTool),
]
