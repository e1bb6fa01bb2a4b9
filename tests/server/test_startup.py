"""A server that cannot run as configured says why and stops, instead of failing every call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from gemini_interactions_mcp import server as server_module
from gemini_interactions_mcp.emulator import EmulatorConfig, serve_in_background
from gemini_interactions_mcp.state.memory import MemoryStore
from tests.reliability import fault

from .helpers import connect, error, ok
from .processes import INITIALIZE, child_env


def serve_stdio(*args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    """Run the stdio server with stdin kept open; it must stop by itself."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gemini_interactions_mcp", "--emulator", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(**env),
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(json.dumps(INITIALIZE).encode() + b"\n")
    proc.stdin.flush()
    try:
        # stdin stays open: the server has to stop by itself.
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.slow
@fault(
    "store",
    "a state path that cannot hold the file (a directory, a missing folder), an unknown "
    "scheme, a Redis server that does not answer",
    sees="the server answers initialize, then stops at start-up with one sentence naming the "
    "path or URL and the problem",
    kept="nothing is created: a missing folder stays missing",
)
@pytest.mark.parametrize(
    ("state", "problem"),
    [
        ("{tmp}", "is a directory; give a file path instead"),
        ("{tmp}/missing/state.db", "does not exist; create {tmp}/missing or choose another path"),
        ("/proc/no-such-dir/state.db", "does not exist"),
        ("ftp://host/state", "unknown state store 'ftp://host/state'"),
        ("unix://{tmp}/no-redis.sock", "cannot reach the Redis state store at unix://{tmp}"),
    ],
)
def test_an_unusable_state_store_stops_the_server_with_one_sentence(
    tmp_path: Path, state: str, problem: str
) -> None:
    result = serve_stdio("--state", state.format(tmp=tmp_path))
    assert result.returncode == 2
    stderr = result.stderr.decode().strip()
    assert stderr.startswith("The state store cannot be used: ")
    assert problem.format(tmp=tmp_path) in stderr
    assert len(stderr.splitlines()) == 1, stderr
    # initialize was answered first (start-up is not slowed down by the check) and stdout
    # carried nothing but JSON-RPC.
    (answer,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert answer["id"] == 1 and "result" in answer
    assert not (tmp_path / "missing").exists()


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_emulator_keeps_its_conversations_apart_from_the_default_state_file(
    tmp_path: Path,
) -> None:
    """--emulator without --state keeps state in memory: nothing lands in the data directory."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "gemini_interactions_mcp", "--emulator"],
        env=child_env(XDG_DATA_HOME=str(tmp_path), HOME=str(tmp_path)),
    )
    async with Client(params) as client:
        ok(await client.call_tool("gemini_ask", {"prompt": "hello emulator"}))
        listing = ok(await client.call_tool("gemini_conversations", {}))
    assert len(listing["conversations"]) == 1
    assert os.listdir(tmp_path) == []


@pytest.mark.anyio
async def test_a_call_before_the_check_names_the_real_problem(
    make_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check runs a while after start-up; here the call surely comes first.
    monkeypatch.setattr(server_module, "MONITOR_DELAY", 3600.0)
    missing = tmp_path / "missing" / "state.db"
    async with connect(make_settings(state=str(missing))) as client:
        message = error(await client.call_tool("gemini_ask", {"prompt": "hi"}))
    assert message.startswith("The state store cannot be used: the directory of the state file")
    assert str(missing) in message and not missing.parent.exists()


@pytest.mark.anyio
async def test_a_conversation_is_never_continued_against_another_upstream(
    make_settings: Any,
) -> None:
    store = MemoryStore()
    await store.open()
    async with (
        serve_in_background(EmulatorConfig(), host="127.0.0.1", port=0) as other_url,
        connect(make_settings(), store=store) as here,
        connect(make_settings(base_url=other_url), store=store) as there,
    ):
        made = ok(await here.call_tool("gemini_ask", {"prompt": "made here"}))
        message = error(
            await there.call_tool(
                "gemini_continue",
                {"conversation_id": made["conversation_id"], "prompt": "and there?"},
            )
        )
    assert f"{made['conversation_id']} was made on http://127.0.0.1:" in message
    assert f"now talks to {other_url}" in message and "start a new conversation" in message
