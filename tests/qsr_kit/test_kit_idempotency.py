"""Idempotency-Key semantics of `qsr_kit.idempotency` against a real database (per backend)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

import httpx
import pytest
import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qsr_kit import db, http, idempotency, schema

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Redeem(BaseModel):
    points: int


@dataclass
class World:
    """What the test app's handler sees and does; `gate` lets a test hold a request in flight;
    `on_retry` runs first in every later attempt's handler (that attempt's claim is committed)."""

    now: datetime = T0
    attempts: int = 0
    executions: int = 0
    gate: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    on_retry: Callable[[], Awaitable[None]] | None = None
    fail_next: bool = False


async def principal_id(x_principal: Annotated[str, Header()] = "guest-1") -> str:
    return x_principal


Idem = Annotated[idempotency.Guard, Depends(idempotency.guard(principal_id))]


def build_app(engine: AsyncEngine, world: World) -> FastAPI:
    app = http.service_app(title="idem-test")
    store = idempotency.Store(db.sessionmaker_of(engine), clock=lambda: world.now)
    idempotency.attach(app, store)
    app.state.store = store

    async def effect(session: AsyncSession, body: Redeem) -> dict[str, object]:
        world.attempts += 1
        if world.attempts > 1 and world.on_retry is not None:
            await world.on_retry()
        world.entered.set()
        if world.gate is not None:
            await world.gate.wait()
        world.executions += 1
        if world.fail_next:
            world.fail_next = False
            raise http.Conflict("not enough points")
        redemption = f"r-{uuid.uuid4().hex[:8]}"
        await session.execute(
            sa.insert(schema.inbox).values(
                consumer_group="effects",
                event_id=redemption,
                event_type="io.qsr.loyalty.reward.redeemed.v1",
                topic="-",
                partition=0,
                offset=body.points,
                processed_at=world.now,
            )
        )
        return {"redemption": redemption, "points": body.points}

    @app.post("/v1/members/{member_id}/redemptions", status_code=201)
    async def redeem(member_id: str, body: Redeem, idem: Idem) -> Response:
        return await idem.run(lambda session: effect(session, body), status_code=201)

    return app


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
async def client(engine: AsyncEngine, world: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(engine, world))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def effects(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        query = sa.select(sa.func.count()).where(schema.inbox.c.consumer_group == "effects")
        return int((await connection.execute(query)).scalar_one())


async def redeem(
    client: httpx.AsyncClient, key: str | None, points: int = 10, principal: str = "guest-1"
) -> httpx.Response:
    headers = {"X-Principal": principal}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post(
        "/v1/members/m-1/redemptions", json={"points": points}, headers=headers
    )


async def test_same_key_same_body_replays_first_response(
    client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    first = await redeem(client, "k-1")
    second = await redeem(client, "k-1")
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["Idempotent-Replayed"] == "true"
    assert world.executions == 1
    assert await effects(engine) == 1


async def test_same_key_other_body_is_422(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    await redeem(client, "k-1", points=10)
    other = await redeem(client, "k-1", points=99)
    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")
    assert await effects(engine) == 1


async def test_same_key_while_first_in_flight_is_409(
    client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    world.gate = asyncio.Event()
    first = asyncio.create_task(redeem(client, "k-1"))
    await asyncio.wait_for(world.entered.wait(), timeout=10)
    concurrent = await redeem(client, "k-1")
    world.gate.set()
    assert concurrent.status_code == 409
    assert concurrent.json()["type"].endswith("idempotency-key-in-flight")
    assert (await first).status_code == 201
    assert (await redeem(client, "k-1")).headers["Idempotent-Replayed"] == "true"
    assert await effects(engine) == 1


async def test_keys_are_scoped_per_principal(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    a = await redeem(client, "k-1", principal="guest-1")
    b = await redeem(client, "k-1", principal="guest-2")
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b.headers
    assert await effects(engine) == 2


async def test_missing_key_is_400(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    response = await redeem(client, None)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert await effects(engine) == 0


async def test_failed_handler_releases_the_key_and_commits_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    world.fail_next = True
    assert (await redeem(client, "k-1")).status_code == 409
    retried = await redeem(client, "k-1")
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers
    assert await effects(engine) == 1


async def test_keys_are_kept_24h_then_purged(
    client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    await redeem(client, "k-1")
    world.now = T0 + timedelta(hours=23, minutes=59)
    assert (await redeem(client, "k-1")).headers["Idempotent-Replayed"] == "true"
    world.now = T0 + timedelta(hours=24, seconds=1)
    store: idempotency.Store = client._transport.app.state.store  # type: ignore[attr-defined]
    assert await store.purge_expired() == 1
    assert "Idempotent-Replayed" not in (await redeem(client, "k-1")).headers
    assert await effects(engine) == 2


async def test_stale_in_flight_key_is_taken_over_and_the_first_attempt_loses(
    client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    gate = world.gate = asyncio.Event()
    first = asyncio.create_task(redeem(client, "k-1"))
    await asyncio.wait_for(world.entered.wait(), timeout=10)
    world.now = T0 + timedelta(seconds=61)  # the first attempt looks dead

    async def wake_the_first_attempt() -> None:
        # Runs inside the retry's handler, so the retry has already taken the key over.
        gate.set()  # ...but it wakes up while the retry runs
        await asyncio.wait({first})  # and tries to commit before the retry does

    world.on_retry = wake_the_first_attempt
    retry = await redeem(client, "k-1")
    late = await first
    assert sorted([retry.status_code, late.status_code]) == [201, 409]
    assert late.status_code == 409
    assert late.json()["type"].endswith("idempotency-key-in-flight")
    assert world.executions == 2
    assert await effects(engine) == 1


def test_ttl_below_24h_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="ttl"):
        idempotency.Store(db.sessionmaker_of(engine), ttl=timedelta(hours=1))


async def test_simultaneous_requests_with_one_key_execute_once(
    client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    responses = await asyncio.gather(*(redeem(client, "k-race") for _ in range(10)))
    statuses = sorted(r.status_code for r in responses)
    created = [r for r in responses if r.status_code == 201]
    assert set(statuses) <= {201, 409}
    assert len({r.content for r in created}) == 1
    assert world.executions == 1
    assert await effects(engine) == 1
