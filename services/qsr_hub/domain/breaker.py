"""Circuit breaker and retry backoff as pure functions of time (resilience4j semantics).

closed → open when the failure rate over the last `window` calls reaches the threshold (after
`min_calls`); open → half-open after `open_seconds`; half-open lets `probes` calls through and
closes when they all succeed, reopens on any failure. Spoke adapters hold the state, pass `now`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace


class State(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class Settings:
    failure_rate: float = 0.5
    window: int = 20
    min_calls: int = 5
    open_seconds: float = 10.0
    probes: int = 2


@dataclass(frozen=True)
class Breaker:
    settings: Settings = Settings()
    state: State = State.CLOSED
    outcomes: tuple[bool, ...] = ()  # recent calls, True = success
    opened_at: float = 0.0
    probes_out: int = 0
    probes_ok: int = 0


def admit(breaker: Breaker, *, now: float) -> tuple[bool, Breaker]:
    """May a call go out now? Returns the answer and the breaker after asking."""
    if breaker.state is State.OPEN:
        if now - breaker.opened_at < breaker.settings.open_seconds:
            return False, breaker
        breaker = replace(breaker, state=State.HALF_OPEN, probes_out=0, probes_ok=0)
    if breaker.state is State.HALF_OPEN:
        if breaker.probes_out >= breaker.settings.probes:
            return False, breaker
        return True, replace(breaker, probes_out=breaker.probes_out + 1)
    return True, breaker


def record(breaker: Breaker, *, ok: bool, now: float) -> Breaker:
    """The breaker after a call it admitted ended well (`ok`) or badly."""
    s = breaker.settings
    if breaker.state is State.HALF_OPEN:
        if not ok:
            return replace(breaker, state=State.OPEN, opened_at=now, outcomes=())
        if breaker.probes_ok + 1 >= s.probes:
            return Breaker(settings=s)
        return replace(breaker, probes_ok=breaker.probes_ok + 1)
    if breaker.state is State.OPEN:
        return breaker
    outcomes = (*breaker.outcomes, ok)[-s.window :]
    failures = outcomes.count(False)
    if len(outcomes) >= s.min_calls and failures / len(outcomes) >= s.failure_rate:
        return replace(breaker, state=State.OPEN, opened_at=now, outcomes=())
    return replace(breaker, outcomes=outcomes)


def backoff_delays(
    attempts: int, *, base: float, cap: float, random: Callable[[], float]
) -> tuple[float, ...]:
    """Full-jitter delays before retries 1..attempts-1 (AWS blog): U(0, min(cap, base·2^n))."""
    return tuple(random() * min(cap, base * 2**n) for n in range(attempts - 1))
