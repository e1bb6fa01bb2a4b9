"""The server's long-lived state: settings, model registry, and lazily opened client and store.

The upstream client and the store are opened on first use, not at start-up: a stdio host
spawns the server and asks for ``tools/list`` first, and that must stay as fast as a bare
MCP server.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from .settings import Settings

if TYPE_CHECKING:
    import httpx2

    from .models import ModelRegistry
    from .research.monitor import ResearchMonitor
    from .state.base import Store
    from .upstream.client import InteractionsClient


@dataclass
class AppState:
    """What every tool reaches through its Context."""

    settings: Settings
    base_url: str
    transport: httpx2.AsyncBaseTransport | None = None
    clock: Callable[[], float] = time.time
    monitor: ResearchMonitor | None = None
    _client: InteractionsClient | None = None
    _store: Store | None = None
    _registry: ModelRegistry | None = None
    _open_lock: anyio.Lock = field(default_factory=anyio.Lock)
    _conversation_locks: weakref.WeakValueDictionary[str, anyio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )

    @property
    def registry(self) -> ModelRegistry:
        if self._registry is None:
            from .models import ModelRegistry

            self._registry = ModelRegistry.load(self.settings.models_file)
        return self._registry

    async def client(self) -> InteractionsClient:
        """The upstream client, created on first use."""
        if self._client is None:
            from .upstream.client import InteractionsClient

            key = self.settings.api_key
            assert key is not None, "the CLI refuses to start without a key"
            self._client = InteractionsClient(
                key,
                base_url=self.base_url,
                api_version=self.settings.api_version,
                transport=self.transport,
            )
        return self._client

    async def store(self) -> Store:
        """The conversation store, opened on first use."""
        if self._store is None:
            async with self._open_lock:
                if self._store is None:
                    from .state.base import open_store

                    store = open_store(self.settings.state)
                    await store.open()
                    self._store = store
        return self._store

    def use_store(self, store: Store) -> None:
        """Adopt an already open store (tests, or a store shared by several servers)."""
        self._store = store

    def conversation_lock(self, conversation_id: str) -> anyio.Lock:
        """One lock per conversation in this process: a second turn waits for the first."""
        lock = self._conversation_locks.get(conversation_id)
        if lock is None:
            lock = anyio.Lock()
            self._conversation_locks[conversation_id] = lock
        return lock

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._store is not None:
            await self._store.close()
            self._store = None
