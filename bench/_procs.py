"""Child processes for the benches: the emulator, the server, and what they cost (from /proc)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Until something accepts on `port` (the child says nothing more useful when it is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port}")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GOOGLE_API"))}
    env.update(extra)
    return env


def spawn(args: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    """``python ARGS`` with stdout discarded and stderr appended to `log`."""
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=child_env(**env),
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# A bench is one caller making hundreds of calls a minute: the limits that protect a shared
# key from one person would refuse most of them.
UNLIMITED = {"GEMINI_MCP_CALLS_PER_MINUTE": "0", "GEMINI_MCP_MAX_RUNNING_RESEARCH": "0"}


def start_emulator(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``gemini-interactions-mcp emulator`` on a free port; returns it and its base URL."""
    port = free_port()
    proc = spawn(["-m", "gemini_interactions_mcp", "emulator", "--port", str(port)], log)
    wait_for_port(port, proc)
    return proc, f"http://127.0.0.1:{port}"


def start_server(base_url: str, state: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The MCP server over streamable HTTP on a free port; returns it and its MCP URL."""
    port = free_port()
    args = ["-m", "gemini_interactions_mcp", "--transport", "http", "--port", str(port)]
    args += ["--base-url", base_url, "--state", state]
    proc = spawn(args, log, GEMINI_API_KEY=KEY, **UNLIMITED)
    wait_for_port(port, proc)
    return proc, f"http://127.0.0.1:{port}/mcp"


@dataclass(frozen=True)
class Usage:
    """CPU seconds (user + system) a process has used so far, and its peak resident set."""

    cpu: float
    peak_rss_kib: int


def usage(pid: int) -> Usage:
    """From the process's own accounting in /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    peak = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1])
    return Usage(cpu, peak)


def reset_peak_rss(pid: int) -> bool:
    """Start the process's peak-RSS count afresh (Linux ≥ 4.0); False if not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def load() -> str:
    """The load averages (1, 5, 15 min) and core count, for the record beside each table."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"
