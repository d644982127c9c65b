"""Spoke guard: retries only idempotent calls, breaker with half-open probes, bulkhead, metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from qsr_hub.domain import breaker
from qsr_hub.spokes import ports
from qsr_hub.spokes.guard import Guard, Policy
from qsr_hub.spokes.http_errors import checked
from tests.qsr_hub.sims import FakeClock, Simulator

SETTINGS = breaker.Settings(failure_rate=0.5, window=4, min_calls=4, open_seconds=5, probes=1)


@pytest.fixture
async def cms(cms_sim: Simulator, http: httpx.AsyncClient) -> AsyncIterator[Simulator]:
    await cms_sim.clear(http)
    yield cms_sim
    await cms_sim.clear(http)


def get(
    http: httpx.AsyncClient, sim: Simulator, guard: Guard
) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def once() -> dict[str, Any]:
        return checked(await http.get(f"{sim.url}/v1/stores/store-0001/menu"), spoke=guard.name)

    return once


async def errors_fired(http: httpx.AsyncClient, sim: Simulator) -> int:
    state = (await http.get(f"{sim.url}/_state")).json()
    return int(state["faultsFired"]["error"])


async def test_an_idempotent_call_is_retried_and_a_non_idempotent_one_is_not(
    cms: Simulator, http: httpx.AsyncClient
) -> None:
    guard = Guard("retry-test", Policy(attempts=3, base_delay=0.001, max_delay=0.002))
    await cms.arm(http, kind="error")
    start = await errors_fired(http, cms)
    with pytest.raises(ports.SpokeUnavailable):
        await guard.call("menu", get(http, cms, guard), idempotent=True)
    assert await errors_fired(http, cms) == start + 3
    with pytest.raises(ports.SpokeUnavailable):
        await guard.call("menu", get(http, cms, guard), idempotent=False)
    assert await errors_fired(http, cms) == start + 4


async def test_the_breaker_opens_then_probes_half_open_and_closes(
    cms: Simulator, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    guard = Guard("breaker-test", Policy(attempts=1, breaker=SETTINGS), clock=clock)
    await cms.arm(http, kind="error", count=4)
    for _ in range(4):
        with pytest.raises(ports.SpokeUnavailable):
            await guard.call("menu", get(http, cms, guard), idempotent=False)
    assert guard.state is breaker.State.OPEN
    fired = await errors_fired(http, cms)

    with pytest.raises(ports.SpokeUnavailable, match="circuit open"):
        await guard.call("menu", get(http, cms, guard), idempotent=False)
    assert await errors_fired(http, cms) == fired  # refused without leaving the process
    assert REGISTRY.get_sample_value("qsr_hub_spoke_breaker_state", {"spoke": "breaker-test"}) == 2

    clock.now += 5
    await guard.call("menu", get(http, cms, guard), idempotent=False)
    assert guard.state.value == "closed"
    assert REGISTRY.get_sample_value("qsr_hub_spoke_breaker_state", {"spoke": "breaker-test"}) == 0


async def test_a_slow_call_times_out_as_uncertain(cms: Simulator, http: httpx.AsyncClient) -> None:
    guard = Guard("timeout-test", Policy(timeout=0.2, attempts=1))
    await cms.arm(http, kind="hang", count=1, delay_seconds=2)
    with pytest.raises(ports.SpokeUnavailable) as failed:
        await guard.call("menu", get(http, cms, guard), idempotent=False)
    assert failed.value.uncertain and "timed out" in failed.value.reason


async def test_the_bulkhead_refuses_calls_beyond_its_limit(
    cms: Simulator, http: httpx.AsyncClient
) -> None:
    guard = Guard("bulkhead-test", Policy(concurrency=2, attempts=1, timeout=5))
    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "done"

    first = asyncio.create_task(guard.call("slow", slow, idempotent=False))
    second = asyncio.create_task(guard.call("slow", slow, idempotent=False))
    await asyncio.sleep(0)
    with pytest.raises(ports.SpokeUnavailable, match="bulkhead"):
        await guard.call("slow", slow, idempotent=False)
    gate.set()
    assert list(await asyncio.gather(first, second)) == ["done", "done"]


async def test_latencies_are_recorded_per_spoke_and_outcome(
    cms: Simulator, http: httpx.AsyncClient
) -> None:
    guard = Guard("latency-test")
    await guard.call("menu", get(http, cms, guard), idempotent=True)
    labels = {"spoke": "latency-test", "operation": "menu", "outcome": "ok"}
    assert REGISTRY.get_sample_value("qsr_hub_spoke_seconds_count", labels) == 1
