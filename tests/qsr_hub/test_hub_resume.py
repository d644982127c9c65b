"""A hub killed mid-saga: on restart the saga finishes, or compensates when it cannot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from qsr_hub.simulators.faults import Kind
from qsr_hub.tables import sagas
from qsr_kit import db
from tests.qsr_hub.platform import (
    Platform,
    eventually,
    member,
    on_sqlite,
    serving_hub,
)
from tests.qsr_hub.sims import Simulator


@pytest.fixture
async def stopped_hub(
    tmp_path: Path,
    cms_sim: Simulator,
    card_processor: Simulator,
    paytronix_sim: Simulator,
    http: httpx.AsyncClient,
) -> AsyncIterator[Platform]:
    async with on_sqlite(
        tmp_path,
        cms=cms_sim,
        cards=card_processor,
        loyalty=paytronix_sim,
        http=http,
        start_hub=False,
        spoke_timeout_seconds=5.0,  # the authorization hangs long enough to kill the hub in it
        saga_lease_seconds=0.5,
    ) as platform:
        yield platform


async def saga_row(platform: Platform) -> sa.Row[tuple[object, ...]] | None:
    async with db.transaction(platform.hub.state.hub.sessions) as session:
        return (await session.execute(sa.select(sagas))).one_or_none()


async def kill_during_authorization(
    platform: Platform, http: httpx.AsyncClient, member_id: str
) -> str:
    """Starts a checkout, lets it reach the card processor, then the hub dies."""
    await platform.cards.arm(
        http, kind="hang", path_prefix="/v1/authorizations", method="POST", delay_seconds=8
    )
    hangs_before = platform.cards.sim.faults.fired[Kind.HANG]
    async with serving_hub(platform):
        request = asyncio.create_task(platform.checkout(member_id))

        async def reserved() -> bool:
            row = await saga_row(platform)
            return row is not None and "reserve_reward" in str(row.state)

        await eventually(reserved)
        # Killed while the card processor holds the authorization (not mid-commit of a save).
        await eventually(lambda: platform.cards.sim.faults.fired[Kind.HANG] > hangs_before)
        request.cancel()  # the process dies with the request in flight
        with pytest.raises(asyncio.CancelledError):
            await request
        row = await saga_row(platform)
        assert row is not None and row.phase == "running"
        saga_id = str(row.id)
    await platform.cards.clear(http)
    return saga_id


async def test_a_saga_left_mid_payment_finishes_after_restart(
    stopped_hub: Platform, http: httpx.AsyncClient
) -> None:
    platform = stopped_hub
    m = member(platform)
    saga_id = await kill_during_authorization(platform, http, m)

    async with serving_hub(platform):

        async def placed() -> bool:
            row = await saga_row(platform)
            return row is not None and row.phase == "awaiting_completion"

        await eventually(placed)
    # one authorization, one held-then-committed reward: nothing twice
    assert [c["status"] for c in platform.charges(saga_id)] == ["authorized"]
    assert platform.points(m) == 1000 - 300
    assert [
        r["status"] for r in platform.loyalty.sim.redemptions.values() if r["memberId"] == m
    ] == ["committed"]


async def test_a_saga_that_cannot_finish_after_restart_compensates(
    stopped_hub: Platform, http: httpx.AsyncClient
) -> None:
    platform = stopped_hub
    m = member(platform)
    saga_id = await kill_during_authorization(platform, http, m)
    await platform.cards.arm(
        http, kind="error", path_prefix="/v1/authorizations", method="POST", count=3
    )

    async with serving_hub(platform):

        async def failed() -> bool:
            row = await saga_row(platform)
            return row is not None and row.phase == "failed"

        await eventually(failed)
    assert [c["status"] for c in platform.charges(saga_id) if c["status"] != "voided"] == []
    assert platform.points(m) == 1000
