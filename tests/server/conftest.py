"""Fixtures of the server tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .processes import free_port, spawn, stop, wait_for_port


@pytest.fixture(scope="module")
def emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One emulator process for the module: its state outlives every server process."""
    port = free_port()
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    proc = spawn(["emulator", "--port", str(port), "--research-seconds", "2"], log)
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
