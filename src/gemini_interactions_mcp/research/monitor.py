"""The research monitor: tails every running Deep Research and records it in the store.

It lives in the server's lifespan. For each running research it follows the upstream event
stream (the client resumes by ``last_event_id`` after a drop), folds events into a progress
summary saved together with the id of the last event it includes, and on the end records the
report, sources, usage and final status. When streaming keeps failing it falls back to polling.
On start-up it re-attaches to every research still running, so a restart loses nothing.
Status calls only read the store.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup, TaskStatus

from ..state.base import ACTIVE_RESEARCH_STATUSES, ConversationRecord, mutate

if TYPE_CHECKING:
    from ..app import AppState
    from ..upstream.wire import Interaction

# The upstream client, wire models and progress folding are imported inside the watcher:
# the monitor is created at start-up, and start-up must stay as light as a bare server.

logger = logging.getLogger(__name__)

REATTACH_DELAY = 1.0
SAVE_EVERY = 0.25
POLL_INTERVAL = 2.0
MAX_POLL_INTERVAL = 30.0
MAX_STREAM_FAILURES = 3


class ResearchMonitor:
    """Watches running research; one watcher task per research id."""

    def __init__(self, app: AppState, *, poll_interval: float = POLL_INTERVAL) -> None:
        self.app = app
        self.poll_interval = poll_interval
        self._tg: TaskGroup | None = None
        self._watching: dict[str, anyio.CancelScope] = {}
        self._changed: dict[str, anyio.Event] = {}

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled (the lifespan's task group owns this)."""
        async with anyio.create_task_group() as tg:
            self._tg = tg
            task_status.started()
            # Re-attaching opens the store; let the server answer its first requests first.
            await anyio.sleep(REATTACH_DELAY)
            try:
                await self.reattach()
            except Exception:
                logger.exception("could not re-attach to running research")
            await anyio.sleep_forever()

    async def reattach(self) -> int:
        """Watch every research the store says is still running; return how many."""
        store = await self.app.store()
        records = await store.active_research()
        for rec in records:
            self.track(rec.owner, rec.id)
        return len(records)

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
        from ..upstream import errors as up

        store = await self.app.store()
        rec = await store.get(owner, research_id)
        if rec is None or rec.status not in ACTIVE_RESEARCH_STATUSES or not rec.last_interaction_id:
            return
        interaction_id = rec.last_interaction_id
        final: Interaction | None = None
        failure: str | None = None
        for attempt in range(MAX_STREAM_FAILURES):
            try:
                final = await self._follow(owner, research_id, interaction_id)
                break
            except up.NotFoundError:
                await self._record_failure(
                    owner,
                    research_id,
                    interaction_id,
                    "Gemini no longer has this research (deleted or expired).",
                )
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
        await self._record_end(owner, research_id, interaction_id, final, failure)

    async def _follow(self, owner: str, research_id: str, interaction_id: str) -> Interaction:
        from . import progress as prog

        store = await self.app.store()
        rec = await store.get(owner, research_id)
        assert rec is not None
        progress: dict[str, Any] = rec.data.get("progress") or prog.empty()
        start_id: str | None = rec.data.get("last_event_id")
        last_id, saved_at, dirty = start_id, 0.0, False

        async def on_event(event: Any) -> None:
            nonlocal last_id, saved_at, dirty
            dirty = prog.apply(progress, event) or dirty
            if getattr(event, "event_id", None):
                last_id = event.event_id
            # Progress and the id of the last event it includes are saved together, so a
            # restart resumes exactly after what was recorded.
            if dirty and anyio.current_time() - saved_at >= SAVE_EVERY:
                await self._save_progress(owner, research_id, interaction_id, progress, last_id)
                saved_at, dirty = anyio.current_time(), False

        client = await self.app.client()
        final = await client.follow(interaction_id, last_event_id=start_id, on_event=on_event)
        if dirty:
            await self._save_progress(owner, research_id, interaction_id, progress, last_id)
        return final

    async def _poll(self, interaction_id: str) -> Interaction:
        from ..upstream import errors as up

        client = await self.app.client()
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

    # -- records ---------------------------------------------------------------------------

    async def _update(self, owner: str, research_id: str, interaction_id: str, change: Any) -> None:
        store = await self.app.store()

        def guarded(rec: ConversationRecord) -> ConversationRecord | None:
            # A follow-up turn may have replaced the interaction being watched: leave it be.
            if rec.last_interaction_id != interaction_id:
                return None
            return change(rec)  # type: ignore[no-any-return]

        await mutate(store, owner, research_id, guarded, clock=self.app.clock)
        self.notify(research_id)

    async def _save_progress(
        self,
        owner: str,
        research_id: str,
        interaction_id: str,
        progress: dict[str, Any],
        last_event_id: Any,
    ) -> None:
        def change(rec: ConversationRecord) -> ConversationRecord:
            rec.data["progress"] = progress
            rec.data["last_event_id"] = last_event_id
            if rec.status == "queued" and progress.get("phase") != "queued":
                rec.status = "in_progress"
            return rec

        await self._update(owner, research_id, interaction_id, change)

    async def _record_end(
        self,
        owner: str,
        research_id: str,
        interaction_id: str,
        final: Interaction,
        failure: str | None = None,
    ) -> None:
        def change(rec: ConversationRecord) -> ConversationRecord:
            rec = record_result(rec, final, self.app.clock())
            if failure and rec.status != "completed" and not rec.data.get("error"):
                rec.data["error"] = failure
            return rec

        await self._update(owner, research_id, interaction_id, change)

    async def _record_failure(
        self, owner: str, research_id: str, interaction_id: str, message: str
    ) -> None:
        def change(rec: ConversationRecord) -> ConversationRecord:
            rec.status = "failed"
            rec.data["error"] = message
            return rec

        await self._update(owner, research_id, interaction_id, change)


def record_result(rec: ConversationRecord, final: Interaction, now: float) -> ConversationRecord:
    """Store a finished research interaction's outcome in its record."""
    from .. import mapping
    from . import progress as prog

    rec.status = final.status or "completed"
    rec.data["finished_at"] = now
    rec.data["report"] = final.output_text
    rec.data["sources"] = [s.model_dump(exclude_none=True) for s in mapping.sources_of(final.steps)]
    usage = mapping.usage_of(final.usage)
    rec.data["usage"] = usage.model_dump() if usage else None
    errors = [f"{e.code}: {e.message}" for e in final.errors if e.message or e.code]
    if errors:
        rec.data["error"] = "; ".join(errors)
    progress = rec.data.setdefault("progress", prog.empty())
    progress["phase"] = "done" if rec.status == "completed" else rec.status
    if rec.status == "completed" and rec.data.get("planning"):
        rec.status = "awaiting_plan_confirmation"
    rec.data["last_text"] = rec.data["report"]
    return rec
