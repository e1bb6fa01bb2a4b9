"""`InteractionsClient`: the four endpoints of the Interactions API over httpx2.

The client owns one `httpx2.AsyncClient`; open it with `async with` (or call
`aclose()`). Streams resume after a dropped connection with
`GET …?stream=true&last_event_id=…`, and turns that hit the per-request decode limit
are continued with `continuation_token` hops, both bounded. It serves the Gemini API
and Vertex AI alike (see `endpoints` for the URLs, `auth` for keys and tokens), and
lists the Gemini API's models.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import anyio
import httpx2
from pydantic import SecretStr, ValidationError

from gemini_interactions_mcp import __version__

from .auth import API_KEY_HEADER, ApiKeyAuth, UpstreamAuth
from .continuation import next_hop_body
from .endpoints import DEFAULT_API_VERSION, DEFAULT_BASE_URL, Endpoint, gemini_api
from .errors import (
    ContinuationInterruptedError,
    GeminiError,
    ResponseDecodeError,
    connection_error,
    status_error,
)
from .resume import EventCallback, StreamRunner
from .retry import Clock, RetryPolicy, Sleeper, call_with_retry
from .wire import Interaction, ModelInfo, ModelPage, merge_hops

__all__ = [
    "API_KEY_HEADER",
    "DEFAULT_API_VERSION",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONTINUATION_HOPS",
    "DEFAULT_MAX_MODEL_PAGES",
    "DEFAULT_MAX_STREAM_RESUMES",
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "EventCallback",
    "InteractionsClient",
    "next_hop_body",
]

# The read timeout is the longest silence allowed between two chunks of a stream.
DEFAULT_TIMEOUT = httpx2.Timeout(connect=10.0, read=120.0, write=30.0, pool=10.0)
DEFAULT_MAX_STREAM_RESUMES = 5
# Enough kept-alive connections that concurrent turns each reuse one instead of opening anew.
DEFAULT_LIMITS = httpx2.Limits(max_connections=200, max_keepalive_connections=100)
DEFAULT_MAX_CONTINUATION_HOPS = 8
# The listing has tens of models; a server that keeps handing out page tokens is broken.
DEFAULT_MAX_MODEL_PAGES = 100
MAX_MODEL_PAGE_SIZE = 1000
USER_AGENT = f"gemini-interactions-mcp/{__version__}"

_log = logging.getLogger(__name__)


class InteractionsClient:
    """Async client for the Gemini Interactions API (create, get, cancel, delete, models).

    Authenticate with `api_key` (sent as `x-goog-api-key`) or with `auth` (for example
    `BearerAuth` over Google credentials), not both. Where requests go is `endpoint`
    (`gemini_api()`, `vertex_ai(project, location)`, `vertex_express()`), or, for the
    Gemini API, `base_url` and `api_version`.
    """

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        auth: UpstreamAuth | None = None,
        endpoint: Endpoint | None = None,
        base_url: str | None = None,
        api_version: str | None = None,
        timeout: httpx2.Timeout | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Sleeper = anyio.sleep,
        clock: Clock = time.monotonic,
        max_stream_resumes: int = DEFAULT_MAX_STREAM_RESUMES,
        max_continuation_hops: int = DEFAULT_MAX_CONTINUATION_HOPS,
    ) -> None:
        if auth is None:
            if api_key is None:
                raise ValueError("an API key (or an auth) is required")
            auth = ApiKeyAuth(api_key)
        elif api_key is not None:
            raise ValueError("pass either an API key or an auth, not both")
        if endpoint is not None and (base_url is not None or api_version is not None):
            raise ValueError("pass either an endpoint or base_url and api_version, not both")
        self._auth = auth
        self._endpoint = endpoint or gemini_api(
            base_url if base_url is not None else DEFAULT_BASE_URL,
            api_version if api_version is not None else DEFAULT_API_VERSION,
        )
        self._base_url = self._endpoint.root
        self._prefix = self._endpoint.prefix
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._max_stream_resumes = max_stream_resumes
        self._max_continuation_hops = max_continuation_hops
        self._http = httpx2.AsyncClient(
            base_url=self._base_url,
            timeout=timeout or DEFAULT_TIMEOUT,
            transport=transport,
            auth=self._auth,
            headers={"user-agent": USER_AGENT},
            follow_redirects=False,
            limits=DEFAULT_LIMITS,
        )

    def __repr__(self) -> str:
        return f"InteractionsClient(base_url={self._base_url!r}, prefix={self._prefix!r})"

    @property
    def endpoint(self) -> Endpoint:
        """Where this client sends its requests."""
        return self._endpoint

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

    async def list_models(
        self, *, page_size: int | None = None, max_pages: int = DEFAULT_MAX_MODEL_PAGES
    ) -> list[ModelInfo]:
        """Every model the Gemini API lists, reading page after page.

        `page_size` (1 to 1000; the server's default is 50) only changes how many
        requests that takes.
        """
        models: list[ModelInfo] = []
        seen: set[str] = set()
        token: str | None = None
        for _ in range(max_pages):
            page = await self.list_model_page(page_size=page_size, page_token=token)
            models.extend(page.models)
            token = page.next_page_token
            if not token:
                return models
            if token in seen:
                raise ResponseDecodeError("the model listing handed out a page token twice")
            seen.add(token)
        raise ResponseDecodeError(f"the model listing went on past {max_pages} pages")

    async def list_model_page(
        self, *, page_size: int | None = None, page_token: str | None = None
    ) -> ModelPage:
        """One page of the Gemini API's model listing (`GET /{version}/models`)."""
        if not self._endpoint.lists_models:
            raise ValueError(
                "Model listing is a Gemini API operation; list models with a client "
                "of the Gemini API."
            )
        if page_size is not None and not 1 <= page_size <= MAX_MODEL_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_MODEL_PAGE_SIZE}")
        params: dict[str, str] = {}
        if page_size is not None:
            params["pageSize"] = str(page_size)
        if page_token:
            params["pageToken"] = page_token
        path = self._endpoint.models_path()
        data = await self._call("GET", path, params=params or None)
        try:
            return ModelPage.model_validate(data)
        except ValidationError as exc:
            raise ResponseDecodeError(
                f"GET /{path}: the answer is not a model listing ({exc.error_count()} errors)"
            ) from None

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
        return self._auth.redact(text)
