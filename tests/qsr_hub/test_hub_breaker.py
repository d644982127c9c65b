"""Circuit breaker: opens on a failure rate, half-opens after a pause, closes on good probes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qsr_hub.domain import breaker
from qsr_hub.domain.breaker import Breaker, Settings, State

SETTINGS = Settings(failure_rate=0.5, window=4, min_calls=4, open_seconds=10, probes=2)


def failing(n: int, b: Breaker | None = None, now: float = 0) -> Breaker:
    b = b or Breaker(settings=SETTINGS)
    for _ in range(n):
        _, b = breaker.admit(b, now=now)
        b = breaker.record(b, ok=False, now=now)
    return b


def test_it_stays_closed_below_the_minimum_number_of_calls() -> None:
    assert failing(3).state is State.CLOSED


def test_it_opens_at_the_failure_rate_and_rejects_calls() -> None:
    b = failing(4)
    assert b.state is State.OPEN
    assert breaker.admit(b, now=9.9)[0] is False


def test_it_half_opens_after_the_pause_and_admits_only_the_probes() -> None:
    b = failing(4)
    admitted = []
    for _ in range(3):
        ok, b = breaker.admit(b, now=10)
        admitted.append(ok)
    assert admitted == [True, True, False]
    assert b.state is State.HALF_OPEN


def test_good_probes_close_it() -> None:
    b = failing(4)
    for _ in range(2):
        _, b = breaker.admit(b, now=10)
    for _ in range(2):
        b = breaker.record(b, ok=True, now=10)
    assert b.state is State.CLOSED


def test_a_failed_probe_reopens_it() -> None:
    _, b = breaker.admit(failing(4), now=10)
    b = breaker.record(b, ok=False, now=11)
    assert (b.state, b.opened_at) == (State.OPEN, 11)


@given(
    attempts=st.integers(1, 8),
    base=st.floats(0.001, 1),
    cap=st.floats(0.001, 5),
    r=st.floats(0, 1),
)
def test_backoff_delays_are_jittered_below_the_cap(
    attempts: int, base: float, cap: float, r: float
) -> None:
    delays = breaker.backoff_delays(attempts, base=base, cap=cap, random=lambda: r)
    assert len(delays) == attempts - 1
    assert all(0 <= d <= cap for d in delays)
