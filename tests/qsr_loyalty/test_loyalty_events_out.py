"""Loyalty events leave through the outbox: accrual, tier change, redemption, reversal, expiry."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from qsr_kit import bus
from qsr_kit.domain import events, payloads
from qsr_loyalty import redemptions
from tests.qsr_loyalty import support


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[support.Service]:
    async with support.running(f"sqlite:///{tmp_path}/loyalty.db") as running:
        yield running


class Sink:
    def __init__(self, service: support.Service) -> None:
        self.types: list[str] = []
        self.arrived = asyncio.Event()
        service.app.state.loyalty_bus.subscribe(
            service.app.state.loyalty_program.loyalty_topic, self.take
        )

    async def take(self, record: bus.Record) -> None:
        self.types.append(events.from_bytes(record.value).type)
        self.arrived.set()

    async def wait_for(self, event_type: str, *, seconds: float = 10.0) -> list[str]:
        async with asyncio.timeout(seconds):
            while event_type not in self.types:
                self.arrived.clear()
                await self.arrived.wait()
        return self.types


async def test_accrual_and_tier_change_are_published(service: support.Service) -> None:
    sink = Sink(service)
    await service.enroll("m-1")
    for n in range(2):  # 2 x 2000 (per-order cap) crosses gold at 2500
        await service.deliver(
            support.completed(member_id="m-1", order_key=f"order:{n}", amount_minor=30000)
        )
    seen = await sink.wait_for(payloads.TierChanged.event_type)
    assert seen.count(payloads.PointsAccrued.event_type) == 2


async def test_redemption_is_published(service: support.Service) -> None:
    sink = Sink(service)
    await service.enroll("m-1")
    await service.deliver(
        support.completed(member_id="m-1", order_key="order:1", amount_minor=5000)
    )
    service.clock.advance(days=2)
    held = await service.client.post(
        "/v1/members/m-1/redemptions", json={"reward_id": "free-drink"}, headers=service.headers()
    )
    await service.client.post(
        f"/v1/redemptions/{held.json()['redemption_id']}/commit", headers=service.headers()
    )
    assert payloads.RewardRedeemed.event_type in await sink.wait_for(
        payloads.RewardRedeemed.event_type
    )


async def test_reversal_and_expiry_are_published(service: support.Service) -> None:
    sink = Sink(service)
    await service.enroll("m-1")
    await service.deliver(
        support.completed(member_id="m-1", order_key="order:1", amount_minor=5000)
    )
    await service.deliver(
        support.refunded(member_id="m-1", order_key="order:1", refund_id="r-1", amount_minor=1000)
    )
    later = support.T0 + dt.timedelta(days=400)
    await redemptions.sweep(
        service.app.state.loyalty_sessions, service.app.state.loyalty_program, now=later
    )
    seen = await sink.wait_for(payloads.PointsExpired.event_type)
    assert payloads.PointsReversed.event_type in seen
