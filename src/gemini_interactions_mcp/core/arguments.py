"""Tool arguments with structure, as pydantic models: their JSON Schemas are what clients see.

Descriptions stay short on purpose: every schema here is read by a model and costs context.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

__all__ = [
    "Attachment",
    "BuiltinTool",
    "BuiltinToolName",
    "FunctionDeclaration",
    "FunctionResult",
    "McpServerSpec",
    "Text",
    "ThinkingLevel",
]

BuiltinToolName = Literal[
    "google_search", "code_execution", "url_context", "file_search", "mcp_server", "tool_search"
]
ThinkingLevel = Literal["minimal", "low", "medium", "high", "xhigh"]


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("is only whitespace; write some text")
    return text


#: Text a person or a model wrote: refused when empty or only whitespace.
Text = Annotated[str, Field(min_length=1), AfterValidator(_not_blank)]


class BuiltinTool(BaseModel):
    """file_search: stores, top_k. mcp_server: url, name, headers, allowed_tools."""

    model_config = ConfigDict(extra="forbid")

    type: BuiltinToolName
    stores: list[str] | None = None
    top_k: int | None = Field(default=None, ge=1, le=100)
    name: str | None = None
    url: str | None = None
    headers: dict[str, str] | None = None
    allowed_tools: list[str] | None = None


class FunctionDeclaration(BaseModel):
    """parameters: JSON Schema of the args; deferred: loaded via tool_search."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z_][\w.\-]*$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    deferred: StrictBool = False


class Attachment(BaseModel):
    """uri+mime_type, data (base64)+mime_type, or path (stdio, allowed dirs); size-capped."""

    model_config = ConfigDict(extra="forbid")

    uri: str | None = None
    data: str | None = None
    path: str | None = None
    mime_type: str | None = None


class FunctionResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(min_length=1)
    result: Any
    is_error: StrictBool = False


class McpServerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    name: str | None = None
    headers: dict[str, str] | None = None
    allowed_tools: list[str] | None = None
