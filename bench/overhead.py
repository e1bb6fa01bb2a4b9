"""What the bridge adds: a turn through MCP against the same turn called directly, and how soon
the first text delta upstream becomes an MCP progress notification.

Both paths talk to one emulator on a loopback port in the same run, interleaved; the report
gives medians and the difference. The direct path sends what a turn sends: one streaming create
with background=true, read to its end. Budgets (DESIGN.md): < 2 ms added per call, < 10 ms from
the first upstream delta to the first progress notification.
Usage: ``python bench/overhead.py [rounds]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

import anyio
from mcp import Client

from gemini_interactions_mcp.emulator import EmulatorConfig, serve_in_background
from gemini_interactions_mcp.emulator.record import Record
from gemini_interactions_mcp.server import build_server
from gemini_interactions_mcp.settings import Settings
from gemini_interactions_mcp.upstream import InteractionsClient

PROMPT = "benchmark turn [[chars 200]]"
MODEL = "gemini-3-flash-preview"
BODY = {"model": MODEL, "input": PROMPT, "background": True}

# Bench-only instrumentation: when the emulator emitted its first text delta.
_first_delta: list[float] = []
_emit = Record.emit


def _timed_emit(self: Record, event: dict[str, Any]) -> None:
    delta = event.get("delta") or {}
    is_text = event.get("event_type") == "step.delta" and delta.get("type") == "text"
    if is_text and not _first_delta:
        _first_delta.append(time.perf_counter())
    _emit(self, event)


Record.emit = _timed_emit  # type: ignore[method-assign]


async def main(rounds: int) -> None:
    async with serve_in_background(EmulatorConfig(), port=0) as url:
        settings = Settings(api_key="bench", base_url=url, state="memory", call_budget=30)
        direct_times: list[float] = []
        bridged_times: list[float] = []
        first_progress: list[float] = []
        seen: list[float] = []

        async def progress(p: float, total: float | None, message: str | None) -> None:
            if message and message.startswith("writing") and not seen:
                seen.append(time.perf_counter())

        async with (
            InteractionsClient("bench", base_url=url) as direct,
            Client(build_server(settings)) as mcp,
        ):
            # Warm both paths (imports, connection pools) before measuring.
            await mcp.call_tool("gemini_ask", {"prompt": PROMPT})
            await direct.create_stream(BODY)
            for _ in range(rounds):
                start = time.perf_counter()
                await direct.create_stream(BODY)
                direct_times.append(time.perf_counter() - start)

                seen.clear()

                _first_delta.clear()
                start = time.perf_counter()
                await mcp.call_tool("gemini_ask", {"prompt": PROMPT}, progress_callback=progress)
                bridged_times.append(time.perf_counter() - start)
                if seen and _first_delta:
                    first_progress.append(seen[0] - _first_delta[0])
    d, b = statistics.median(direct_times), statistics.median(bridged_times)
    one, five, fifteen = os.getloadavg()
    print(f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores")
    print(f"direct client (streaming create): median {d * 1000:7.2f} ms over {rounds} turns")
    print(f"through MCP (gemini_ask):         median {b * 1000:7.2f} ms over {rounds} turns")
    print(f"added by the bridge: {(b - d) * 1000:.2f} ms per call (budget 2 ms), ratio {b / d:.3f}")
    if first_progress:
        f = statistics.median(first_progress)
        print(f"first upstream text delta -> first progress notification: median {f * 1000:.2f} ms")
        print("(budget 10 ms)")


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 30)
