"""Results as MCP content: readable text for the model, and the structured value for programs."""

from __future__ import annotations

import json

from mcp.types import CallToolResult, ResourceLink, TextContent
from pydantic import BaseModel

from ..core.results import Answer, ConversationList, Research, Source, Usage

__all__ = ["answer", "conversations", "research"]


def _result(value: BaseModel, text: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(text=text)],
        structured_content=value.model_dump(mode="json", exclude_none=True),
    )


def answer(result: Answer) -> CallToolResult:
    """The answer first, then what else a model may use: calls to make, thoughts, tool
    activity, sources, notes, and a footer with the handle, status and usage."""
    lines = []
    if result.text:
        lines.append(result.text)
    for call in result.function_calls or []:
        arguments = json.dumps(call.arguments, ensure_ascii=False)
        lines.append(f"[function call {call.call_id}] {call.name}({arguments})")
    if result.thoughts:
        lines.append("Thought summaries:")
        lines.extend(f"- {thought}" for thought in result.thoughts)
    if result.tool_activity:
        lines.append(
            "Tools used: "
            + "; ".join(
                f"{a.kind}: {a.detail}" if a.detail else a.kind for a in result.tool_activity
            )
        )
    lines.extend(_sources(result.sources, result.text))
    lines.extend(f"Note: {n}" for n in result.notes)
    footer = f"conversation_id={result.conversation_id} status={result.status} model={result.model}"
    if result.usage is not None:
        footer += " " + _usage(result.usage)
    lines.append(f"[{footer}]")
    return _result(result, "\n".join(lines))


def research(result: Research) -> CallToolResult:
    """Where the research is (or its plan, or its report), with sources and notes."""
    head = f"research_id={result.research_id} status={result.status} agent={result.agent}"
    if result.elapsed_seconds is not None:
        head += f" elapsed={result.elapsed_seconds:g}s"
    if result.usage is not None:
        head += " " + _usage(result.usage)
    lines = [head]
    if result.progress is not None and result.status != "completed":
        p = result.progress
        lines.append(f"phase: {p.phase}; {p.searches} searches; {p.pages_read} pages read")
        lines.extend(f"thought: {t}" for t in p.thoughts[-3:])
    if result.error:
        lines.append(f"error: {result.error}")
    if result.plan:
        lines.append(f"Proposed plan:\n{result.plan}")
    if result.report:
        lines.append(result.report)
    lines.extend(_sources(result.sources, result.report or ""))
    lines.extend(f"Note: {n}" for n in result.notes)
    out = _result(result, "\n".join(lines))
    if result.report_uri:
        out.content.append(
            ResourceLink(
                name=f"report {result.research_id}",
                uri=result.report_uri,
                mime_type="text/markdown",
            )
        )
    return out


def _sources(sources: list[Source] | None, text: str) -> list[str]:
    """Cited pages the text does not already list (a report carries its own)."""
    missing = [s for s in sources or [] if s.url not in text]
    if not missing:
        return []
    return ["Sources:", *(f"- {s.title}: {s.url}" if s.title else f"- {s.url}" for s in missing)]


def _usage(usage: Usage) -> str:
    text = (
        f"tokens: {usage.input_tokens} in, {usage.output_tokens} out, "
        f"{usage.thought_tokens} thinking"
    )
    if usage.cost_usd is not None:
        text += f"; cost ~${usage.cost_usd:.4f}"
    elif usage.cost_basis:
        text += "; cost unknown"
    if usage.total_cost_usd is not None:
        text += f" (so far ~${usage.total_cost_usd:.4f})"
    return text


def conversations(result: ConversationList) -> CallToolResult:
    lines = [
        f"{i.conversation_id}  {i.kind}  {i.status}  turns={i.turns}"
        + (f"  follow-ups={i.follow_ups}" if i.follow_ups is not None else "")
        + (f"  ~${i.cost_usd:.4f}" if i.cost_usd is not None else "  cost unknown")
        + f"  {i.model}  {i.updated}  {i.title}"
        for i in result.conversations
    ] or ["No conversations."]
    if result.spend is not None:
        lines.append(
            f"Spent (estimated): ${result.spend.today_usd:.4f} today, "
            f"${result.spend.month_usd:.4f} this month (UTC)."
        )
    if result.forgotten:
        lines.insert(0, f"Forgot {result.forgotten}.")
    lines.extend(f"Note: {n}" for n in result.notes)
    return _result(result, "\n".join(lines))
