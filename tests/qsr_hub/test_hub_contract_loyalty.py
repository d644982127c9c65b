"""Loyalty spoke contract: reserve → commit | release, retries without double holds, accrual once.

Run against every loyalty adapter with its backend: the Paytronix-style adapter against its
provider simulator, the native adapter against our qsr_loyalty service (PostgreSQL, Kafka) behind
the same fault layer. A backend grants points its own way and announces a completed order the way
production does (the provider is posted to by `accrue`; our service reads the orders topic).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from qsr_hub.domain import breaker
from qsr_hub.spokes import ports
from qsr_hub.spokes.guard import Guard, Policy
from qsr_hub.spokes.loyalty_native import NativeLoyalty
from qsr_hub.spokes.loyalty_paytronix import PaytronixLoyalty
from qsr_kit.domain import payloads, specs
from tests.qsr_hub import native_loyalty
from tests.qsr_hub.sims import Simulator

# The breaker is tested on its own; here it must not open between contract cases.
FAST = Policy(
    timeout=0.5,
    attempts=3,
    base_delay=0.01,
    max_delay=0.02,
    breaker=breaker.Settings(min_calls=1000),
)


async def _nothing(event: payloads.OrderCompleted) -> None:
    return None


class Backend:
    """An adapter with its backend: how a test gives a member points, where the reserve call
    goes (to inject faults on it), and how a completed order reaches the backend."""

    def __init__(
        self,
        spoke: ports.LoyaltySpoke,
        sim: Simulator,
        grant: Callable[[str, int], Awaitable[None]],
        reserve_path: Callable[[str], str],
        announce: Callable[[payloads.OrderCompleted], Awaitable[None]] = _nothing,
    ) -> None:
        self.spoke, self.sim, self.grant = spoke, sim, grant
        self.reserve_path, self.announce = reserve_path, announce


Maker = Callable[[httpx.AsyncClient], Backend]


def _paytronix(request: pytest.FixtureRequest) -> Maker:
    sim: Simulator = request.getfixturevalue("paytronix_sim")

    async def grant(member: str, points: int) -> None:
        sim.sim.points[member] = sim.sim.points.get(member, 0) + points

    def make(client: httpx.AsyncClient) -> Backend:
        spoke = PaytronixLoyalty(client, base_url=sim.url, guard=Guard("paytronix", FAST))
        return Backend(spoke, sim, grant, lambda member: "/v1/redemptions")

    return make


def _native(request: pytest.FixtureRequest) -> Maker:
    service: native_loyalty.NativeLoyaltyService = request.getfixturevalue("loyalty_service")

    def make(client: httpx.AsyncClient) -> Backend:
        async def grant(member: str, points: int) -> None:
            await service.enroll(client, member)
            if points:
                key = f"grant-{uuid.uuid4().hex[:10]}"
                order = native_loyalty.order_of(member, points=points, order_key=key)
                await service.announce(order)

        spoke = NativeLoyalty(
            client, base_url=service.url, token=service.token, guard=Guard("native", FAST)
        )
        return Backend(
            spoke,
            Simulator(url=service.url, sim=service),
            grant,
            lambda member: f"/v1/members/{member}/redemptions",
            service.announce,
        )

    return make


# Module scope: its Kafka consumer thread must not outlive this suite (it draws on `random`,
# which Hypothesis tests elsewhere in the session watch).
@pytest.fixture(scope="module")
def loyalty_service(
    tmp_path_factory: pytest.TempPathFactory, postgres: Any, kafka: Any
) -> Iterator[native_loyalty.NativeLoyaltyService]:
    yield from native_loyalty.serve(
        tmp_path_factory.mktemp("native-loyalty"), postgres, kafka.bootstrap
    )


@pytest.fixture(
    params=[
        pytest.param(_paytronix, id="paytronix"),
        pytest.param(_native, id="native", marks=[pytest.mark.kafka, pytest.mark.postgres]),
    ]
)
def adapter(request: pytest.FixtureRequest) -> Maker:
    """Starts the backend (outside the test's event loop: the stack fixtures run their own)."""
    make: Maker = request.param(request)
    return make


@pytest.fixture
async def backend(adapter: Maker, http: httpx.AsyncClient) -> AsyncIterator[Backend]:
    found = adapter(http)
    await found.sim.clear(http)
    yield found
    await found.sim.clear(http)


def member() -> str:
    return f"m-{uuid.uuid4().hex[:10]}"


async def test_a_reserved_reward_holds_its_points_until_released(backend: Backend) -> None:
    m = member()
    await backend.grant(m, 500)
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
    await backend.grant(m, 300)
    held = await backend.spoke.reserve(
        member_id=m, reward_id="free-drink", order_id="o1", key=f"k-{m}"
    )
    await backend.spoke.commit(held.id, key=f"c-{m}")
    with pytest.raises(ports.SpokeRefused):
        await backend.spoke.release(reservation_id=held.id, reference=f"k-{m}", key=f"r-{m}")
    assert (await backend.spoke.account(m)).points == 0


async def test_not_enough_points_is_refused(backend: Backend) -> None:
    m = member()
    await backend.grant(m, 0)
    with pytest.raises(ports.SpokeRefused, match=r"(?i)insufficient"):
        await backend.spoke.reserve(member_id=m, reward_id="five-off", order_id="o1", key=f"k-{m}")


async def test_a_reserve_retried_after_a_dropped_answer_holds_once(
    backend: Backend, http: httpx.AsyncClient
) -> None:
    m = member()
    await backend.grant(m, 1000)
    await backend.sim.arm(
        http, kind="drop_after_success", path_prefix=backend.reserve_path(m), method="POST", count=1
    )
    await backend.spoke.reserve(member_id=m, reward_id="free-drink", order_id="o1", key=f"k-{m}")
    assert (await backend.spoke.account(m)).points == 700


async def test_a_hold_lost_to_a_timeout_is_released_by_reference(
    backend: Backend, http: httpx.AsyncClient
) -> None:
    m = member()
    await backend.grant(m, 400)
    await backend.sim.arm(
        http, kind="drop_after_success", path_prefix=backend.reserve_path(m), method="POST"
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
    await backend.grant(m, 0)
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
        await backend.announce(event)
    assert (await backend.spoke.account(m)).points == 125
