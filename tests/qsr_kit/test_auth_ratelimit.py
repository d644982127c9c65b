"""Token buckets in the real Redis: exact under bursts, refill, Retry-After, fail modes."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator

import pytest

from qsr_kit import ratelimit
from qsr_kit.ratelimit import Policy

pytestmark = pytest.mark.redis

OPEN = Policy("t-open", capacity=10, per_second=2, fail_open=True)
CLOSED = Policy("t-closed", capacity=10, per_second=2, fail_open=False)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def limiter(redis, clock: Clock) -> AsyncIterator[ratelimit.Limiter]:
    limiter = ratelimit.Limiter.from_url(
        redis.url, prefix=f"t:{uuid.uuid4().hex}", clock=clock, timeout_seconds=5
    )
    try:
        yield limiter
    finally:
        await limiter.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


async def test_concurrent_burst_admits_exactly_capacity(limiter: ratelimit.Limiter) -> None:
    decisions = await asyncio.gather(*(limiter.take(OPEN, "k") for _ in range(50)))
    assert sum(d.allowed for d in decisions) == OPEN.capacity


async def test_bucket_refills_at_its_rate(limiter: ratelimit.Limiter, clock: Clock) -> None:
    for _ in range(OPEN.capacity):
        assert (await limiter.take(OPEN, "k")).allowed
    assert not (await limiter.take(OPEN, "k")).allowed
    clock.now += 1.0  # two tokens at 2/s
    assert [(await limiter.take(OPEN, "k")).allowed for _ in range(3)] == [True, True, False]


async def test_denial_says_when_to_retry(limiter: ratelimit.Limiter) -> None:
    slow = Policy("t-slow", capacity=1, per_second=0.1, fail_open=True)
    await limiter.take(slow, "k")
    denied = await limiter.take(slow, "k")
    assert (denied.allowed, denied.retry_after_seconds) == (False, 10)


async def test_keys_have_separate_buckets(limiter: ratelimit.Limiter) -> None:
    for _ in range(OPEN.capacity):
        await limiter.take(OPEN, "a")
    assert (await limiter.take(OPEN, "b")).allowed


async def test_enforce_raises_rate_limited_over_the_limit(limiter: ratelimit.Limiter) -> None:
    for _ in range(CLOSED.capacity):
        await limiter.enforce(CLOSED, "k")
    with pytest.raises(ratelimit.RateLimited):
        await limiter.enforce(CLOSED, "k")


async def test_redis_down_fails_open_for_open_policies() -> None:
    limiter = ratelimit.Limiter.from_url(closed_port_url())
    try:
        await limiter.enforce(OPEN, "k")
    finally:
        await limiter.close()


async def test_redis_down_fails_closed_for_closed_policies() -> None:
    limiter = ratelimit.Limiter.from_url(closed_port_url())
    try:
        with pytest.raises(ratelimit.LimiterUnavailable):
            await limiter.enforce(CLOSED, "k")
    finally:
        await limiter.close()
