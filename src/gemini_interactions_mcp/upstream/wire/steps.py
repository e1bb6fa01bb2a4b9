"""Steps: the timeline of an interaction (reference §3.3).

Built-in tools run on the server and show up as `*_call` + `*_result` pairs inside the
model's output; only `function_call` steps are handed back to the client. A server-side
tool search shows up the same way (`tool_search_call` + `tool_search_result`, google-genai
3.6.1); a client-side one is an ordinary function call.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, Tag

from ._base import UNKNOWN, UnknownModel, WireModel, fallback, open_tag
from .content import (
    AudioContent,
    Content,
    DocumentContent,
    ImageContent,
    ReviewSnippet,
    TextContent,
    UnknownContent,
    VideoContent,
)
from .tools import FunctionTool

__all__ = [
    "CodeExecutionArguments",
    "CodeExecutionCallStep",
    "CodeExecutionResultStep",
    "FileSearchCallStep",
    "FileSearchResultStep",
    "FunctionCallStep",
    "FunctionResult",
    "FunctionResultItem",
    "FunctionResultStep",
    "GoogleMapsArguments",
    "GoogleMapsCallStep",
    "GoogleMapsPlace",
    "GoogleMapsResultItem",
    "GoogleMapsResultStep",
    "GoogleSearchArguments",
    "GoogleSearchCallStep",
    "GoogleSearchResultItem",
    "GoogleSearchResultStep",
    "McpServerToolCallStep",
    "McpServerToolResultStep",
    "ModelOutputStep",
    "ProcessingCallStep",
    "ProcessingResultStep",
    "RetrievalArguments",
    "RetrievalCallStep",
    "RetrievalResultStep",
    "Step",
    "StepError",
    "ThoughtStep",
    "ToolResult",
    "ToolSearchArguments",
    "ToolSearchCallStep",
    "ToolSearchResultStep",
    "UnknownStep",
    "UrlContextArguments",
    "UrlContextCallStep",
    "UrlContextResultItem",
    "UrlContextResultStep",
    "UserInputStep",
]

# What an MCP tool returned: an object, a list of content blocks, or a string.
ToolResult = dict[str, Any] | list[Content] | str | None

# An item of a function result: a content block, or a function declaration (what a
# client-side tool search answers with).
FunctionResultItem = Annotated[
    Annotated[TextContent, Tag("text")]
    | Annotated[ImageContent, Tag("image")]
    | Annotated[AudioContent, Tag("audio")]
    | Annotated[VideoContent, Tag("video")]
    | Annotated[DocumentContent, Tag("document")]
    | Annotated[FunctionTool, Tag("function")]
    | Annotated[UnknownContent, Tag(UNKNOWN)],
    open_tag("type", UnknownContent),
    fallback(UnknownContent),
]
# What a function returned: an object, a list of items, or a string.
FunctionResult = dict[str, Any] | list[FunctionResultItem] | str | None


class StepError(WireModel):
    """An error attached to a model output step (`code` is a google.rpc.Code number)."""

    code: int | str | None = None
    message: str | None = None
    details: list[dict[str, Any]] = Field(default_factory=list)


class UserInputStep(WireModel):
    """What the user sent (returned by GET, not by create)."""

    type: Literal["user_input"] = "user_input"
    content: list[Content] = Field(default_factory=list)


class ModelOutputStep(WireModel):
    """Content the model produced."""

    type: Literal["model_output"] = "model_output"
    content: list[Content] = Field(default_factory=list)
    error: StepError | None = None


class ThoughtStep(WireModel):
    """The model's reasoning: an opaque signature and optional readable summaries."""

    type: Literal["thought"] = "thought"
    signature: str | None = None
    summary: list[Content] = Field(default_factory=list)


class FunctionCallStep(WireModel):
    """A call of a client-declared function; the client must answer it."""

    type: Literal["function_call"] = "function_call"
    id: str = ""
    name: str = ""
    arguments: dict[str, Any] = Field(default_factory=dict)


class FunctionResultStep(WireModel):
    """The client's answer to a function call."""

    type: Literal["function_result"] = "function_result"
    call_id: str = ""
    result: FunctionResult = None
    name: str | None = None
    is_error: bool | None = None


class _ServerCall(WireModel):
    id: str = ""
    signature: str | None = None


class _ServerResult(WireModel):
    call_id: str = ""
    is_error: bool | None = None
    signature: str | None = None


class CodeExecutionArguments(WireModel):
    """Code the model ran in the sandbox."""

    code: str | None = None
    language: str | None = None


class CodeExecutionCallStep(_ServerCall):
    """The model ran code."""

    type: Literal["code_execution_call"] = "code_execution_call"
    arguments: CodeExecutionArguments = Field(default_factory=CodeExecutionArguments)


class CodeExecutionResultStep(_ServerResult):
    """Output of code the model ran."""

    type: Literal["code_execution_result"] = "code_execution_result"
    result: list[Content] | str | None = None


class UrlContextArguments(WireModel):
    """URLs the model fetched."""

    urls: list[str] = Field(default_factory=list)


class UrlContextCallStep(_ServerCall):
    """The model fetched URLs."""

    type: Literal["url_context_call"] = "url_context_call"
    arguments: UrlContextArguments = Field(default_factory=UrlContextArguments)


class UrlContextResultItem(WireModel):
    """How fetching one URL went (`success`, `error`, `paywall`, `unsafe`)."""

    url: str | None = None
    status: str | None = None


class UrlContextResultStep(_ServerResult):
    """Outcome of URL fetches."""

    type: Literal["url_context_result"] = "url_context_result"
    result: list[UrlContextResultItem] = Field(default_factory=list)


class GoogleSearchArguments(WireModel):
    """Queries the model searched for."""

    queries: list[str] = Field(default_factory=list)


class GoogleSearchCallStep(_ServerCall):
    """The model searched Google."""

    type: Literal["google_search_call"] = "google_search_call"
    arguments: GoogleSearchArguments = Field(default_factory=GoogleSearchArguments)
    search_type: str | None = None


class GoogleSearchResultItem(WireModel):
    """Rendered search suggestions (HTML) that must be shown with grounded answers."""

    search_suggestions: str | None = None


class GoogleSearchResultStep(_ServerResult):
    """Outcome of a Google search."""

    type: Literal["google_search_result"] = "google_search_result"
    result: list[GoogleSearchResultItem] = Field(default_factory=list)


class GoogleMapsArguments(WireModel):
    """Queries the model sent to Google Maps."""

    queries: list[str] = Field(default_factory=list)


class GoogleMapsCallStep(_ServerCall):
    """The model queried Google Maps."""

    type: Literal["google_maps_call"] = "google_maps_call"
    arguments: GoogleMapsArguments | None = None


class GoogleMapsPlace(WireModel):
    """A place found on Google Maps."""

    name: str | None = None
    place_id: str | None = None
    url: str | None = None
    review_snippets: list[ReviewSnippet] = Field(default_factory=list)


class GoogleMapsResultItem(WireModel):
    """Places found by one Maps query."""

    places: list[GoogleMapsPlace] = Field(default_factory=list)
    widget_context_token: str | None = None


class GoogleMapsResultStep(_ServerResult):
    """Outcome of a Google Maps query."""

    type: Literal["google_maps_result"] = "google_maps_result"
    result: list[GoogleMapsResultItem] = Field(default_factory=list)


class FileSearchCallStep(_ServerCall):
    """The model searched file search stores."""

    type: Literal["file_search_call"] = "file_search_call"


class FileSearchResultStep(_ServerResult):
    """Outcome of a file search (items are open objects)."""

    type: Literal["file_search_result"] = "file_search_result"
    result: list[dict[str, Any]] = Field(default_factory=list)


class McpServerToolCallStep(_ServerCall):
    """The server called a tool on a remote MCP server."""

    type: Literal["mcp_server_tool_call"] = "mcp_server_tool_call"
    name: str = ""
    server_name: str = ""
    arguments: dict[str, Any] = Field(default_factory=dict)


class McpServerToolResultStep(_ServerResult):
    """What a remote MCP tool returned."""

    type: Literal["mcp_server_tool_result"] = "mcp_server_tool_result"
    result: ToolResult = None
    name: str | None = None
    server_name: str | None = None


class RetrievalArguments(WireModel):
    """Queries sent to a retrieval backend."""

    queries: list[str] = Field(default_factory=list)


class RetrievalCallStep(_ServerCall):
    """The model queried a retrieval backend (Vertex AI Search, RAG store, ...)."""

    type: Literal["retrieval_call"] = "retrieval_call"
    arguments: RetrievalArguments = Field(default_factory=RetrievalArguments)
    retrieval_type: str | None = None


class RetrievalResultStep(_ServerResult):
    """Outcome of a retrieval query."""

    type: Literal["retrieval_result"] = "retrieval_result"


class ProcessingCallStep(_ServerCall):
    """Server-side media processing started (for example a video)."""

    type: Literal["processing_call"] = "processing_call"


class ProcessingResultStep(_ServerResult):
    """Server-side media processing finished."""

    type: Literal["processing_result"] = "processing_result"


class ToolSearchArguments(WireModel):
    """The functions a tool search asked to load, by name."""

    function_names: list[str] = Field(default_factory=list)


class ToolSearchCallStep(_ServerCall):
    """The model searched the deferred tools (server-side tool search)."""

    type: Literal["tool_search_call"] = "tool_search_call"
    arguments: ToolSearchArguments = Field(default_factory=ToolSearchArguments)


class ToolSearchResultStep(WireModel):
    """The function declarations a tool search loaded into the model's context."""

    type: Literal["tool_search_result"] = "tool_search_result"
    call_id: str = ""
    result: list[FunctionTool] = Field(default_factory=list)
    signature: str | None = None


class UnknownStep(UnknownModel):
    """A step type this client does not know; `raw` keeps it."""

    type: Any = None


Step = Annotated[
    Annotated[UserInputStep, Tag("user_input")]
    | Annotated[ModelOutputStep, Tag("model_output")]
    | Annotated[ThoughtStep, Tag("thought")]
    | Annotated[FunctionCallStep, Tag("function_call")]
    | Annotated[FunctionResultStep, Tag("function_result")]
    | Annotated[CodeExecutionCallStep, Tag("code_execution_call")]
    | Annotated[CodeExecutionResultStep, Tag("code_execution_result")]
    | Annotated[UrlContextCallStep, Tag("url_context_call")]
    | Annotated[UrlContextResultStep, Tag("url_context_result")]
    | Annotated[GoogleSearchCallStep, Tag("google_search_call")]
    | Annotated[GoogleSearchResultStep, Tag("google_search_result")]
    | Annotated[GoogleMapsCallStep, Tag("google_maps_call")]
    | Annotated[GoogleMapsResultStep, Tag("google_maps_result")]
    | Annotated[FileSearchCallStep, Tag("file_search_call")]
    | Annotated[FileSearchResultStep, Tag("file_search_result")]
    | Annotated[McpServerToolCallStep, Tag("mcp_server_tool_call")]
    | Annotated[McpServerToolResultStep, Tag("mcp_server_tool_result")]
    | Annotated[RetrievalCallStep, Tag("retrieval_call")]
    | Annotated[RetrievalResultStep, Tag("retrieval_result")]
    | Annotated[ProcessingCallStep, Tag("processing_call")]
    | Annotated[ProcessingResultStep, Tag("processing_result")]
    | Annotated[ToolSearchCallStep, Tag("tool_search_call")]
    | Annotated[ToolSearchResultStep, Tag("tool_search_result")]
    | Annotated[UnknownStep, Tag(UNKNOWN)],
    open_tag("type", UnknownStep),
    fallback(UnknownStep),
]
