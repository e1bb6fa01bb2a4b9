"""What a running Deep Research has done so far, built from its event stream.

Kept as plain JSON in the research record (``data["progress"]``) together with the id of the
last event it includes, so a monitor that restarts resumes the stream exactly after it and
never counts an event twice.
"""

from __future__ import annotations

from typing import Any

from .. import mapping
from ..upstream import wire

MAX_THOUGHTS = 8
MAX_ITEMS = 50


def empty() -> dict[str, Any]:
    return {
        "phase": "queued",
        "thoughts": [],
        "searches": [],
        "pages": [],
        "search_count": 0,
        "page_count": 0,
        "text_chars": 0,
    }


def apply(progress: dict[str, Any], event: Any) -> bool:
    """Fold one event into `progress`; True if something a reader would see changed."""
    if isinstance(event, wire.InteractionStatusUpdateEvent):
        if event.status in ("queued", "in_progress") and progress["phase"] == "queued":
            progress["phase"] = "planning" if event.status == "in_progress" else "queued"
            return True
        return False
    if isinstance(event, wire.StepStartEvent):
        if isinstance(event.step, wire.ThoughtStep) and progress["phase"] in ("queued", "planning"):
            progress["phase"] = "thinking"
            return True
        return _tool_step(progress, event.step, event.index)
    if isinstance(event, wire.StepDeltaEvent):
        delta = event.delta
        if isinstance(delta, wire.ThoughtSummaryDelta):
            content = delta.content
            if isinstance(content, wire.TextContent) and content.text:
                _push(progress["thoughts"], " ".join(content.text.split()), MAX_THOUGHTS)
                return True
        elif isinstance(delta, wire.GoogleSearchCallDelta):
            progress["phase"] = "searching"
            return _add(progress, "searches", delta.arguments.queries, event.index)
        elif isinstance(delta, wire.UrlContextCallDelta):
            progress["phase"] = "reading"
            return _add(progress, "pages", delta.arguments.urls, event.index)
        elif isinstance(delta, wire.TextDelta):
            first = bool(progress["phase"] != "writing")
            progress["phase"] = "writing"
            progress["text_chars"] += len(delta.text)
            return first
        return False
    return isinstance(event, wire.InteractionCompletedEvent)


def _tool_step(progress: dict[str, Any], step: Any, index: int) -> bool:
    """Tool steps announced whole in step.start (some servers send arguments there)."""
    if isinstance(step, wire.GoogleSearchCallStep) and step.arguments.queries:
        progress["phase"] = "searching"
        return _add(progress, "searches", step.arguments.queries, index)
    if isinstance(step, wire.UrlContextCallStep) and step.arguments.urls:
        progress["phase"] = "reading"
        return _add(progress, "pages", step.arguments.urls, index)
    return False


def _add(progress: dict[str, Any], key: str, items: list[str], index: int) -> bool:
    """Count a tool step's items once, whether they came in step.start or in a delta."""
    counted = progress.setdefault("counted_steps", [])
    if index in counted:
        return False
    counted.append(index)
    counter = "search_count" if key == "searches" else "page_count"
    progress[counter] = progress.get(counter, 0) + len(items)
    for item in items:
        _push(progress[key], item, MAX_ITEMS)
    return True


def _push(items: list[str], item: str, limit: int) -> None:
    items.append(mapping.short(item))
    del items[:-limit]


def summary(progress: dict[str, Any]) -> str:
    """One line for a progress notification."""
    parts = [progress.get("phase", "working")]
    if progress.get("search_count"):
        parts.append(f"{progress['search_count']} searches")
    if progress.get("page_count"):
        parts.append(f"{progress['page_count']} pages read")
    thoughts = progress.get("thoughts") or []
    if thoughts:
        parts.append(f"latest: {thoughts[-1]}")
    return "; ".join(parts)
