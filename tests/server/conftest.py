"""Fixtures of the server tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .processes import emulator_running


@pytest.fixture(scope="module")
def emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One emulator process for the module: its state outlives every server process."""
    with emulator_running(tmp_path_factory.mktemp("emulator") / "emulator.log", 2) as url:
        yield url
