"""Deep Research runs: start, status (optionally waiting), cancel, and plan confirmation.

A research is a record of kind ``research``. Upstream it is a background interaction of the
Deep Research agent; the monitor records its progress and outcome, so status calls only read
the store. What it produced is kept apart from what comes after it: the report, its sources and
usage are written once; follow-up questions are turns of the research's own chain (run by the
turn runner) and a confirmed plan starts the run that leads to the report.
"""

from __future__ import annotations

import anyio

from ..state.base import mutate, new_handle
from ..state.records import ConversationRecord, Lease, ResearchProgress, ResearchState
from ..statuses import RUNNING
from ..upstream import errors as up
from ..upstream.wire import Interaction
from . import interaction_config, research_progress
from .call import Call
from .context import ServerContext
from .costs import with_total
from .errors import ToolError, UnknownHandle, elsewhere
from .lease import ORPHAN_GRACE, hold, start_cut_short
from .mapping import TITLE_CHARS, short
from .monitor import ResearchMonitor, record_result, research_usage
from .outcomes import research_ended
from .paging import cut
from .registry import Resolution
from .requests import ResearchRequest
from .results import REPORT_URI, Answer, Research, ResearchProgressView

__all__ = ["ORPHAN_GRACE", "ResearchService"]
_STORE_POLL = 1.0
RESEARCH_TAKEN_OVER = (
    "Another server took this research over (it found this one unresponsive) while its plan "
    "was confirmed, so the run Gemini began on the plan ({run}) was not recorded; check the "
    "research with deep_research_status before confirming again."
)
_RECENT = 5


class ResearchService:
    """Deep Research operations for one caller."""

    def __init__(self, server: ServerContext, monitor: ResearchMonitor, call: Call) -> None:
        self.server = server
        self.monitor = monitor
        self.call = call

    async def start(self, request: ResearchRequest, agent: Resolution) -> Research:
        """Start the agent in the background and record it before answering."""
        store = await self.server.store()
        now = self.server.clock()
        config = interaction_config.for_research(request)
        record_id = new_handle("r_")
        record = ConversationRecord(
            id=record_id,
            owner=self.call.owner,
            kind="research",
            title=short(request.query, TITLE_CHARS),
            model=agent.id,
            upstream=await self.server.upstream(),
            config=self.server.vault.stored(record_id, config),
            research=ResearchState(
                query=request.query,
                planning=request.collaborative_planning,
                started_at=now,
            ),
            # Held while it starts: if this server dies before Gemini's answer is recorded,
            # the next look at it knows the start was cut short.
            lease=Lease(token="start", until=now + ORPHAN_GRACE, holder=self.server.holder),
            created_at=now,
            updated_at=now,
        )
        await store.insert(record)
        body = {
            "agent": agent.id,
            "input": request.query,
            "background": True,
            "store": True,
            **config.request_fields(),
        }
        client = await self.server.client()
        # Once the request is out, paid work may exist upstream: the create and its recording
        # finish even if the caller goes away; only the call's budget ends the wait.
        interaction: Interaction | None = None
        with anyio.CancelScope(shield=True):
            try:
                with anyio.move_on_after(self.call.remaining()):
                    interaction = await client.create(body)
            except up.ModelNotFoundError:
                await store.delete(self.call.owner, record.id)
                raise ToolError(self._agent_not_found(agent.id)) from None
            except BaseException:
                await store.delete(self.call.owner, record.id)
                raise
            if interaction is None:
                await store.delete(self.call.owner, record.id)
                raise ToolError(
                    f"Gemini did not confirm the research start within the "
                    f"{self.server.settings.call_budget:g} s call budget (it may be busy or "
                    "rate limiting, or it may have begun the research anyway, which then cannot "
                    "be followed); "
                    "nothing was recorded, so start it again in a moment."
                )
            stored = await self._started(record.id, interaction)
            self.monitor.track(self.call.owner, record.id)
        notes = [agent.note] if agent.note else []
        notes.append(
            "Deep Research runs in the background, usually for several minutes. Check it with "
            f"deep_research_status(research_id={record.id!r}, wait_seconds=30)."
        )
        return self.view(stored, offset=0, max_chars=0, notes=notes)

    def _agent_not_found(self, agent: str) -> str:
        if self.server.settings.backend == "vertex":
            return (
                f"Vertex AI does not offer the Deep Research agent {agent!r} to this project; "
                "name the agent it offers in a models.toml given as GEMINI_MCP_MODELS_FILE, "
                "or run the server on the Gemini API."
            )
        return (
            f"Gemini does not offer the Deep Research agent {agent!r} to this key. "
            f"{self.server.registry.choices()}"
        )

    async def status(
        self, research_id: str, *, wait_seconds: float, offset: int, max_chars: int | None
    ) -> Research:
        """The research as recorded; with `wait_seconds`, wait for it to end (progress
        notifications say how it goes meanwhile), at most for the call's budget."""
        record = await self.find(research_id)
        await self._watch(record)
        notes = []
        if wait_seconds > 0 and record.is_active_research:
            wait = min(wait_seconds, self.call.remaining())
            record = await self._wait(record, wait)
            if record.is_active_research:
                notes.append(
                    f"Still running after waiting {self.call.elapsed():.0f} s"
                    + (" (the call budget)" if wait < wait_seconds else "")
                    + "; call deep_research_status again to keep waiting."
                )
                if self.call.stopping:
                    notes.append(self.call.stopping)
        return self.view(record, offset=offset, max_chars=max_chars, notes=notes)

    async def cancel(self, research_id: str) -> Research:
        """Cancel upstream; a finished research is left as it is."""
        record = await self.find(research_id)
        research = _research(record)
        if research.active and await self.server.other_upstream(record.upstream):
            raise ToolError(elsewhere(record, await self.server.upstream()))
        if research.status == "awaiting_plan_confirmation":
            return await self._drop_plan(record)
        if not research.active:
            note = f"This research is already {research.status}; nothing was changed."
            return self.view(record, offset=0, max_chars=0, notes=[note])
        interaction_id = research.interaction_id
        if interaction_id is None:
            raise ToolError(
                f"Research {record.id} is still starting; try deep_research_cancel again in a "
                "moment."
            )
        client = await self.server.client()
        try:
            final = await client.cancel(interaction_id)
        except up.BadRequestError:
            # It finished between our read and the cancel: report what it became.
            final = await client.get(interaction_id)
        self.monitor.stop(record.id)
        store = await self.server.store()
        now = self.server.clock()
        usage = research_usage(self.server, final)
        recorded = False

        def change(current: ConversationRecord) -> ConversationRecord | None:
            nonlocal recorded
            ended = record_result(current, interaction_id, final, now, usage)
            recorded = ended is not None
            return ended

        updated = await mutate(store, self.call.owner, record.id, change, clock=self.server.clock)
        if recorded and updated is not None:
            await research_ended(self.server, updated, usage)
        self.monitor.notify(record.id)
        updated = updated or record
        notes = []
        if updated.status != "cancelled":
            notes.append(f"It had already ended as {updated.status}; nothing was cancelled.")
        return self.view(updated, offset=0, max_chars=0, notes=notes)

    async def _drop_plan(self, record: ConversationRecord) -> Research:
        """Cancel a research whose agent waits for its plan: nothing runs upstream, so the
        record alone ends (the planning run stays billed, as it was)."""
        store = await self.server.store()
        now = self.server.clock()
        dropped = False

        def change(current: ConversationRecord) -> ConversationRecord | None:
            nonlocal dropped
            state = _research(current)
            dropped = state.status == "awaiting_plan_confirmation"
            if not dropped:
                return None
            state.status = state.progress.phase = "cancelled"
            state.finished_at = now
            return current

        updated = await mutate(store, self.call.owner, record.id, change, clock=self.server.clock)
        if updated is None:
            raise UnknownHandle(f"Unknown research_id {record.id!r}.")
        if not dropped:
            return await self.cancel(record.id)  # confirmed meanwhile: cancel what runs now
        await self.server.announce(record.id)
        self.monitor.notify(record.id)
        note = "It was waiting for its plan to be confirmed, so nothing more ran upstream."
        return self.view(updated, offset=0, max_chars=0, notes=[note])

    async def confirm_plan(self, record: ConversationRecord, prompt: str) -> Answer:
        """Reply to the proposed plan: the agent carries on and runs the research."""
        async with hold(self.server, self.call, record) as held:
            research = _research(held.record)
            if research.status != "awaiting_plan_confirmation" or held.record.chain.head is None:
                raise ToolError(
                    f"Research {record.id} is not waiting for a plan confirmation any more; "
                    "check deep_research_status."
                )
            vault = self.server.vault
            config = interaction_config.for_follow_up(vault.usable(record.id, held.record.config))
            body = {
                "agent": held.record.model,
                "input": prompt,
                "previous_interaction_id": held.record.chain.head,
                "background": True,
                "store": True,
                **config.request_fields(),
            }
            client = await self.server.client()
            now = self.server.clock()
            # As in start(): once sent, the run is recorded even if the caller goes away.
            with anyio.CancelScope(shield=True):
                interaction = await client.create(body)

                def run(current: ConversationRecord) -> ConversationRecord:
                    state = _research(current)
                    state.interaction_id = interaction.id
                    state.status = _running_status(interaction)
                    state.planning = False
                    state.progress = ResearchProgress()
                    state.last_event_id = None
                    state.started_at = now
                    state.finished_at = None
                    current.interaction_ids.append(interaction.id)
                    return current

                await held.write(
                    run, release=True, taken_over=RESEARCH_TAKEN_OVER.format(run=interaction.id)
                )
                self.monitor.track(self.call.owner, record.id)
        return Answer(
            conversation_id=record.id,
            interaction_id=interaction.id,
            status="in_progress",
            model=record.model,
            notes=[
                "The research now runs on the confirmed plan, usually for several minutes. "
                f"Follow it with deep_research_status(research_id={record.id!r}, wait_seconds=30)."
            ],
        )

    async def reply_to_plan(
        self, research_id: str, *, approved: bool, changes: str | None
    ) -> Research:
        """The person's answer to the proposed plan: run it (with their changes, if any), or
        cancel the research upstream when they turned it down."""
        if not approved and not changes:
            cancelled = await self.cancel(research_id)
            if cancelled.status == "cancelled":
                cancelled.notes.insert(
                    0, "You declined the proposed plan: the research is cancelled."
                )
            return cancelled
        record = await self.find(research_id)
        prompt = changes or "The plan is approved; run the research on it as proposed."
        confirmed = await self.confirm_plan(record, prompt)
        notes = ["Your changes went with the confirmation."] if changes else []
        return self.view(
            await self.find(research_id), offset=0, max_chars=0, notes=notes + confirmed.notes
        )

    async def wait_for_plan(self, research_id: str) -> Research:
        """The research once its plan is proposed (or it ended), waiting at most for the call's
        budget."""
        return await self.status(
            research_id, wait_seconds=self.call.remaining(), offset=0, max_chars=0
        )

    async def wait_for_report(self, record: ConversationRecord) -> Answer:
        """The research's outcome as a conversation answer, waiting for it within the budget."""
        await self._watch(record)
        done = await self._wait(record, self.call.remaining())
        return self.outcome(done)

    def outcome(self, record: ConversationRecord) -> Answer:
        """The report (or the plan, or where the run is) as a conversation answer, unpaged."""
        research = _research(record)
        report = research.report
        notes = []
        if research.active:
            notes.append(
                f"Still running; follow it with deep_research_status(research_id={record.id!r})."
            )
        if research.status == "awaiting_plan_confirmation":
            notes.append(_plan_note(record.id))
        if research.error:
            notes.append(f"Error: {research.error}")
        return Answer(
            conversation_id=record.id,
            interaction_id=research.interaction_id,
            status=research.status,
            text=report.text if report is not None else research.plan or "",
            model=record.model,
            notes=notes,
            sources=(list(report.sources) or None) if report is not None else None,
            usage=with_total(report.usage, record) if report is not None else None,
        )

    async def report_text(self, research_id: str) -> str:
        """The finished report, for the report resource."""
        record = await self.find(research_id)
        research = _research(record)
        if research.report is not None:
            return research.report.text
        if research.active:
            progress = research.progress
            raise ToolError(
                f"Research {research_id} is still running (phase {progress.phase}, "
                f"{progress.search_count} searches, {progress.page_count} pages read); its "
                "report is not ready yet. deep_research_status(wait_seconds=30) waits for it."
            )
        if research.status == "awaiting_plan_confirmation":
            raise ToolError(
                f"Research {research_id} has no report yet: it waits for its plan to be "
                "confirmed with gemini_continue."
            )
        raise ToolError(
            f"Research {research_id} ended as {research.status} without a report; start a new "
            "one with deep_research_start."
        )

    async def find(self, research_id: str) -> ConversationRecord:
        """The caller's research; unknown and foreign ids look the same."""
        store = await self.server.store()
        record = await store.get(self.call.owner, research_id)
        if record is None or record.research is None:
            raise UnknownHandle(
                f"Unknown research_id {research_id!r}; gemini_conversations lists your research."
            )
        if record.research.interaction_id is None and record.research.active:
            record = await self._orphaned(record)
        return record

    def view(
        self,
        record: ConversationRecord,
        *,
        offset: int,
        max_chars: int | None,
        notes: list[str] | None = None,
    ) -> Research:
        """The research as the tools show it, with a page of the report."""
        research = _research(record)
        progress = research.progress
        end = research.finished_at or self.server.clock()
        view = Research(
            research_id=record.id,
            status=research.status,
            agent=record.model,
            elapsed_seconds=round(end - research.started_at, 1),
            progress=ResearchProgressView(
                phase=progress.phase,
                searches=progress.search_count,
                pages_read=progress.page_count,
                thoughts=progress.thoughts[-_RECENT:],
                recent_searches=progress.searches[-_RECENT:],
                recent_pages=progress.pages[-_RECENT:],
            ),
            plan=research.plan if research.status == "awaiting_plan_confirmation" else None,
            error=research.error,
            notes=list(notes or []),
        )
        report = research.report
        if report is not None:
            limit = self.server.settings.max_text_chars if max_chars is None else max_chars
            chunk, following = cut(report.text, offset, limit, what="report")
            view.report = chunk if limit else None
            if following is not None:
                view.next_offset = following
                if limit:
                    view.notes.append(
                        f"Report cut at character {following} of {len(report.text)}; call "
                        f"deep_research_status with offset={following} for more."
                    )
            view.report_uri = REPORT_URI.format(research_id=record.id)
            view.sources = list(report.sources) or None
            view.usage = with_total(report.usage, record)
        if view.plan is not None:
            view.notes.append(_plan_note(record.id))
        return view

    # -- internals -------------------------------------------------------------------------

    async def _watch(self, record: ConversationRecord) -> None:
        if await self.server.other_upstream(record.upstream):
            return  # only the server that talks to its upstream can follow it
        if record.is_active_research and not self.monitor.is_watching(record.id):
            self.monitor.track(self.call.owner, record.id)

    async def _orphaned(self, record: ConversationRecord) -> ConversationRecord:
        """A start cut short (say, by a crash) before Gemini's answer was recorded."""
        now = self.server.clock()
        if not start_cut_short(record, self.server, now):
            return record
        store = await self.server.store()

        def change(current: ConversationRecord) -> ConversationRecord | None:
            state = _research(current)
            if state.interaction_id is not None:
                return None
            state.status = "failed"
            state.finished_at = now
            state.error = (
                "The server stopped before Gemini confirmed the start, so the research cannot "
                "be followed (Gemini may have begun it). Start it again with deep_research_start."
            )
            current.lease = None
            return current

        updated = await mutate(store, self.call.owner, record.id, change, clock=self.server.clock)
        return updated or record

    async def _started(self, research_id: str, interaction: Interaction) -> ConversationRecord:
        store = await self.server.store()

        def change(current: ConversationRecord) -> ConversationRecord:
            state = _research(current)
            state.interaction_id = interaction.id
            state.status = _running_status(interaction)
            state.error = None
            state.finished_at = None
            current.interaction_ids.append(interaction.id)
            current.lease = None
            return current

        record = await mutate(store, self.call.owner, research_id, change, clock=self.server.clock)
        if record is None:
            raise ToolError(f"Research {research_id} was forgotten while it started.")
        return record

    async def _wait(self, record: ConversationRecord, seconds: float) -> ConversationRecord:
        """Wait for the research to end, reporting its progress as it changes."""
        store = await self.server.store()
        with self.call.within(anyio.current_time() + seconds):
            while record.is_active_research:
                changed = self.monitor.changed(record.id)
                # The store is re-read every second too: another process may be the one
                # recording this research.
                with anyio.move_on_after(_STORE_POLL):
                    await changed.wait()
                latest = await store.get(self.call.owner, record.id)
                if latest is None:
                    break
                if latest.version != record.version:
                    summary = research_progress.summary(_research(latest).progress)
                    await self.call.progress.report(summary)
                record = latest
        return record


def _research(record: ConversationRecord) -> ResearchState:
    assert record.research is not None, "a research record always has research state"
    return record.research


def _plan_note(research_id: str) -> str:
    return (
        "The agent proposes the plan above. Confirm it (or ask for changes) with "
        f"gemini_continue(conversation_id={research_id!r}, prompt=...) to start the research."
    )


def _running_status(interaction: Interaction) -> str:
    status = interaction.status or "in_progress"
    return status if status in RUNNING else "in_progress"
