"""Fixtures of the upstream tests (their helpers are in helpers.py)."""

from __future__ import annotations

import pytest

from .helpers import (
    FakeTime,
)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()
