"""The research monitor: tails every running Deep Research and records it in the store.

It lives in the server's lifespan. For each running research it follows the upstream event
stream (the client resumes by ``last_event_id`` after a drop), folds events into a progress
summary saved together with the id of the last event it includes, and on the end records the
outcome: a plan to confirm, or the report with its sources and usage (written once). When
streaming keeps failing it falls back to polling. On start-up it re-attaches to every research
still running, so a restart loses nothing. Status calls only read the store.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup, TaskStatus

from ..state.base import StoreError, mutate
from ..state.records import ConversationRecord, Lease, Report, ResearchProgress
from ..state.values import Usage
from ..statuses import ABANDONED
from ..upstream import errors as up
from ..upstream.wire import Interaction, StreamEvent
from . import mapping, research_progress
from .costs import add_to, priced
from .outcomes import research_ended

if TYPE_CHECKING:
    # The context starts the monitor; the monitor only needs its type.
    from .context import ServerContext

__all__ = ["ResearchMonitor", "record_result", "research_usage"]

logger = logging.getLogger(__name__)

SAVE_EVERY = 0.25
POLL_INTERVAL = 2.0
MAX_POLL_INTERVAL = 30.0
MAX_STREAM_FAILURES = 3
# One process follows a research upstream at a time (replicas share the store): it holds the
# watch for this long and renews it a third of the way in; when it dies another takes over at
# the next look (at once when its process is known to be gone, else once the watch expires).
WATCH_SECONDS = 15.0
# How often every replica looks for running research nobody follows.
RESCAN_SECONDS = 3.0

Change = Callable[[ConversationRecord], ConversationRecord | None]


class ResearchMonitor:
    """Watches running research; one watcher task per research id."""

    def __init__(
        self,
        server: ServerContext,
        *,
        poll_interval: float = POLL_INTERVAL,
        watch_seconds: float = WATCH_SECONDS,
        rescan_seconds: float = RESCAN_SECONDS,
    ) -> None:
        self.server = server
        self.poll_interval = poll_interval
        self.watch_seconds = watch_seconds
        self.rescan_seconds = rescan_seconds
        self._tg: TaskGroup | None = None
        self._watching: dict[str, anyio.CancelScope] = {}
        self._changed: dict[str, anyio.Event] = {}

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled (the lifespan's task group owns this)."""
        async with anyio.create_task_group() as tg:
            self._tg = tg
            task_status.started()
            while True:
                try:
                    await self.reattach()
                except Exception:
                    logger.exception("could not re-attach to running research")
                await anyio.sleep(self.rescan_seconds)

    async def reattach(self) -> int:
        """Watch every research the store says is still running and nobody follows (on this
        upstream); return how many."""
        store = await self.server.store()
        now = self.server.clock()
        records = [
            record
            for record in await store.active_research()
            if not await self.server.other_upstream(record.upstream)
            and (record.research is None or self._free(record.research.watcher, now))
        ]
        for record in records:
            self.track(record.owner, record.id)
        return len(records)

    def _free(self, watcher: Lease | None, now: float) -> bool:
        """True when no other live process follows the research."""
        return (
            watcher is None
            or watcher.holder == self.server.holder
            or watcher.until <= now
            or self.server.holder_gone(watcher.holder)
        )

    def track(self, owner: str, research_id: str) -> None:
        """Start watching a research (no-op if already watched)."""
        if research_id in self._watching or self._tg is None:
            return
        scope = anyio.CancelScope()
        self._watching[research_id] = scope
        self._tg.start_soon(self._watch, owner, research_id, scope)

    def stop(self, research_id: str) -> None:
        scope = self._watching.pop(research_id, None)
        if scope is not None:
            scope.cancel()

    def is_watching(self, research_id: str) -> bool:
        return research_id in self._watching

    def changed(self, research_id: str) -> anyio.Event:
        """An event set the next time this research's record changes (in this process)."""
        event = self._changed.get(research_id)
        if event is None:
            event = self._changed[research_id] = anyio.Event()
        return event

    def notify(self, research_id: str) -> None:
        event = self._changed.pop(research_id, None)
        if event is not None:
            event.set()

    # -- one watcher -----------------------------------------------------------------------

    async def _watch(self, owner: str, research_id: str, scope: anyio.CancelScope) -> None:
        try:
            with scope:
                await self._watch_once(owner, research_id)
        except Exception:
            logger.exception("research monitor failed for %s", research_id)
        finally:
            if self._watching.get(research_id) is scope:
                del self._watching[research_id]
            self.notify(research_id)

    async def _watch_once(self, owner: str, research_id: str) -> None:
        store = await self.server.store()
        record = await store.get(owner, research_id)
        if record is None or record.research is None or not record.research.active:
            return
        interaction_id = record.research.interaction_id
        if interaction_id is None:
            return
        if not await self._claim(owner, research_id):
            return  # another process follows it
        try:
            async with anyio.create_task_group() as renewing:
                renewing.start_soon(self._renew, owner, research_id)
                await self._follow_run(owner, research_id, interaction_id, record)
                renewing.cancel_scope.cancel()
        finally:
            # Stopping (a shutdown, say) hands the research over at once to whoever looks next.
            with anyio.CancelScope(shield=True):
                await self._release(owner, research_id)

    async def _release(self, owner: str, research_id: str) -> None:
        store = await self.server.store()

        def drop(current: ConversationRecord) -> ConversationRecord | None:
            research = current.research
            if research is None or research.watcher is None:
                return None
            if research.watcher.holder != self.server.holder:
                return None
            research.watcher = None
            return current

        with contextlib.suppress(StoreError):
            await mutate(store, owner, research_id, drop, clock=None)

    async def _claim(self, owner: str, research_id: str, *, renew: bool = False) -> bool:
        """Take (or renew) the watch of a research; False if another live process holds it."""
        store = await self.server.store()
        now = self.server.clock()
        claimed = False

        def take(current: ConversationRecord) -> ConversationRecord | None:
            nonlocal claimed
            research = current.research
            claimed = False
            if research is None or not research.active:
                return None
            watcher = research.watcher
            if renew and (watcher is None or watcher.holder != self.server.holder):
                return None  # lost it meanwhile
            if not self._free(watcher, now):
                return None
            research.watcher = Lease(
                token="watch", until=now + self.watch_seconds, holder=self.server.holder
            )
            claimed = True
            return current

        await mutate(store, owner, research_id, take, clock=None)
        return claimed

    async def _renew(self, owner: str, research_id: str) -> None:
        while True:
            await anyio.sleep(self.watch_seconds / 3)
            if not await self._claim(owner, research_id, renew=True):
                self.stop(research_id)  # another process took over, or the run ended
                return

    async def _follow_run(
        self, owner: str, research_id: str, interaction_id: str, record: ConversationRecord
    ) -> None:
        watch = _Watch(self, owner, research_id, interaction_id)
        final: Interaction | None = None
        failure: str | None = None
        for attempt in range(MAX_STREAM_FAILURES):
            try:
                final = await watch.follow(record)
                break
            except up.NotFoundError:
                await watch.fail("Gemini no longer has this research (deleted or expired).")
                return
            except up.StreamError as exc:
                # The research itself failed; its final state is read below.
                failure = f"{exc.code}: {exc.message}"
                break
            except up.BadRequestError as exc:
                # A resume the server will not serve (say, an expired event id): poll instead.
                logger.warning("research %s stream refused: %s", research_id, exc.message)
                break
            except (
                up.APIConnectionError,
                up.StreamInterruptedError,
                up.ServerError,
                up.RateLimitError,
            ) as exc:
                logger.warning(
                    "research %s stream failed (%s), attempt %d",
                    research_id,
                    type(exc).__name__,
                    attempt + 1,
                )
                await anyio.sleep(min(self.poll_interval * 2**attempt, MAX_POLL_INTERVAL))
        if final is None or final.is_running:
            final = await self._poll(interaction_id)
        await watch.end(final, failure)

    async def _poll(self, interaction_id: str) -> Interaction:
        client = await self.server.client()
        delay = self.poll_interval
        while True:
            try:
                current = await client.get(interaction_id)
                if not current.is_running:
                    return current
            except (up.APIConnectionError, up.ServerError, up.RateLimitError) as exc:
                logger.warning("polling %s failed: %s", interaction_id, type(exc).__name__)
            await anyio.sleep(delay)
            delay = min(delay * 1.5, MAX_POLL_INTERVAL)


class _Watch:
    """Recording one research run: only while it is still the run the record is waiting for."""

    def __init__(
        self, monitor: ResearchMonitor, owner: str, research_id: str, interaction_id: str
    ) -> None:
        self.monitor = monitor
        self.server = monitor.server
        self.owner = owner
        self.research_id = research_id
        self.interaction_id = interaction_id

    async def follow(self, record: ConversationRecord) -> Interaction:
        """Tail the run's stream from the last recorded event, saving progress as it comes."""
        assert record.research is not None
        progress = record.research.progress.model_copy(deep=True)
        start_id = record.research.last_event_id
        last_id, saved_at, dirty = start_id, 0.0, False

        async def on_event(event: StreamEvent) -> None:
            nonlocal last_id, saved_at, dirty
            dirty = research_progress.apply(progress, event) or dirty
            if event.event_id:
                last_id = event.event_id
            # Progress and the id of the last event it includes are saved together, so a
            # restart resumes exactly after what was recorded.
            if dirty and anyio.current_time() - saved_at >= SAVE_EVERY:
                await self.save(progress, last_id)
                saved_at, dirty = anyio.current_time(), False

        client = await self.server.client()
        final = await client.follow(self.interaction_id, last_event_id=start_id, on_event=on_event)
        if dirty:
            await self.save(progress, last_id)
        return final

    async def save(self, progress: ResearchProgress, last_event_id: str | None) -> None:
        saved = progress.model_copy(deep=True)

        def change(record: ConversationRecord) -> ConversationRecord:
            assert record.research is not None
            record.research.progress = saved
            record.research.last_event_id = last_event_id
            if record.research.status == "queued" and saved.phase != "queued":
                record.research.status = "in_progress"
            return record

        await self._update(change)

    async def end(self, final: Interaction, failure: str | None) -> None:
        now = self.server.clock()
        usage = research_usage(self.server, final)

        def change(record: ConversationRecord) -> ConversationRecord | None:
            ended = record_result(record, self.interaction_id, final, now, usage)
            research = ended.research if ended is not None else None
            if research is not None and failure and research.status != "completed":
                research.error = research.error or failure
            return ended

        stored = await self._update(change)
        if stored is not None:
            await research_ended(self.server, stored, usage)

    async def fail(self, message: str) -> None:
        def change(record: ConversationRecord) -> ConversationRecord:
            assert record.research is not None
            record.research.status = "failed"
            record.research.error = message
            return record

        stored = await self._update(change)
        if stored is not None:
            await research_ended(self.server, stored, None)

    async def _update(self, change: Change) -> ConversationRecord | None:
        """Apply `change` if the record still waits for this run; the stored record if so."""
        store = await self.server.store()
        interaction_id = self.interaction_id
        applied = False

        def guarded(record: ConversationRecord) -> ConversationRecord | None:
            nonlocal applied
            applied = False  # each attempt decides afresh; the last one is what was stored
            research = record.research
            # Only the run the record waits for: a confirmed plan may have started another.
            if research is None or research.interaction_id != interaction_id or not research.active:
                return None
            changed = change(record)
            applied = changed is not None
            return changed

        stored = await mutate(store, self.owner, self.research_id, guarded, clock=self.server.clock)
        self.monitor.notify(self.research_id)
        return stored if applied else None


def research_usage(server: ServerContext, final: Interaction) -> Usage | None:
    """What a research run used, priced as the agent that ran it."""
    usage = mapping.usage_of(final.usage, final.steps)
    return priced(server, final.agent or final.model or "", usage)


def record_result(
    record: ConversationRecord,
    interaction_id: str,
    final: Interaction,
    now: float,
    usage: Usage | None,
) -> ConversationRecord | None:
    """Record how the research run `interaction_id` ended (`usage`: what it used, priced);
    None if the record is past it.

    A completed run leaves either a plan to confirm or the report; the report is written once
    and the research's chain (its follow-up questions) starts from that run.
    """
    research = record.research
    if research is None or research.interaction_id != interaction_id or not research.active:
        return None
    status = final.status or "completed"
    research.status = status
    research.finished_at = now
    add_to(record, usage)
    errors = [f"{e.code}: {e.message}" for e in final.errors if e.message or e.code]
    if errors:
        research.error = "; ".join(errors)
    research.progress.phase = "done" if status == "completed" else status
    run_id = final.id or interaction_id
    if status == "completed" and research.planning:
        research.status = research.progress.phase = "awaiting_plan_confirmation"
        research.plan = final.output_text
        record.chain.head = run_id
        return record
    # Whatever text a run produced was paid for: a partial report (say, out of budget) is kept.
    if research.report is None and (status == "completed" or final.output_text):
        research.report = Report(
            interaction_id=run_id,
            text=final.output_text,
            sources=mapping.sources_of(final.steps),
            usage=usage,
        )
    if status not in ABANDONED:
        record.chain.head = run_id
    return record
