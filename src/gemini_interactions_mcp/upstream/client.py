"""`InteractionsClient`: the four endpoints of the Interactions API over httpx2.

The client owns one `httpx2.AsyncClient`; open it with `async with` (or call
`aclose()`). Streams resume after a dropped connection with
`GET …?stream=true&last_event_id=…`, and turns that hit the per-request decode limit
are continued with `continuation_token` hops, both bounded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import anyio
import httpx2
from pydantic import SecretStr

from gemini_interactions_mcp import __version__

from .errors import (
    ContinuationInterruptedError,
    GeminiError,
    ResponseDecodeError,
    connection_error,
    status_error,
)
from .resume import EventCallback, StreamRunner
from .retry import Clock, RetryPolicy, Sleeper, call_with_retry
from .wire import Interaction, Status, merge_hops

__all__ = [
    "API_KEY_HEADER",
    "DEFAULT_API_VERSION",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONTINUATION_HOPS",
    "DEFAULT_MAX_STREAM_RESUMES",
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "EventCallback",
    "InteractionsClient",
    "next_hop_body",
]

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
DEFAULT_API_VERSION = "v1beta"
API_KEY_HEADER = "x-goog-api-key"
# The read timeout is the longest silence allowed between two chunks of a stream.
DEFAULT_TIMEOUT = httpx2.Timeout(connect=10.0, read=120.0, write=30.0, pool=10.0)
DEFAULT_MAX_STREAM_RESUMES = 5
DEFAULT_MAX_CONTINUATION_HOPS = 8
USER_AGENT = f"gemini-interactions-mcp/{__version__}"

_log = logging.getLogger(__name__)


class _ApiKeyAuth(httpx2.Auth):
    # Added per request rather than as a default header, so the key sits in no
    # long-lived headers object that a debugger or a log line could print.
    def __init__(self, key: SecretStr) -> None:
        self._key = key

    def auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers[API_KEY_HEADER] = self._key.get_secret_value()
        yield request

    def __repr__(self) -> str:
        return "_ApiKeyAuth(key=**********)"


class InteractionsClient:
    """Async client for the Gemini Interactions API (create, get, cancel, delete)."""

    def __init__(
        self,
        api_key: str | SecretStr,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: httpx2.Timeout | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Sleeper = anyio.sleep,
        clock: Clock = time.monotonic,
        max_stream_resumes: int = DEFAULT_MAX_STREAM_RESUMES,
        max_continuation_hops: int = DEFAULT_MAX_CONTINUATION_HOPS,
    ) -> None:
        key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        if not key.get_secret_value():
            raise ValueError("an API key is required")
        if not api_version.strip("/"):
            raise ValueError("api_version must not be empty")
        self._key = key
        self._base_url = base_url.rstrip("/") + "/"
        self._prefix = api_version.strip("/")
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._max_stream_resumes = max_stream_resumes
        self._max_continuation_hops = max_continuation_hops
        self._http = httpx2.AsyncClient(
            base_url=self._base_url,
            timeout=timeout or DEFAULT_TIMEOUT,
            transport=transport,
            auth=_ApiKeyAuth(key),
            headers={"user-agent": USER_AGENT},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"InteractionsClient(base_url={self._base_url!r}, api_version={self._prefix!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- operations -------------------------------------------------------------

    async def create(self, body: Mapping[str, Any]) -> Interaction:
        """Create an interaction and wait for it (unary).

        A turn that stops at `requires_continuation` is continued with further hops
        (at most `max_continuation_hops`) and the hops are merged, except for
        background and agent runs, which the server continues itself.
        """
        sent = {k: v for k, v in body.items() if k != "stream"}
        hops = [await self._create_once(sent)]
        while len(hops) <= self._max_continuation_hops:
            following = next_hop_body(sent, hops[-1])
            if following is None:
                break
            hops.append(await self._hop(self._create_once(following), hops))
            sent = following
        return merge_hops(hops)

    async def create_stream(
        self, body: Mapping[str, Any], on_event: EventCallback | None = None
    ) -> Interaction:
        """Create an interaction with `stream=true`, passing each event to `on_event`.

        Resumes after dropped connections, follows continuation hops, and returns the
        assembled Interaction (hops merged). An in-stream `error` event raises
        StreamError once `on_event` has seen it.
        """
        sent = {**body, "stream": True}
        # Resuming reads the interaction back, which only a stored one allows.
        resumable = sent.get("store") is not False
        runner = self._runner(on_event)
        opener = self._opener("POST", self._path(), json=sent)
        hops = [await runner.run(opener, resumable=resumable)]
        while len(hops) <= self._max_continuation_hops:
            following = next_hop_body(sent, hops[-1])
            if following is None:
                break
            opener = self._opener("POST", self._path(), json=following)
            hops.append(
                await self._hop(runner.run(opener, resumable=resumable, previous=hops), hops)
            )
            sent = following
        return merge_hops(hops)

    @staticmethod
    async def _hop(next_hop: Awaitable[Interaction], hops: list[Interaction]) -> Interaction:
        """A continuation hop; if it fails, the hops already paid for go with the error."""
        try:
            return await next_hop
        except GeminiError as exc:
            partial = merge_hops(hops)
            raise ContinuationInterruptedError(
                f"continuation hop {len(hops) + 1} failed: {exc}",
                partial=partial,
                continuation_token=hops[-1].continuation_token,
                interaction_ids=[h.id for h in hops],
            ) from exc

    async def follow(
        self,
        interaction_id: str,
        *,
        last_event_id: str | None = None,
        on_event: EventCallback | None = None,
    ) -> Interaction:
        """Tail an interaction's stream (from `last_event_id`, or from the start) until it ends.

        Returns the interaction fetched fresh, so it is complete even when following
        from the middle.
        """
        opener = self._tail_opener(interaction_id, last_event_id)
        await self._runner(on_event).run(
            opener, interaction_id=interaction_id, last_event_id=last_event_id
        )
        return await self.get(interaction_id)

    async def get(self, interaction_id: str, *, include_input: bool = False) -> Interaction:
        """Fetch a stored interaction (its whole timeline)."""
        params = {"include_input": "true"} if include_input else None
        data = await self._call("GET", self._path(interaction_id), params=params)
        return Interaction.model_validate(data)

    async def cancel(self, interaction_id: str) -> Interaction:
        """Cancel a running background interaction and return it."""
        data = await self._call("POST", self._path(interaction_id, "cancel"))
        return Interaction.model_validate(data)

    async def delete(self, interaction_id: str) -> None:
        """Delete a stored interaction."""
        await self._call("DELETE", self._path(interaction_id), expect_json=False)

    # -- plumbing ---------------------------------------------------------------

    def _path(self, interaction_id: str | None = None, action: str | None = None) -> str:
        path = f"{self._prefix}/interactions"
        if interaction_id is not None:
            if not interaction_id:
                raise ValueError("interaction_id must not be empty")
            path += "/" + quote(interaction_id, safe="")
        if action:
            path += "/" + action
        return path

    def _runner(self, on_event: EventCallback | None) -> StreamRunner:
        return StreamRunner(
            on_event=on_event,
            fetch=self.get,
            policy=self._retry,
            sleep=self._sleep,
            max_resumes=self._max_stream_resumes,
            resume_opener=self._tail_opener,
        )

    def _tail_opener(
        self, interaction_id: str, last_event_id: str | None
    ) -> Callable[[], Awaitable[httpx2.Response]]:
        params = {"stream": "true"}
        if last_event_id:
            params["last_event_id"] = last_event_id
        return self._opener("GET", self._path(interaction_id), params=params)

    async def _create_once(self, body: Mapping[str, Any]) -> Interaction:
        data = await self._call("POST", self._path(), json=body)
        return Interaction.model_validate(data)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        expect_json: bool = True,
    ) -> Any:
        creates_work = method == "POST" and path == self._path()

        async def attempt() -> Any:
            response = await self._send(method, path, json=json, params=params, stream=False)
            if not expect_json or not response.content:
                return {}
            try:
                return response.json()
            except ValueError as exc:
                raise ResponseDecodeError(f"{method} {path}: the answer is not JSON") from exc

        return await call_with_retry(
            attempt,
            policy=self._retry,
            creates_work=creates_work,
            sleep=self._sleep,
            clock=self._clock,
            label=f"{method} /{path}",
        )

    def _opener(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Callable[[], Awaitable[httpx2.Response]]:
        """A function that opens the SSE response (with retries); the caller closes it."""
        creates_work = method == "POST"

        async def attempt() -> httpx2.Response:
            response = await self._send(method, path, json=json, params=params, stream=True)
            media_type = response.headers.get("content-type", "").partition(";")[0].strip()
            if media_type.lower() != "text/event-stream":
                await response.aclose()
                raise ResponseDecodeError(
                    f"{method} /{path}: expected an event stream, got {media_type or 'nothing'!r}"
                )
            return response

        async def open_stream() -> httpx2.Response:
            return await call_with_retry(
                attempt,
                policy=self._retry,
                creates_work=creates_work,
                sleep=self._sleep,
                clock=self._clock,
                label=f"{method} /{path}",
            )

        return open_stream

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
        stream: bool,
    ) -> httpx2.Response:
        headers = {"accept": "text/event-stream" if stream else "application/json"}
        request = self._http.build_request(
            method,
            path,
            json=dict(json) if json is not None else None,
            params=params,
            headers=headers,
        )
        try:
            response = await self._http.send(request, stream=stream)
        except httpx2.TransportError as exc:
            _log.debug("%s %s -> %s", method, request.url.path, type(exc).__name__)
            # Not chained: the httpx2 exception holds the request, and with it the API key.
            raise connection_error(exc) from None
        _log.debug("%s %s -> %d", method, request.url.path, response.status_code)
        if response.status_code == 200:
            return response
        if response.is_success:
            # Only 200 is success on this API; anything else would parse as an empty answer.
            await response.aclose()
            raise ResponseDecodeError(
                f"{method} {request.url.path}: unexpected status {response.status_code}"
            )
        try:
            body = await response.aread()
        except httpx2.TransportError:
            body = b""
        finally:
            await response.aclose()
        raise status_error(response.status_code, response.headers, body, redact=self._redact)

    def _redact(self, text: str) -> str:
        return text.replace(self._key.get_secret_value(), "**********")


def next_hop_body(body: Mapping[str, Any], hop: Interaction) -> dict[str, Any] | None:
    """The create body of the next continuation hop, or None when the turn is over.

    Stored turns chain the hop by id and leave out the input; `store: false` turns
    resend the original input with the token. Background and agent runs are
    continued by the server, and a hop that hands back the token it was started with
    made no progress, so neither is continued here.
    """
    token = hop.continuation_token
    if hop.status != Status.REQUIRES_CONTINUATION or not token:
        return None
    if body.get("background") or "agent" in body or "agent_config" in body:
        return None
    if token == body.get("continuation_token"):
        return None
    following = {**body, "continuation_token": token}
    if body.get("store") is not False:
        following["previous_interaction_id"] = hop.id
        following.pop("input", None)
    return following
