"""The research monitor against the emulator on a port, with faults injected upstream."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from gemini_interactions_mcp.core.call import Call
from gemini_interactions_mcp.core.context import ServerContext
from gemini_interactions_mcp.core.monitor import ResearchMonitor
from gemini_interactions_mcp.core.progress import Progress
from gemini_interactions_mcp.core.registry import Resolution
from gemini_interactions_mcp.core.requests import ResearchRequest
from gemini_interactions_mcp.core.research import ResearchService
from gemini_interactions_mcp.emulator import (
    Emulator,
    EmulatorConfig,
    create_app,
    serve_in_background,
)
from gemini_interactions_mcp.settings import Settings
from gemini_interactions_mcp.state.memory import MemoryStore
from gemini_interactions_mcp.upstream import InteractionsClient, RetryPolicy

from .helpers import connect, ok

pytestmark = pytest.mark.anyio

AGENT = Resolution(requested="", id="deep-research-preview-04-2026", is_agent=True)


def call() -> Call:
    return Call(owner="local", progress=Progress(None), budget=20.0)


async def test_monitor_falls_back_to_polling_when_streaming_keeps_failing() -> None:
    app = create_app(EmulatorConfig(research_seconds=0.5))
    emulator = app.state.emulator
    async with serve_in_background(app=app) as url:
        state = ServerContext(
            settings=Settings(api_key="k", base_url=url, state="memory"), base_url=url
        )
        state.use_client(
            InteractionsClient("k", base_url=url, retry=RetryPolicy(max_attempts=1, jitter=0))
        )
        monitor = ResearchMonitor(state, poll_interval=0.02)
        state.use_monitor(monitor)
        try:
            async with anyio.create_task_group() as tg:
                await tg.start(monitor.run)
                service = ResearchService(state, monitor, call())
                # Every stream (re)connection fails from now on, for a while: the monitor has
                # to notice the drop, give up on streaming and poll instead.
                emulator.fail_next(503, count=6, methods=("GET",))
                started = await service.start(
                    ResearchRequest(query="polling please [[drop 2]]"), AGENT
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
        first = ServerContext(settings=settings, base_url=url)
        service = ResearchService(first, ResearchMonitor(first), call())
        # No monitor running: nothing records the research after it starts.
        started = await service.start(ResearchRequest(query="left alone"), AGENT)
        store = await first.store()
        second = ServerContext(settings=settings, base_url=url)
        second.use_store(store)
        monitor = ResearchMonitor(second)
        second.use_monitor(monitor)
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
    assert rec is not None and rec.research is not None and rec.research.report is not None
    assert "left alone" in rec.research.report.text


@pytest.mark.parametrize("emulator_config", [EmulatorConfig(research_seconds=3.0)])
async def test_one_research_is_followed_by_one_server_and_handed_over_on_shutdown(
    make_settings: Any, emulator: Emulator
) -> None:
    """Two servers on one store: only one follows the run upstream; when it stops, the other
    takes the research over and finishes it from where the first one left."""
    store = MemoryStore()
    await store.open()
    settings = make_settings()

    def streams_of(interaction_id: str) -> list[Any]:
        return [
            r
            for r in emulator.requests
            if r.method == "GET" and r.query.get("stream") == "true" and interaction_id in r.path
        ]

    async with connect(settings, store=store) as second:
        async with connect(settings, store=store) as first:
            rid = ok(await first.call_tool("deep_research_start", {"query": "one watcher"}))[
                "research_id"
            ]
            record = await store.get("local", rid)
            assert record is not None and record.research is not None
            interaction_id = record.research.interaction_id
            assert interaction_id is not None
            progressed = anyio.Event()

            async def on_progress(progress: float, total: Any, message: str | None) -> None:
                progressed.set()  # the monitor recorded progress: it follows the stream

            async with anyio.create_task_group() as tg:

                async def wait() -> None:
                    await first.call_tool(
                        "deep_research_status",
                        {"research_id": rid, "wait_seconds": 20},
                        progress_callback=on_progress,
                    )

                tg.start_soon(wait)
                with anyio.fail_after(20):
                    await progressed.wait()
                tg.cancel_scope.cancel()
            assert len(streams_of(interaction_id)) == 1
            # Asked on the second server, which must not open a stream of its own.
            ok(await second.call_tool("deep_research_status", {"research_id": rid}))
            assert len(streams_of(interaction_id)) == 1
        # The first server stopped: the second takes over at its next look.
        done = ok(
            await second.call_tool("deep_research_status", {"research_id": rid, "wait_seconds": 20})
        )
    assert done["status"] == "completed" and "one watcher" in done["report"]
    resumed = streams_of(interaction_id)[1:]
    assert resumed and all(r.query.get("last_event_id") for r in resumed)
