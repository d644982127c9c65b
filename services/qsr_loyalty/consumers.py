"""Order events → ledger: the handler the kit's idempotent Processor calls inside its transaction
(inbox row + ledger change + outbox events commit together). Same code with Kafka or in-process.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import prometheus_client
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qsr_kit import consuming, db
from qsr_kit.domain import events, payloads
from qsr_loyalty import accruals, accruing
from qsr_loyalty.domain import orders, rules
from qsr_loyalty.program import Program

# What closes a run of completed orders: it must be applied after them, on the session path.
OrderChange = payloads.OrderRefunded | payloads.OrderCancelled

log = logging.getLogger(__name__)
# Records per Kafka poll, over all assigned partitions; each partition's share is one transaction
# in batch mode (kafka.consume's default of 100 gave ~33 per partition with 3 partitions).
MAX_RECORDS = 1500


def engine_for(engine: AsyncEngine, url: str) -> AsyncEngine:
    """The consumer's own engine on PostgreSQL: no pre-ping, one round trip less per transaction.
    A connection the server closed fails on first use, is dropped from the pool, and the Processor
    reports the database unavailable (nothing committed; the consumer restarts from its offsets).
    SQLite (embedded) shares the service's engine."""
    if engine.dialect.name != "postgresql":
        return engine
    return db.engine_from_url(url, pre_ping=False)


@dataclasses.dataclass(frozen=True)
class Metrics:
    accruals: prometheus_client.Counter
    points: prometheus_client.Counter

    @classmethod
    def on(cls, registry: prometheus_client.CollectorRegistry) -> Metrics:
        return cls(
            accruals=prometheus_client.Counter(
                "loyalty_accruals", "Orders credited", registry=registry
            ),
            points=prometheus_client.Counter(
                "loyalty_points_accrued", "Points credited by orders", registry=registry
            ),
        )


def order_of(event: payloads.OrderCompleted) -> orders.Order:
    """The rule engine's view of a completed order; list prices above the subtotal = discount."""
    lines = tuple(
        orders.OrderLine(
            sku=line.sku,
            category=line.category,
            quantity=line.quantity,
            unit_price_minor=line.unit_price_minor,
        )
        for line in event.lines
    ) or (orders.OrderLine(sku="order", quantity=1, unit_price_minor=event.subtotal_minor),)
    listed = sum(line.amount_minor for line in lines)
    return orders.Order(
        order_id=event.order_id,
        store_id=event.store_id,
        channel=event.channel,
        placed_at=event.completed_at,
        lines=lines,
        discount_minor=max(listed - event.subtotal_minor, 0),
    )


def handler(program: Program, metrics: Metrics | None = None) -> consuming.Handler:
    """One event: the batch handler with a batch of one (same SQL either way)."""
    handle_all = batch_handler(program, metrics)

    async def handle(
        session: AsyncSession, envelope: events.Envelope, payload: events.Payload
    ) -> None:
        await handle_all(session, [(envelope, payload)])

    return handle


def batch_handler(program: Program, metrics: Metrics | None = None) -> consuming.BatchHandler:
    """The fresh events of one transaction, in order: runs of completed orders go through the
    set-based `accruals.accrue_many`; a refund or a cancellation is applied on its own, after the
    orders before it and before the ones after it."""

    async def handle_all(
        session: AsyncSession, items: Sequence[tuple[events.Envelope, events.Payload]]
    ) -> None:
        for run, after in _runs(program, items):
            await _accrue(session, program, run, metrics)
            if isinstance(after, payloads.OrderRefunded):
                await accruing.refund(session, program, event=after)
            elif after is not None:
                await accruing.cancel(session, program, event=after)

    return handle_all


def _runs(
    program: Program, items: Sequence[tuple[events.Envelope, events.Payload]]
) -> list[tuple[list[accruals.Completed], OrderChange | None]]:
    """The events in order as runs of completed orders, each closed by the refund or cancellation
    of this program that follows it (None after the last run); other events are not ours."""
    runs: list[tuple[list[accruals.Completed], OrderChange | None]] = []
    run: list[accruals.Completed] = []
    for _, payload in items:
        if isinstance(payload, payloads.OrderCompleted):
            completed = _completed(program, payload)
            if completed is not None:
                run.append(completed)
        elif isinstance(payload, OrderChange) and payload.program == program.name:
            runs.append((run, payload))
            run = []
    runs.append((run, None))
    return runs


def driver_handler(program: Program, metrics: Metrics | None = None) -> consuming.DriverHandler:
    """`batch_handler` on the raw asyncpg connection (PostgreSQL): completed orders only; a refund
    or a cancellation of this program (or a parked refund) sends the transaction to the session
    path (`consuming.NeedsSession`)."""

    async def handle_all(
        driver: Any, items: Sequence[tuple[events.Envelope, events.Payload]]
    ) -> None:
        [(run, after), *_] = _runs(program, items)
        if after is not None:
            raise consuming.NeedsSession(after.event_type)
        if run:
            done = await accruals.accrue_many(None, program, run, driver=driver)
            _count(done, metrics)

    return handle_all


def _count(done: Sequence[rules.Accrual | None], metrics: Metrics | None) -> None:
    if metrics is not None:
        for accrual in done:
            if accrual is not None:
                metrics.accruals.inc()
                metrics.points.inc(accrual.points)


def _completed(program: Program, event: payloads.OrderCompleted) -> accruals.Completed | None:
    """The order to accrue, None when it is not this program's or has no member; raises
    PermanentError for an event that cannot be right (retrying cannot help)."""
    if event.program != program.name or event.member_id is None:
        return None
    try:
        order = order_of(event)
    except ValidationError as exc:
        raise consuming.PermanentError(f"order.completed: {exc.errors()[0]['loc']}: {exc}") from exc
    if event.currency != program.spec.currency:
        raise consuming.PermanentError(
            f"currency: {event.currency} is not the program's {program.spec.currency}"
        )
    return accruals.Completed(event.member_id, order, event.order_key)


async def _accrue(
    session: AsyncSession,
    program: Program,
    run: Sequence[accruals.Completed],
    metrics: Metrics | None,
) -> None:
    if run:
        _count(await accruals.accrue_many(session, program, run), metrics)
