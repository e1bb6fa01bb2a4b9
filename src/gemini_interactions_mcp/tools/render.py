"""Results as MCP content: readable text for the model, and the structured value for programs."""

from __future__ import annotations

from mcp.types import CallToolResult, ResourceLink, TextContent
from pydantic import BaseModel

from ..core.results import Answer, ConversationList, Research

__all__ = ["answer", "conversations", "research"]


def _result(value: BaseModel, text: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(text=text)],
        structured_content=value.model_dump(mode="json", exclude_none=True),
    )


def answer(result: Answer) -> CallToolResult:
    lines = []
    if result.text:
        lines.append(result.text)
    for call in result.function_calls or []:
        lines.append(f"[function call {call.call_id}] {call.name}({call.arguments})")
    if result.sources:
        lines.append("Sources: " + "; ".join(s.url for s in result.sources))
    lines.extend(f"Note: {n}" for n in result.notes)
    lines.append(
        f"[conversation_id={result.conversation_id} status={result.status} model={result.model}]"
    )
    return _result(result, "\n".join(lines))


def research(result: Research) -> CallToolResult:
    lines = [f"research_id={result.research_id} status={result.status} agent={result.agent}"]
    if result.elapsed_seconds is not None:
        lines[0] += f" elapsed={result.elapsed_seconds:g}s"
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
    if result.sources:
        lines.append("Sources:")
        lines.extend(f"- {s.title or s.url}: {s.url}" for s in result.sources)
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


def conversations(result: ConversationList) -> CallToolResult:
    lines = [
        f"{i.conversation_id}  {i.kind}  {i.status}  turns={i.turns}"
        + (f"  follow-ups={i.follow_ups}" if i.follow_ups is not None else "")
        + f"  {i.model}  {i.updated}  {i.title}"
        for i in result.conversations
    ] or ["No conversations."]
    if result.forgotten:
        lines.insert(0, f"Forgot {result.forgotten}.")
    lines.extend(f"Note: {n}" for n in result.notes)
    return _result(result, "\n".join(lines))
