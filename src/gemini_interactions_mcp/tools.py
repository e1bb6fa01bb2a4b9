"""The conversation tools: gemini_ask, gemini_continue, gemini_conversations.

Each tool is short: it checks arguments, finds the caller, and hands over to `chat`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, WithJsonSchema

from .app import AppState
from .errors import ToolError, error_result
from .inputs import build_input, build_tools, check_response_schema, function_result_steps
from .progress import reporting
from .results import (
    Answer,
    Attachment,
    BuiltinTool,
    BuiltinToolName,
    ConversationInfo,
    ConversationList,
    FunctionDeclaration,
    FunctionResult,
    ThinkingLevel,
)
from .surface import GeminiMCPServer

if TYPE_CHECKING:
    # The conversation machinery (and the upstream client under it) loads on the first
    # call, keeping start-up as light as a bare MCP server.
    from .chat import Conversations

Ctx = Context[AppState, Any]

MAX_PROMPT_CHARS = 1_000_000

Prompt = Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS)]
Model = Annotated[str | None, Field(description="Alias (flash, pro, flash-lite) or model id")]
System = str | None
# A bare name is listed as a plain string: the names are already enumerated in BuiltinTool.
ToolName = Annotated[BuiltinToolName, WithJsonSchema({"type": "string"})]
Tools = Annotated[
    list[ToolName | BuiltinTool] | None,
    Field(description="Built-in tools, by name or with settings"),
]
Functions = Annotated[
    list[FunctionDeclaration] | None,
    Field(description="Functions you run: calls end the turn as requires_action"),
]
Thinking = ThinkingLevel | None
Summaries = Annotated[bool | None, Field(description="Return thought summaries")]
Schema = Annotated[dict[str, Any] | None, Field(description="JSON Schema of a JSON answer")]
Attachments = Annotated[list[Attachment] | None, Field(description="Files: uri, data or path")]
MaxTokens = Annotated[int | None, Field(ge=1, le=1_000_000)]

# gemini_continue takes the same settings as gemini_ask; its advertised schema points there
# instead of repeating every nested definition (the full models still validate the input).
_AS_IN_ASK = WithJsonSchema({"type": "array", "description": "as in gemini_ask"})
ContinueTools = Annotated[list[BuiltinToolName | BuiltinTool] | None, _AS_IN_ASK]
ContinueFunctions = Annotated[list[FunctionDeclaration] | None, _AS_IN_ASK]
ContinueAttachments = Annotated[list[Attachment] | None, _AS_IN_ASK]

# Only hints that differ from the spec's defaults (not read-only, destructive, not
# idempotent, open world) are sent: tools/list is read by a model on every session.
_OPEN = ToolAnnotations(destructive_hint=False)
_LIST = ToolAnnotations(destructive_hint=True)


def owner_of(ctx: Ctx) -> str:
    """Who owns the handles this call sees: auth principal, legacy session, or local (stdio)."""
    from mcp.server.auth.middleware.auth_context import get_access_token
    from mcp.server.auth.provider import principal_components
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

    token = get_access_token()
    if token is not None:
        client_id, issuer, subject = principal_components(token)
        return f"auth:{issuer or ''}|{client_id}|{subject or ''}"
    # Only a handshake-era request has a session the transport checked; on 2026-07-28 the
    # header would be whatever the caller chose to send.
    if ctx.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS:
        session = (ctx.headers or {}).get("mcp-session-id")
        if session:
            return f"session:{session}"
    return "local"


def app_of(ctx: Ctx) -> AppState:
    return ctx.request_context.lifespan_context


@asynccontextmanager
async def conversations_for(ctx: Ctx) -> AsyncIterator[Conversations]:
    """The caller's conversations, with progress notifications wired to this call."""
    from .chat import Conversations

    app = app_of(ctx)

    async def send(progress: float, message: str) -> None:
        await ctx.report_progress(progress, None, message)

    async with reporting(send, interval=app.settings.progress_interval) as progress:
        yield Conversations(app, owner_of(ctx), progress)


def render(result: BaseModel, text: str) -> CallToolResult:
    """A result with readable text for the model and the structured value for programs."""
    return CallToolResult(
        content=[TextContent(text=text)],
        structured_content=result.model_dump(mode="json", exclude_none=True),
    )


def render_answer(answer: Answer) -> CallToolResult:
    lines = []
    if answer.text:
        lines.append(answer.text)
    for call in answer.function_calls or []:
        lines.append(f"[function call {call.call_id}] {call.name}({call.arguments})")
    if answer.sources:
        lines.append("Sources: " + "; ".join(s.url for s in answer.sources))
    lines.extend(f"Note: {n}" for n in answer.notes)
    lines.append(
        f"[conversation_id={answer.conversation_id} status={answer.status} model={answer.model}]"
    )
    return render(answer, "\n".join(lines))


async def guarded(work: Callable[[], Awaitable[CallToolResult]]) -> CallToolResult:
    """Run a tool body; exceptions become tool errors (`errors.error_result`)."""
    try:
        return await work()
    except Exception as exc:
        return error_result(exc)


def generation_config(
    thinking_level: str | None, thought_summaries: bool | None, max_output_tokens: int | None
) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if thinking_level is not None:
        config["thinking_level"] = thinking_level
    if thought_summaries is not None:
        config["thinking_summaries"] = "auto" if thought_summaries else "none"
    if max_output_tokens is not None:
        config["max_output_tokens"] = max_output_tokens
    return config


def scoped_settings(
    *,
    system_instruction: str | None,
    tools: list[str | BuiltinTool] | None,
    functions: list[FunctionDeclaration] | None,
    thinking_level: str | None,
    thought_summaries: bool | None,
    max_output_tokens: int | None,
    response_schema: dict[str, Any] | None,
) -> dict[str, Any]:
    """The interaction-scoped upstream fields a call sets (only those it sets)."""
    settings: dict[str, Any] = {}
    if system_instruction is not None:
        settings["system_instruction"] = system_instruction
    if tools is not None or functions is not None:
        settings["tools"] = build_tools(tools, functions)
    config = generation_config(thinking_level, thought_summaries, max_output_tokens)
    if config:
        settings["generation_config"] = config
    if response_schema is not None:
        settings["response_format"] = check_response_schema(response_schema)
    return settings


def chat_model(app: AppState, name: str | None) -> Any:
    """Resolve a model name for a conversation (aliases, deprecations); agents are refused."""
    resolved = app.registry.resolve(name)
    if resolved.is_agent:
        raise ToolError(f"{resolved.id} is an agent; use deep_research_start for Deep Research.")
    return resolved


def merge_tools(
    stored: list[dict[str, Any]],
    override: list[dict[str, Any]],
    *,
    builtins: bool,
    functions: bool,
) -> list[dict[str, Any]]:
    """Built-in tools and functions override separately: giving one keeps the other."""
    keep = [
        t
        for t in stored
        if (t.get("type") == "function" and not functions)
        or (t.get("type") != "function" and not builtins)
    ]
    return [*keep, *override]


def register(server: GeminiMCPServer[AppState]) -> None:
    """Add the conversation tools to `server`."""

    @server.result_tool(
        Answer,
        description=(
            "Ask Gemini, starting a conversation kept server-side (its conversation_id goes to "
            "gemini_continue)."
        ),
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
        store: Annotated[bool, Field(description="false: nothing kept upstream")] = True,
        max_output_tokens: MaxTokens = None,
        title: Annotated[str | None, Field(max_length=200)] = None,
    ) -> CallToolResult:
        async def work() -> CallToolResult:
            from .chat import Turn, title_from

            app = app_of(ctx)
            resolved = chat_model(app, model or app.settings.default_model)
            if functions and not store:
                raise ToolError(
                    "functions need store=true: answering a function call continues the "
                    "conversation, and with store=false Gemini keeps nothing to continue from."
                )
            settings = scoped_settings(
                system_instruction=system_instruction,
                tools=list(tools) if tools is not None else None,
                functions=functions,
                thinking_level=thinking_level,
                thought_summaries=thought_summaries,
                max_output_tokens=max_output_tokens,
                response_schema=response_schema,
            )
            turn = Turn(
                input=_input(app, ctx, prompt, attachments),
                notes=[resolved.note] if resolved.note else [],
            )
            async with conversations_for(ctx) as convs:
                answer = await convs.start(
                    model=resolved.id,
                    settings=settings,
                    title=title or title_from(prompt),
                    turn=turn,
                    store_upstream=store,
                )
            return render_answer(answer)

        return await guarded(work)

    @server.result_tool(
        Answer,
        description=(
            "Next turn of a Gemini conversation (default: your latest chat): a prompt or "
            "function_results. Neither: collect a running answer, or page with offset."
        ),
        annotations=_OPEN,
    )
    async def gemini_continue(
        ctx: Ctx,
        prompt: Annotated[str | None, Field(min_length=1, max_length=MAX_PROMPT_CHARS)] = None,
        conversation_id: str | None = None,
        function_results: list[FunctionResult] | None = None,
        offset: Annotated[int | None, Field(ge=0, description="Page the latest answer")] = None,
        model: str | None = None,
        system_instruction: System = None,
        tools: ContinueTools = None,
        functions: ContinueFunctions = None,
        thinking_level: Thinking = None,
        thought_summaries: bool | None = None,
        response_schema: dict[str, Any] | None = None,
        attachments: ContinueAttachments = None,
        max_output_tokens: MaxTokens = None,
    ) -> CallToolResult:
        async def work() -> CallToolResult:
            from .chat import Turn

            app = app_of(ctx)
            async with conversations_for(ctx) as convs:
                rec = await convs.find(conversation_id)
                if rec.kind == "research" and offset is None:
                    extras = [
                        name
                        for name, value in (
                            ("function_results", function_results),
                            ("attachments", attachments),
                            ("model", model),
                            ("system_instruction", system_instruction),
                            ("tools", tools),
                            ("functions", functions),
                            ("response_schema", response_schema),
                        )
                        if value
                    ]
                    if extras:
                        raise ToolError(
                            "A research takes only a prompt as a follow-up; drop "
                            + ", ".join(extras)
                            + "."
                        )
                    return render_answer(await _research_turn(ctx, convs, rec, prompt))
                if prompt is None and not function_results and not attachments:
                    if offset is not None:
                        return render_answer(convs.last_answer(rec, offset=offset))
                    return render_answer(await convs.collect(rec))
                if prompt is not None and function_results:
                    raise ToolError("Give either a prompt or function_results, not both.")
                notes: list[str] = []
                model_id = None
                if model is not None:
                    resolved = chat_model(app, model)
                    model_id, notes = resolved.id, [resolved.note] if resolved.note else []
                settings = scoped_settings(
                    system_instruction=system_instruction,
                    tools=list(tools) if tools is not None else None,
                    functions=functions,
                    thinking_level=thinking_level,
                    thought_summaries=thought_summaries,
                    max_output_tokens=max_output_tokens,
                    response_schema=response_schema,
                )
                if "generation_config" in settings:
                    settings["generation_config"] = {
                        **rec.settings.get("generation_config", {}),
                        **settings["generation_config"],
                    }
                if "tools" in settings:
                    settings["tools"] = merge_tools(
                        rec.settings.get("tools", []),
                        settings["tools"],
                        builtins=tools is not None,
                        functions=functions is not None,
                    )
                if function_results:
                    turn_input: Any = function_result_steps(
                        function_results, rec.data.get("pending_calls", {})
                    )
                else:
                    turn_input = _input(app, ctx, prompt, attachments)
                turn = Turn(input=turn_input, settings=settings, model=model_id, notes=notes)
                answer = await convs.continue_(rec, turn)
            return render_answer(answer)

        return await guarded(work)

    @server.result_tool(
        ConversationList,
        description="List your Gemini conversations and research; forget one by id.",
        annotations=_LIST,
    )
    async def gemini_conversations(
        ctx: Ctx,
        limit: Annotated[int, Field(ge=1, le=200)] = 20,
        forget: Annotated[str | None, Field(description="conversation_id to forget")] = None,
        delete_upstream: Annotated[
            bool, Field(description="With forget: also delete it at Gemini")
        ] = False,
    ) -> CallToolResult:
        async def work() -> CallToolResult:
            app = app_of(ctx)
            owner = owner_of(ctx)
            store = await app.store()
            notes: list[str] = []
            forgotten = None
            if forget:
                rec = await store.get(owner, forget)
                if rec is None:
                    raise ToolError(f"Unknown conversation_id {forget!r}; nothing was forgotten.")
                notes.extend(await _stop_running(app, rec))
                if delete_upstream:
                    ids = list(rec.data.get("interaction_ids", []))
                    if rec.data.get("pending") and rec.data["pending"] not in ids:
                        ids.append(rec.data["pending"])
                    notes.extend(await _delete_upstream(app, ids))
                await store.delete(owner, forget)
                forgotten = forget
            records = await store.list(owner, limit=limit, kind=None)
            cutoff = app.clock() - app.settings.retention_days * 86_400
            items = [
                ConversationInfo(
                    conversation_id=r.id,
                    kind=r.kind,
                    title=r.title,
                    model=r.model,
                    turns=r.turns,
                    status="expired" if r.updated_at < cutoff else r.status,
                    updated=datetime.fromtimestamp(r.updated_at, UTC).isoformat(timespec="seconds"),
                )
                for r in records
            ]
            result = ConversationList(conversations=items, forgotten=forgotten, notes=notes)
            lines = [
                f"{i.conversation_id}  {i.kind}  {i.status}  turns={i.turns}  {i.model}  "
                f"{i.updated}  {i.title}"
                for i in items
            ] or ["No conversations."]
            if forgotten:
                lines.insert(0, f"Forgot {forgotten}.")
            lines.extend(f"Note: {n}" for n in notes)
            return render(result, "\n".join(lines))

        return await guarded(work)


async def _research_turn(ctx: Ctx, convs: Conversations, rec: Any, prompt: str | None) -> Answer:
    """A follow-up question on a research, or (no prompt) its answer once ready."""
    from .research.service import ResearchService

    app = app_of(ctx)
    assert app.monitor is not None
    service = ResearchService(app, app.monitor, convs.owner, convs.progress)
    if prompt is None:
        return await service.answer(rec, within=convs.remaining())
    return await service.follow_up(convs, rec, prompt)


def _input(
    app: AppState, ctx: Ctx, prompt: str | None, attachments: list[Attachment] | None
) -> Any:
    return build_input(
        prompt,
        attachments,
        allowed_dirs=app.settings.attachment_dirs,
        max_bytes=app.settings.max_attachment_bytes,
        local_files=ctx.headers is None,
    )


async def _stop_running(app: AppState, rec: Any) -> list[str]:
    """Forgetting a running research cancels it: nobody could follow or cancel it after."""
    from .state.base import ACTIVE_RESEARCH_STATUSES
    from .upstream import errors as up

    if rec.kind != "research" or rec.status not in ACTIVE_RESEARCH_STATUSES:
        return []
    if app.monitor is not None:
        app.monitor.stop(rec.id)
    if not rec.last_interaction_id:
        return []
    client = await app.client()
    try:
        await client.cancel(rec.last_interaction_id)
    except up.GeminiError:
        return ["The running research could not be cancelled at Gemini."]
    return ["The running research was cancelled at Gemini."]


async def _delete_upstream(app: AppState, interaction_ids: list[str]) -> list[str]:
    from .upstream import errors as up

    client = await app.client()
    failed = 0
    for iid in interaction_ids:
        try:
            await client.delete(iid)
        except up.NotFoundError:
            continue
        except up.GeminiError:
            failed += 1
    if failed:
        return [f"{failed} of {len(interaction_ids)} upstream interactions could not be deleted."]
    return [f"Deleted {len(interaction_ids)} interactions at Gemini."]
