"""What a running Deep Research has done so far, folded from its event stream.

Kept in the research record (``ResearchState.progress``) together with the id of the last
event it includes, so a monitor that restarts resumes the stream exactly after it and never
counts an event twice.
"""

from __future__ import annotations

from ..state.records import ResearchProgress
from ..upstream import wire
from .mapping import short

__all__ = ["MAX_ITEMS", "MAX_THOUGHTS", "apply", "summary"]

MAX_THOUGHTS = 8
MAX_ITEMS = 50


def apply(progress: ResearchProgress, event: wire.StreamEvent) -> bool:
    """Fold one event into `progress`; True if something a reader would see changed."""
    if isinstance(event, wire.InteractionStatusUpdateEvent):
        if event.status in ("queued", "in_progress") and progress.phase == "queued":
            progress.phase = "planning" if event.status == "in_progress" else "queued"
            return True
        return False
    if isinstance(event, wire.StepStartEvent):
        if isinstance(event.step, wire.ThoughtStep) and progress.phase in ("queued", "planning"):
            progress.phase = "thinking"
            return True
        return _tool_step(progress, event.step, event.index)
    if isinstance(event, wire.StepDeltaEvent):
        delta = event.delta
        if isinstance(delta, wire.ThoughtSummaryDelta):
            content = delta.content
            if isinstance(content, wire.TextContent) and content.text:
                _push(progress.thoughts, " ".join(content.text.split()), MAX_THOUGHTS)
                return True
        elif isinstance(delta, wire.GoogleSearchCallDelta):
            progress.phase = "searching"
            return _count(progress, delta.arguments.queries, event.index, searches=True)
        elif isinstance(delta, wire.UrlContextCallDelta):
            progress.phase = "reading"
            return _count(progress, delta.arguments.urls, event.index, searches=False)
        elif isinstance(delta, wire.TextDelta):
            first = progress.phase != "writing"
            progress.phase = "writing"
            progress.text_chars += len(delta.text)
            return first
        return False
    return isinstance(event, wire.InteractionCompletedEvent)


def _tool_step(progress: ResearchProgress, step: wire.Step | None, index: int) -> bool:
    """Tool steps announced whole in step.start (some servers send arguments there)."""
    if isinstance(step, wire.GoogleSearchCallStep) and step.arguments.queries:
        progress.phase = "searching"
        return _count(progress, step.arguments.queries, index, searches=True)
    if isinstance(step, wire.UrlContextCallStep) and step.arguments.urls:
        progress.phase = "reading"
        return _count(progress, step.arguments.urls, index, searches=False)
    return False


def _count(progress: ResearchProgress, items: list[str], index: int, *, searches: bool) -> bool:
    """Count a tool step's items once, whether they came in step.start or in a delta."""
    if index in progress.counted_steps:
        return False
    progress.counted_steps.append(index)
    if searches:
        progress.search_count += len(items)
    else:
        progress.page_count += len(items)
    for item in items:
        _push(progress.searches if searches else progress.pages, item, MAX_ITEMS)
    return True


def _push(items: list[str], item: str, limit: int) -> None:
    items.append(short(item))
    del items[:-limit]


def summary(progress: ResearchProgress) -> str:
    """One line for a progress notification."""
    parts = [progress.phase]
    if progress.search_count:
        parts.append(f"{progress.search_count} searches")
    if progress.page_count:
        parts.append(f"{progress.page_count} pages read")
    if progress.thoughts:
        parts.append(f"latest: {progress.thoughts[-1]}")
    return "; ".join(parts)
