"""A coalescing work queue: one entry per key, a bounded pool of workers, retry after a delay.

controller-runtime's shape. Watch events and the periodic resync only `add()` a key; a key added
many times before a worker takes it is reconciled once; no two workers ever hold the same key; a
key added while it is being reconciled goes back in the queue once that reconcile ends, so the
latest state is always reconciled. `work(key)` returns a delay to retry after, or None when done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)
ERROR_DELAY = 5.0  # an unexpected exception in `work`: logged, retried after this


class WorkQueue(Generic[K]):
    def __init__(
        self, name: str, work: Callable[[K], Awaitable[float | None]], *, workers: int
    ) -> None:
        self.name = name
        self._work = work
        self._workers = workers
        self._queue: asyncio.Queue[K] = asyncio.Queue()
        self._queued: set[K] = set()
        self._active: set[K] = set()
        self._dirty: set[K] = set()  # added again while being reconciled
        self._timers: dict[K, asyncio.TimerHandle] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def __len__(self) -> int:
        return len(self._queued) + len(self._active)

    def add(self, key: K) -> None:
        """Reconcile `key` soon (at most once more, however many times it is added)."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if key in self._active:
            self._dirty.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(key)

    def add_after(self, key: K, delay: float) -> None:
        """Reconcile `key` after `delay` seconds, unless something adds it sooner."""
        if key in self._timers or key in self._queued or key in self._dirty:
            return
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(delay, self._due, key)

    def _due(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def start(self) -> None:
        for n in range(self._workers):
            self._tasks.append(asyncio.create_task(self._worker(), name=f"{self.name}-{n}"))

    async def stop(self) -> None:
        """Cancel the workers (a reconcile in flight is cancelled) and every pending retry."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _worker(self) -> None:
        while True:
            key = await self._queue.get()
            self._queued.discard(key)
            self._active.add(key)
            try:
                delay = await self._work(key)
            except Exception:
                logger.exception("%s: reconcile of %s failed; retrying", self.name, key)
                delay = ERROR_DELAY
            finally:
                self._active.discard(key)
            if key in self._dirty:
                self._dirty.discard(key)
                self.add(key)
            elif delay is not None:
                self.add_after(key, delay)
