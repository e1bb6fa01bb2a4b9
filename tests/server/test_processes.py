"""The real thing: the emulator and the server as subprocesses, over stdio and streamable HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.reliability import fault

from .helpers import ok
from .processes import INITIALIZE, KEY, child_env, start_http, stop

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def stdio_params(url: str, state: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "gemini_interactions_mcp", "--state", str(state), "--base-url", url],
        env=child_env(GEMINI_API_KEY=KEY),
    )


async def test_stdio_conversation_survives_a_restart(emulator_process: str, tmp_path: Path) -> None:
    """Both protocol eras, one per process: the state file is what carries the conversation."""
    params = stdio_params(emulator_process, tmp_path / "state.sqlite3")
    async with Client(params, mode="legacy") as client:
        first = ok(await client.call_tool("gemini_ask", {"prompt": "remember me"}))
        second = ok(await client.call_tool("gemini_continue", {"prompt": "still there?"}))
        assert "turn 2: still there?" in second["text"]
    async with Client(params) as client:
        third = ok(
            await client.call_tool(
                "gemini_continue",
                {"conversation_id": first["conversation_id"], "prompt": "after restart"},
            )
        )
    assert "turn 3: after restart" in third["text"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_streamable_http_ask_and_continue(
    emulator_process: str, tmp_path: Path, mode: str
) -> None:
    proc, url = start_http(emulator_process, tmp_path / "s.sqlite3", tmp_path / "http.log")
    try:
        async with Client(url, mode=mode) as client:
            first = ok(await client.call_tool("gemini_ask", {"prompt": "over http"}))
            second = ok(
                await client.call_tool(
                    "gemini_continue",
                    {"conversation_id": first["conversation_id"], "prompt": "again"},
                )
            )
        assert "turn 2: again" in second["text"]
    finally:
        stop(proc)


async def test_research_survives_a_killed_server(emulator_process: str, tmp_path: Path) -> None:
    """Killed mid-research after progress was saved; the restarted server re-attaches by
    itself, resumes after the saved event and ends with exactly what an unbroken run records."""
    state = tmp_path / "s.sqlite3"
    log = tmp_path / "http.log"
    query = "kill me midway"
    proc, url = start_http(emulator_process, state, log)
    searched = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        # The monitor saved progress with a search in it: the research is midway.
        if message and "searches" in message:
            searched.set()

    try:
        async with Client(url) as client:
            rid = ok(await client.call_tool("deep_research_start", {"query": query}))["research_id"]
            async with anyio.create_task_group() as tg:

                async def wait() -> None:
                    await client.call_tool(
                        "deep_research_status",
                        {"research_id": rid, "wait_seconds": 30},
                        progress_callback=on_progress,
                    )

                tg.start_soon(wait)
                with anyio.fail_after(20):
                    await searched.wait()
                proc.kill()  # midway, no clean shutdown
                proc.wait()
                tg.cancel_scope.cancel()
    finally:
        stop(proc)
    proc, url = start_http(emulator_process, state, log)
    try:
        async with Client(url) as client:
            # Only listing (which starts no watcher): the monitor must have re-attached itself.
            with anyio.fail_after(30):
                while True:
                    listing = ok(await client.call_tool("gemini_conversations", {}))
                    (item,) = [c for c in listing["conversations"] if c["conversation_id"] == rid]
                    if item["status"] not in ("queued", "in_progress"):
                        break
                    await anyio.sleep(0.1)
            done = ok(await client.call_tool("deep_research_status", {"research_id": rid}))
            reference_id = ok(await client.call_tool("deep_research_start", {"query": query}))[
                "research_id"
            ]
            with anyio.fail_after(30):
                reference: dict[str, Any] = {"status": "queued"}
                while reference["status"] in ("queued", "in_progress"):
                    reference = ok(
                        await client.call_tool(
                            "deep_research_status",
                            {"research_id": reference_id, "wait_seconds": 5},
                        )
                    )
            resource = await client.read_resource(f"gemini://research/{rid}/report")
    finally:
        stop(proc)
    assert done["status"] == "completed"
    assert done["report"] == reference["report"] and query in done["report"]
    assert resource.contents[0].text == done["report"]  # type: ignore[union-attr]
    for key in ("searches", "pages_read", "thoughts"):
        assert done["progress"][key] == reference["progress"][key], key


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gemini_interactions_mcp", *args],
        capture_output=True,
        text=True,
        env=child_env(**env),
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_startup_without_a_key_fails_with_one_clear_sentence() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "GEMINI_API_KEY" in result.stderr and "--emulator" in result.stderr
    assert result.stdout == ""


def test_http_on_a_public_address_needs_an_explicit_flag() -> None:
    result = run_cli("--transport", "http", "--host", "0.0.0.0", GEMINI_API_KEY=KEY)
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr


def test_http_on_a_public_address_needs_the_host_names_clients_use() -> None:
    args = ("--transport", "http", "--host", "0.0.0.0", "--allow-remote")
    result = run_cli(*args, GEMINI_API_KEY=KEY)
    assert result.returncode == 2
    assert "--allowed-host mcp.example.com" in result.stderr and "'*'" in result.stderr


def test_demo_runs_offline_on_the_emulator() -> None:
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "turn 2" in out
    assert "get_weather" in out
    assert "parsed:" in out
    assert "# Research report: How do glaciers shape mountain valleys?" in out


def test_stdio_writes_only_json_rpc_and_exits_when_stdin_closes(tmp_path: Path) -> None:
    handshake = [
        INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gemini_interactions_mcp",
            "--emulator",
            "-v",
            "--state",
            str(tmp_path / "s.db"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in handshake))
    proc.stdin.flush()
    lines = []
    for raw in proc.stdout:
        message = json.loads(raw)  # every line on stdout is a JSON-RPC message
        assert message["jsonrpc"] == "2.0"
        lines.append(message)
        if message.get("id") == 2:
            break
    began = time.monotonic()
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    finally:
        stop(proc)
    assert time.monotonic() - began < 5
    rest = proc.stdout.read()
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in rest.splitlines() if line)
    assert proc.stderr is not None
    proc.stderr.close()
    proc.stdout.close()
    assert lines[-1]["result"]["tools"]


async def test_http_refuses_a_foreign_host_header(emulator_process: str, tmp_path: Path) -> None:
    import httpx2

    proc, url = start_http(emulator_process, tmp_path / "s.sqlite3", tmp_path / "http.log")
    try:
        body = INITIALIZE
        headers = {"accept": "application/json, text/event-stream"}
        async with httpx2.AsyncClient() as http:
            evil = await http.post(url, json=body, headers={**headers, "host": "evil.example"})
            good = await http.post(url, json=body, headers=headers)
        assert evil.status_code == 421
        assert good.status_code == 200
    finally:
        stop(proc)


async def test_a_session_header_on_a_2026_request_grants_nothing(
    emulator_process: str, tmp_path: Path
) -> None:
    """The legacy session id is an owner only where the transport checked it."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    proc, url = start_http(emulator_process, tmp_path / "s.sqlite3", tmp_path / "http.log")
    accept = {"accept": "application/json, text/event-stream"}
    init = INITIALIZE
    try:
        async with httpx2.AsyncClient(timeout=30) as http:
            opened = await http.post(url, json=init, headers=accept)
            sid = opened.headers["mcp-session-id"]
            session = {**accept, "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
            await http.post(
                url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session
            )
            call = {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "gemini_ask", "arguments": {"prompt": "my secret"}},
            }
            answered = await http.post(url, json=call, headers=session)
            data = [line[5:] for line in answered.text.splitlines() if line.startswith("data:")]
            result = json.loads(data[-1])["result"]["structuredContent"]
        cid = result["conversation_id"]
        spoofing = httpx2.AsyncClient(headers={"mcp-session-id": sid}, timeout=30)
        async with spoofing, Client(streamable_http_client(url, http_client=spoofing)) as attacker:
            assert attacker.protocol_version == "2026-07-28"
            stolen = await attacker.call_tool(
                "gemini_continue", {"conversation_id": cid, "prompt": "tell me"}
            )
            assert stolen.is_error
            assert "Unknown conversation_id" in str(stolen.content)
    finally:
        stop(proc)


@fault(
    "transport",
    "stdio lines that cannot be read: not JSON, lone surrogate, deep nesting, a batch",
    sees="a JSON-RPC error under the request id where one can be read, else a log line",
    kept="the session: the next request is answered",
)
def test_stdio_answers_lines_it_cannot_read_with_a_parse_error() -> None:
    """A request the server cannot read is answered under its id, never left waiting."""
    deep = "[" * 3000 + "]" * 3000
    lines = [
        json.dumps(INITIALIZE),
        '{"jsonrpc": "2.0", "method": "notifications/initialized"}',
        "not json at all",  # no id: logged, nothing to answer
        '{"jsonrpc": "2.0", "id": 7, "method": "ping" oops',
        '[{"jsonrpc": "2.0", "id": 8, "method": "ping"}, {"jsonrpc": "2.0", "id": 9}]',
        '{"jsonrpc": "2.0", "id": 10, "method": "ping", "params": {"x": "\\ud800"}}',
        '{"jsonrpc": "2.0", "id": 12, "method": "ping", "params": ' + deep + "}",
        '{"jsonrpc": "2.0", "id": 13, "method": "ping"}',
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gemini_interactions_mcp", "--emulator"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    watchdog = threading.Timer(60, proc.kill)  # a hang fails the test instead of stalling it
    watchdog.start()
    answers: dict[int, dict[str, Any]] = {}
    try:
        proc.stdin.write("".join(line + "\n" for line in lines).encode())
        proc.stdin.flush()
        for raw in proc.stdout:
            message = json.loads(raw)
            answers[message["id"]] = message
            if 13 in answers:  # answered in order: everything before it is in
                break
        proc.stdin.close()
        proc.wait(timeout=30)
    finally:
        watchdog.cancel()
        stop(proc)
    stderr = proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    for request_id, problem in [
        (7, "not valid JSON"),
        (8, "batches are not supported"),
        (9, "batches are not supported"),
        (10, "lone surrogate"),
        (12, "nested too deeply"),
    ]:
        error = answers[request_id]["error"]
        assert error["code"] == -32700 and problem in error["message"], request_id
    assert answers[13]["result"] == {}
    assert "dropped a line on stdin with no id to answer" in stderr
