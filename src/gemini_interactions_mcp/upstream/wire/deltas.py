"""Step deltas: the increments a `step.delta` event carries (reference §4.3).

A built-in tool delta has the same `type` as the step it fills in, and carries that
step's fields except its id.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, Tag

from ._base import UNKNOWN, UnknownModel, WireModel, fallback, open_tag
from .content import Annotation, AudioContent, Content, DocumentContent, ImageContent, VideoContent
from .steps import (
    CodeExecutionArguments,
    FunctionResult,
    GoogleMapsArguments,
    GoogleMapsResultItem,
    GoogleSearchArguments,
    GoogleSearchResultItem,
    RetrievalArguments,
    ToolResult,
    ToolSearchArguments,
    UrlContextArguments,
    UrlContextResultItem,
)
from .tools import FunctionTool

__all__ = [
    "ArgumentsDelta",
    "AudioDelta",
    "CodeExecutionCallDelta",
    "CodeExecutionResultDelta",
    "Delta",
    "DocumentDelta",
    "FileSearchCallDelta",
    "FileSearchResultDelta",
    "FunctionResultDelta",
    "GoogleMapsCallDelta",
    "GoogleMapsResultDelta",
    "GoogleSearchCallDelta",
    "GoogleSearchResultDelta",
    "ImageDelta",
    "McpServerToolCallDelta",
    "McpServerToolResultDelta",
    "ProcessingCallDelta",
    "ProcessingResultDelta",
    "RetrievalCallDelta",
    "RetrievalResultDelta",
    "TextAnnotationDelta",
    "TextDelta",
    "ThoughtSignatureDelta",
    "ThoughtSummaryDelta",
    "ToolSearchCallDelta",
    "ToolSearchResultDelta",
    "UnknownDelta",
    "UrlContextCallDelta",
    "UrlContextResultDelta",
    "VideoDelta",
]


class TextDelta(WireModel):
    """More text for a model output step."""

    type: Literal["text"] = "text"
    text: str = ""


class ImageDelta(ImageContent):
    """An image produced by a model output step."""


class AudioDelta(AudioContent):
    """Audio produced by a model output step."""


class VideoDelta(VideoContent):
    """A video produced by a model output step."""


class DocumentDelta(DocumentContent):
    """A document produced by a model output step."""


class TextAnnotationDelta(WireModel):
    """Citations (and other annotations) for the text of a model output step."""

    type: Literal["text_annotation_delta"] = "text_annotation_delta"
    annotations: list[Annotation] = Field(default_factory=list)


class ThoughtSummaryDelta(WireModel):
    """A piece of a readable thought summary."""

    type: Literal["thought_summary"] = "thought_summary"
    content: Content | None = None


class ThoughtSignatureDelta(WireModel):
    """The opaque signature of a thought step."""

    type: Literal["thought_signature"] = "thought_signature"
    signature: str | None = None


class ArgumentsDelta(WireModel):
    """A fragment of a function call's JSON arguments."""

    type: Literal["arguments_delta"] = "arguments_delta"
    arguments: str | dict[str, Any] | None = None


class FunctionResultDelta(WireModel):
    """The result of a function call, when the server echoes it in a stream."""

    type: Literal["function_result"] = "function_result"
    result: FunctionResult = None
    name: str | None = None
    is_error: bool | None = None


class _Signed(WireModel):
    signature: str | None = None


class _SignedResult(_Signed):
    is_error: bool | None = None


class CodeExecutionCallDelta(_Signed):
    """Code the model is about to run."""

    type: Literal["code_execution_call"] = "code_execution_call"
    arguments: CodeExecutionArguments = Field(default_factory=CodeExecutionArguments)


class CodeExecutionResultDelta(_SignedResult):
    """Output of the code the model ran."""

    type: Literal["code_execution_result"] = "code_execution_result"
    result: list[Content] | str | None = None


class UrlContextCallDelta(_Signed):
    """URLs the model is fetching."""

    type: Literal["url_context_call"] = "url_context_call"
    arguments: UrlContextArguments = Field(default_factory=UrlContextArguments)


class UrlContextResultDelta(_SignedResult):
    """Outcome of URL fetches."""

    type: Literal["url_context_result"] = "url_context_result"
    result: list[UrlContextResultItem] = Field(default_factory=list)


class GoogleSearchCallDelta(_Signed):
    """Queries the model is searching for."""

    type: Literal["google_search_call"] = "google_search_call"
    arguments: GoogleSearchArguments = Field(default_factory=GoogleSearchArguments)


class GoogleSearchResultDelta(_SignedResult):
    """Outcome of a Google search."""

    type: Literal["google_search_result"] = "google_search_result"
    result: list[GoogleSearchResultItem] = Field(default_factory=list)


class GoogleMapsCallDelta(_Signed):
    """Queries the model is sending to Google Maps."""

    type: Literal["google_maps_call"] = "google_maps_call"
    arguments: GoogleMapsArguments | None = None


class GoogleMapsResultDelta(_Signed):
    """Outcome of a Google Maps query."""

    type: Literal["google_maps_result"] = "google_maps_result"
    result: list[GoogleMapsResultItem] | None = None


class FileSearchCallDelta(_Signed):
    """A file search started."""

    type: Literal["file_search_call"] = "file_search_call"


class FileSearchResultDelta(_Signed):
    """Outcome of a file search."""

    type: Literal["file_search_result"] = "file_search_result"
    result: list[dict[str, Any]] = Field(default_factory=list)


class McpServerToolCallDelta(_Signed):
    """A remote MCP tool call."""

    type: Literal["mcp_server_tool_call"] = "mcp_server_tool_call"
    name: str = ""
    server_name: str = ""
    arguments: dict[str, Any] = Field(default_factory=dict)


class McpServerToolResultDelta(_Signed):
    """What a remote MCP tool returned."""

    type: Literal["mcp_server_tool_result"] = "mcp_server_tool_result"
    result: ToolResult = None
    name: str | None = None
    server_name: str | None = None


class RetrievalCallDelta(_Signed):
    """Queries sent to a retrieval backend."""

    type: Literal["retrieval_call"] = "retrieval_call"
    arguments: RetrievalArguments = Field(default_factory=RetrievalArguments)
    retrieval_type: str | None = None


class RetrievalResultDelta(_SignedResult):
    """Outcome of a retrieval query."""

    type: Literal["retrieval_result"] = "retrieval_result"


class ProcessingCallDelta(_Signed):
    """Server-side media processing started."""

    type: Literal["processing_call"] = "processing_call"


class ProcessingResultDelta(_Signed):
    """Server-side media processing finished."""

    type: Literal["processing_result"] = "processing_result"


class ToolSearchCallDelta(_Signed):
    """The functions a server-side tool search is loading."""

    type: Literal["tool_search_call"] = "tool_search_call"
    arguments: ToolSearchArguments | None = None


class ToolSearchResultDelta(_Signed):
    """The function declarations a tool search loaded."""

    type: Literal["tool_search_result"] = "tool_search_result"
    result: list[FunctionTool] | None = None


class UnknownDelta(UnknownModel):
    """A delta type this client does not know; `raw` keeps it."""

    type: Any = None


Delta = Annotated[
    Annotated[TextDelta, Tag("text")]
    | Annotated[ImageDelta, Tag("image")]
    | Annotated[AudioDelta, Tag("audio")]
    | Annotated[VideoDelta, Tag("video")]
    | Annotated[DocumentDelta, Tag("document")]
    | Annotated[TextAnnotationDelta, Tag("text_annotation_delta")]
    | Annotated[ThoughtSummaryDelta, Tag("thought_summary")]
    | Annotated[ThoughtSignatureDelta, Tag("thought_signature")]
    | Annotated[ArgumentsDelta, Tag("arguments_delta")]
    | Annotated[FunctionResultDelta, Tag("function_result")]
    | Annotated[CodeExecutionCallDelta, Tag("code_execution_call")]
    | Annotated[CodeExecutionResultDelta, Tag("code_execution_result")]
    | Annotated[UrlContextCallDelta, Tag("url_context_call")]
    | Annotated[UrlContextResultDelta, Tag("url_context_result")]
    | Annotated[GoogleSearchCallDelta, Tag("google_search_call")]
    | Annotated[GoogleSearchResultDelta, Tag("google_search_result")]
    | Annotated[GoogleMapsCallDelta, Tag("google_maps_call")]
    | Annotated[GoogleMapsResultDelta, Tag("google_maps_result")]
    | Annotated[FileSearchCallDelta, Tag("file_search_call")]
    | Annotated[FileSearchResultDelta, Tag("file_search_result")]
    | Annotated[McpServerToolCallDelta, Tag("mcp_server_tool_call")]
    | Annotated[McpServerToolResultDelta, Tag("mcp_server_tool_result")]
    | Annotated[RetrievalCallDelta, Tag("retrieval_call")]
    | Annotated[RetrievalResultDelta, Tag("retrieval_result")]
    | Annotated[ProcessingCallDelta, Tag("processing_call")]
    | Annotated[ProcessingResultDelta, Tag("processing_result")]
    | Annotated[ToolSearchCallDelta, Tag("tool_search_call")]
    | Annotated[ToolSearchResultDelta, Tag("tool_search_result")]
    | Annotated[UnknownDelta, Tag(UNKNOWN)],
    open_tag("type", UnknownDelta),
    fallback(UnknownDelta),
]
