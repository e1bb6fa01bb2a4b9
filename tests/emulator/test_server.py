"""The standalone server (what the ``emulator`` command runs), in a child process."""

from __future__ import annotations

import re
import subprocess
import sys

import anyio
import httpx2
import pytest
from anyio.abc import ByteReceiveStream

from .helpers import MODEL, URL

pytestmark = pytest.mark.anyio

SECRET = "AIzaSECRET-key-0123456789"
SERVE = (
    "import asyncio\n"
    "from gemini_interactions_mcp.emulator import EmulatorConfig, serve\n"
    "asyncio.run(serve(EmulatorConfig(), port=0))\n"
)


async def read_all(stream: ByteReceiveStream) -> str:
    return b"".join([chunk async for chunk in stream]).decode()


async def test_the_standalone_server_logs_requests_but_never_an_api_key() -> None:
    process = await anyio.open_process(
        [sys.executable, "-u", "-c", SERVE], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        startup = ""
        with anyio.fail_after(10):
            while (running := re.search(r"running on (http://\S+)", startup)) is None:
                startup += (await process.stderr.receive()).decode()
        async with httpx2.AsyncClient(base_url=running.group(1)) as client:
            body = {"model": MODEL, "input": "hi"}
            created = await client.post(URL, params={"key": SECRET}, json=body)
            assert created.status_code == 200
            missing = await client.get(f"{URL}/v1_gone", params={"alt": "sse", "key": SECRET})
            assert missing.status_code == 404
        process.terminate()
        with anyio.fail_after(10):
            access, errors = await read_all(process.stdout), await read_all(process.stderr)
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
        await process.aclose()
    log = startup + access + errors
    assert f'"POST {URL}?key=REDACTED HTTP/1.1" 200' in log
    assert f'"GET {URL}/v1_gone?alt=sse&key=REDACTED HTTP/1.1" 404' in log
    assert SECRET not in log
