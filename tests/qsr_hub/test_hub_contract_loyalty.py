"""Loyalty spoke contract: reserve → commit | release, retries without double holds, accrual once.

Run against every loyalty adapter with its backend: the Paytronix-style provider simulator here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest

from qsr_hub.domain import breaker
from qsr_hub.spokes import ports
from qsr_hub.spokes.guard import Guard, Policy
from qsr_hub.spokes.loyalty_paytronix import PaytronixLoyalty
from qsr_kit.domain import payloads, specs
from tests.qsr_hub.sims import Simulator

# The breaker is tested on its own; here it must not open between contract cases.
FAST = Policy(
    timeout=0.5,
    attempts=3,
    base_delay=0.01,
    max_delay=0.02,
    breaker=breaker.Settings(min_calls=1000),
)


class Backend:
    """An adapter with its backend, and how a test gives a member points."""

    def __init__(
        self, spoke: ports.LoyaltySpoke, sim: Simulator, grant: Callable[[str, int], None]
    ) -> None:
        self.spoke, self.sim, self.grant = spoke, sim, grant


def _paytronix(client: httpx.AsyncClient, sim: Simulator) -> Backend:
    def grant(member: str, points: int) -> None:
        sim.sim.points[member] = sim.sim.points.get(member, 0) + points

    spoke = PaytronixLoyalty(client, base_url=sim.url, guard=Guard("paytronix", FAST))
    return Backend(spoke, sim, grant)


@pytest.fixture(params=[pytest.param(_paytronix, id="paytronix")])
async def backend(
    request: pytest.FixtureRequest, paytronix_sim: Simulator, http: httpx.AsyncClient
) -> AsyncIterator[Backend]:
    await paytronix_sim.clear(http)
    yield request.param(http, paytronix_sim)
    await paytronix_sim.clear(http)


def member() -> str:
    return f"m-{uuid.uuid4().hex[:10]}"


async def test_a_reserved_reward_holds_its_points_until_released(backend: Backend) -> None:
    m = member()
    backend.grant(m, 500)
    held = await backend.spoke.reserve(
        member_id=m, reward_id="free-drink", order_id="o1", key=f"k-{m}"
    )
    assert held.discount == {
        "rewardId": "free-drink",
        "kind": "item",
        "value": 0,
        "sku": "drink-medium",
    }
    assert (await backend.spoke.account(m)).points == 200
    await backend.spoke.release(reservation_id=held.id, reference=f"k-{m}", key=f"r-{m}")
    assert (await backend.spoke.account(m)).points == 500


async def test_a_committed_reward_stays_spent(backend: Backend) -> None:
    m = member()
    backend.grant(m, 300)
    held = await backend.spoke.reserve(
        member_id=m, reward_id="free-drink", order_id="o1", key=f"k-{m}"
    )
    await backend.spoke.commit(held.id, key=f"c-{m}")
    with pytest.raises(ports.SpokeRefused):
        await backend.spoke.release(reservation_id=held.id, reference=f"k-{m}", key=f"r-{m}")
    assert (await backend.spoke.account(m)).points == 0


async def test_not_enough_points_is_refused(backend: Backend) -> None:
    m = member()
    with pytest.raises(ports.SpokeRefused, match="insufficient"):
        await backend.spoke.reserve(member_id=m, reward_id="five-off", order_id="o1", key=f"k-{m}")


async def test_a_reserve_retried_after_a_dropped_answer_holds_once(
    backend: Backend, http: httpx.AsyncClient
) -> None:
    m = member()
    backend.grant(m, 1000)
    await backend.sim.arm(
        http, kind="drop_after_success", path_prefix="/v1/redemptions", method="POST", count=1
    )
    await backend.spoke.reserve(member_id=m, reward_id="free-drink", order_id="o1", key=f"k-{m}")
    assert (await backend.spoke.account(m)).points == 700


async def test_a_hold_lost_to_a_timeout_is_released_by_reference(
    backend: Backend, http: httpx.AsyncClient
) -> None:
    m = member()
    backend.grant(m, 400)
    await backend.sim.arm(
        http, kind="drop_after_success", path_prefix="/v1/redemptions", method="POST"
    )
    with pytest.raises(ports.SpokeUnavailable) as lost:
        await backend.spoke.reserve(
            member_id=m, reward_id="free-drink", order_id="o1", key=f"k-{m}"
        )
    assert lost.value.uncertain
    await backend.sim.clear(http)
    await backend.spoke.release(reservation_id=None, reference=f"k-{m}", key=f"r-{m}")
    assert (await backend.spoke.account(m)).points == 400


async def test_an_order_accrues_once_however_often_it_is_posted(backend: Backend) -> None:
    m = member()
    event = payloads.OrderCompleted(
        order_id="o-1",
        store_id="store-0001",
        member_id=m,
        program="crispin-rewards",
        origin=payloads.Origin.APP,
        order_key=f"order-{m}",
        channel=specs.Channel.MOBILE_PICKUP,
        completed_at=datetime(2026, 11, 25, 18, 0, tzinfo=UTC),
        currency="USD",
        subtotal_minor=1250,
    )
    for _ in range(3):
        await backend.spoke.accrue(event, key=f"a-{m}")
    assert (await backend.spoke.account(m)).points == 125
