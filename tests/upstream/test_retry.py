from __future__ import annotations

import httpx2
import pytest

from gemini_interactions_mcp.upstream.errors import (
    APIStatusError,
    BadRequestError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
    connection_error,
    status_error,
)
from gemini_interactions_mcp.upstream.retry import RetryPolicy, call_with_retry

from .helpers import FakeTime


def _status(code: int, retry_after: str | None = None) -> APIStatusError:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return status_error(code, headers, b"")


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(jitter=0.0)
    assert [policy.backoff(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_jitter_only_shortens_the_backoff() -> None:
    policy = RetryPolicy(jitter=0.2)
    assert policy.backoff(1, rand=lambda: 0.0) == 1.0
    assert policy.backoff(1, rand=lambda: 1.0) == pytest.approx(0.8)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_reads_retry_timeouts_throttling_and_server_errors(status: int) -> None:
    assert RetryPolicy().is_retryable(_status(status), creates_work=False)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_never_retried(status: int) -> None:
    policy = RetryPolicy()
    assert not policy.is_retryable(_status(status), creates_work=False)
    assert not policy.is_retryable(_status(status), creates_work=True)


@pytest.mark.parametrize(
    ("status", "retried"),
    [(429, True), (503, True), (500, False), (502, False), (504, False), (408, False)],
)
def test_create_retries_only_statuses_that_prove_no_work_started(
    status: int, retried: bool
) -> None:
    assert RetryPolicy().is_retryable(_status(status), creates_work=True) is retried


@pytest.mark.parametrize(
    ("exc", "retried"),
    [
        (httpx2.ConnectError("refused"), True),
        (httpx2.ConnectTimeout("slow"), True),
        (httpx2.PoolTimeout("pool"), True),
        (httpx2.ReadTimeout("read"), False),
        (httpx2.WriteTimeout("write"), False),
        (httpx2.ReadError("reset"), False),
        (httpx2.RemoteProtocolError("peer closed"), False),
    ],
)
def test_create_retries_connection_errors_only_before_the_request_left(
    exc: httpx2.TransportError, retried: bool
) -> None:
    policy = RetryPolicy()
    assert policy.is_retryable(connection_error(exc), creates_work=True) is retried
    assert policy.is_retryable(connection_error(exc), creates_work=False)


def test_configuration_errors_are_not_retried() -> None:
    err = connection_error(httpx2.UnsupportedProtocol("ftp://"))
    assert not RetryPolicy().is_retryable(err, creates_work=False)
    assert not RetryPolicy().is_retryable(ValueError("x"), creates_work=False)


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(max_retry_after=30.0)
    assert policy.delay(_status(429, "12"), 0) == 12.0
    assert policy.delay(_status(429, "30"), 0) == 30.0
    assert policy.delay(_status(429, "31"), 0) is None
    assert policy.delay(_status(429, "0"), 3) == 0.0


class Flaky:
    """Fails with the given errors in turn, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def _run(
    op: Flaky, fake_time: FakeTime, *, creates_work: bool = False, policy: RetryPolicy | None = None
) -> str:
    return await call_with_retry(
        op,
        policy=policy or RetryPolicy(jitter=0.0),
        creates_work=creates_work,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        label="GET /x",
    )


@pytest.mark.anyio
async def test_retries_with_backoff_then_succeeds(fake_time: FakeTime) -> None:
    op = Flaky(_status(500), _status(502), _status(503))
    assert await _run(op, fake_time) == "ok"
    assert op.calls == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.anyio
async def test_gives_up_after_max_attempts_with_the_last_error(fake_time: FakeTime) -> None:
    op = Flaky(*[_status(503) for _ in range(10)])
    with pytest.raises(ServiceUnavailableError):
        await _run(op, fake_time)
    assert op.calls == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.anyio
async def test_sleeps_what_retry_after_asks(fake_time: FakeTime) -> None:
    op = Flaky(_status(429, "3"), _status(503, "0.25"))
    assert await _run(op, fake_time) == "ok"
    assert fake_time.sleeps == [3.0, 0.25]


@pytest.mark.anyio
async def test_retry_after_beyond_the_cap_raises_at_once(fake_time: FakeTime) -> None:
    op = Flaky(_status(429, "3600"))
    with pytest.raises(RateLimitError) as caught:
        await _run(op, fake_time)
    assert caught.value.retry_after == 3600.0
    assert op.calls == 1
    assert fake_time.sleeps == []


@pytest.mark.anyio
async def test_the_deadline_bounds_total_time(fake_time: FakeTime) -> None:
    op = Flaky(_status(429, "20"), _status(429, "20"), _status(429, "20"))
    with pytest.raises(RateLimitError):
        await _run(op, fake_time, policy=RetryPolicy(jitter=0.0, deadline=50.0))
    assert fake_time.sleeps == [20.0, 20.0]


@pytest.mark.anyio
async def test_non_retryable_error_raises_at_once(fake_time: FakeTime) -> None:
    op = Flaky(status_error(400, {}, b""))
    with pytest.raises(BadRequestError):
        await _run(op, fake_time)
    assert op.calls == 1


@pytest.mark.anyio
async def test_create_is_not_retried_after_a_500(fake_time: FakeTime) -> None:
    op = Flaky(_status(500))
    with pytest.raises(ServerError):
        await _run(op, fake_time, creates_work=True)
    assert op.calls == 1
