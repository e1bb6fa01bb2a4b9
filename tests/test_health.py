"""Liveness and readiness over real HTTP, with a real Redis state store that goes away."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest

from gemini_interactions_mcp.auth.tokens import digest_of

from .auth.mcp_http import mcp_over_http


@contextmanager
def redis_server(directory: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A private redis-server on a Unix socket, for a test that stops it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    path = directory / "redis.sock"
    process = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(path), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.socket(socket.AF_UNIX) as probe:
                    probe.connect(str(path))
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)
        yield f"unix://{path}", process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.anyio
async def test_healthz_and_readyz_need_no_token_and_say_nothing_else(
    make_settings: Any, tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(f'[tokens]\nalice = "{digest_of("alice-token")}"\n')
    with redis_server(tmp_path) as (url, redis):
        settings = make_settings(transport="http", state=url, auth_tokens_file=tokens)
        async with mcp_over_http(settings) as base, httpx2.AsyncClient(timeout=30) as http:
            assert (await http.post(f"{base}/mcp", json={})).status_code == 401
            alive = await http.get(f"{base}/healthz")
            ready = await http.get(f"{base}/readyz")
            assert (alive.status_code, alive.text) == (200, "ok")
            assert (ready.status_code, ready.text) == (200, "ok")
            redis.terminate()
            redis.wait(timeout=10)
            gone = await http.get(f"{base}/readyz")
            assert (gone.status_code, gone.text) == (503, "not ready")
            alive = await http.get(f"{base}/healthz")
            assert (alive.status_code, alive.text) == (200, "ok")
