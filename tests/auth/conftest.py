"""Fixtures of the auth tests: a local OAuth issuer on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ..serving import serving
from .issuer import Issuer


@pytest.fixture
def issuer_options() -> dict[str, object]:
    """Override to shape the issuer (path, discovery) in a test module or by parametrizing."""
    return {}


@pytest.fixture
async def issuer(issuer_options: dict[str, object]) -> AsyncIterator[Issuer]:
    served = Issuer(**issuer_options)  # type: ignore[arg-type]
    async with serving(served.app()) as url:
        served.base = url
        yield served
