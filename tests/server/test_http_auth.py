"""Bearer tokens end to end: two server replicas sharing Redis, the emulator, both eras."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError

from gemini_interactions_mcp.auth.tokens import entry, new_token

from ..auth.mcp_http import ACCEPT, INITIALIZE, client_with
from .helpers import ok, text_of
from .processes import free_port, spawn, stop, wait_for_port

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

KEY = "process-test-key"
UNKNOWN = {"c": "c_" + "x" * 32, "r": "r_" + "x" * 32}


def start(
    upstream: str, state: str, tokens: Path, log: Path, host: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    args = ["--transport", "http", "--host", host, "--port", str(port), "--state", state]
    args += ["--base-url", upstream, "--auth-tokens", str(tokens)]
    # Beyond loopback the server needs the host names clients use.
    proc = spawn(args, log, GEMINI_API_KEY=KEY, GEMINI_MCP_ALLOWED_HOSTS=host)
    wait_for_port(port, proc, host=host)
    return proc, f"http://{host}:{port}/mcp"


async def assert_foreign_handles_look_unknown(client: Client, cid: str, rid: str) -> None:
    """Every way to reach another principal's handle answers as for a handle no one has."""
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("gemini_continue", "conversation_id", {"prompt": "tell me"}),
        ("deep_research_status", "research_id", {}),
        ("deep_research_cancel", "research_id", {}),
        ("gemini_conversations", "forget", {}),
    ]
    for tool, argument, rest in calls:
        for foreign in (cid, rid):
            unknown = UNKNOWN[foreign[0]]
            seen = await client.call_tool(tool, {argument: foreign, **rest})
            not_there = await client.call_tool(tool, {argument: unknown, **rest})
            assert seen.is_error and not_there.is_error, (tool, foreign)
            assert text_of(seen).replace(foreign, "ID") == text_of(not_there).replace(unknown, "ID")
    refusals = []
    for research in (rid, UNKNOWN["r"]):
        with pytest.raises(MCPError) as refused:
            await client.read_resource(f"gemini://research/{research}/report")
        refusals.append((refused.value.error.code, str(refused.value).replace(research, "ID")))
    assert refusals[0] == refusals[1]
    assert ok(await client.call_tool("gemini_conversations", {}))["conversations"] == []


async def test_bearer_tokens_give_each_principal_its_handles_on_every_replica_in_both_eras(
    emulator_process: str, redis_url: str, tmp_path: Path
) -> None:
    alice, bob = new_token(), new_token()
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(f"[tokens]\n{entry('alice', alice)}\n{entry('bob', bob)}\n")
    state = redis_url
    logs = tmp_path / "one.log", tmp_path / "two.log"
    one, url_one = start(emulator_process, state, tokens, logs[0], "127.0.0.1")
    try:
        # Not a loopback address for the server, so it binds there only because auth is on.
        two, url_two = start(emulator_process, state, tokens, logs[1], "127.0.0.2")
    except BaseException:
        stop(one)
        raise
    try:
        async with httpx2.AsyncClient(timeout=30) as http:
            for presented in ({}, {"authorization": "Bearer wrong"}, {"authorization": alice}):
                refused = await http.post(url_two, json=INITIALIZE, headers={**ACCEPT, **presented})
                assert refused.status_code == 401, presented
                assert refused.headers["www-authenticate"].startswith("Bearer ")
            base_two = url_two.removesuffix("/mcp")
            for probe in ("healthz", "readyz"):
                answer = await http.get(f"{base_two}/{probe}")
                assert (answer.status_code, answer.text) == (200, "ok"), probe
            # A handshake-era session lives in the replica that opened it: routing must stick.
            signed = {**ACCEPT, "authorization": f"Bearer {alice}"}
            opened = await http.post(url_one, json=INITIALIZE, headers=signed)
            session = {**signed, "mcp-session-id": opened.headers["mcp-session-id"]}
            session["mcp-protocol-version"] = "2025-11-25"
            tools_list = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
            assert (await http.post(url_one, json=tools_list, headers=session)).status_code == 200
            assert (await http.post(url_two, json=tools_list, headers=session)).status_code == 404

        async with client_with(url_one, alice, mode="legacy") as client:
            cid = ok(await client.call_tool("gemini_ask", {"prompt": "remember me"}))
            cid = cid["conversation_id"]
        async with client_with(url_one, alice) as client:
            started = await client.call_tool("deep_research_start", {"query": "shared research"})
            rid = ok(started)["research_id"]

        async with client_with(url_two, alice) as client:
            turn = ok(
                await client.call_tool(
                    "gemini_continue", {"conversation_id": cid, "prompt": "from replica two"}
                )
            )
            assert "turn 2: from replica two" in turn["text"]
            status: dict[str, Any] = {"status": "queued"}
            with anyio.fail_after(60):
                while status["status"] in ("queued", "in_progress"):
                    status = ok(
                        await client.call_tool(
                            "deep_research_status", {"research_id": rid, "wait_seconds": 5}
                        )
                    )
            assert status["status"] == "completed"
            report = await client.read_resource(f"gemini://research/{rid}/report")
            assert report.contents[0].text == status["report"]  # type: ignore[union-attr]
        async with client_with(url_two, alice, mode="legacy") as client:
            listing = ok(await client.call_tool("gemini_conversations", {}))
            assert {c["conversation_id"] for c in listing["conversations"]} == {cid, rid}

        for url, mode in ((url_one, "legacy"), (url_two, "auto")):
            async with client_with(url, bob, mode=mode) as client:
                await assert_foreign_handles_look_unknown(client, cid, rid)

        async with client_with(url_one, alice) as client:
            turn = ok(
                await client.call_tool(
                    "gemini_continue", {"conversation_id": cid, "prompt": "still"}
                )
            )
            assert "turn 3: still" in turn["text"]
            done = ok(await client.call_tool("deep_research_status", {"research_id": rid}))
            assert done["report"] == status["report"]
    finally:
        stop(one)
        stop(two)
    first_lines = logs[0].read_text().splitlines()[:2]
    assert first_lines[1].startswith("gemini-interactions-mcp: HTTP callers need a bearer token")
    assert "(2 names)" in first_lines[1]
    for log in logs:
        text = log.read_text()
        assert alice not in text and bob not in text
