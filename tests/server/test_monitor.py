"""The research monitor against the emulator on a port, with faults injected upstream."""

from __future__ import annotations

import anyio
import pytest

from gemini_interactions_mcp.app import AppState
from gemini_interactions_mcp.emulator import EmulatorConfig, create_app, serve_in_background
from gemini_interactions_mcp.progress import Progress
from gemini_interactions_mcp.research.monitor import ResearchMonitor
from gemini_interactions_mcp.research.service import ResearchService
from gemini_interactions_mcp.settings import Settings
from gemini_interactions_mcp.upstream import InteractionsClient, RetryPolicy

pytestmark = pytest.mark.anyio

AGENT = "deep-research-preview-04-2026"


async def test_monitor_falls_back_to_polling_when_streaming_keeps_failing() -> None:
    app = create_app(EmulatorConfig(research_seconds=0.5))
    emulator = app.state.emulator
    async with serve_in_background(app=app) as url:
        state = AppState(settings=Settings(api_key="k", base_url=url, state="memory"), base_url=url)
        state._client = InteractionsClient(
            "k", base_url=url, retry=RetryPolicy(max_attempts=1, jitter=0)
        )
        monitor = state.monitor = ResearchMonitor(state, poll_interval=0.02)
        try:
            async with anyio.create_task_group() as tg:
                await tg.start(monitor.run)
                service = ResearchService(state, monitor, "local", Progress(None))
                # Every stream (re)connection fails from now on, for a while: the monitor has
                # to notice the drop, give up on streaming and poll instead.
                emulator.fail_next(503, count=6, methods=("GET",))
                started = await service.start(
                    "polling please [[drop 2]]",
                    agent=AGENT,
                    tools=[],
                    collaborative_planning=False,
                    visualization=False,
                    notes=[],
                )
                with anyio.fail_after(20):
                    status = started
                    while status.status in ("queued", "in_progress"):
                        status = await service.status(
                            started.research_id, wait_seconds=1, offset=0, max_chars=None
                        )
                tg.cancel_scope.cancel()
        finally:
            await state.aclose()
    assert status.status == "completed"
    assert status.report is not None and "polling please" in status.report
    polled = [r for r in emulator.requests if r.method == "GET" and r.query.get("stream") != "true"]
    assert polled, "the monitor never fell back to polling"


async def test_monitor_reattaches_to_running_research_on_start() -> None:
    async with serve_in_background(EmulatorConfig(research_seconds=0.4)) as url:
        settings = Settings(api_key="k", base_url=url, state="memory")
        first = AppState(settings=settings, base_url=url)
        service = ResearchService(first, ResearchMonitor(first), "local", Progress(None))
        # No monitor running: nothing records the research after it starts.
        started = await service.start(
            "left alone",
            agent=AGENT,
            tools=[],
            collaborative_planning=False,
            visualization=False,
            notes=[],
        )
        store = await first.store()
        second = AppState(settings=settings, base_url=url)
        second.use_store(store)
        monitor = second.monitor = ResearchMonitor(second)
        try:
            async with anyio.create_task_group() as tg:
                await tg.start(monitor.run)
                with anyio.fail_after(20):
                    while True:
                        rec = await store.get("local", started.research_id)
                        assert rec is not None
                        if rec.status == "completed":
                            break
                        await anyio.sleep(0.05)
                tg.cancel_scope.cancel()
        finally:
            await second.aclose()
            await first.aclose()
    assert rec is not None and "left alone" in rec.data["report"]
