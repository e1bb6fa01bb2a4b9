"""The emulated Deep Research agent.

A run is background only and takes ``research_seconds``, paced evenly over its events:
``thought`` (summaries) → ``google_search_call``/``_result`` → ``thought`` →
``url_context_call``/``_result`` → ``google_search_call``/``_result`` → ``thought`` →
``model_output`` with the report. Summaries are left out when
``agent_config.thinking_summaries == "none"``.

The report is markdown::

    # Research report: {query}
    ## Summary / ## Background / ## Key findings [/ ## At a glance] [/ ## Plan feedback]
    ## Sources   (a numbered list of three links)

Its text carries ``url_citation`` annotations (byte offsets) to three distinct URLs
derived from the query. ``visualization: "auto"`` adds the "At a glance" table.

Turns along a ``previous_interaction_id`` chain:

* ``collaborative_planning: true`` on a first turn: a quick run (``research_seconds / 10``)
  whose text starts ``Research plan for "{query}":`` and ends asking for confirmation.
* the turn after a plan: the full research on the original query (the turn's text is
  quoted under "Plan feedback").
* a turn after a finished research: a short run (``research_seconds / 4``) whose text is
  ``turn {N}: {text} | research: {original query}``.

Only ``[[drop K]]`` and ``[[fail CODE]]`` are honoured in research prompts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import sse
from .config import EmulatorConfig
from .directives import parse
from .engine import RunPlan
from .record import Record
from .scripted import signature
from .validation import CreateRequest, user_text

REPORT_CHUNK = 40


@dataclass
class ResearchRun:
    plan: RunPlan
    kind: str
    """"plan", "research" or "followup"."""
    query: str
    drop_after: int | None


def script_research(
    request: CreateRequest, *, turns: int, previous: Record | None, config: EmulatorConfig
) -> ResearchRun:
    """Decide what one agent turn does."""
    script = parse(user_text(request.input_steps) or "")
    drop = script.first("drop")
    summaries = request.agent_config.get("thinking_summaries") != "none"
    query = previous.research_query if previous is not None else None
    if query is not None and previous is not None and previous.research_kind == "plan":
        kind, steps = "research", _research_steps(query, script.text, request, summaries)
        seconds = config.research_seconds
    elif query is not None:
        kind, seconds = "followup", config.research_seconds / 4
        text = f"turn {turns}: {script.text} | research: {query}"
        steps = [
            _thought([f'Looking back at the research on "{query}".'], summaries),
            {"type": "model_output", "content": [{"type": "text", "text": text}]},
        ]
    else:
        query = script.text
        if request.agent_config.get("collaborative_planning") is True:
            kind, steps = "plan", _plan_steps(query, summaries)
            seconds = config.research_seconds / 10
        else:
            kind, steps = "research", _research_steps(query, "", request, summaries)
            seconds = config.research_seconds
    planned = [sse.plan(s, text_chunk=REPORT_CHUNK) for s in steps]
    plan = RunPlan(steps=planned, pace_starts=True)
    fail = script.first("fail")
    if fail is not None:
        plan.steps = planned[: max(1, len(planned) // 2)]
        plan.status = "failed"
        plan.fields = {
            "errors": [{"code": str(fail.data), "message": f"Emulated failure: {fail.data}."}]
        }
    events = sum(1 + len(p.deltas) for p in plan.steps) + 1
    plan.pause_s = seconds / events
    return ResearchRun(plan, kind, query, None if drop is None else int(drop.data))


def _thought(summary: list[str], summaries: bool) -> dict[str, Any]:
    step: dict[str, Any] = {"type": "thought", "signature": signature(" ".join(summary))}
    if summaries:
        step["summary"] = [{"type": "text", "text": s} for s in summary]
    return step


def _plan_steps(query: str, summaries: bool) -> list[dict[str, Any]]:
    text = (
        f'Research plan for "{query}":\n'
        f"1. Search for an overview of {query}.\n"
        "2. Read the most relevant sources in full.\n"
        "3. Collect figures and recent research.\n"
        "4. Write a cited report.\n\n"
        "Shall I go ahead with this plan? Reply to confirm, or say what to change."
    )
    return [
        _thought([f'Drafting a research plan for "{query}".'], summaries),
        {"type": "model_output", "content": [{"type": "text", "text": text}]},
    ]


def sources(query: str) -> list[tuple[str, str]]:
    """The three (url, title) pairs a report on ``query`` cites."""
    slug = re.sub(r"[^a-z0-9]+", "-", query.lower()).strip("-")[:48] or "topic"
    return [
        (f"https://www.example.org/{slug}/overview", f"Overview of {query}"),
        (f"https://research.example.com/papers/{slug}", f"Recent research on {query}"),
        (f"https://data.example.net/{slug}/statistics", f"Key figures: {query}"),
    ]


def _research_steps(
    query: str, feedback: str, request: CreateRequest, summaries: bool
) -> list[dict[str, Any]]:
    cited = sources(query)
    urls = [url for url, _ in cited]
    return [
        _thought(
            [f'Planning the research on "{query}".', "Breaking the question into sub-topics."],
            summaries,
        ),
        *_search("dr_s1", [query, f"{query} overview", f"{query} latest research"]),
        _thought(["Reading the most relevant sources."], summaries),
        {"type": "url_context_call", "id": "dr_u1", "arguments": {"urls": urls}},
        {
            "type": "url_context_result",
            "call_id": "dr_u1",
            "result": [{"url": url, "status": "success"} for url in urls],
        },
        *_search("dr_s2", [f"{query} statistics"]),
        _thought(["Writing the report."], summaries),
        _report_step(query, feedback, request.agent_config.get("visualization") == "auto"),
    ]


def _search(call_id: str, queries: list[str]) -> list[dict[str, Any]]:
    return [
        {"type": "google_search_call", "id": call_id, "arguments": {"queries": queries}},
        {
            "type": "google_search_result",
            "call_id": call_id,
            "result": [{"search_suggestions": q} for q in queries],
        },
    ]


class _Report:
    """Markdown built piece by piece, so citations get exact byte offsets."""

    def __init__(self, cited: list[tuple[str, str]]) -> None:
        self.text = ""
        self.cited = cited
        self.annotations: list[dict[str, Any]] = []

    def add(self, text: str, source: int | None = None) -> None:
        start = len(self.text.encode())
        self.text += text
        if source is not None:
            url, title = self.cited[source]
            self.annotations.append(
                {
                    "type": "url_citation",
                    "url": url,
                    "title": title,
                    "start_index": start,
                    "end_index": len(self.text.encode()),
                }
            )


def _report_step(query: str, feedback: str, table: bool) -> dict[str, Any]:
    report = _Report(sources(query))
    report.add(f"# Research report: {query}\n\n## Summary\n\n")
    report.add(f"This report brings together what is known about {query}.", 0)
    report.add(" It draws on three independent sources and notes where they disagree.\n\n")
    report.add("## Background\n\n")
    report.add(f"The topic of {query} has been studied from several angles.", 1)
    report.add(" Earlier work focused on definitions; newer work on measurable effects.\n\n")
    report.add("## Key findings\n\n1. ")
    report.add(f"The overview sources agree on the main facts about {query}.", 0)
    report.add("\n2. ")
    report.add("Recent figures show a steady trend over the last five years.", 2)
    report.add("\n3. Open questions remain about long-term effects.\n\n")
    if table:
        report.add("## At a glance\n\n| Aspect | Finding | Source |\n|---|---|---|\n")
        report.add("| Scope | Well defined | [1] |\n| Trend | Steady growth | [3] |\n\n")
    if feedback:
        report.add(
            f'## Plan feedback\n\nThe confirmed plan was followed. You said: "{feedback}"\n\n'
        )
    report.add("## Sources\n\n")
    for number, (url, title) in enumerate(report.cited, start=1):
        report.add(f"{number}. [{title}]({url})\n")
    block = {"type": "text", "text": report.text, "annotations": report.annotations}
    return {"type": "model_output", "content": [block]}
