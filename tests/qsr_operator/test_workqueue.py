"""The operator's coalescing work queue, on its own (no cluster): one reconcile per burst of adds,
never two at once for a key, again after an add during a reconcile, retried after a delay."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable

from qsr_operator.workqueue import WorkQueue

DEADLINE = 5.0


async def _until(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def test_keys_added_many_times_before_a_worker_takes_them_are_reconciled_once() -> None:
    seen: Counter[str] = Counter()

    async def work(key: str) -> float | None:
        seen[key] += 1
        return None

    queue: WorkQueue[str] = WorkQueue("test", work, workers=2)
    for _ in range(5):
        for key in ("a", "b", "c"):
            queue.add(key)
    queue.start()
    try:
        await _until("three reconciles", lambda: sum(seen.values()) == 3 and not len(queue))
    finally:
        await queue.stop()
    assert seen == Counter({"a": 1, "b": 1, "c": 1})


async def test_a_key_added_during_its_reconcile_runs_again_after_it_never_alongside() -> None:
    running: set[str] = set()
    overlaps: list[str] = []
    calls: list[str] = []
    release = asyncio.Event()

    async def work(key: str) -> float | None:
        if key in running:
            overlaps.append(key)
        running.add(key)
        calls.append(key)
        if len(calls) == 1:
            await release.wait()
        running.discard(key)
        return None

    queue: WorkQueue[str] = WorkQueue("test", work, workers=4)
    queue.start()
    try:
        queue.add("k")
        await _until("the first reconcile", lambda: calls == ["k"])
        queue.add("k")
        queue.add("k")
        await asyncio.sleep(0.05)  # free workers exist; none may take "k" while it runs
        assert calls == ["k"]
        release.set()
        await _until("the second reconcile", lambda: len(calls) == 2 and not len(queue))
    finally:
        await queue.stop()
    assert overlaps == []


async def test_a_returned_delay_retries_the_key_until_it_succeeds() -> None:
    calls: list[float] = []

    async def work(key: str) -> float | None:
        calls.append(time.monotonic())
        return 0.05 if len(calls) < 3 else None

    queue: WorkQueue[str] = WorkQueue("test", work, workers=1)
    queue.start()
    try:
        queue.add("k")
        await _until("three attempts", lambda: len(calls) == 3 and not len(queue))
    finally:
        await queue.stop()
    assert all(later - earlier >= 0.04 for earlier, later in itertools.pairwise(calls))
