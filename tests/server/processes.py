"""Running the emulator and the server as real processes, for the process-level tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.messages import INITIALIZE

__all__ = ["INITIALIZE", "KEY", "child_env", "dead_pid", "free_port", "spawn", "start_http", "stop"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, proc: subprocess.Popen[bytes], timeout: float = 20, host: str = "127.0.0.1"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            # fast-ok: one probe of a loopback port; the loop above has the real deadline.
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port}")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GOOGLE_API"))}
    env.update(extra)
    return env


def spawn(args: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "gemini_interactions_mcp", *args],
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


KEY = "process-test-key"


def start_http(url: str, state: Path, log: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    """The server over streamable HTTP on a free port, against the upstream at `url`; `env`
    adds to its environment."""
    port = free_port()
    proc = spawn(
        ["--transport", "http", "--port", str(port), "--state", str(state), "--base-url", url],
        log,
        **{"GEMINI_API_KEY": KEY, **env},
    )
    wait_for_port(port, proc)
    return proc, f"http://127.0.0.1:{port}/mcp"


def dead_pid() -> int:
    """The pid of a process that has exited (as a crashed server's would be)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
