"""Cold start over stdio: spawn → ``tools/list`` answered, this server against a bare MCPServer.

Both are measured in the same run, interleaved, and the ratio of medians is printed; the
budget is 1.10. Usage: ``python bench/coldstart.py [rounds]``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = """
from mcp.server import MCPServer

mcp = MCPServer("bare")


@mcp.tool()
def echo(text: str) -> str:
    return text


mcp.run("stdio")
"""

HANDSHAKE = [
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "0"},
        },
    },
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]


def time_to_tools_list(command: list[str], env: dict[str, str]) -> float:
    """Seconds from spawn until the tools/list answer arrives on stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in HANDSHAKE))
    proc.stdin.flush()
    elapsed = None
    for line in proc.stdout:
        message = json.loads(line)
        if message.get("id") == 2:
            elapsed = time.perf_counter() - start
            assert message["result"]["tools"], message
            break
    proc.stdin.close()
    proc.wait(10)
    if elapsed is None:
        raise RuntimeError(f"{command} never answered tools/list")
    return elapsed


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    env = {**os.environ, "GEMINI_API_KEY": "bench-key"}
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare_server.py"
        bare.write_text(BARE)
        ours_cmd = [
            sys.executable,
            "-m",
            "gemini_interactions_mcp",
            "--state",
            str(Path(tmp) / "s.db"),
        ]
        bare_cmd = [sys.executable, str(bare)]
        # Warm the OS file cache and bytecode for both before measuring.
        time_to_tools_list(ours_cmd, env)
        time_to_tools_list(bare_cmd, env)
        ours, base = [], []
        for _ in range(rounds):
            base.append(time_to_tools_list(bare_cmd, env))
            ours.append(time_to_tools_list(ours_cmd, env))
    m_ours, m_base = statistics.median(ours), statistics.median(base)
    print(f"bare MCPServer (1 tool):   median {m_base * 1000:7.1f} ms over {rounds} runs")
    print(f"gemini-interactions-mcp:   median {m_ours * 1000:7.1f} ms over {rounds} runs")
    print(f"ratio: {m_ours / m_base:.3f} (budget 1.10)")


if __name__ == "__main__":
    main()
