"""The loyalty service on real PostgreSQL: concurrent redemptions (row locks), expired holds, and
the idempotency cases, including a request still in flight."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from qsr_devstack import testing
from qsr_kit import db
from qsr_loyalty import redemptions
from tests.qsr_loyalty import support

pytestmark = [pytest.mark.postgres]


@pytest.fixture
async def service(postgres: testing.Postgres) -> AsyncIterator[support.Service]:
    dsn = postgres.create_database(f"loyalty_{uuid.uuid4().hex[:10]}")
    async with support.running(dsn) as running:
        yield running


async def funded(service: support.Service, member_id: str, dollars: int) -> None:
    assert (await service.enroll(member_id)).status_code == 201
    await service.deliver(
        support.completed(
            member_id=member_id, order_key=f"order:{member_id}", amount_minor=dollars * 100
        )
    )
    service.clock.advance(days=2)


async def reserve(service: support.Service, member_id: str, *, key: str | None = None):
    headers = service.headers(key=key) if key else service.headers()
    return await service.client.post(
        f"/v1/members/{member_id}/redemptions", json={"reward_id": "free-drink"}, headers=headers
    )


async def test_hundred_concurrent_redemptions_never_overspend(service: support.Service) -> None:
    await funded(service, "m-1", 100)  # 1100 points: three free drinks at most
    attempts = await asyncio.gather(*(reserve(service, "m-1") for _ in range(100)))
    held = [a.json()["redemption_id"] for a in attempts if a.status_code == 201]
    commits = await asyncio.gather(
        *(
            service.client.post(f"/v1/redemptions/{h}/commit", headers=service.headers())
            for h in held
        )
    )
    balance = await service.balance("m-1")
    refused = {a.status_code for a in attempts if a.status_code != 201}
    outcome = (len(held), refused, [c.status_code for c in commits], balance["available"])
    assert outcome == (3, {409}, [200, 200, 200], 200)


async def test_expired_holds_are_released_by_the_sweep(service: support.Service) -> None:
    await funded(service, "m-1", 100)
    for _ in range(3):
        await reserve(service, "m-1")
    service.clock.advance(seconds=901)
    await redemptions.sweep(
        service.app.state.loyalty_sessions, service.app.state.loyalty_program, now=service.clock()
    )
    async with db.transaction(service.app.state.loyalty_sessions) as session:
        states = await session.execute(
            sa.text("SELECT state, count(*) FROM loyalty_holds GROUP BY state")
        )
        assert dict(states.all()) == {"released": 3}
    assert (await service.balance("m-1"))["available"] == 1100


async def test_same_key_and_body_replays_the_first_redemption(service: support.Service) -> None:
    await funded(service, "m-1", 100)
    first = await reserve(service, "m-1", key="k-1")
    second = await reserve(service, "m-1", key="k-1")
    held = (await service.balance("m-1"))["held"]
    assert (second.json(), second.headers.get("idempotent-replayed"), held) == (
        first.json(),
        "true",
        300,
    )


async def test_same_key_other_body_is_422(service: support.Service) -> None:
    await funded(service, "m-1", 100)
    await reserve(service, "m-1", key="k-1")
    other = await service.client.post(
        "/v1/members/m-1/redemptions",
        json={"reward_id": "five-off"},
        headers=service.headers(key="k-1"),
    )
    assert other.status_code == 422


async def test_same_key_while_the_first_is_in_flight_is_409(service: support.Service) -> None:
    await funded(service, "m-1", 100)
    sessions = service.app.state.loyalty_sessions
    async with db.transaction(sessions) as blocker:
        # Hold the member's row lock: the first request stops inside its guarded transaction.
        await blocker.execute(
            sa.text("SELECT 1 FROM loyalty_members WHERE member_id = 'm-1' FOR UPDATE")
        )
        first = asyncio.create_task(reserve(service, "m-1", key="k-1"))
        await _until_a_query_waits_on_a_lock(service)
        second = await reserve(service, "m-1", key="k-1")
    assert ((await first).status_code, second.status_code) == (201, 409)


WAITING = sa.text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE wait_event_type = 'Lock' AND datname = current_database()"
)


async def _until_a_query_waits_on_a_lock(service: support.Service) -> None:
    """Poll in fresh transactions (pg_stat_activity is a per-transaction snapshot), 30 s at most."""
    for _ in range(600):
        async with db.transaction(service.app.state.loyalty_sessions) as session:
            if await session.scalar(WAITING):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the first request never waited on the member's row lock")
