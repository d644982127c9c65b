"""Drives checkout sagas: the request path runs a new saga to its first resting point, the
resumer picks up sagas a crash or an unavailable spoke left behind, events trigger capture/void,
and the resumer's passes also pay the card refunds of refunded orders (`refunding`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from qsr_hub.domain import saga
from qsr_hub.domain.saga import Unavailable
from qsr_hub.executing import Executor
from qsr_hub.refunding import Refunder
from qsr_hub.saga_store import SagaStore

log = logging.getLogger(__name__)


class Runner:
    def __init__(
        self,
        store: SagaStore,
        executor: Executor,
        *,
        clock: Callable[[], datetime],
        retry_after: timedelta = timedelta(seconds=5),
    ) -> None:
        self.store = store
        self.executor = executor
        self.clock = clock
        self.retry_after = retry_after
        self._driving: set[str] = set()
        # Order events that arrive while this process drives the saga, applied between steps.
        self._signals: dict[str, bool] = {}
        self._wakeup = asyncio.Event()
        # Card refunds of refunded orders ride the resumer's passes (after the captures).
        self.refunds = Refunder(
            store.sessions, executor.spokes, clock=clock, retry_after=retry_after, lease=store.lease
        )

    async def drive(self, state: saga.Saga) -> saga.Saga:
        """Runs steps until the saga rests: terminal, waiting for completion, or a spoke is down."""
        if state.id in self._driving:
            return state
        self._driving.add(state.id)
        try:
            state = await self._run(state)
            # An order event that arrived meanwhile (signal_if_driving) is applied at rest.
            while (signalled := self._signalled(state)) != state:
                await self.store.save(signalled, now=self.clock())
                state = await self._run(signalled)
            return state
        finally:
            self._driving.discard(state.id)
            self._signals.pop(state.id, None)

    async def _run(self, state: saga.Saga) -> saga.Saga:
        """One write per step; the step that brings the saga to rest also releases its lease."""
        stepped = False
        while (step := saga.next_step(state)) is not None:
            stepped = True
            outcome = await self.executor.execute(state, step)
            after = saga.advance(state, step, outcome)
            following = saga.next_step(after)
            stuck = isinstance(outcome, Unavailable) and following == step
            hold = self.retry_after if stuck else timedelta(0) if following is None else None
            await self.store.save(after, now=self.clock(), hold=hold)
            state = after
            if stuck and isinstance(outcome, Unavailable):
                log.warning("saga %s: %s waits for its spoke: %s", state.id, step, outcome.reason)
                return state
        if not stepped:  # a replay of a resting saga: release the lease the request took
            await self.store.save(state, now=self.clock(), hold=timedelta(0))
        return state

    def signal_if_driving(self, saga_id: str, *, completed: bool) -> bool:
        """An order event for a saga this process is driving right now: applied once it rests."""
        if saga_id not in self._driving:
            return False
        self._signals[saga_id] = completed
        return True

    def kick(self) -> None:
        """Wake the resumer now (a saga became due)."""
        self._wakeup.set()

    def _signalled(self, state: saga.Saga) -> saga.Saga:
        completed = self._signals.pop(state.id, None)
        if completed is None:
            return state
        return saga.order_completed(state) if completed else saga.order_cancelled(state)

    async def resume_due(self) -> int:
        """One pass of the resumer: drives every saga whose lease lapsed, then pays due refunds."""
        driven = 0
        for saga_id in await self.store.due(now=self.clock()):
            if saga_id in self._driving or not await self.store.claim(saga_id, now=self.clock()):
                continue
            state = await self.store.by_id(saga_id)
            if state is not None:
                await self.drive(state)
                driven += 1
        return driven + await self.refunds.run_due()

    async def run_resumer(self, stop: asyncio.Event, *, every: float) -> None:
        while not stop.is_set():
            try:
                await self.resume_due()
            except Exception:  # a database hiccup must not end the resumer; next pass retries
                log.exception("saga resumer pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_either(stop, self._wakeup), timeout=every)
            self._wakeup.clear()

    async def on_order(self, order_id: str, *, completed: bool) -> None:
        """order.completed → capture; order.cancelled → void and release."""
        stored = await self.store.by_order(order_id)
        if stored is None:
            return  # not a checkout order (kiosk, POS)
        if self.signal_if_driving(stored.saga.id, completed=completed):
            return
        state = (
            saga.order_completed(stored.saga) if completed else saga.order_cancelled(stored.saga)
        )
        if state != stored.saga:
            await self.store.save(state, now=self.clock())
            await self.drive(state)


async def _either(first: asyncio.Event, second: asyncio.Event) -> None:
    waiters = [asyncio.create_task(first.wait()), asyncio.create_task(second.wait())]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
