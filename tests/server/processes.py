"""Running the emulator and the server as real processes, for the process-level tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.messages import INITIALIZE

__all__ = [
    "INITIALIZE",
    "KEY",
    "child_env",
    "dead_pid",
    "emulator_running",
    "free_port",
    "spawn",
    "start_http",
    "stop",
]


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
            # A loopback port accepts or refuses at once; the loop above has the deadline.
            with socket.create_connection((host, port), timeout=2.0):
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


@contextlib.contextmanager
def emulator_running(log: Path, research_seconds: float) -> Iterator[str]:
    """`gemini-interactions-mcp emulator` as a process whose research runs take
    `research_seconds`; yields its base URL and stops it afterwards."""
    port = free_port()
    proc = spawn(
        ["emulator", "--port", str(port), "--research-seconds", f"{research_seconds:g}"], log
    )
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def dead_pid() -> int:
    """The pid of a process that has exited (as a crashed server's would be)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
