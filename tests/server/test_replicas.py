"""Two server replicas on one Redis, behind a round-robin proxy written here: 2026-07-28 calls
alternate replicas, a conversation continues on the other replica, one replica follows a running
research upstream, and when it is killed the other takes the research over and finishes it."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.reliability import fault

from ..serving import serving
from .helpers import ok
from .processes import emulator_running, free_port, spawn, stop, wait_for_port

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

# Long enough that a replica is killed while the research runs; the survivor's next look
# (every RESCAN_SECONDS) may come before or after the run ends upstream.
RESEARCH_SECONDS = 10
# The emulator accepts any key: a key per replica tells the proxy in front of the emulator which
# replica sent a request (the upstream address, which records remember, is the same for both).
KEYS = ("replica-one-key", "replica-two-key")
WAIT = 60
MODERN = "2026-07-28"

# Headers of one connection, not of the request: the proxy's own HTTP client sets them.
REQUEST_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host"}
    | {"content-length", "proxy-connection"}
)
RESPONSE_HOP = REQUEST_HOP - {"content-length"}
EVENT_ID = re.compile(rb'"event_id":"([^"]+)"')


@dataclass
class Forwarded:
    """One request as the proxy passed it on."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float
    target: int = -1
    """Which target served it (the first one that accepted the connection)."""
    events: list[str] = field(default_factory=list)
    """The SSE event ids of a streamed answer, as they passed."""

    @property
    def rpc(self) -> tuple[str, str]:
        """The JSON-RPC method and, for tools/call, the tool."""
        try:
            message = json.loads(self.body)
        except ValueError:
            return "", ""
        if not isinstance(message, dict):
            return "", ""
        params = message.get("params")
        tool = params.get("name", "") if isinstance(params, dict) else ""
        return str(message.get("method", "")), str(tool)

    @property
    def replica(self) -> int:
        """Which replica sent it to the emulator (by its key)."""
        return KEYS.index(self.headers.get("x-goog-api-key", ""))

    @property
    def is_stream_get(self) -> bool:
        return self.method == "GET" and self.query.get("stream") == "true"


class Proxy:
    """A reverse proxy (an ASGI app): each request goes to the next target in turn, and to the
    one after if a target refuses the connection; answers stream back as they come."""

    def __init__(self, targets: list[str], http: httpx2.AsyncClient) -> None:
        self.targets = targets
        self.http = http
        self.forwarded: list[Forwarded] = []
        self._turn = 0
        self._arrived = anyio.Event()

    async def arrival(self, matches: Callable[[Forwarded], bool]) -> Forwarded:
        """The first forwarded request that `matches`, waiting for it if need be."""
        while True:
            for seen in self.forwarded:
                if matches(seen):
                    return seen
            await self._arrived.wait()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = scope["query_string"].decode("latin-1")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in REQUEST_HOP
        ]
        seen = Forwarded(
            method=scope["method"],
            path=scope["path"],
            query=dict(parse_qsl(query)),
            headers={k.lower(): v for k, v in headers},
            body=body,
            at=time.monotonic(),
        )
        self.forwarded.append(seen)
        arrived, self._arrived = self._arrived, anyio.Event()
        arrived.set()
        url = scope["path"] + (f"?{query}" if query else "")
        for _ in self.targets:
            index = self._turn % len(self.targets)
            self._turn += 1
            request = self.http.build_request(
                seen.method, self.targets[index] + url, headers=headers, content=body
            )
            try:
                response = await self.http.send(request, stream=True)
            except httpx2.ConnectError:
                continue  # a replica that is gone: the next one serves
            seen.target = index
            try:
                await _relay(response, seen, receive, send)
            finally:
                await response.aclose()
            return
        await send({"type": "http.response.start", "status": 502, "headers": []})
        await send({"type": "http.response.body", "body": b"no target"})


async def _relay(response: httpx2.Response, seen: Forwarded, receive: Any, send: Any) -> None:
    """Pass an answer on as it comes, noting the ids of the events it streams."""
    headers = [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in response.headers.multi_items()
        if k.lower() not in RESPONSE_HOP
    ]
    streamed = response.headers.get("content-type", "").startswith("text/event-stream")
    pending = b""
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_cancel_on_disconnect, receive, tg.cancel_scope)
            await send(
                {"type": "http.response.start", "status": response.status_code, "headers": headers}
            )
            async for chunk in response.aiter_raw():
                if streamed:  # whole frames only: a chunk may end inside one
                    *frames, pending = (pending + chunk).split(b"\n\n")
                    for frame in frames:
                        seen.events += [m.decode() for m in EVENT_ID.findall(frame)]
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            tg.cancel_scope.cancel()
    except httpx2.HTTPError:
        pass  # the target died mid-answer: the client sees the connection end


async def _cancel_on_disconnect(receive: Any, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


@dataclass
class Cluster:
    url: str
    """The MCP URL, through the round-robin proxy."""
    front: Proxy
    """The round-robin proxy in front of the replicas."""
    upstream: Proxy
    """The proxy between the replicas and the emulator."""
    replicas: list[subprocess.Popen[bytes]]


def start_replica(upstream: str, state: str, key: str, log: Path) -> tuple[Any, str]:
    port = free_port()
    args = ["--transport", "http", "--port", str(port), "--state", state, "--base-url", upstream]
    proc = spawn(args, log, GEMINI_API_KEY=key)
    try:
        wait_for_port(port, proc)
    except BaseException:
        stop(proc)
        raise
    return proc, f"http://127.0.0.1:{port}"


@asynccontextmanager
async def cluster(emulator: str, state: str, logs: Path) -> AsyncIterator[Cluster]:
    """Two replicas sharing `state`, each behind the two proxies; stopped on the way out."""
    timeout = httpx2.Timeout(WAIT, connect=10)
    async with httpx2.AsyncClient(timeout=timeout) as http:
        upstream = Proxy([emulator], http)
        async with serving(upstream, lifespan="off") as upstream_url:
            replicas: list[subprocess.Popen[bytes]] = []
            try:
                urls = []
                for key, name in zip(KEYS, ("one", "two"), strict=True):
                    log = logs / f"replica-{name}.log"
                    proc, url = await anyio.to_thread.run_sync(
                        start_replica, upstream_url, state, key, log
                    )
                    replicas.append(proc)
                    urls.append(url)
                front = Proxy(urls, http)
                async with serving(front, lifespan="off") as front_url:
                    yield Cluster(f"{front_url}/mcp", front, upstream, replicas)
            finally:
                for proc in replicas:
                    await anyio.to_thread.run_sync(stop, proc)


@asynccontextmanager
async def client_of(url: str) -> AsyncIterator[Client]:
    """The official MCP client; it settles on the 2026-07-28 era (no session to stick to)."""
    async with (
        httpx2.AsyncClient(timeout=WAIT) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def research_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An emulator whose Deep Research runs take RESEARCH_SECONDS."""
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with emulator_running(log, RESEARCH_SECONDS) as url:
        yield url


def tool_calls(proxy: Proxy) -> list[Forwarded]:
    return [seen for seen in proxy.forwarded if seen.rpc[0] == "tools/call"]


async def test_calls_alternate_replicas_and_a_conversation_continues_on_the_other(
    research_emulator: str, redis_url: str, tmp_path: Path
) -> None:
    async with (
        cluster(research_emulator, f"{redis_url}?db=11", tmp_path) as replicas,
        client_of(replicas.url) as client,
    ):
        # The client reads the tools' output schemas once, before the first call rather
        # than after it, so that the calls themselves alternate.
        await client.list_tools()
        asked = ok(await client.call_tool("gemini_ask", {"prompt": "where am I"}))
        cid = asked["conversation_id"]
        for turn in (2, 3, 4):
            arguments = {"conversation_id": cid, "prompt": f"still here {turn}"}
            answer = ok(await client.call_tool("gemini_continue", arguments))
            assert f"turn {turn}: still here {turn}" in answer["text"]

    front = replicas.front.forwarded
    targets = [seen.target for seen in front]
    assert targets == [(targets[0] + n) % 2 for n in range(len(front))], targets
    calls = tool_calls(replicas.front)
    assert [seen.rpc[1] for seen in calls] == ["gemini_ask"] + ["gemini_continue"] * 3
    served = [seen.target for seen in calls]
    assert served in ([0, 1, 0, 1], [1, 0, 1, 0]), served
    for seen in calls:
        assert seen.headers.get("mcp-protocol-version") == MODERN
        assert "mcp-session-id" not in seen.headers
    # Each turn went to Gemini from the replica that served the call, each continuing the last.
    turns = [seen for seen in replicas.upstream.forwarded if seen.method == "POST"]
    assert [seen.replica for seen in turns] == served
    assert "previous_interaction_id" not in json.loads(turns[0].body)
    assert all("previous_interaction_id" in json.loads(seen.body) for seen in turns[1:])


@fault(
    "process",
    "SIGKILL or SIGTERM of the replica that follows a running research",
    sees=(
        "`deep_research_status` through any replica reads it running, its progress paused "
        "until the other replica takes it over (at that replica's next look, every 3 s), "
        "then `completed`"
    ),
    kept=(
        "the report, its sources and usage, every step counted once; the other replica resumes "
        "Gemini's stream after the last event recorded"
    ),
)
@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
async def test_sigkill_of_the_replica_that_follows_a_research_hands_it_to_the_other(
    stop_signal: signal.Signals,
    research_emulator: str,
    redis_url: str,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    query = "replicas that share the work"
    async with (
        cluster(research_emulator, f"{redis_url}?db={stop_signal % 16}", tmp_path) as replicas,
        client_of(replicas.url) as client,
    ):
        upstream = replicas.upstream
        started = ok(await client.call_tool("deep_research_start", {"query": query}))
        rid = started["research_id"]
        with anyio.fail_after(WAIT):
            first = await upstream.arrival(lambda seen: seen.is_stream_get)
        watcher, survivor = first.replica, 1 - first.replica

        # Status calls reach both replicas in turn; each looks at the research, and only one
        # follows it. Once its progress is recorded, the watcher has something to resume from.
        statuses: list[dict[str, Any]] = []
        with anyio.fail_after(WAIT):
            while len(statuses) < 2 or not (statuses[-1].get("progress") or {}).get("thoughts"):
                arguments = {"research_id": rid, "wait_seconds": 1}
                statuses.append(ok(await client.call_tool("deep_research_status", arguments)))
        assert statuses[-1]["status"] == "in_progress"
        looked = {seen.target for seen in tool_calls(replicas.front)[1:]}
        assert looked == {0, 1}
        assert [seen for seen in upstream.forwarded if seen.is_stream_get] == [first]

        killed_at = time.monotonic()
        replicas.replicas[watcher].send_signal(stop_signal)
        await anyio.to_thread.run_sync(replicas.replicas[watcher].wait)
        with anyio.fail_after(WAIT):
            resumed = await upstream.arrival(
                lambda seen: seen.is_stream_get and seen.replica == survivor
            )
        takeover = resumed.at - killed_at
        record_property("takeover_seconds", round(takeover, 2))
        print(f"take-over after {stop_signal.name}: {takeover:.2f} s")  # noqa: T201

        status = statuses[-1]
        with anyio.fail_after(WAIT):
            while status["status"] in ("queued", "in_progress"):
                arguments = {"research_id": rid, "wait_seconds": 5}
                status = ok(await client.call_tool("deep_research_status", arguments))
        report = await client.read_resource(f"gemini://research/{rid}/report")

    assert status["status"] == "completed", status
    text = status["report"]
    assert text.startswith(f"# Research report: {query}")
    assert report.contents[0].text == text  # type: ignore[union-attr]
    assert len({source["url"] for source in status["sources"]}) == 3
    assert all(source["url"] in text for source in status["sources"])
    assert status["usage"]["total_tokens"] > 0
    # Every step of the run counted once: the emulator's two searches (3 + 1 queries), the
    # pages it read and its four thought summaries, the last one written at the end.
    progress = status["progress"]
    assert (progress["searches"], progress["pages_read"]) == (4, 3)
    assert len(set(progress["thoughts"])) == len(progress["thoughts"]) == 4
    assert progress["thoughts"][-1] == "Writing the report."

    # One stream at a time: the watcher's, then the survivor's, resumed after the last event
    # the watcher recorded; between them every event of the run reached a watcher.
    streams = [seen for seen in upstream.forwarded if seen.is_stream_get]
    assert streams == [first, resumed]
    assert first.path == resumed.path
    assert "last_event_id" not in first.query
    assert first.events, "the watcher saw events before it was killed"
    after = resumed.query["last_event_id"]
    assert after in first.events
    numbers = [int(event.rsplit(".", 1)[1]) for event in first.events + resumed.events]
    recorded = int(after.rsplit(".", 1)[1])
    watched = numbers[: len(first.events)]
    assert watched == list(range(1, len(watched) + 1))
    assert numbers[len(first.events) :] == list(range(recorded + 1, numbers[-1] + 1))
    assert [seen.replica for seen in upstream.forwarded if seen.method == "POST"] == [
        tool_calls(replicas.front)[0].target
    ]
