"""Card refunds for refunded checkout orders: each `order.refunded` → one refund at the processor.

The orders consumer records what is owed (`owe`, inside the kit's inbox transaction: one row per
ordering refund id, however often the event arrives). The saga resumer's pass pays it
(`Refunder.run_due`): it refunds the captured authorization of the order's saga, never more than
was captured and not yet refunded, under the key `refund-<refund id>`, so a call retried after a
lost answer replays at the processor instead of refunding twice. A processor that fails is retried
every `retry_after`; the row keeps the attempts and the last error, and
`qsr_hub_card_refunds_total{outcome}` counts refunded / refused / retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qsr_hub.domain import saga
from qsr_hub.executing import Spokes
from qsr_hub.spokes.ports import SpokeRefused, SpokeUnavailable
from qsr_hub.tables import card_refunds, sagas
from qsr_kit import db
from qsr_kit.domain import payloads

log = logging.getLogger(__name__)

OUTCOMES = Counter(
    "qsr_hub_card_refunds_total", "Card refunds of refunded orders, by outcome", ["outcome"]
)
PENDING, REFUNDED, REFUSED = "pending", "refunded", "refused"


def refund_key(refund_id: str) -> str:
    """The processor's idempotency key of one ordering refund."""
    return f"refund-{refund_id}"


async def owe(session: AsyncSession, event: payloads.OrderRefunded, *, now: datetime) -> bool:
    """Records the card refund an `order.refunded` asks for; False when nothing is owed (not a
    checkout order, e.g. a POS or kiosk order) or this refund is already recorded."""
    saga_id = await session.scalar(sa.select(sagas.c.id).where(sagas.c.order_id == event.order_id))
    if saga_id is None:
        return False
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(
        insert(card_refunds)
        .values(
            refund_id=event.refund_id,
            saga_id=saga_id,
            order_id=event.order_id,
            money_minor=event.money_minor,
            currency=event.currency,
            full=event.full,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


class Refunder:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        spokes: Spokes,
        *,
        clock: Callable[[], datetime],
        retry_after: timedelta,
        lease: timedelta,
    ) -> None:
        self.sessions = sessions
        self.spokes = spokes
        self.clock = clock
        self.retry_after = retry_after
        self.lease = lease

    async def run_due(self, *, limit: int = 50) -> int:
        """One pass: pays every pending refund that is due; returns how many were tried."""
        async with db.transaction(self.sessions) as session:
            due = await session.scalars(
                sa.select(card_refunds.c.refund_id)
                .where(
                    (card_refunds.c.status == PENDING)
                    & (card_refunds.c.next_attempt_at <= self.clock())
                )
                .order_by(card_refunds.c.created_at)
                .limit(limit)
            )
            refund_ids = list(due)
        tried = 0
        for refund_id in refund_ids:
            if await self._claim(refund_id):
                await self._pay(refund_id)
                tried += 1
        return tried

    async def _claim(self, refund_id: str) -> bool:
        """Holds the row for `lease` so another hub replica does not pay it at the same time."""
        now = self.clock()
        async with db.transaction(self.sessions) as session:
            result = await session.execute(
                sa.update(card_refunds)
                .where(
                    (card_refunds.c.refund_id == refund_id)
                    & (card_refunds.c.status == PENDING)
                    & (card_refunds.c.next_attempt_at <= now)
                )
                .values(next_attempt_at=now + self.lease)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _pay(self, refund_id: str) -> None:
        async with db.transaction(self.sessions) as session:
            row = (
                await session.execute(
                    sa.select(card_refunds).where(card_refunds.c.refund_id == refund_id)
                )
            ).one()
            state = saga.Saga.model_validate_json(
                (
                    await session.execute(sa.select(sagas.c.state).where(sagas.c.id == row.saga_id))
                ).scalar_one()
            )
            already = await session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(card_refunds.c.refunded_minor), 0)).where(
                    (card_refunds.c.saga_id == row.saga_id) & (card_refunds.c.status == REFUNDED)
                )
            )
        if state.phase in (saga.Phase.FAILED, saga.Phase.CANCELLED):
            await self._end(row, REFUSED, error=f"nothing was captured: the checkout {state.phase}")
            return
        if state.phase is not saga.Phase.CAPTURED:
            await self._later(row, f"waiting for the capture (checkout {state.phase})")
            return
        left = int(state.values["totalMinor"]) - int(already or 0)
        want = row.money_minor if row.money_minor is not None else left if row.full else None
        if want is None:
            await self._end(row, REFUSED, error="the event names no money amount")
            return
        take = min(want, left)
        if take <= 0:
            await self._end(row, REFUSED, error="nothing left to refund: all captured is refunded")
            return
        payments = self.spokes.payments_for(self.spokes.config.store(state.store_id))
        try:
            await payments.refund(
                state.values["authorizationId"], amount_minor=take, key=refund_key(row.refund_id)
            )
        except SpokeRefused as refused:
            await self._end(row, REFUSED, error=refused.reason)
        except SpokeUnavailable as down:
            await self._later(row, down.reason)
        else:
            await self._end(row, REFUNDED, refunded_minor=take)

    async def _end(
        self, row: Any, status: str, *, error: str | None = None, refunded_minor: int | None = None
    ) -> None:
        if error:
            log.warning(
                "card refund %s of order %s refused: %s", row.refund_id, row.order_id, error
            )
        OUTCOMES.labels(status).inc()
        await self._write(
            row.refund_id,
            status=status,
            refunded_minor=refunded_minor,
            attempts=row.attempts + 1,
            last_error=error,
        )

    async def _later(self, row: Any, reason: str) -> None:
        log.warning(
            "card refund %s of order %s retried later: %s", row.refund_id, row.order_id, reason
        )
        OUTCOMES.labels("retry").inc()
        await self._write(
            row.refund_id,
            attempts=row.attempts + 1,
            last_error=reason,
            next_attempt_at=self.clock() + self.retry_after,
        )

    async def _write(self, refund_id: str, **values: Any) -> None:
        async with db.transaction(self.sessions) as session:
            await session.execute(
                sa.update(card_refunds)
                .where(card_refunds.c.refund_id == refund_id)
                .values(**values, updated_at=self.clock())
            )
