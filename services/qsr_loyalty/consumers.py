"""Order events → ledger: the handler the kit's idempotent Processor calls inside its transaction
(inbox row + ledger change + outbox events commit together). Same code with Kafka or in-process.
"""

from __future__ import annotations

import dataclasses
import logging

import prometheus_client
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from qsr_kit import consuming
from qsr_kit.domain import events, payloads
from qsr_loyalty import accruing
from qsr_loyalty.domain import orders
from qsr_loyalty.program import Program

log = logging.getLogger(__name__)


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
    async def handle(
        session: AsyncSession, envelope: events.Envelope, payload: events.Payload
    ) -> None:
        if isinstance(payload, payloads.OrderCompleted):
            await _completed(session, program, payload, metrics)
        elif isinstance(payload, payloads.OrderRefunded) and payload.program == program.name:
            await accruing.refund(session, program, event=payload)
        elif isinstance(payload, payloads.OrderCancelled) and payload.program == program.name:
            await accruing.cancel(session, program, event=payload)

    return handle


async def _completed(
    session: AsyncSession, program: Program, event: payloads.OrderCompleted, metrics: Metrics | None
) -> None:
    if event.program != program.name or event.member_id is None:
        return
    try:
        order = order_of(event)
    except ValidationError as exc:  # the event is wrong, retrying cannot help
        raise consuming.PermanentError(f"order.completed: {exc.errors()[0]['loc']}: {exc}") from exc
    if event.currency != program.spec.currency:
        raise consuming.PermanentError(
            f"currency: {event.currency} is not the program's {program.spec.currency}"
        )
    accrual = await accruing.accrue(
        session, program, member_id=event.member_id, order=order, order_key=event.order_key
    )
    if accrual is not None and metrics is not None:
        metrics.accruals.inc()
        metrics.points.inc(accrual.points)
