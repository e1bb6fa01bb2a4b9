"""Throughput over streamable HTTP: many MCP clients doing ``gemini_ask`` turns at once.

Everything runs as its own process on this machine: the emulator, the server (one per state
store), and a bare one-tool ``MCPServer``; this process drives them. For each answer length and
concurrency, in the same run and in rotating order:

* **emulator alone**: the turns the server would send (one streaming background create each),
  sent straight to the emulator by httpx2 clients that read each stream to its end;
* **bare MCPServer**: the same MCP clients calling a tool that answers with as many characters;
* **server**: ``gemini_ask`` through ``gemini-interactions-mcp --transport http``, per protocol
  era (``Client(mode="legacy")`` and the default) and per state store (SQLite; Redis when
  ``redis-server`` is on PATH; ``--stores memory`` adds the in-memory store, to tell the
  store's share of the cost).

Each client makes one call before the clock starts; then the clients share ``--calls`` calls.
Reported: calls/s, latency p50/p99, errors, and from the served process's own accounting
(/proc/PID/stat, /proc/PID/status) its CPU per call and its peak RSS during the run; for server
runs also the emulator's CPU per turn, and this driver's CPU per call for every run.
Budgets (DESIGN.md), at 50 clients: server CPU per turn <= 2x the bare MCPServer's CPU per call
(same era), >= 70% of the emulator alone's calls/s, no errors.

``--conversation K`` measures instead how a turn's cost grows along one conversation: each
client asks, then continues its conversation K-1 times, all clients in step, one window per
turn number.

Usage: ``python bench/throughput.py [--concurrency 1 10 50 100] [--calls 300] [--chars 300]
[--eras modern legacy] [--stores sqlite redis] [--rounds 1] [--conversation K]``.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from _procs import (
    KEY,
    free_port,
    load,
    reset_peak_rss,
    spawn,
    start_emulator,
    start_server,
    stop,
    usage,
    wait_for_port,
)
from mcp import Client

MODEL = "gemini-3-flash-preview"
CallFn = Callable[[], Awaitable[bool]]
Opener = Callable[[], contextlib.AbstractAsyncContextManager[CallFn]]

BARE = """
import sys

from mcp.server import MCPServer

mcp = MCPServer("bare")
FILLER = " lorem ipsum dolor sit amet"


@mcp.tool()
async def ask(prompt: str, chars: int = 300) -> str:
    text = "turn 1: " + prompt
    return (text + FILLER * (chars // len(FILLER) + 1))[:chars]


mcp.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
"""


def prompt_for(chars: int) -> str:
    return f"throughput bench [[chars {chars}]]"


# -- what is served ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Something the clients call, and the process whose CPU it costs."""

    name: str
    kind: str  # "emulator", "bare" or "server"
    url: str
    proc: subprocess.Popen[bytes]
    era: str | None = None
    store: str | None = None

    def opener(self, chars: int) -> Opener:
        if self.kind == "emulator":
            return _emulator_client(self.url, chars)
        mode = "legacy" if self.era == "legacy" else "auto"
        if self.kind == "bare":
            return _mcp_client(self.url, mode, "ask", {"prompt": prompt_for(chars), "chars": chars})
        return _mcp_client(self.url, mode, "gemini_ask", {"prompt": prompt_for(chars)})


def _emulator_client(base_url: str, chars: int) -> Opener:
    body = {"model": MODEL, "input": prompt_for(chars), "background": True, "stream": True}
    headers = {"x-goog-api-key": KEY, "accept": "text/event-stream"}

    @contextlib.asynccontextmanager
    async def open_client() -> AsyncIterator[CallFn]:
        async with httpx2.AsyncClient(base_url=base_url, timeout=60) as http:

            async def call() -> bool:
                async with http.stream(
                    "POST", "/v1beta/interactions", json=body, headers=headers
                ) as response:
                    async for _ in response.aiter_bytes():
                        pass
                    return response.status_code == 200

            yield call

    return open_client


def _mcp_client(url: str, mode: Any, tool: str, arguments: dict[str, Any]) -> Opener:
    @contextlib.asynccontextmanager
    async def open_client() -> AsyncIterator[CallFn]:
        async with Client(url, mode=mode) as client:

            async def call() -> bool:
                result = await client.call_tool(tool, arguments)
                return not result.is_error

            yield call

    return open_client


# -- one measured run -------------------------------------------------------------------------


@dataclass
class Result:
    target: Target
    concurrency: int
    chars: int
    wall: float
    latencies: list[float]
    errors: int
    cpu: float
    peak_rss_kib: int | None
    upstream_cpu: float | None
    driver_cpu: float

    @property
    def calls(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.calls / self.wall

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.calls * 1000

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


@dataclass
class Window:
    """What the served process(es) and this driver used between two instants."""

    pids: list[int]
    cpu: list[float] = field(default_factory=list)
    wall: float = 0.0
    driver: float = 0.0
    on_open: Callable[[], None] | None = None
    """Called as the window opens (a profiler starts here) and closes."""
    on_close: Callable[[], None] | None = None

    def __enter__(self) -> Window:
        if self.on_open is not None:
            self.on_open()
        self.cpu = [usage(pid).cpu for pid in self.pids]
        self._wall = time.perf_counter()
        self._driver = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.driver = time.process_time() - self._driver
        self.cpu = [
            usage(pid).cpu - before for pid, before in zip(self.pids, self.cpu, strict=True)
        ]
        if self.on_close is not None:
            self.on_close()


async def drive(
    opener: Opener, concurrency: int, calls: int, window: Window
) -> tuple[list[float], int]:
    """`concurrency` clients, warmed by one call each, then sharing `calls` calls in `window`."""
    ready = anyio.Event()
    go = anyio.Event()
    done = anyio.Event()
    state = {"ready": 0, "left": calls, "finished": 0, "errors": 0}
    latencies: list[float] = []

    async def client() -> None:
        async with opener() as call:
            if not await call():
                raise RuntimeError("the warm-up call failed")
            state["ready"] += 1
            if state["ready"] == concurrency:
                ready.set()
            await go.wait()
            while state["left"] > 0:
                state["left"] -= 1
                start = time.perf_counter()
                try:
                    ok = await call()
                except Exception:
                    ok = False
                latencies.append(time.perf_counter() - start)
                state["errors"] += not ok
                state["finished"] += 1
                if state["finished"] == calls:
                    done.set()
            # Stay connected until every measured call is over: a goodbye costs the server too.
            await done.wait()

    async with anyio.create_task_group() as clients:
        for _ in range(concurrency):
            clients.start_soon(client)
        await ready.wait()
        with window:
            go.set()
            await done.wait()
    return latencies, state["errors"]


async def run_once(
    target: Target, emulator: subprocess.Popen[bytes], concurrency: int, calls: int, chars: int
) -> Result:
    pids = [target.proc.pid]
    if target.kind == "server":
        pids.append(emulator.pid)
    reset = reset_peak_rss(target.proc.pid)
    window = Window(pids)
    latencies, errors = await drive(target.opener(chars), concurrency, calls, window)
    return Result(
        target=target,
        concurrency=concurrency,
        chars=chars,
        wall=window.wall,
        latencies=latencies,
        errors=errors,
        cpu=window.cpu[0],
        peak_rss_kib=usage(target.proc.pid).peak_rss_kib if reset else None,
        upstream_cpu=window.cpu[1] if len(pids) > 1 else None,
        driver_cpu=window.driver,
    )


# -- conversation length ----------------------------------------------------------------------


@dataclass
class TurnCost:
    """What one turn number of a conversation cost, summed over clients and rounds."""

    cpu: float = 0.0
    upstream: float = 0.0
    turns: int = 0
    latencies: list[float] = field(default_factory=list)


async def conversations(
    target: Target,
    connected: list[Client],
    emulator: subprocess.Popen[bytes],
    prompt: str,
    costs: list[TurnCost],
) -> None:
    """One conversation per client, all in step: turn 1 everywhere, then turn 2, ..."""
    ids: list[str | None] = [None] * len(connected)

    async def one(i: int, client: Client, latencies: list[float]) -> None:
        start = time.perf_counter()
        if ids[i] is None:
            result = await client.call_tool("gemini_ask", {"prompt": prompt})
        else:
            arguments = {"conversation_id": ids[i], "prompt": prompt}
            result = await client.call_tool("gemini_continue", arguments)
        latencies.append(time.perf_counter() - start)
        if result.is_error or not isinstance(result.structured_content, dict):
            raise RuntimeError(f"a turn failed: {result.content}")
        ids[i] = result.structured_content["conversation_id"]

    for cost in costs:
        with Window([target.proc.pid, emulator.pid]) as window:
            async with anyio.create_task_group() as group:
                for i, client in enumerate(connected):
                    group.start_soon(one, i, client, cost.latencies)
        cost.cpu += window.cpu[0]
        cost.upstream += window.cpu[1]
        cost.turns += len(connected)


# -- processes --------------------------------------------------------------------------------


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[str | None]:
    """A private redis-server on a Unix socket, or None when it is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    socket = directory / "redis.sock"
    proc = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    output = proc.stdout
    ready = threading.Event()

    def watch() -> None:
        for line in output:  # drained for the server's whole life
            if "ready to accept connections" in line.lower():
                ready.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        if not ready.wait(10):
            raise RuntimeError("redis-server did not start")
        yield f"unix://{socket}"
    finally:
        proc.terminate()
        proc.wait(10)
        watcher.join(10)


def start_bare(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    script = directory / "bare_server.py"
    script.write_text(BARE)
    port = free_port()
    proc = spawn([str(script), str(port)], directory / "bare.log")
    wait_for_port(port, proc)
    return proc, f"http://127.0.0.1:{port}/mcp"


@contextlib.contextmanager
def targets(args: argparse.Namespace, directory: Path) -> Iterator[tuple[Any, list[Target], str]]:
    """The emulator, and every target this run measures; a note on anything skipped."""
    procs: list[subprocess.Popen[bytes]] = []
    note = ""
    try:
        emulator, base_url = start_emulator(directory / "emulator.log")
        procs.append(emulator)
        found = [Target("emulator alone", "emulator", base_url, emulator)]
        bare, bare_url = start_bare(directory)
        procs.append(bare)
        with redis_server(directory) as redis_url:
            stores: dict[str, str] = {}
            if "sqlite" in args.stores:
                stores["sqlite"] = str(directory / "state.sqlite3")
            if "memory" in args.stores:
                stores["memory"] = "memory"
            if "redis" in args.stores:
                if redis_url is None:
                    note = "Redis skipped: redis-server is not on PATH."
                else:
                    stores["redis"] = redis_url
            servers = {}
            for store, spec in stores.items():
                proc, url = start_server(base_url, spec, directory / f"server-{store}.log")
                procs.append(proc)
                servers[store] = (proc, url)
            for era in args.eras:
                found.append(Target(f"bare MCPServer, {era}", "bare", bare_url, bare, era))
                for store, (proc, url) in servers.items():
                    found.append(Target(f"server, {era}, {store}", "server", url, proc, era, store))
            yield emulator, found, note
    finally:
        for proc in procs:
            stop(proc)


# -- report -----------------------------------------------------------------------------------


def median_result(results: list[Result]) -> Result:
    """The run with the median rate (several rounds), so its other figures belong together."""
    return sorted(results, key=lambda r: r.rate)[len(results) // 2]


def report(
    runs: dict[tuple[int, int, str], list[Result]], found: list[Target], args: argparse.Namespace
) -> None:
    print(
        "| chars | clients | target | calls/s | vs emulator alone | p50 ms | p99 ms | errors "
        "| CPU ms/call | vs bare | peak RSS MiB | emulator CPU ms/turn | driver CPU ms/call |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for chars in args.chars:
        for concurrency in args.concurrency:
            cell = {t.name: median_result(runs[chars, concurrency, t.name]) for t in found}
            alone = cell.get("emulator alone")
            for name, result in cell.items():
                bare = cell.get(f"bare MCPServer, {result.target.era}")
                versus_alone = (
                    f"{result.rate / alone.rate:.2f}"
                    if alone and result.target.kind == "server"
                    else ""
                )
                versus_bare = (
                    f"{result.cpu_ms / bare.cpu_ms:.2f}"
                    if bare and result.target.kind == "server"
                    else ""
                )
                rss = "" if result.peak_rss_kib is None else f"{result.peak_rss_kib / 1024:.0f}"
                upstream = (
                    ""
                    if result.upstream_cpu is None
                    else f"{result.upstream_cpu / result.calls * 1000:.2f}"
                )
                cells = [
                    str(chars),
                    str(concurrency),
                    name,
                    f"{result.rate:.1f}",
                    versus_alone,
                    f"{result.percentile(0.5) * 1000:.0f}",
                    f"{result.percentile(0.99) * 1000:.0f}",
                    str(result.errors),
                    f"{result.cpu_ms:.2f}",
                    versus_bare,
                    rss,
                    upstream,
                    f"{result.driver_cpu / result.calls * 1000:.2f}",
                ]
                print("| " + " | ".join(cells) + " |")


def budgets(runs: dict[tuple[int, int, str], list[Result]]) -> None:
    """The DESIGN.md budgets at 50 clients, for each answer length measured there."""
    keys = {(c, n) for c, n, _ in runs}
    for chars, concurrency in sorted(keys):
        if concurrency != 50:
            continue
        cell = {name: median_result(r) for (c, n, name), r in runs.items() if (c, n) == (chars, 50)}
        alone = cell.get("emulator alone")
        for name, result in cell.items():
            if result.target.kind != "server":
                continue
            bare = cell.get(f"bare MCPServer, {result.target.era}")
            cpu = result.cpu_ms / bare.cpu_ms if bare else float("nan")
            rate = result.rate / alone.rate if alone else float("nan")
            verdict = "met" if cpu <= 2 and rate >= 0.7 and result.errors == 0 else "NOT met"
            print(
                f"{chars} chars, 50 clients, {name}: CPU {cpu:.2f}x bare (<= 2), "
                f"{rate:.0%} of emulator alone (>= 70%), {result.errors} errors -> {verdict}"
            )


# -- main -------------------------------------------------------------------------------------


async def measure(emulator: Any, found: list[Target], args: argparse.Namespace) -> Any:
    runs: dict[tuple[int, int, str], list[Result]] = {}
    for round_number in range(args.rounds):
        for chars in args.chars:
            for concurrency in args.concurrency:
                calls = max(args.calls, 2 * concurrency)
                # Rotate the order each round and cell, so no target always goes first.
                shift = (round_number + concurrency + chars) % len(found)
                for target in found[shift:] + found[:shift]:
                    result = await run_once(target, emulator, concurrency, calls, chars)
                    runs.setdefault((chars, concurrency, target.name), []).append(result)
    return runs


async def measure_conversation(
    emulator: Any, found: list[Target], args: argparse.Namespace
) -> None:
    servers = [t for t in found if t.kind == "server"]
    clients, turns, prompt = args.concurrency[0], args.conversation, prompt_for(args.chars[0])
    costs = {t.name: [TurnCost() for _ in range(turns)] for t in servers}
    async with contextlib.AsyncExitStack() as stack:
        connected = {}
        for t in servers:
            mode = "legacy" if t.era == "legacy" else "auto"
            connected[t.name] = [
                await stack.enter_async_context(Client(t.url, mode=mode)) for _ in range(clients)
            ]
            # Warm every client and code path (the first ask and continue load the core).
            await conversations(t, connected[t.name], emulator, prompt, [TurnCost(), TurnCost()])
        for _ in range(args.rounds):
            for t in servers:
                await conversations(t, connected[t.name], emulator, prompt, costs[t.name])
    print(
        f"One conversation per client, {clients} clients in step, {args.rounds} round(s), "
        f"answers of {args.chars[0]} chars; {load()}."
    )
    print()
    print("| turn | " + " | ".join(f"{n}: CPU ms/turn | emulator | p50 ms" for n in costs) + " |")
    print("|---:|" + "---:|---:|---:|" * len(costs))
    for number in range(turns):
        cells = [str(number + 1)]
        for rows in costs.values():
            cost = rows[number]
            cells += [
                f"{cost.cpu / cost.turns * 1000:.2f}",
                f"{cost.upstream / cost.turns * 1000:.2f}",
                f"{statistics.median(cost.latencies) * 1000:.0f}",
            ]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp, targets(args, Path(tmp)) as (emulator, found, note):
        print(f"{load()} before the run.")
        if note:
            print(note)
        if args.conversation:
            anyio.run(measure_conversation, emulator, found, args)
            return
        runs = anyio.run(measure, emulator, found, args)
        print(
            f"Calls per run: max({args.calls}, 2 x clients), after one warm-up call per client; "
            f"{args.rounds} round(s), the median-rate round shown; {load()} after the run."
        )
        print()
        report(runs, found, args)
        print()
        budgets(runs)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50, 100])
    p.add_argument("--calls", type=int, default=300, help="measured calls per run")
    p.add_argument("--chars", type=int, nargs="+", default=[300], help="answer lengths")
    p.add_argument("--eras", nargs="+", default=["modern", "legacy"], choices=["modern", "legacy"])
    p.add_argument(
        "--stores", nargs="+", default=["sqlite", "redis"], choices=["sqlite", "redis", "memory"]
    )
    p.add_argument("--rounds", type=int, default=1, help="repeat every run; medians shown")
    p.add_argument(
        "--conversation",
        type=int,
        default=0,
        metavar="K",
        help="instead: K turns per conversation, cost per turn number (first --concurrency)",
    )
    return p.parse_args()


if __name__ == "__main__":
    main()
