"""What a person feels: time to the first text and to the whole answer, through MCP against the
official google-genai SDK, over a simulated network round trip.

One emulator process serves both. Between it and each client sits ``_proxy.py`` (another
process), which delays every byte by half the round-trip time in each direction. For each RTT,
in the same run and interleaved (order alternating each round):

* **SDK**: ``client.aio.interactions.create(..., stream=True, background=True)``, the body a
  turn sends; first text = the first text ``step.delta``, whole answer = the end of the stream.
* **MCP**: ``gemini_ask`` through the in-memory ``mcp.Client(build_server(settings))`` with a
  progress callback, on a SQLite state file; first text = the first "writing" progress
  message, whole answer = the tool result.

The answer is ``--chars`` long and streams with ``--delay`` ms before each 12-character delta.
Budget (DESIGN.md): both ratios within 1.10 at 100 ms, and no slower at 0 ms.

``--drain`` is an experiment, not the server as shipped: in this process it makes the upstream
client read each stream to its end after ``interaction.completed`` (instead of closing it
there), so its connection goes back to the pool; the connection counts show the difference.
Usage: ``python bench/latency.py [--rounds N] [--rtt 0 50 100 200] [--chars 400] [--delay 3]
[--sdk-foreground] [--drain]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from _procs import KEY, load, start_emulator, stop
from google import genai
from mcp import Client

from gemini_interactions_mcp.server import build_server
from gemini_interactions_mcp.settings import Settings

MODEL = "gemini-3-flash-preview"
PROXY = Path(__file__).with_name("_proxy.py")
WARM_UPS = 2


@dataclass
class Samples:
    first: list[float] = field(default_factory=list)
    whole: list[float] = field(default_factory=list)

    def add(self, first: float, whole: float) -> None:
        self.first.append(first)
        self.whole.append(whole)


class Proxies:
    """One proxy process, a port per path and RTT, each counting the TCP connections it got."""

    def __init__(self, target: str, rtts: list[float]) -> None:
        self.target = target.removeprefix("http://")
        self.specs = [f"{path}-{r:g}={r:g}" for r in rtts for path in ("sdk", "mcp")]
        self.connections: dict[str, int] = {}

    @contextlib.contextmanager
    def running(self) -> Iterator[dict[str, str]]:
        """Yields {"sdk-100": base URL, "mcp-100": ...}; counts connections on the way out."""
        proc = subprocess.Popen(
            [sys.executable, str(PROXY), self.target, *self.specs],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            ports = json.loads(proc.stdout.readline())
            yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        finally:
            proc.stdin.close()
            self.connections = json.loads(proc.stdout.readline() or "{}")
            proc.wait(10)


class SdkPath:
    """The official SDK's streaming create, timed."""

    def __init__(self, base_url: str, prompt: str, background: bool) -> None:
        options = genai.types.HttpOptions(base_url=base_url, api_version="v1beta")
        self.client = genai.Client(api_key=KEY, http_options=options)
        self.prompt = prompt
        self.background = background

    async def turn(self) -> tuple[float, float]:
        extra = {"background": True} if self.background else {}
        start = time.perf_counter()
        first = None
        stream = await self.client.aio.interactions.create(
            model=MODEL, input=self.prompt, stream=True, **extra
        )
        async with stream:
            async for event in stream:
                delta = getattr(event, "delta", None)
                if first is None and getattr(delta, "type", None) == "text":
                    first = time.perf_counter()
        whole = time.perf_counter()
        if first is None:
            raise RuntimeError("the SDK stream carried no text")
        return first - start, whole - start

    async def aclose(self) -> None:
        await self.client.aio.aclose()


class McpPath:
    """``gemini_ask`` through an in-memory MCP client, timed."""

    def __init__(self, client: Client, prompt: str) -> None:
        self.client = client
        self.prompt = prompt

    async def turn(self) -> tuple[float, float]:
        seen: list[float] = []

        async def progress(_p: float, _t: float | None, message: str | None) -> None:
            if not seen and message and message.startswith("writing"):
                seen.append(time.perf_counter())

        start = time.perf_counter()
        result = await self.client.call_tool(
            "gemini_ask", {"prompt": self.prompt}, progress_callback=progress
        )
        whole = time.perf_counter()
        if result.is_error or not seen:
            raise RuntimeError(f"gemini_ask failed or streamed no text: {result.content}")
        return seen[0] - start, whole - start


@contextlib.asynccontextmanager
async def mcp_path(base_url: str, state: Path, prompt: str) -> AsyncIterator[McpPath]:
    settings = Settings(api_key=KEY, base_url=base_url, state=str(state))
    async with Client(build_server(settings)) as client:
        yield McpPath(client, prompt)


def drain_streams() -> None:
    """Bench-only patch (see --drain): a stream closed early is first read to its end."""
    from gemini_interactions_mcp.upstream import resume

    events_of = resume.iter_events

    async def draining(response: Any) -> AsyncIterator[Any]:
        events = events_of(response)
        try:
            async for event in events:
                yield event
        finally:
            # Closed after interaction.completed: what is left is the end of the body.
            async for _ in events:
                pass

    resume.iter_events = draining  # type: ignore[assignment]


def ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(a) / statistics.median(b)


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f}"


async def main(args: argparse.Namespace) -> None:
    if args.drain:
        drain_streams()
    prompt = f"latency bench [[chars {args.chars}]] [[delay {args.delay:g}]]"
    rtts: list[float] = args.rtt
    with tempfile.TemporaryDirectory() as tmp:
        emulator, url = start_emulator(Path(tmp) / "emulator.log")
        proxies = Proxies(url, rtts)
        try:
            with proxies.running() as urls:
                sdk = {r: SdkPath(urls[f"sdk-{r:g}"], prompt, args.sdk_background) for r in rtts}
                async with contextlib.AsyncExitStack() as stack:
                    mcp = {
                        r: await stack.enter_async_context(
                            mcp_path(urls[f"mcp-{r:g}"], Path(tmp) / f"state-{r:g}.sqlite3", prompt)
                        )
                        for r in rtts
                    }
                    for r in rtts:
                        stack.push_async_callback(sdk[r].aclose)
                    results = await measure(sdk, mcp, rtts, args.rounds)
        finally:
            stop(emulator)
    report(results, rtts, args, proxies.connections)


async def measure(
    sdk: dict[float, SdkPath], mcp: dict[float, McpPath], rtts: list[float], rounds: int
) -> dict[float, tuple[Samples, Samples]]:
    results = {r: (Samples(), Samples()) for r in rtts}
    # Warm both paths on every proxy: imports, connection pools, the state file.
    for r in rtts:
        for _ in range(WARM_UPS):
            await sdk[r].turn()
            await mcp[r].turn()
    order = list(rtts)
    for i in range(rounds):
        random.shuffle(order)
        for r in order:
            ours, theirs = results[r][0], results[r][1]
            if i % 2:
                theirs.add(*await sdk[r].turn())
                ours.add(*await mcp[r].turn())
            else:
                ours.add(*await mcp[r].turn())
                theirs.add(*await sdk[r].turn())
    return results


def report(
    results: dict[float, tuple[Samples, Samples]],
    rtts: list[float],
    args: argparse.Namespace,
    connections: dict[str, int],
) -> None:
    sdk_body = "stream, background" if args.sdk_background else "stream"
    print(
        f"Answer {args.chars} chars, {args.delay:g} ms before each 12-char delta. SDK: "
        f"google-genai interactions.create({sdk_body}); MCP: gemini_ask, in-memory client, "
        "SQLite state."
    )
    print(f"Medians of {args.rounds} turns per cell, interleaved; {load()}.")
    if args.drain:
        print("EXPERIMENT (--drain): MCP's upstream streams are read to their end, not closed.")
    print()
    print(
        "| RTT ms | first text: SDK ms | MCP ms | ratio | whole answer: SDK ms | MCP ms | ratio "
        f"| TCP connections in {args.rounds + WARM_UPS} turns: SDK | MCP |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rtts:
        ours, theirs = results[r]
        cells = [
            f"{r:g}",
            ms(theirs.first),
            ms(ours.first),
            f"{ratio(ours.first, theirs.first):.2f}",
            ms(theirs.whole),
            ms(ours.whole),
            f"{ratio(ours.whole, theirs.whole):.2f}",
            str(connections.get(f"sdk-{r:g}", "?")),
            str(connections.get(f"mcp-{r:g}", "?")),
        ]
        print("| " + " | ".join(cells) + " |")
    print()
    print("Budget: ratios <= 1.10 at 100 ms RTT and <= 1.00 at 0 ms. The proxy adds one round")
    print("trip to each new TCP connection, as a handshake would; no TLS is simulated.")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--rounds", type=int, default=20, help="turns per path and RTT")
    p.add_argument("--rtt", type=float, nargs="+", default=[0, 50, 100, 200], help="ms")
    p.add_argument("--chars", type=int, default=400, help="answer length")
    p.add_argument("--delay", type=float, default=3, help="ms before each streamed delta")
    p.add_argument(
        "--sdk-foreground",
        dest="sdk_background",
        action="store_false",
        help="the SDK streams without background=true (a plain streaming create)",
    )
    p.add_argument(
        "--drain",
        action="store_true",
        help="experiment: the server reads each upstream stream to its end (see above)",
    )
    return p.parse_args()


if __name__ == "__main__":
    anyio.run(main, parse_args())
