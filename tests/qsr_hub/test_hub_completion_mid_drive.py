"""An order completed while the hub is still driving its saga: captured once the saga rests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.qsr_hub.platform import Platform, eventually, member, on_sqlite
from tests.qsr_hub.sims import Simulator


@pytest.fixture
async def slow_loyalty_platform(
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
        spoke_timeout_seconds=10.0,  # the slow reward commit must not time out
    ) as platform:
        yield platform


async def test_an_order_completed_during_the_reward_commit_is_captured_after_it(
    slow_loyalty_platform: Platform, http: httpx.AsyncClient
) -> None:
    platform = slow_loyalty_platform
    m = member(platform)
    # The commit (after the order is placed) answers slowly: the order completes meanwhile.
    await platform.loyalty.arm(
        http, kind="latency", path_prefix="/v1/redemptions/", method="POST", delay_seconds=4
    )
    runner = platform.hub.state.hub.runner
    request = asyncio.create_task(platform.checkout(m))
    await eventually(lambda: bool(runner._driving))
    [saga_id] = runner._driving
    state = await platform.hub.state.hub.sagas.by_id(saga_id)
    assert state is not None

    async def placed() -> bool:
        current = await platform.hub.state.hub.sagas.by_id(saga_id)
        return current is not None and "place_order" in current.done

    await eventually(placed)
    await platform.staff(state.order_id, "start_preparation", "mark_ready", "complete")
    # The order.completed event reached the hub while its saga was still being driven.
    await eventually(lambda: saga_id in runner._signals, within=3.5)
    assert not request.done()

    response = await request
    assert response.status_code == 201, response.text
    [charge] = platform.charges(saga_id)
    await eventually(lambda: charge["status"] == "captured")
