"""The checkout benchmark's load generator: closed loops for saturation, paced open loops for
latency, over aiohttp (a few hundred microseconds of CPU per request, one pooled connection per
request in flight). Kept cheap so that what it measures is the servers, not its own delay; its own
lateness is measured too (`Timed.late`). Called by `bench.checkout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

# One request: its number (for a new Idempotency-Key) -> the HTTP status it got.
Call = Callable[[int], Awaitable[int]]


@dataclass
class Timed:
    """Latencies (s) from each request's scheduled time; how late each was handed to the client
    (the generator's own delay, already inside its latency); how many failed."""

    latencies: list[float] = field(default_factory=list)
    late: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)  # HTTP status or exception name

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def __iadd__(self, other: Timed) -> Timed:
        self.latencies += other.latencies
        self.late += other.late
        self.failures += other.failures
        return self


@contextlib.asynccontextmanager
async def session(base_url: str, *, connections: int) -> AsyncIterator[aiohttp.ClientSession]:
    """At most `connections` open connections, kept alive; the open loop never asks for more.
    Idle ones are closed after 3 s, before uvicorn's 5 s: never reuse one the server is closing."""
    connector = aiohttp.TCPConnector(limit=connections, keepalive_timeout=3)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as client:
        yield client


async def post(client: aiohttp.ClientSession, path: str, **kwargs: Any) -> int:
    async with client.post(path, **kwargs) as response:
        await response.read()
        return response.status


async def saturation(call: Call, *, concurrency: int, seconds: float, first: int) -> float:
    """Requests/s of a closed loop: `concurrency` workers, each sending its next on an answer."""
    done = 0
    deadline = time.monotonic() + seconds

    async def worker(w: int) -> None:
        nonlocal done
        i = 0
        while time.monotonic() < deadline:
            status = await call(first + w * 1_000_000 + i)
            assert status < 300, f"HTTP {status} in the closed loop"
            done += 1
            i += 1

    started = time.monotonic()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return done / (time.monotonic() - started)


async def open_loop(
    call: Call, *, rate: float, seconds: float, first: int, in_flight: int
) -> Timed:
    """Request i is due at start + i / rate. One pacing loop sends each when due (a task per
    request in flight, not per request scheduled); with `in_flight` requests unanswered it waits
    for one to finish, and the wait counts: latency runs from the scheduled time, never from the
    actual send. Requests are numbered from `first`, so every phase sends new Idempotency-Keys."""
    total = max(1, int(rate * seconds))
    timed = Timed()
    slots = asyncio.Semaphore(in_flight)
    running: set[asyncio.Task[None]] = set()

    async def one(i: int, scheduled: float) -> None:
        try:
            status = await call(first + i)
            if status >= 300:
                timed.failures[str(status)] += 1
        except (aiohttp.ClientError, TimeoutError) as error:
            timed.failures[type(error).__name__] += 1
        finally:
            slots.release()
        timed.latencies.append(time.monotonic() - scheduled)

    start = time.monotonic()
    for i in range(total):
        scheduled = start + i / rate
        ahead = scheduled - time.monotonic()
        if ahead > 0:
            await asyncio.sleep(ahead)
        await slots.acquire()
        timed.late.append(max(0.0, time.monotonic() - scheduled))
        task = asyncio.create_task(one(i, scheduled))
        running.add(task)
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)
    return timed


def pct(values: list[float], p: float) -> float:
    """The p-th percentile of seconds, in ms."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000
