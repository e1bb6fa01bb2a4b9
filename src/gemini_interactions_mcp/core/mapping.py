"""Upstream vocabulary → MCP vocabulary: interactions become answers, events become progress."""

from __future__ import annotations

from collections.abc import Sequence

from ..state.values import Source, Usage
from ..upstream import wire
from .results import Answer, FunctionCall, ToolActivity

_DETAIL_CHARS = 300
_TAIL_CHARS = 160
TITLE_CHARS = 60

TERMINAL_NOTES = {
    "failed": "Gemini reported the turn as failed.",
    "cancelled": "The turn was cancelled.",
    "incomplete": "The answer is incomplete (it hit max_output_tokens or another limit).",
    "budget_exceeded": "The agent ran out of budget before finishing.",
    "idle": "Gemini waits for your next message; send it with gemini_continue.",
}


def short(text: str, limit: int = _DETAIL_CHARS) -> str:
    """One line of at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _texts(blocks: Sequence[wire.Content]) -> list[str]:
    return [b.text for b in blocks if isinstance(b, wire.TextContent) and b.text]


def activity_of(step: wire.Step | None) -> ToolActivity | None:
    """A one-line description of a built-in tool step, or None for other steps."""
    if isinstance(step, wire.GoogleSearchCallStep):
        return ToolActivity(kind="google_search", detail=short("; ".join(step.arguments.queries)))
    if isinstance(step, wire.UrlContextCallStep):
        return ToolActivity(kind="url_context", detail=short(" ".join(step.arguments.urls)))
    if isinstance(step, wire.CodeExecutionCallStep):
        return ToolActivity(kind="code_execution", detail=short(step.arguments.code or ""))
    if isinstance(step, wire.CodeExecutionResultStep):
        result = (
            step.result if isinstance(step.result, str) else " ".join(_texts(step.result or []))
        )
        kind = "code_execution_error" if step.is_error else "code_execution_result"
        return ToolActivity(kind=kind, detail=short(result))
    if isinstance(step, wire.McpServerToolCallStep):
        return ToolActivity(kind="mcp_server", detail=f"{step.server_name}/{step.name}")
    if isinstance(step, wire.FileSearchCallStep):
        return ToolActivity(kind="file_search")
    if isinstance(step, wire.GoogleMapsCallStep):
        queries = step.arguments.queries if step.arguments else []
        return ToolActivity(kind="google_maps", detail=short("; ".join(queries)))
    if isinstance(step, wire.ToolSearchCallStep):
        return ToolActivity(
            kind="tool_search", detail=short(", ".join(step.arguments.function_names))
        )
    if isinstance(step, wire.RetrievalCallStep):
        return ToolActivity(kind="retrieval", detail=short("; ".join(step.arguments.queries)))
    return None


def sources_of(steps: Sequence[wire.Step]) -> list[Source]:
    """Cited URLs, in order of first citation, without duplicates."""
    seen: dict[str, Source] = {}
    for step in steps:
        if not isinstance(step, wire.ModelOutputStep):
            continue
        for block in step.content:
            if not isinstance(block, wire.TextContent):
                continue
            for note in block.annotations:
                url = getattr(note, "url", None)
                if isinstance(note, (wire.UrlCitation, wire.PlaceCitation)) and url:
                    title = getattr(note, "title", None) or getattr(note, "name", None)
                    seen.setdefault(url, Source(url=url, title=title))
    return list(seen.values())


def usage_of(usage: wire.Usage | None, steps: Sequence[wire.Step] = ()) -> Usage | None:
    """Token counts, and how many Google searches ran (as billed, or as the steps show)."""
    if usage is None:
        return None
    grounded = [g.count or 0 for g in usage.grounding_tool_count if g.type == "google_search"]
    searches = sum(grounded) if grounded else _search_queries(steps)
    return Usage(
        input_tokens=usage.total_input_tokens or 0,
        output_tokens=usage.total_output_tokens or 0,
        thought_tokens=usage.total_thought_tokens or 0,
        cached_tokens=usage.total_cached_tokens or 0,
        total_tokens=usage.total_tokens or 0,
        searches=searches,
    )


def _search_queries(steps: Sequence[wire.Step]) -> int:
    return sum(
        len(step.arguments.queries) for step in steps if isinstance(step, wire.GoogleSearchCallStep)
    )


def answer(interaction: wire.Interaction, *, conversation_id: str, model: str) -> Answer:
    """The tool result for a finished (or paused) interaction."""
    steps = interaction.output_steps
    thoughts = [t for s in steps if isinstance(s, wire.ThoughtStep) for t in _texts(s.summary)]
    activity = [a for a in (activity_of(s) for s in steps) if a is not None]
    calls = [
        FunctionCall(call_id=c.id, name=c.name, arguments=c.arguments)
        for c in interaction.function_calls
    ]
    notes = []
    if interaction.status in TERMINAL_NOTES:
        notes.append(TERMINAL_NOTES[interaction.status])
    notes.extend(
        f"Gemini error: {e.code}: {e.message}" for e in interaction.errors if e.message or e.code
    )
    if calls:
        notes.append(
            "Gemini wants these functions run; answer with gemini_continue(function_results="
            "[{call_id, result}])."
        )
    return Answer(
        conversation_id=conversation_id,
        interaction_id=interaction.id or None,
        status=interaction.status or "completed",
        text=interaction.output_text,
        model=interaction.model or interaction.agent or model,
        notes=notes,
        thoughts=thoughts or None,
        tool_activity=activity or None,
        sources=sources_of(steps) or None,
        function_calls=calls or None,
        usage=usage_of(interaction.usage, steps),
    )


class Narrator:
    """Turns a stream of events into short progress messages ("searching: …", text so far)."""

    def __init__(self) -> None:
        self.text = ""

    def message(self, event: wire.StreamEvent) -> tuple[str, str] | None:
        """``(kind, message)`` for an event worth reporting; kind "text" may be throttled."""
        if isinstance(event, wire.StepStartEvent):
            step = event.step
            if isinstance(step, wire.ThoughtStep):
                return "state", "thinking"
            if isinstance(step, wire.FunctionCallStep) and step.name:
                return "state", f"function call: {step.name}"
            found = activity_of(step)
            if found is not None and found.detail:
                return "state", _activity_message(found)
            return None
        if isinstance(event, wire.StepDeltaEvent):
            return self._delta(event.delta)
        if isinstance(event, wire.InteractionStatusUpdateEvent):
            return "state", f"status: {event.status}"
        if isinstance(event, wire.ErrorEvent):
            return "state", f"error: {event.error.code}: {event.error.message}"
        return None

    def _delta(self, delta: wire.Delta | None) -> tuple[str, str] | None:
        if isinstance(delta, wire.TextDelta):
            self.text += delta.text
            return "text", f"writing ({len(self.text)} chars): …{short(self.text[-_TAIL_CHARS:])}"
        if isinstance(delta, wire.ThoughtSummaryDelta):
            content = delta.content
            if isinstance(content, wire.TextContent) and content.text:
                return "state", f"thought: {short(content.text)}"
            return None
        if isinstance(delta, wire.GoogleSearchCallDelta):
            return "state", f"searching: {short('; '.join(delta.arguments.queries))}"
        if isinstance(delta, wire.UrlContextCallDelta):
            return "state", f"reading: {short(' '.join(delta.arguments.urls))}"
        if isinstance(delta, wire.CodeExecutionCallDelta):
            return "state", f"running code: {short(delta.arguments.code or '', 80)}"
        if isinstance(delta, wire.McpServerToolCallDelta):
            return "state", f"calling MCP tool {delta.server_name}/{delta.name}"
        if isinstance(delta, wire.FileSearchCallDelta):
            return "state", "searching files"
        if isinstance(delta, wire.ToolSearchCallDelta):
            names = delta.arguments.function_names if delta.arguments else []
            return "state", f"loading functions: {short(', '.join(names))}"
        return None


def _activity_message(activity: ToolActivity) -> str:
    verbs = {
        "google_search": "searching",
        "url_context": "reading",
        "code_execution": "running code",
        "mcp_server": "calling MCP tool",
        "tool_search": "loading functions",
    }
    return f"{verbs.get(activity.kind, activity.kind)}: {activity.detail}"
