"""Where the server's CPU goes under load: a profile of the measured window of a throughput run.

The emulator and the server run as processes, as in ``throughput.py``; the same MCP clients
drive ``gemini_ask`` turns. With ``--tool cprofile`` (default) the server runs under cProfile
(``_cprofile_server.py``, deterministic, event-loop thread only, inflates the cost of many small
Python calls); with ``--tool py-spy`` it runs normally and py-spy samples whichever thread holds the
GIL (install it with ``.venv/bin/pip install py-spy``). Printed: the top functions by cumulative and
by self time, and self time grouped by where the code lives.

Usage: ``python bench/profile_server.py [--tool cprofile|py-spy] [--clients 50] [--calls 600]
[--era modern|legacy] [--store sqlite|memory|redis] [--chars 300] [--top 30] [--save FILE]``.
"""

from __future__ import annotations

import argparse
import collections
import io
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import anyio
from _procs import (
    KEY,
    UNLIMITED,
    free_port,
    load,
    spawn,
    start_emulator,
    stop,
    usage,
    wait_for_port,
)
from throughput import Target, Window, drive, redis_server

HERE = Path(__file__).parent

# Where a function lives, by the first fragment of its file path that matches.
AREAS = (
    ("gemini_interactions_mcp/upstream", "bridge: upstream (SSE, wire models, client)"),
    ("gemini_interactions_mcp/state", "bridge: state store"),
    ("gemini_interactions_mcp/core", "bridge: core (turns, lease, progress, mapping)"),
    ("gemini_interactions_mcp/tools", "bridge: tools and rendering"),
    ("gemini_interactions_mcp", "bridge: other"),
    ("/pydantic_core/", "pydantic-core"),
    ("/pydantic/", "pydantic"),
    ("/mcp/", "mcp SDK"),
    ("/mcp_types/", "mcp SDK"),
    ("/sse_starlette/", "starlette / uvicorn / h11"),
    ("/starlette/", "starlette / uvicorn / h11"),
    ("/uvicorn/", "starlette / uvicorn / h11"),
    ("/h11/", "starlette / uvicorn / h11"),
    ("/httpx2/", "httpx2 / httpcore"),
    ("/httpcore", "httpx2 / httpcore"),
    ("/anyio/", "anyio / asyncio"),
    ("/asyncio/", "anyio / asyncio"),
    ("/redis/", "redis client"),
    ("/sqlite3/", "sqlite3"),
    ("/json/", "json (stdlib)"),
    ("/threading.py", "threading (hand-offs to worker threads)"),
    ("/queue.py", "threading (hand-offs to worker threads)"),
    ("/copy.py", "copy (deep copies)"),
    ("/logging/", "logging"),
)


# Stages of a turn, by the functions whose frames they include (inclusive; stages nest).
STAGES = (
    ("tools/call handler, whole (MCP SDK dispatch down to the result)", ("_to_jsonrpc_response",)),
    ("inbound HTTP outside the handler (uvicorn, starlette)", ("RequestResponseCycle.run_asgi",)),
    ("upstream stream, whole (StreamRunner.run)", ("StreamRunner.run",)),
    ("  opening the request (InteractionsClient._send)", ("InteractionsClient._send",)),
    ("    of which a new TCP connection (connect_tcp)", ("connect_tcp",)),
    ("    of which building the request (build_request)", ("build_request",)),
    ("  reading events (iter_events: socket, SSE, JSON, wire models)", ("iter_events (",)),
    ("    of which typed wire events (parse_event)", ("parse_event (",)),
    ("  assembling the interaction (InteractionAssembler.feed/result)", ("InteractionAssembler.",)),
    (
        "  per event in the turn (on_event: pending write, narration)",
        ("TurnRunner._run.<locals>.on_event",),
    ),
    ("    of which narration and progress (TurnRunner._on_event)", ("TurnRunner._on_event",)),
    ("store: new record (hold_new)", ("hold_new (",)),
    ("store: pending and final writes (Held.write)", ("Held.write",)),
    ("  of which deep copies (BaseModel.model_copy)", ("BaseModel.model_copy",)),
    ("store: SQLite statements (SqliteStore._run)", ("SqliteStore._run",)),
    ("  of which handing work to its thread (Condition.notify)", ("Condition.notify",)),
    ("store: Redis (RedisStore)", ("RedisStore.",)),
    ("store: memory (MemoryStore)", ("MemoryStore.",)),
    ("finishing the turn (TurnRunner._finish)", ("TurnRunner._finish",)),
    ("  of which the result model (core/mapping.py)", ("core/mapping.py",)),
    ("rendering MCP content (tools/render.py)", ("tools/render.py",)),
    ("progress heartbeat (core/progress.py reporting)", ("reporting (",)),
    ("MCP SDK: Mcp-Param header check (_walk_schema_positions)", ("_walk_schema_positions",)),
)


def area(filename: str) -> str:
    for fragment, name in AREAS:
        if fragment in filename:
            return name
    if filename.startswith(("~", "<built-in")):
        return "builtins (C)"
    return "other stdlib / site-packages"


def start_server(
    base_url: str, state: str, directory: Path, tool: str
) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    stats = directory / "server.prof"
    args = ["--transport", "http", "--port", str(port), "--base-url", base_url, "--state", state]
    if tool == "cprofile":
        args = [str(HERE / "_cprofile_server.py"), str(stats), *args]
    else:
        args = ["-m", "gemini_interactions_mcp", *args]
    proc = spawn(args, directory / "server.log", GEMINI_API_KEY=KEY, **UNLIMITED)
    wait_for_port(port, proc)
    return proc, f"http://127.0.0.1:{port}/mcp", stats


async def window(
    target: Target, args: argparse.Namespace, on: Callable[[], None], off: Callable[[], None]
) -> Window:
    """Drive the turns; the profiler runs only while the measured window is open."""
    measured = Window([target.proc.pid], on_open=on, on_close=off)
    latencies, errors = await drive(target.opener(args.chars), args.clients, args.calls, measured)
    print(
        f"{len(latencies)} calls in {measured.wall:.1f} s ({len(latencies) / measured.wall:.1f}/s),"
        f" {errors} errors; server CPU {measured.cpu[0] / len(latencies) * 1000:.2f} ms per turn"
    )
    return measured


def cprofile_report(stats_file: Path, calls: int, top: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(str(stats_file), stream=out)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    print(f"\ncProfile: {total:.2f} s of CPU time on the event-loop thread, {calls} turns")
    print("(a coroutine counts one call per resumption, so call counts run high)")
    for key, title in (("cumulative", "cumulative"), ("tottime", "self")):
        out.seek(0)
        out.truncate()
        stats.sort_stats(key).print_stats(top)
        print(f"\nTop {top} by {title} time (ms per turn = time / {calls}):")
        print(_pstats_table(out.getvalue(), calls))
    by_area: collections.Counter[str] = collections.Counter()
    for (filename, _, _), row in stats.stats.items():  # type: ignore[attr-defined]
        by_area[area(filename)] += row[2]
    _print_areas(by_area, total, calls, "self time by area (event-loop thread)")


def _pstats_table(text: str, calls: int) -> str:
    rows = ["| calls | self ms/turn | cumulative ms/turn | function |", "|---:|---:|---:|---|"]
    started = False
    for line in text.splitlines():
        if line.lstrip().startswith("ncalls"):
            started = True
            continue
        parts = line.split(None, 5)
        if not started or len(parts) < 6:
            continue
        ncalls, tottime, _, cumtime, _, where = parts
        where = _short(where)
        rows.append(
            f"| {ncalls} | {float(tottime) / calls * 1000:.3f} | "
            f"{float(cumtime) / calls * 1000:.3f} | `{where}` |"
        )
    return "\n".join(rows)


def _short(where: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3.11/", "/lib/python3.12/"):
        if marker in where:
            return where.split(marker, 1)[1]
    return where


def _print_areas(by_area: collections.Counter[str], total: float, calls: int, title: str) -> None:
    print(f"\n{title[0].upper()}{title[1:]}:")
    print("| area | share | ms per turn |")
    print("|---|---:|---:|")
    for name, seconds in by_area.most_common():
        print(f"| {name} | {seconds / total:.0%} | {seconds / calls * 1000:.2f} |")


def pyspy_report(raw: Path, calls: int, cpu_ms: float, top: int) -> None:
    """Shares of the GIL-holding samples; ms per turn estimated as share x measured CPU per turn
    (sampling counts wall time, so a thread preempted while holding the GIL still counts)."""
    self_counts: collections.Counter[str] = collections.Counter()
    total_counts: collections.Counter[str] = collections.Counter()
    by_area: collections.Counter[str] = collections.Counter()
    samples = 0
    stages: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        n = int(count)
        samples += n
        for stage, markers in STAGES:
            if any(marker in stack for marker in markers):
                stages[stage] += n
        self_counts[frames[-1]] += n
        by_area[area(_frame_file(frames[-1]))] += n
        for frame in set(frames):
            total_counts[frame] += n
    print(
        f"\npy-spy: {samples} samples of the thread holding the GIL; {calls} turns; "
        f"server CPU {cpu_ms:.2f} ms per turn (/proc)"
    )
    print("\nStages of a turn (inclusive samples; est. ms per turn = share x CPU per turn):")
    print("| stage | share | est. ms per turn |")
    print("|---|---:|---:|")
    for stage, _ in STAGES:
        if stages[stage]:
            share = stages[stage] / samples
            # Markdown drops leading spaces: show the nesting with dots.
            label = "· " * ((len(stage) - len(stage.lstrip())) // 2) + stage.lstrip()
            print(f"| {label} | {share:.1%} | {share * cpu_ms:.2f} |")
    bridge = collections.Counter(
        {f: n for f, n in total_counts.items() if "gemini_interactions_mcp" in _frame_file(f)}
    )
    for title, counts in (
        ("inclusive samples, this server's own functions", bridge),
        ("self samples, any function", self_counts),
    ):
        print(f"\nTop {top} by {title} (est. ms per turn = share x CPU per turn):")
        print("| share | est. ms per turn | function |")
        print("|---:|---:|---|")
        for frame, n in counts.most_common(top):
            share = n / samples
            print(f"| {share:.1%} | {share * cpu_ms:.2f} | `{_short_frame(frame)}` |")
    _print_areas(
        collections.Counter({k: v / samples * cpu_ms * calls / 1000 for k, v in by_area.items()}),
        cpu_ms * calls / 1000,
        calls,
        "self samples by area (est. ms per turn = share x CPU per turn)",
    )


def _short_frame(frame: str) -> str:
    name, _, where = frame.rpartition(" (")
    return f"{name} ({_short(where.rstrip(')'))})" if name else frame


def _frame_file(frame: str) -> str:
    # py-spy frames read "function (path/to/file.py:123)".
    return frame.rpartition("(")[2].rstrip(")")


async def run(args: argparse.Namespace, directory: Path) -> None:
    emulator, base_url = start_emulator(directory / "emulator.log")
    spy: subprocess.Popen[bytes] | None = None
    try:
        with redis_server(directory) as redis_url:
            state = {"sqlite": str(directory / "state.sqlite3"), "memory": "memory"}.get(
                args.store, redis_url
            )
            if state is None:
                sys.exit("redis-server is not on PATH")
            proc, url, stats = start_server(base_url, state, directory, args.tool)
            target = Target("server", "server", url, proc, args.era, args.store)
            raw = directory / "pyspy.txt"
            started: list[float] = []

            def on() -> None:
                nonlocal spy
                started.append(time.perf_counter())
                if args.tool == "cprofile":
                    proc.send_signal(signal.SIGUSR1)
                    return
                binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
                spy = subprocess.Popen(
                    [
                        *(binary, "record", "-p", str(proc.pid), "-f", "raw", "-o", str(raw)),
                        # Blocking sampling (the default): --nonblocking tears many stacks.
                        *("-r", str(args.rate), "--gil", "--function", "--full-filenames"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )

            def off() -> None:
                if args.tool == "cprofile":
                    proc.send_signal(signal.SIGUSR2)
                elif spy is not None:
                    spy.send_signal(signal.SIGINT)

            try:
                print(f"{load()}; {args.clients} clients, {args.era} era, {args.store} state")
                measured = await window(target, args, on, off)
                if spy is not None:
                    spy.wait(30)
                # SIGUSR2 makes the server write its stats; wait until they are complete.
                await _settled(stats if args.tool == "cprofile" else raw)
                print(f"server peak RSS {usage(proc.pid).peak_rss_kib / 1024:.0f} MiB")
            finally:
                stop(proc)
            if args.save:
                shutil.copy(stats if args.tool == "cprofile" else raw, args.save)
            if args.tool == "cprofile":
                cprofile_report(stats, args.calls, args.top)
            else:
                pyspy_report(raw, args.calls, measured.cpu[0] / args.calls * 1000, args.top)
    finally:
        stop(emulator)


async def _settled(path: Path) -> None:
    """Until `path` exists and has stopped growing (a profiler writing it on its way out)."""
    size = -1
    for _ in range(100):
        await anyio.sleep(0.1)
        current = _size(path)
        if current > 0 and current == size:
            return
        size = current


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else -1


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--tool", choices=["cprofile", "py-spy"], default="cprofile")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--calls", type=int, default=600)
    p.add_argument("--era", choices=["modern", "legacy"], default="modern")
    p.add_argument("--store", choices=["sqlite", "memory", "redis"], default="sqlite")
    p.add_argument("--chars", type=int, default=300)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    p.add_argument("--save", type=Path, help="keep the raw profile (pstats, or py-spy's raw)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        anyio.run(run, args, Path(tmp))


if __name__ == "__main__":
    main()
