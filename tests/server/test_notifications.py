"""Research that calls back: subscribers to a report hear when the research ends, in both
protocol eras and from another replica; the session that started it gets a log message."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client, types

from gemini_interactions_mcp.emulator import EmulatorConfig
from gemini_interactions_mcp.server import build_server

from .helpers import ok

# Long enough research that a subscription made after the start is in place before the end.
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("emulator_config", [EmulatorConfig(research_seconds=3.0)]),
]


class Heard:
    """What a handshake-era client was told: resource updates and log messages."""

    def __init__(self) -> None:
        self.updated: list[str] = []
        self.logs: list[str] = []
        self.changed = anyio.Event()

    async def message(self, message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            self.updated.append(str(message.params.uri))
            self.changed.set()

    async def log(self, params: types.LoggingMessageNotificationParams) -> None:
        self.logs.append(str(params.data))


async def test_a_2026_client_listening_for_the_report_hears_the_research_end(
    make_settings: Any,
) -> None:
    async with Client(build_server(make_settings())) as client:
        assert client.protocol_version == "2026-07-28"
        rid = ok(await client.call_tool("deep_research_start", {"query": "bells"}))["research_id"]
        uri = f"gemini://research/{rid}/report"
        async with client.listen(resource_subscriptions=[uri]) as events:
            with anyio.fail_after(20):
                async for event in events:
                    assert event.uri == uri  # type: ignore[union-attr]
                    break
        done = ok(await client.call_tool("deep_research_status", {"research_id": rid}))
    assert done["status"] == "completed"


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")  # the era's own methods
async def test_a_handshake_era_subscriber_is_notified_and_the_starter_told(
    make_settings: Any,
) -> None:
    heard = Heard()
    server = build_server(make_settings())
    async with Client(
        server, mode="legacy", message_handler=heard.message, logging_callback=heard.log
    ) as client:
        rid = ok(await client.call_tool("deep_research_start", {"query": "gongs"}))["research_id"]
        uri = f"gemini://research/{rid}/report"
        await client.subscribe_resource(uri)
        with anyio.fail_after(20):
            await heard.changed.wait()
        done = ok(await client.call_tool("deep_research_status", {"research_id": rid}))
    assert heard.updated == [uri] and done["status"] == "completed"
    assert any(rid in log and "deep_research_status" in log for log in heard.logs)


async def test_a_client_of_another_replica_hears_about_a_research_on_redis(
    make_settings: Any, redis_url: str
) -> None:
    settings = make_settings(state=redis_url)
    async with (
        Client(build_server(settings)) as starter,
        Client(build_server(settings)) as elsewhere,
    ):
        rid = ok(await starter.call_tool("deep_research_start", {"query": "chimes"}))["research_id"]
        uri = f"gemini://research/{rid}/report"
        async with elsewhere.listen(resource_subscriptions=[uri]) as events:
            with anyio.fail_after(20):
                async for event in events:
                    assert event.uri == uri  # type: ignore[union-attr]
                    break
