"""The hub as a real process, `kill -9`ed while a checkout stalls at a chosen step; a new hub
process on the same PostgreSQL database finishes or compensates the saga.

Identity, ordering and the simulators run in this process but are reached over HTTP on
127.0.0.1; ordering and the hub talk through real Kafka. A stall is simulator latency; the
stalled call either dies with the hub's connection (the processor reads the body after the delay,
finds the client gone and does nothing) or completes for nobody (the provider's commit has no body,
so it is done and only the answer is lost); the next hub re-runs the step under the same key, so
either way the effect exists once — an effect of the dead hub's call would land within the 2 s
delay, long before the final assertions."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qsr_hub.domain import saga
from tests.qsr_hub.platform import eventually
from tests.qsr_hub.process_stack import Stack, crash_stack
from tests.qsr_hub.sims import Simulator

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
PICKUP = "2026-11-23T19:00:00Z"  # an open hour of store-0001 on RunningClock's day
BODY = {
    "storeId": "store-0001",
    "channel": "mobile-pickup",
    "pickupAt": PICKUP,
    "cart": {
        "lines": [
            {"sku": "chicken-sandwich", "quantity": 1},
            {"sku": "drink-medium", "quantity": 1, "modifiers": ["cola"]},
        ]
    },
    "rewardId": "free-drink",
    "paymentToken": "tok_visa",
}


@dataclasses.dataclass(frozen=True)
class Stall:
    """Where the checkout hangs when the hub is killed: a simulator, a request path, a step."""

    sim: str
    path_prefix: str
    step: saga.Step


AT_AUTHORIZE = Stall("cards", "/v1/authorizations", saga.Step.AUTHORIZE_PAYMENT)
AT_COMMIT = Stall("loyalty", "/v1/redemptions/", saga.Step.COMMIT_REWARD)


@pytest.fixture
async def stack(
    tmp_path: Path,
    postgres: Any,
    kafka: Any,
    cms_sim: Simulator,
    card_processor: Simulator,
    paytronix_sim: Simulator,
    http: httpx.AsyncClient,
) -> AsyncIterator[Stack]:
    sims = {"cms": cms_sim, "cards": card_processor, "loyalty": paytronix_sim}
    for sim in sims.values():
        await sim.clear(http)
    async with crash_stack(tmp_path, postgres, kafka.bootstrap, sims, http) as running:
        yield running
    for sim in sims.values():
        await sim.clear(http)


async def killed_at(stack: Stack, stall: Stall, member: str) -> saga.Saga:
    """Runs a checkout on a first hub process and kills it while `stall`'s call hangs; returns
    the saga as the dead hub left it, once the stalled call's effect happened at the simulator."""
    sim = stack.cards if stall.sim == "cards" else stack.loyalty
    fired = sim.sim.faults.fired["latency"]
    await sim.arm(
        stack.http,
        kind="latency",
        path_prefix=stall.path_prefix,
        method="POST",
        count=1,
        delay_seconds=2,
    )
    first = stack.hub("hub-1")
    try:
        await first.start()
        headers = await stack.headers()
        checkout = stack.http.post(
            f"{first.url}/v1/checkout", json={**BODY, "memberId": member}, headers=headers
        )
        request = asyncio.ensure_future(checkout)
        await eventually(lambda: sim.sim.faults.fired["latency"] > fired, within=30)
        await first.kill9()
        with pytest.raises(httpx.TransportError):
            await request
    finally:
        await first.stop()
    state = await stack.saga()
    assert state is not None and stall.step not in state.done
    return state


def charges(stack: Stack, reference: str) -> list[dict[str, Any]]:
    return [a for a in stack.cards.sim.authorizations.values() if a["reference"] == reference]


def holds(stack: Stack, member: str) -> list[str]:
    return [r["status"] for r in stack.loyalty.sim.redemptions.values() if r["memberId"] == member]


async def phase_of(stack: Stack) -> saga.Phase | None:
    state = await stack.saga()
    return state.phase if state else None


@pytest.mark.parametrize("stall", [AT_AUTHORIZE, AT_COMMIT], ids=lambda s: s.step.value)
async def test_a_hub_killed_mid_checkout_is_finished_by_the_next_hub_process(
    stack: Stack, stall: Stall
) -> None:
    member = f"m-{uuid.uuid4().hex[:10]}"
    stack.loyalty.sim.points[member] = 500
    state = await killed_at(stack, stall, member)
    if stall.step is saga.Step.COMMIT_REWARD:  # the provider committed for the dead hub
        await eventually(lambda: holds(stack, member) == ["committed"], within=30)

    second = stack.hub("hub-2")
    try:
        await second.start()
        await eventually(lambda: _is(phase_of(stack), saga.Phase.AWAITING_COMPLETION), within=30)
        [charge] = charges(stack, state.id)
        assert charge["status"] == "authorized"
        assert holds(stack, member) == ["committed"]
        assert (await stack.order(state.order_id)).json()["status"] == "paid"

        for action in ("start_preparation", "mark_ready", "complete"):
            moved = await stack.http.post(
                f"{stack.ordering_url}/v1/orders/{state.order_id}/actions/{action}",
                headers=await stack.headers(),
            )
            assert moved.status_code == 200, moved.text
        await eventually(lambda: _is(phase_of(stack), saga.Phase.CAPTURED), within=60)
        assert [c["status"] for c in charges(stack, state.id)] == ["captured"]
    finally:
        await second.stop()


async def test_a_hub_killed_mid_checkout_is_compensated_by_the_next_hub_process(
    stack: Stack,
) -> None:
    member = f"m-{uuid.uuid4().hex[:10]}"
    stack.loyalty.sim.points[member] = 500
    state = await killed_at(stack, AT_AUTHORIZE, member)
    # While no hub runs, the last place of the pickup slot goes to another order.
    blocker = {k: v for k, v in BODY.items() if k not in ("rewardId", "paymentToken")}
    taken = await stack.http.post(
        f"{stack.ordering_url}/v1/orders", json=blocker, headers=await stack.headers()
    )
    assert taken.status_code == 201, taken.text

    second = stack.hub("hub-2")
    try:
        await second.start()
        await eventually(lambda: _is(phase_of(stack), saga.Phase.FAILED), within=30)
    finally:
        await second.stop()
    failed = await stack.saga()
    assert failed is not None and failed.failed_step is saga.Step.PLACE_ORDER
    assert [c["status"] for c in charges(stack, state.id)] == ["voided"]
    assert holds(stack, member) == ["reversed"]
    assert stack.loyalty.sim.points[member] == 500
    assert (await stack.order(state.order_id)).status_code == 404


async def _is(phase: Any, expected: saga.Phase) -> bool:
    return bool(await phase == expected)
