"""The one retry policy of the upstream client.

Reads (`get`), `cancel` and `delete` are safe to repeat, so they retry 408, 429, 5xx
and transient connection failures. `create` may start paid work, so it retries only
when the server provably did not start any: 429, 503, and connection failures raised
before the request was sent. A read timeout, a dropped response or a 500 after a
create are never retried — the work may be running already. A 401 on a bearer token is
not retried here: `auth.BearerAuth` renews the token and sends the request once more.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio

from .errors import APIConnectionError, APIStatusError, APITimeoutError

__all__ = ["Clock", "RetryPolicy", "Sleeper", "call_with_retry"]

_log = logging.getLogger(__name__)

T = TypeVar("T")
Sleeper = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

# Statuses after which the server did no work, so even a create can be sent again.
_CREATE_RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries: attempts, backoff, the longest Retry-After honoured, total time.

    `max_attempts` counts the first request. A Retry-After longer than
    `max_retry_after` is not waited for: the error is raised at once (it carries
    `retry_after`), since retrying earlier than asked would only fail again.
    `deadline` bounds the whole operation, attempts in flight included (for a stream:
    until its headers arrive); past it the call fails with APITimeoutError.
    `jitter` shaves up to that fraction off each backoff so clients do not retry in step.
    """

    max_attempts: int = 4
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    deadline: float = 60.0
    jitter: float = 0.2

    def backoff(self, retry: int, *, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number `retry` (0-based) without server advice."""
        base = min(self.initial_backoff * (2.0**retry), self.max_backoff)
        return base * (1.0 - self.jitter * rand())

    def is_retryable(self, exc: Exception, *, creates_work: bool) -> bool:
        """Whether `exc` may be retried for an operation that does or does not start work."""
        if isinstance(exc, APIStatusError):
            status = exc.status_code
            if creates_work:
                return status in _CREATE_RETRY_STATUSES
            return status in (408, 429) or 500 <= status <= 599
        if isinstance(exc, APIConnectionError):
            if not exc.transient:
                return False
            return not exc.request_sent if creates_work else True
        return False

    def delay(self, exc: Exception, retry: int) -> float | None:
        """Seconds to wait before retry `retry`, or None when the server asks too much."""
        retry_after = exc.retry_after if isinstance(exc, APIStatusError) else None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff(retry)


async def call_with_retry(
    operation: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    creates_work: bool,
    sleep: Sleeper,
    clock: Clock,
    label: str,
) -> T:
    """Run `operation`, retrying the failures `policy` allows; re-raise the last one."""
    try:
        # Real time, not `clock`: it must cut an attempt that hangs, not only the waits.
        with anyio.fail_after(policy.deadline):
            return await _attempts(
                operation,
                policy=policy,
                creates_work=creates_work,
                sleep=sleep,
                clock=clock,
                label=label,
            )
    except TimeoutError:
        raise APITimeoutError(
            f"{label}: no answer within the {policy.deadline:g} s deadline"
        ) from None


async def _attempts(
    operation: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    creates_work: bool,
    sleep: Sleeper,
    clock: Clock,
    label: str,
) -> T:
    started = clock()
    attempt = 1
    while True:
        try:
            return await operation()
        except (APIStatusError, APIConnectionError) as exc:
            if attempt >= policy.max_attempts or not policy.is_retryable(
                exc, creates_work=creates_work
            ):
                raise
            wait = policy.delay(exc, attempt - 1)
            if wait is None or clock() - started + wait > policy.deadline:
                raise
            _log.info(
                "retrying %s in %.2f s (attempt %d of %d) after %s",
                label,
                wait,
                attempt + 1,
                policy.max_attempts,
                type(exc).__name__,
            )
            await sleep(wait)
            attempt += 1
