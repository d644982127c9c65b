"""A shared client replaced after a failure is closed by its last call, never under one."""

from __future__ import annotations

import asyncio

from qsr_operator.inflight import InFlight


class Client:
    def __init__(self) -> None:
        self.closed = 0


async def close(client: Client) -> None:
    client.closed += 1


async def test_a_client_no_call_uses_is_closed_when_retired() -> None:
    calls: InFlight[Client] = InFlight(close)
    client = Client()
    await calls.retire(client)
    assert client.closed == 1


async def test_a_client_retired_under_calls_is_closed_once_by_the_last_of_them() -> None:
    calls: InFlight[Client] = InFlight(close)
    client = Client()
    release = asyncio.Event()
    inside = asyncio.Semaphore(0)

    async def call() -> None:
        async with calls.using(client):
            inside.release()
            await release.wait()

    tasks = [asyncio.create_task(call()) for _ in range(3)]
    for _ in tasks:
        await inside.acquire()
    await calls.retire(client)
    assert client.closed == 0  # three calls still use it
    release.set()
    await asyncio.gather(*tasks)
    assert client.closed == 1
    assert calls.calls(client) == 0


async def test_a_failing_call_retiring_its_own_client_closes_it_on_the_way_out() -> None:
    calls: InFlight[Client] = InFlight(close)
    client = Client()
    try:
        async with calls.using(client):
            await calls.retire(client)
            assert client.closed == 0
            raise ConnectionError("broker went away")
    except ConnectionError:
        pass
    assert client.closed == 1


async def test_a_client_that_is_not_retired_stays_open_after_its_calls() -> None:
    calls: InFlight[Client] = InFlight(close)
    client = Client()
    async with calls.using(client):
        pass
    assert client.closed == 0
