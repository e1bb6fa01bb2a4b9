"""The conversation tools: gemini_ask, gemini_continue, gemini_conversations.

Each tool turns its arguments into a core request, hands it over, and renders the result.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field, StrictBool, WithJsonSchema

from ..core.arguments import (
    Attachment,
    BuiltinTool,
    BuiltinToolName,
    FunctionDeclaration,
    FunctionResult,
    Text,
    ThinkingLevel,
)
from ..core.requests import AskRequest, ConfigChange, ContinueRequest
from ..core.results import Answer, ConversationList
from . import render
from .base import Ctx, ToolSet, calling

TOOLS = ToolSet()

MAX_PROMPT_CHARS = 1_000_000
# Re-sent with every turn of the conversation, so kept to a sensible size.
MAX_SYSTEM_CHARS = 100_000

Prompt = Annotated[
    Text, Field(max_length=MAX_PROMPT_CHARS, description="Your message (max 1M chars)")
]
Model = Annotated[str | None, Field(description="Alias (flash, pro, flash-lite) or model id")]
System = Annotated[
    str | None,
    Field(max_length=MAX_SYSTEM_CHARS, description="System instruction (max 100k chars)"),
]
Handle = Annotated[str | None, Field(min_length=1, description="Default: your latest chat")]
Tools = Annotated[
    list[BuiltinToolName | BuiltinTool] | None,
    Field(description="Built-in tools: names or objects"),
]
Functions = Annotated[
    list[FunctionDeclaration] | None,
    Field(description="Functions you run: calls end the turn as requires_action"),
]
Thinking = Annotated[ThinkingLevel | None, Field(description="Reasoning depth (per model)")]
Summaries = Annotated[StrictBool | None, Field(description="Return thought summaries")]
Schema = Annotated[dict[str, Any] | None, Field(description="JSON Schema of a JSON answer")]
Attachments = Annotated[list[Attachment] | None, Field(description="Files: uri, data or path")]
MaxTokens = Annotated[int | None, Field(ge=1, le=1_000_000, description="Answer token cap")]

# gemini_continue takes the same settings as gemini_ask; its advertised schema points there
# instead of repeating every nested definition (the full models still validate the input).
_AS_IN_ASK = Field(description="As in gemini_ask")
_OBJECTS = WithJsonSchema({"type": "array", "items": {"type": "object"}})
ContinueTools = Annotated[
    list[BuiltinToolName | BuiltinTool] | None,
    WithJsonSchema({"type": "array", "items": {"type": ["string", "object"]}}),
    _AS_IN_ASK,
]
ContinueFunctions = Annotated[list[FunctionDeclaration] | None, _OBJECTS, _AS_IN_ASK]
ContinueAttachments = Annotated[list[Attachment] | None, _OBJECTS, _AS_IN_ASK]

# Only hints that differ from the spec's defaults (not read-only, destructive, not
# idempotent, open world) are sent: tools/list is read by a model on every session.
_OPEN = ToolAnnotations(destructive_hint=False)
_LIST = ToolAnnotations(destructive_hint=True)


@TOOLS.tool(
    Answer,
    description="Ask Gemini, starting a server-side conversation (go on with gemini_continue).",
    annotations=_OPEN,
)
async def gemini_ask(
    ctx: Ctx,
    prompt: Prompt,
    model: Model = None,
    system_instruction: System = None,
    tools: Tools = None,
    functions: Functions = None,
    thinking_level: Thinking = None,
    thought_summaries: Summaries = None,
    response_schema: Schema = None,
    attachments: Attachments = None,
    store: Annotated[StrictBool, Field(description="false: nothing kept upstream")] = True,
    max_output_tokens: MaxTokens = None,
    title: Annotated[str | None, Field(max_length=200, description="For the listing")] = None,
) -> CallToolResult:
    request = AskRequest(
        prompt=prompt,
        model=model,
        config=ConfigChange(
            system_instruction=system_instruction,
            tools=tools,
            functions=functions,
            thinking_level=thinking_level,
            thought_summaries=thought_summaries,
            max_output_tokens=max_output_tokens,
            response_schema=response_schema,
        ),
        attachments=attachments,
        store=store,
        title=title,
    )
    async with calling(ctx) as core:
        return render.answer(await core.ask(request))


@TOOLS.tool(
    Answer,
    description=(
        "Next turn of a Gemini conversation: a prompt or function_results; with neither, "
        "collect a running answer or page with offset."
    ),
    annotations=_OPEN,
)
async def gemini_continue(
    ctx: Ctx,
    prompt: Annotated[
        Text | None, Field(max_length=MAX_PROMPT_CHARS, description="Omit to collect or page")
    ] = None,
    conversation_id: Handle = None,
    function_results: Annotated[
        list[FunctionResult] | None, Field(description="For the function_calls")
    ] = None,
    offset: Annotated[int | None, Field(ge=0, description="Page the latest answer")] = None,
    model: Annotated[str | None, _AS_IN_ASK] = None,
    system_instruction: Annotated[
        str | None, Field(max_length=MAX_SYSTEM_CHARS), _AS_IN_ASK
    ] = None,
    tools: ContinueTools = None,
    functions: ContinueFunctions = None,
    thinking_level: Annotated[ThinkingLevel | None, _AS_IN_ASK] = None,
    thought_summaries: Annotated[StrictBool | None, _AS_IN_ASK] = None,
    response_schema: Annotated[dict[str, Any] | None, _AS_IN_ASK] = None,
    attachments: ContinueAttachments = None,
    max_output_tokens: Annotated[int | None, Field(ge=1, le=1_000_000), _AS_IN_ASK] = None,
) -> CallToolResult:
    request = ContinueRequest(
        conversation_id=conversation_id,
        prompt=prompt,
        function_results=function_results,
        offset=offset,
        model=model,
        config=ConfigChange(
            system_instruction=system_instruction,
            tools=tools,
            functions=functions,
            thinking_level=thinking_level,
            thought_summaries=thought_summaries,
            max_output_tokens=max_output_tokens,
            response_schema=response_schema,
        ),
        attachments=attachments,
    )
    async with calling(ctx) as core:
        return render.answer(await core.continue_(request))


@TOOLS.tool(
    ConversationList,
    description="List your Gemini conversations and research; forget one by id.",
    annotations=_LIST,
)
async def gemini_conversations(
    ctx: Ctx,
    limit: Annotated[int, Field(ge=1, le=200, description="Max items")] = 20,
    forget: Annotated[
        str | None, Field(min_length=1, description="conversation_id or research_id")
    ] = None,
    delete_upstream: Annotated[
        StrictBool, Field(description="With forget: also delete it at Gemini")
    ] = False,
) -> CallToolResult:
    async with calling(ctx) as core:
        listing = await core.conversations(
            limit=limit, forget=forget, delete_upstream=delete_upstream
        )
    return render.conversations(listing)
