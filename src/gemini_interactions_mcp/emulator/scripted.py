"""The deterministic scripted model.

Reply text (a ``model_output`` text step) makes the server-side state visible::

    turn {N}: {latest user text}[ | system: {system_instruction}][ | tools: {labels}]

* ``N`` counts the user turns along the ``previous_interaction_id`` chain, this one
  included (1 for the first). Each ``user_input`` step is a turn, and so is each run of
  ``function_result`` steps; continuation hops add none.
* ``{latest user text}`` is the text of the last ``user_input`` step of this request's
  input (text blocks joined by a space), with directives removed and whitespace collapsed.
* A turn that answers function calls reads
  ``turn {N}: function {name} returned {compact json of result}`` (several results are
  joined by ``"; "``), with the same suffixes.
* ``system:`` shows the system instruction of THIS request, ``tools:`` the tools of THIS
  request joined by ``", "``: built-in tools by their type (``google_search``,
  ``mcp_server``, ...), functions as ``fn:NAME``. Neither is inherited from earlier turns.
* With a JSON ``response_format`` (``{"type": "text", "mime_type": "application/json",
  "schema": {...}}``) the text is instead a compact JSON value valid against the schema,
  with the user text in its first plain string field (see :mod:`.schemas`).

Directives in the user text (``[[name args]]``, removed from the echo):

``[[call NAME {json}]]``
    If NAME is a declared ``function`` tool: a ``function_call`` step (``id``, ``name``,
    ``arguments`` = the JSON, default ``{}``) and status ``requires_action``, no text.
    The follow-up sends ``function_result`` steps; an unknown ``call_id`` is a 400.
``[[search QUERY]]``
    If the ``google_search`` tool is enabled: ``google_search_call``/``_result`` steps and
    ``url_citation`` annotations on the reply text.
``[[code PYTHON]]``
    If ``code_execution`` is enabled: ``code_execution_call``/``_result`` steps; nothing is
    ever executed, the result is ``"[emulated] ran {L} line(s) of python, no output"``.
``[[url URL]]``
    If ``url_context`` is enabled: ``url_context_call``/``_result`` (status ``success``).
``[[mcp SERVER TOOL]]``
    If an ``mcp_server`` tool named SERVER is declared: ``mcp_server_tool_call``/``_result``.
``[[toolsearch NAME ...]]``
    If a ``tool_search`` tool is declared. Server execution (the default): a
    ``tool_search_call`` step (``arguments.function_names`` = the NAMEs) and a
    ``tool_search_result`` whose ``result`` holds the declarations of the named
    ``function`` tools of this request (``defer_loading`` false; unknown names are left
    out), both signed; the turn then goes on as usual. Client execution: a
    ``function_call`` of the tool search's ``name`` whose ``arguments`` fit its
    ``parameters`` schema and carry the NAMEs, and status ``requires_action``; the
    ``function_result`` answering it may list function declarations
    (``{"type": "function", ...}``). Deferred functions may be called at any time.
``[[think]]``
    A ``thought`` step with a ``signature``; its ``summary`` (``"Thinking about: {text}"``)
    only when ``generation_config.thinking_summaries == "auto"``.
``[[chars N]]``
    The reply text is padded with `` lorem ipsum dolor sit amet`` (or cut) to exactly N
    characters, streamed in many deltas. Ignored for JSON answers.
``[[delay MS]]``
    Pause MS milliseconds before each streamed delta.
``[[error STATUS]]``
    The create fails with that HTTP status and its error code; nothing is stored.
``[[fail CODE]]``
    Half the reply text streams, then an in-stream ``error`` event with CODE; the
    interaction ends ``failed`` with an ``errors`` entry. A unary, non-background create
    answers with the HTTP status of CODE (500 if CODE is not in the table).
``[[drop K]]``
    The first streaming connection of this interaction is cut after K events (K >= 1); the
    interaction carries on, and ``GET ?stream=true&last_event_id=...`` resumes it.
``[[continue]]``
    Non-background only: the first hop ends ``requires_continuation`` with a
    ``continuation_token`` after half the reply text; the next POST with that token (plus
    ``previous_interaction_id``, or the original input when ``store`` is false) produces
    the rest as a new interaction. A token resumes once; with ``store`` false it is tied
    to the original input, and another input is a 400.
``[[idle]]``
    A turn that would end ``completed`` ends ``idle`` instead: paused, waiting for the
    next input, which a create chained with ``previous_interaction_id`` brings (the last
    hop, with ``[[continue]]``). Streams end with ``interaction.status_update`` and
    ``interaction.completed``, both with status ``idle``. How the real API streams an idle
    end is not documented; this is modelled on ``requires_action``.

Tool call ids are random; everything else is a pure function of the request and chain.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from . import sse
from .config import BACKGROUND_MIN_PAUSE_S, EmulatorConfig
from .directives import Script, parse
from .engine import RunPlan
from .errors import ApiError, code_for_status, status_for_code
from .schemas import json_format, value_for
from .tools import declaration, labels, tool_search
from .validation import CreateRequest, user_text

FILLER = " lorem ipsum dolor sit amet"


@dataclass
class ScriptedRun:
    """A plan plus the effects that live outside it."""

    plan: RunPlan
    drop_after: int | None = None
    unary_error: ApiError | None = None
    rest: str | None = None
    """Text the continuation hop will produce."""
    rest_status: str = "completed"
    """How the continuation hop ends."""


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def signature(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()[:24]).decode()


def decorate(body: str, turns: int, request: CreateRequest) -> str:
    """The reply text shape: ``turn N: body`` plus the system and tools suffixes."""
    text = f"turn {turns}: {body}"
    if request.system_instruction:
        text += f" | system: {request.system_instruction}"
    if request.tools:
        text += f" | tools: {', '.join(labels(request.tools))}"
    return text


def pause_for(script: Script, config: EmulatorConfig, background: bool) -> float:
    delay = script.number("delay")
    pause = (config.delta_delay_ms if delay is None else delay) / 1000
    return max(pause, BACKGROUND_MIN_PAUSE_S) if background else pause


def script_model(
    request: CreateRequest,
    *,
    turns: int,
    call_names: dict[str, str],
    config: EmulatorConfig,
) -> ScriptedRun:
    """Decide everything the model does for one create."""
    results = _trailing_results(request.input_steps)
    script = parse("" if results else user_text(request.input_steps) or "")
    error = script.first("error")
    if error is not None:
        status = int(error.data)
        raise ApiError(status, code_for_status(status), f"Emulated error with status {status}.")
    if results:
        body = "; ".join(
            f"function {r.get('name') or call_names.get(r['call_id'], '?')} "
            f"returned {compact(r['result'])}"
            for r in results
        )
    else:
        body = script.text
    reply = decorate(body, turns, request)
    steps, annotations_for = _tool_steps(script, request, body)
    run = ScriptedRun(
        RunPlan(
            steps=[],
            pause_s=pause_for(script, config, request.background),
            pace_starts=request.background,
        )
    )
    drop = script.first("drop")
    run.drop_after = None if drop is None else int(drop.data)
    # A schema the emulator cannot answer is refused even when this turn calls a function.
    schema_format = json_format(request.body)
    answer = None if schema_format is None else value_for(schema_format.get("schema"), script.text)
    calls = _function_calls(script, request)
    if calls:
        run.plan.steps = [sse.plan(s) for s in steps + calls]
        run.plan.status = "requires_action"
        return run
    annotations: list[dict[str, Any]] = []
    if schema_format is not None:
        reply = compact(answer)
    else:
        chars = script.number("chars")
        if chars is not None:
            reply = _pad(reply, int(chars))
        annotations = annotations_for(reply)
    fail = script.first("fail")
    if fail is not None:
        code = str(fail.data)
        message = f"Emulated failure: {code}."
        steps.append(_text_step(reply[: len(reply) // 2], []))
        run.plan.status = "failed"
        run.plan.fields = {"errors": [{"code": code, "message": message}]}
        if not request.background and not request.stream:
            run.unary_error = ApiError(status_for_code(code), code, message)
    elif script.first("continue") is not None and not request.background:
        split = max(1, len(reply) // 2)
        steps.append(_text_step(reply[:split], []))
        run.rest = reply[split:]
        run.plan.status = "requires_continuation"
        run.plan.fields = {"continuation_token": "ctok_" + secrets.token_hex(12)}
    else:
        steps.append(_text_step(reply, annotations))
    if script.first("idle") is not None:
        if run.plan.status == "completed":
            run.plan.status = "idle"
        run.rest_status = "idle"
    run.plan.steps = [sse.plan(s) for s in steps]
    return run


def continuation_plan(rest: str, config: EmulatorConfig, status: str = "completed") -> RunPlan:
    """The second hop of a ``[[continue]]``: the rest of the reply text."""
    pause = config.delta_delay_ms / 1000
    return RunPlan(steps=[sse.plan(_text_step(rest, []))], status=status, pause_s=pause)


def _trailing_results(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for step in reversed(steps):
        if step["type"] != "function_result":
            break
        results.insert(0, step)
    return results


def _text_step(text: str, annotations: list[dict[str, Any]]) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": text}
    if annotations:
        block["annotations"] = annotations
    return {"type": "model_output", "content": [block]}


def _pad(text: str, length: int) -> str:
    while len(text) < length:
        text += FILLER
    return text[:length]


def _enabled(request: CreateRequest, kind: str) -> bool:
    return any(t["type"] == kind for t in request.tools)


def _function_calls(script: Script, request: CreateRequest) -> list[dict[str, Any]]:
    declared = {t["name"] for t in request.tools if t["type"] == "function"}
    calls = [
        _call(d.arg, d.data if isinstance(d.data, dict) else {})
        for d in script.all("call")
        if d.arg in declared
    ]
    searcher = tool_search(request.tools)
    if searcher is not None and searcher.get("execution") == "client":
        for directive in script.all("toolsearch"):
            names = " ".join(directive.data)
            calls.append(_call(searcher["name"], value_for(searcher.get("parameters"), names)))
    return calls


def _call(name: str, arguments: Any) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": "call_" + secrets.token_hex(6),
        "name": name,
        "arguments": arguments,
    }


def _tool_search_steps(
    names: tuple[str, ...], request: CreateRequest, call_id: str
) -> list[dict[str, Any]]:
    searcher = tool_search(request.tools)
    if searcher is None or searcher.get("execution", "server") != "server":
        return []
    functions = {t["name"]: t for t in request.tools if t["type"] == "function"}
    found = [declaration(functions[n]) for n in names if n in functions]
    return [
        {
            "type": "tool_search_call",
            "id": call_id,
            "arguments": {"function_names": list(names)},
            "signature": signature("tool_search_call " + " ".join(names)),
        },
        {
            "type": "tool_search_result",
            "call_id": call_id,
            "result": found,
            "signature": signature("tool_search_result " + " ".join(names)),
        },
    ]


def _tool_steps(
    script: Script, request: CreateRequest, body: str
) -> tuple[list[dict[str, Any]], Any]:
    steps: list[dict[str, Any]] = []
    if script.first("think") is not None:
        thought: dict[str, Any] = {"type": "thought", "signature": signature(body)}
        if request.generation_config.get("thinking_summaries") == "auto":
            thought["summary"] = [{"type": "text", "text": f"Thinking about: {body}"}]
        steps.append(thought)
    queries: list[str] = []
    for directive in script.directives:
        call_id = "tc_" + secrets.token_hex(6)
        if directive.name == "search" and _enabled(request, "google_search"):
            queries.append(directive.arg)
            suggestion = f'<div class="emulated-search">{html.escape(directive.arg)}</div>'
            steps += [
                {
                    "type": "google_search_call",
                    "id": call_id,
                    "arguments": {"queries": [directive.arg]},
                },
                {
                    "type": "google_search_result",
                    "call_id": call_id,
                    "result": [{"search_suggestions": suggestion}],
                },
            ]
        elif directive.name == "code" and _enabled(request, "code_execution"):
            lines = len(directive.arg.splitlines()) or 1
            steps += [
                {
                    "type": "code_execution_call",
                    "id": call_id,
                    "arguments": {"code": directive.arg, "language": "python"},
                },
                {
                    "type": "code_execution_result",
                    "call_id": call_id,
                    "result": f"[emulated] ran {lines} line(s) of python, no output",
                },
            ]
        elif directive.name == "url" and _enabled(request, "url_context"):
            steps += [
                {"type": "url_context_call", "id": call_id, "arguments": {"urls": [directive.arg]}},
                {
                    "type": "url_context_result",
                    "call_id": call_id,
                    "result": [{"url": directive.arg, "status": "success"}],
                },
            ]
        elif directive.name == "mcp":
            steps += _mcp_steps(directive.data, request, call_id)
        elif directive.name == "toolsearch":
            steps += _tool_search_steps(directive.data, request, call_id)

    def annotations_for(reply: str) -> list[dict[str, Any]]:
        prefix = reply.find(body) if body else -1
        start = len(reply[: max(prefix, 0)].encode())
        end = start + len(body.encode()) if prefix >= 0 else len(reply.encode())
        return [
            {
                "type": "url_citation",
                "url": f"https://www.example.com/search/{quote(q)}",
                "title": f"{q} (emulated source)",
                "start_index": start,
                "end_index": end,
            }
            for q in queries
        ]

    return steps, annotations_for


def _mcp_steps(data: Any, request: CreateRequest, call_id: str) -> list[dict[str, Any]]:
    server, tool = data
    if not any(t["type"] == "mcp_server" and t.get("name") == server for t in request.tools):
        return []
    return [
        {
            "type": "mcp_server_tool_call",
            "id": call_id,
            "name": tool,
            "server_name": server,
            "arguments": {},
        },
        {
            "type": "mcp_server_tool_result",
            "call_id": call_id,
            "name": tool,
            "server_name": server,
            "result": [{"type": "text", "text": f"[emulated] {server}.{tool} returned nothing"}],
        },
    ]
