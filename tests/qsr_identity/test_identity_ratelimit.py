"""Identity rate limits in the real Redis: bursts get 429 + Retry-After, other IPs are unaffected,
buckets refill, and each route follows its fail mode when Redis is down."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from qsr_identity import limits
from qsr_identity.main import create_app
from qsr_identity.settings import IdentitySettings
from tests.qsr_identity.conftest import (
    ISSUER,
    SERVICE_SECRET,
    Clock,
    Flows,
    identity_settings,
    running,
)


def flows_from(app: FastAPI, clock: Clock, ip: str) -> Flows:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return Flows(httpx.AsyncClient(transport=transport, base_url=ISSUER), clock)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


async def started(settings: IdentitySettings, clock: Clock) -> AsyncIterator[FastAPI]:
    async with running(create_app(settings, clock=clock)) as app:
        yield app


@pytest.fixture
async def limited(redis, tmp_path: Path, clock: Clock) -> AsyncIterator[FastAPI]:
    # A generous timeout: this box is shared, and a slow answer would look like an outage here.
    settings = identity_settings(
        tmp_path, redis_url=redis.url, redis_prefix=f"t:{uuid.uuid4().hex}", redis_timeout_seconds=5
    )
    async for app in started(settings, clock):
        yield app


@pytest.fixture
async def redis_down(tmp_path: Path, clock: Clock) -> AsyncIterator[FastAPI]:
    async for app in started(identity_settings(tmp_path, redis_url=closed_port_url()), clock):
        yield app


@pytest.mark.redis
async def test_concurrent_sign_up_burst_admits_exactly_capacity(
    limited: FastAPI, clock: Clock
) -> None:
    flows = flows_from(limited, clock, "10.0.0.1")
    async with flows.http:
        answers = await asyncio.gather(*(flows.sign_up(f"burst{i}@example.com") for i in range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [202] * limits.SIGN_UP_PER_IP.capacity + [429] * (
        20 - limits.SIGN_UP_PER_IP.capacity
    )
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"


@pytest.mark.redis
async def test_another_ip_is_not_affected_by_a_flood(limited: FastAPI, clock: Clock) -> None:
    flood, other = flows_from(limited, clock, "10.0.0.2"), flows_from(limited, clock, "10.0.0.3")
    async with flood.http, other.http:
        await asyncio.gather(*(flood.sign_up(f"f{i}@example.com") for i in range(10)))
        assert (await other.sign_up("calm@example.com")).status_code == 202


@pytest.mark.redis
async def test_sign_up_limit_recovers_after_refill(limited: FastAPI, clock: Clock) -> None:
    flows = flows_from(limited, clock, "10.0.0.4")
    async with flows.http:
        for i in range(limits.SIGN_UP_PER_IP.capacity):
            assert (await flows.sign_up(f"r{i}@example.com")).status_code == 202
        assert (await flows.sign_up("late@example.com")).status_code == 429
        clock.now += 1 / limits.SIGN_UP_PER_IP.per_second
        assert (await flows.sign_up("late@example.com")).status_code == 202


@pytest.mark.redis
async def test_sign_in_attempts_on_one_account_are_limited_across_ips(
    limited: FastAPI, clock: Clock
) -> None:
    owner = flows_from(limited, clock, "10.0.1.1")
    async with owner.http:
        await owner.sign_up("target@example.com")
    statuses = []
    for i in range(limits.SIGN_IN_PER_ACCOUNT.capacity + 1):
        attacker = flows_from(limited, clock, f"10.0.2.{i}")
        async with attacker.http:
            response = await attacker.authorize(
                "target@example.com", "guess password", verifier="v" * 43
            )
            statuses.append(response.status_code)
    assert statuses == [401] * limits.SIGN_IN_PER_ACCOUNT.capacity + [429]


async def test_redis_down_fails_closed_for_sign_up(redis_down: FastAPI, clock: Clock) -> None:
    flows = flows_from(redis_down, clock, "10.0.3.1")
    async with flows.http:
        response = await flows.sign_up("down@example.com")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


async def test_redis_down_fails_open_for_the_token_endpoint(
    redis_down: FastAPI, clock: Clock
) -> None:
    flows = flows_from(redis_down, clock, "10.0.3.2")
    async with flows.http:
        assert await flows.service_token("hub", SERVICE_SECRET)
