"""Liveness and readiness over HTTP: ``GET /healthz`` and ``GET /readyz``, unauthenticated.

``/healthz`` answers 200 ``ok`` while the process serves. ``/readyz`` answers 200 ``ok`` when
the state store answers a read, else 503 ``not ready``. Neither says anything more (no
version, no store address, no reason): they are open to anyone who can reach the port.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
from mcp.server import MCPServer
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from .core.context import ServerContext

__all__ = ["READY_TIMEOUT", "register"]

logger = logging.getLogger(__name__)

READY_TIMEOUT = 5.0
# A read of a handle no one can own: it finds nothing, and proves the store answers.
_PROBE_OWNER = "readyz"
_PROBE_ID = "c_readyz"


def register(server: MCPServer[Any], current: Callable[[], ServerContext | None]) -> None:
    """Add the two routes; `current` gives the running server's context (None before start)."""

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        context = current()
        if context is not None and await _store_answers(context):
            return PlainTextResponse("ok")
        return PlainTextResponse("not ready", status_code=503)

    server.custom_route("/healthz", methods=["GET"], include_in_schema=False)(healthz)
    server.custom_route("/readyz", methods=["GET"], include_in_schema=False)(readyz)


async def _store_answers(context: ServerContext) -> bool:
    with anyio.move_on_after(READY_TIMEOUT):
        try:
            store = await context.store()
            await store.get(_PROBE_OWNER, _PROBE_ID)
        except Exception:
            # The probe is a boundary: whatever went wrong, the answer is "not ready". The
            # reason stays out of the log too, as store errors may quote a URL with a password.
            logger.debug("Readiness: the state store did not answer a read.")
            return False
        return True
    logger.debug("Readiness: the state store did not answer within %s s.", READY_TIMEOUT)
    return False
