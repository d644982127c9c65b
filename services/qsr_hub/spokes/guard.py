"""Resilience around every spoke call: timeout, retries with jitter (idempotent calls only), a
circuit breaker with half-open probing and a bulkhead. Breaker states and latencies are metrics.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx
from prometheus_client import Counter, Gauge, Histogram

from qsr_hub.domain import breaker
from qsr_hub.spokes.ports import SpokeRefused, SpokeUnavailable

T = TypeVar("T")

LATENCY = Histogram(
    "qsr_hub_spoke_seconds",
    "Latency of spoke calls, per attempt",
    ["spoke", "operation", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BREAKER_STATE = Gauge("qsr_hub_spoke_breaker_state", "0 closed, 1 half-open, 2 open", ["spoke"])
REJECTED = Counter(
    "qsr_hub_spoke_rejected_total", "Calls refused before leaving", ["spoke", "reason"]
)
_STATE_VALUE = {breaker.State.CLOSED: 0, breaker.State.HALF_OPEN: 1, breaker.State.OPEN: 2}


@dataclass(frozen=True)
class Policy:
    timeout: float = 2.0
    attempts: int = 3
    base_delay: float = 0.05
    max_delay: float = 0.5
    concurrency: int = 32
    breaker: breaker.Settings = field(default_factory=breaker.Settings)


class Guard:
    """One per spoke instance; `call` runs an operation under the policy."""

    def __init__(
        self,
        name: str,
        policy: Policy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.name = name
        self.policy = policy or Policy()
        self.breaker = breaker.Breaker(settings=self.policy.breaker)
        self._clock = clock
        self._jitter = jitter
        self._in_flight = 0
        BREAKER_STATE.labels(name).set(0)

    @property
    def state(self) -> breaker.State:
        return self.breaker.state

    async def call(self, operation: str, fn: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
        if self._in_flight >= self.policy.concurrency:
            REJECTED.labels(self.name, "bulkhead").inc()
            raise SpokeUnavailable(f"{self.name}: bulkhead full", uncertain=False)
        self._in_flight += 1
        try:
            return await self._attempts(operation, fn, idempotent=idempotent)
        finally:
            self._in_flight -= 1

    async def _attempts(
        self, operation: str, fn: Callable[[], Awaitable[T]], *, idempotent: bool
    ) -> T:
        attempts = self.policy.attempts if idempotent else 1
        delays = breaker.backoff_delays(
            attempts, base=self.policy.base_delay, cap=self.policy.max_delay, random=self._jitter
        )
        uncertain = False
        last = ""
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(delays[attempt - 1])
            admitted, self.breaker = breaker.admit(self.breaker, now=self._clock())
            self._publish()
            if not admitted:
                REJECTED.labels(self.name, "circuit_open").inc()
                raise SpokeUnavailable(f"{self.name}: circuit open", uncertain=uncertain)
            started = self._clock()
            try:
                async with asyncio.timeout(self.policy.timeout):
                    result = await fn()
            except SpokeRefused:
                self._record(operation, started, ok=True, outcome="refused")
                raise
            except SpokeUnavailable as exc:
                uncertain = uncertain or exc.uncertain
                last = exc.reason
                self._record(operation, started, ok=False, outcome="unavailable")
            except (TimeoutError, httpx.TimeoutException):
                uncertain = True
                last = f"{self.name}: {operation} timed out after {self.policy.timeout} s"
                self._record(operation, started, ok=False, outcome="timeout")
            except httpx.TransportError as exc:
                # A refused connection never reached the server; anything later might have.
                uncertain = uncertain or not isinstance(exc, httpx.ConnectError)
                last = f"{self.name}: {operation} failed: {type(exc).__name__}"
                self._record(operation, started, ok=False, outcome="transport")
            else:
                self._record(operation, started, ok=True, outcome="ok")
                return result
        raise SpokeUnavailable(last, uncertain=uncertain)

    def _record(self, operation: str, started: float, *, ok: bool, outcome: str) -> None:
        now = self._clock()
        LATENCY.labels(self.name, operation, outcome).observe(max(0.0, now - started))
        self.breaker = breaker.record(self.breaker, ok=ok, now=now)
        self._publish()

    def _publish(self) -> None:
        BREAKER_STATE.labels(self.name).set(_STATE_VALUE[self.breaker.state])
