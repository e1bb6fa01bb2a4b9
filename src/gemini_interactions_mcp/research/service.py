"""Deep Research runs: start, status (optionally waiting), cancel, and follow-up turns.

A research is a conversation record of kind ``research``. Upstream it is a background
interaction of the Deep Research agent; the monitor records its progress and outcome, so
everything here reads the store and stays cheap.
"""

from __future__ import annotations

from typing import Any

import anyio

from ..app import AppState
from ..chat import Conversations
from ..errors import ToolError
from ..progress import Progress
from ..results import Answer, Research, ResearchProgress, Source, Usage
from ..state.base import ACTIVE_RESEARCH_STATUSES, ConversationRecord, mutate, new_handle
from ..upstream import errors as up
from . import REPORT_URI
from . import progress as prog
from .monitor import ResearchMonitor, record_result

_STORE_POLL = 1.0
# How long a start may take before a research with no upstream id counts as lost.
ORPHAN_GRACE = 300.0


class ResearchService:
    """Deep Research operations for one owner."""

    def __init__(
        self, app: AppState, monitor: ResearchMonitor, owner: str, progress: Progress
    ) -> None:
        self.app = app
        self.monitor = monitor
        self.owner = owner
        self.progress = progress

    async def start(
        self,
        query: str,
        *,
        agent: str,
        tools: list[dict[str, Any]],
        collaborative_planning: bool,
        visualization: bool,
        notes: list[str],
    ) -> Research:
        """Start the agent in the background and record it before answering."""
        agent_config = {
            "type": "deep-research",
            "thinking_summaries": "auto",
            "visualization": "auto" if visualization else "off",
            "collaborative_planning": collaborative_planning,
        }
        settings: dict[str, Any] = {"agent_config": agent_config}
        if tools:
            settings["tools"] = tools
        store = await self.app.store()
        now = self.app.clock()
        rec = ConversationRecord(
            id=new_handle("r_"),
            owner=self.owner,
            kind="research",
            title=_title(query),
            model=agent,
            status="queued",
            settings=settings,
            data={
                "query": query,
                "started_at": now,
                "progress": prog.empty(),
                "planning": collaborative_planning,
                "interaction_ids": [],
                "store": True,
            },
            created_at=now,
            updated_at=now,
        )
        await store.insert(rec)
        body = {"agent": agent, "input": query, "background": True, "store": True, **settings}
        client = await self.app.client()
        # Once the request is out, paid work may exist upstream: the create and its recording
        # finish even if the caller goes away (the HTTP timeouts bound the wait).
        with anyio.CancelScope(shield=True):
            try:
                interaction = await client.create(body)
            except BaseException:
                await store.delete(self.owner, rec.id)
                raise
            stored = await self._started(
                rec.id, interaction.id, interaction.status or "in_progress"
            )
            self.monitor.track(self.owner, rec.id)
        notes = [
            *notes,
            "Deep Research runs in the background, usually for several minutes. Check it with "
            f"deep_research_status(research_id={rec.id!r}, wait_seconds=30).",
        ]
        return self._view(stored, offset=0, max_chars=0, notes=notes)

    async def status(
        self, research_id: str, *, wait_seconds: float, offset: int, max_chars: int | None
    ) -> Research:
        """The research as recorded; with `wait_seconds`, wait for completion or new progress."""
        rec = await self.find(research_id)
        if rec.status in ACTIVE_RESEARCH_STATUSES and not self.monitor.is_watching(rec.id):
            self.monitor.track(self.owner, rec.id)
        wait = min(wait_seconds, self.app.settings.call_budget)
        if wait > 0 and rec.status in ACTIVE_RESEARCH_STATUSES:
            rec = await self._wait(rec, wait)
        return self._view(rec, offset=offset, max_chars=max_chars)

    async def cancel(self, research_id: str) -> Research:
        """Cancel upstream; a finished research is left as it is."""
        rec = await self.find(research_id)
        if rec.status not in ACTIVE_RESEARCH_STATUSES:
            return self._view(
                rec,
                offset=0,
                max_chars=0,
                notes=[f"This research is already {rec.status}; nothing was changed."],
            )
        if rec.last_interaction_id is None:
            raise ToolError(
                f"Research {rec.id} is still starting; try deep_research_cancel again in a moment."
            )
        client = await self.app.client()
        try:
            final = await client.cancel(rec.last_interaction_id)
        except up.BadRequestError:
            # It finished between our read and the cancel: report what it became.
            final = await client.get(rec.last_interaction_id)
        self.monitor.stop(rec.id)
        interaction_id = rec.last_interaction_id
        store = await self.app.store()

        def change(cur: ConversationRecord) -> ConversationRecord | None:
            if cur.last_interaction_id != interaction_id:
                return None
            return record_result(cur, final, self.app.clock())

        updated = await mutate(store, self.owner, rec.id, change, clock=self.app.clock)
        self.monitor.notify(rec.id)
        assert updated is not None
        notes = []
        if updated.status != "cancelled":
            notes.append(f"It had already ended as {updated.status}; nothing was cancelled.")
        return self._view(updated, offset=0, max_chars=0, notes=notes)

    async def follow_up(self, convs: Conversations, rec: ConversationRecord, prompt: str) -> Answer:
        """A follow-up turn (or the plan confirmation) on a research, run by the agent."""
        async with convs.lease(rec.id) as rec:
            if rec.status in ACTIVE_RESEARCH_STATUSES:
                raise ToolError(
                    f"Research {rec.id} is still running; wait for it with deep_research_status "
                    "before asking a follow-up."
                )
            settings = dict(rec.settings)
            # Confirming a plan (or asking a follow-up) must let the agent carry on, not plan again.
            settings["agent_config"] = {**settings["agent_config"], "collaborative_planning": False}
            body = {
                "agent": rec.model,
                "input": prompt,
                "previous_interaction_id": rec.last_interaction_id,
                "background": True,
                "store": True,
                **settings,
            }
            client = await self.app.client()
            # As in start(): once sent, the follow-up is recorded even if the caller goes away.
            with anyio.CancelScope(shield=True):
                interaction = await client.create(body)
                updated = await self._followed(rec, interaction, prompt)
        self.monitor.track(self.owner, rec.id)
        return await self.answer(updated, within=convs.remaining())

    async def _followed(
        self, rec: ConversationRecord, interaction: Any, prompt: str
    ) -> ConversationRecord:
        """Record a follow-up turn's new interaction on the research."""
        previous = {"interaction_id": rec.last_interaction_id, "report": rec.data.get("report")}

        def change(cur: ConversationRecord) -> ConversationRecord:
            cur.data.setdefault("history", []).append(previous)
            cur.data.update(
                progress=prog.empty(),
                last_event_id=None,
                report=None,
                sources=None,
                usage=None,
                error=None,
                planning=False,
                followup=prompt,
                started_at=self.app.clock(),
                finished_at=None,
            )
            cur.last_interaction_id = interaction.id
            cur.data.setdefault("interaction_ids", []).append(interaction.id)
            cur.status = interaction.status or "in_progress"
            cur.turns += 1
            return cur

        store = await self.app.store()
        updated = await mutate(store, self.owner, rec.id, change, clock=self.app.clock)
        assert updated is not None
        return updated

    async def answer(self, rec: ConversationRecord, *, within: float) -> Answer:
        """The research's latest answer as a conversation turn, waiting `within` seconds."""
        if rec.status in ACTIVE_RESEARCH_STATUSES and not self.monitor.is_watching(rec.id):
            self.monitor.track(self.owner, rec.id)
        done = await self._wait(rec, within, until_done=True)
        view = self._view(done, offset=0, max_chars=None)
        notes = list(view.notes)
        if done.status in ACTIVE_RESEARCH_STATUSES:
            notes.append(
                f"Still running; follow it with deep_research_status(research_id={rec.id!r})."
            )
        return Answer(
            conversation_id=rec.id,
            interaction_id=done.last_interaction_id,
            status=done.status,
            text=view.report or "",
            model=rec.model,
            notes=notes,
            sources=view.sources,
            usage=view.usage,
            next_offset=view.next_offset,
        )

    # -- internals -------------------------------------------------------------------------

    async def find(self, research_id: str) -> ConversationRecord:
        store = await self.app.store()
        rec = await store.get(self.owner, research_id)
        if rec is None or rec.kind != "research":
            raise ToolError(
                f"Unknown research_id {research_id!r}; gemini_conversations lists your research."
            )
        if rec.last_interaction_id is None and rec.status in ACTIVE_RESEARCH_STATUSES:
            rec = await self._orphaned(rec)
        return rec

    async def _orphaned(self, rec: ConversationRecord) -> ConversationRecord:
        """A start cut short (say, by a crash) before Gemini's answer was recorded."""
        if self.app.clock() - rec.created_at < ORPHAN_GRACE:
            return rec
        store = await self.app.store()

        def change(cur: ConversationRecord) -> ConversationRecord | None:
            if cur.last_interaction_id is not None:
                return None
            cur.status = "failed"
            cur.data["error"] = (
                "The server stopped before Gemini confirmed the start; nothing can be tracked. "
                "Start the research again."
            )
            return cur

        updated = await mutate(store, self.owner, rec.id, change, clock=self.app.clock)
        return updated or rec

    async def _started(
        self, research_id: str, interaction_id: str, status: str
    ) -> ConversationRecord:
        store = await self.app.store()

        def change(rec: ConversationRecord) -> ConversationRecord:
            rec.last_interaction_id = interaction_id
            rec.data.setdefault("interaction_ids", []).append(interaction_id)
            rec.status = status if status in ACTIVE_RESEARCH_STATUSES else "in_progress"
            rec.turns = 1
            return rec

        rec = await mutate(store, self.owner, research_id, change, clock=self.app.clock)
        assert rec is not None
        return rec

    async def _wait(
        self, rec: ConversationRecord, seconds: float, *, until_done: bool = False
    ) -> ConversationRecord:
        """Wait for the record to end (or, unless `until_done`, to show new progress)."""
        store = await self.app.store()
        start_progress = rec.data.get("progress")
        with anyio.move_on_after(seconds):
            while rec.status in ACTIVE_RESEARCH_STATUSES:
                changed = self.monitor.changed(rec.id)
                # The store is re-read every second too: another process may be the one
                # recording this research.
                with anyio.move_on_after(_STORE_POLL):
                    await changed.wait()
                latest = await store.get(self.owner, rec.id)
                if latest is None:
                    break
                if latest.version != rec.version:
                    await self.progress.report(prog.summary(latest.data.get("progress") or {}))
                rec = latest
                if not until_done and rec.data.get("progress") != start_progress:
                    break
        return rec

    def _view(
        self,
        rec: ConversationRecord,
        *,
        offset: int,
        max_chars: int | None,
        notes: list[str] | None = None,
    ) -> Research:
        data = rec.data
        raw = data.get("progress") or prog.empty()
        view = Research(
            research_id=rec.id,
            status=rec.status,
            agent=rec.model,
            elapsed_seconds=round(
                (data.get("finished_at") or self.app.clock())
                - data.get("started_at", rec.created_at),
                1,
            ),
            progress=ResearchProgress(
                phase=raw.get("phase", "queued"),
                searches=raw.get("search_count", 0),
                pages_read=raw.get("page_count", 0),
                thoughts=raw.get("thoughts", [])[-5:],
                recent_searches=raw.get("searches", [])[-5:],
                recent_pages=raw.get("pages", [])[-5:],
            ),
            error=data.get("error"),
            notes=list(notes or []),
        )
        report = data.get("report")
        if report is not None and rec.status not in ACTIVE_RESEARCH_STATUSES:
            limit = self.app.settings.max_text_chars if max_chars is None else max_chars
            if offset > len(report):
                raise ToolError(f"offset {offset} is past the end of the report ({len(report)}).")
            chunk = report[offset : offset + limit]
            view.report = chunk if limit else None
            end = offset + len(chunk)
            if end < len(report):
                view.next_offset = end
                if limit:
                    view.notes.append(
                        f"Report cut at character {end} of {len(report)}; call "
                        f"deep_research_status with offset={end} for more."
                    )
            view.report_uri = REPORT_URI.format(research_id=rec.id)
            view.sources = [Source(**s) for s in data.get("sources") or []] or None
            usage = data.get("usage")
            view.usage = Usage(**usage) if usage else None
        if rec.status == "awaiting_plan_confirmation":
            view.notes.append(
                "The agent proposes the plan above. Confirm it (or ask for changes) with "
                f"gemini_continue(conversation_id={rec.id!r}, prompt=...) to start the research."
            )
        return view


def _title(query: str) -> str:
    words = " ".join(query.split())
    return words if len(words) <= 60 else words[:59].rstrip() + "…"
