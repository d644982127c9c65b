"""Turns an order's transition into its CloudEvent and queues it in the outbox, same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from qsr_kit import outbox
from qsr_kit.domain import events, payloads, specs
from qsr_ordering.domain.lifecycle import Status

SOURCE = "/qsr/ordering"


def payload_of(
    row: dict[str, Any], status: Status, *, now: datetime, refund_minor: int = 0
) -> events.Payload:
    base: dict[str, Any] = {
        "order_id": row["id"],
        "store_id": row["store_id"],
        "member_id": row["member_id"],
        "program": row["program"],
        "order_key": row["id"],  # the POS check of an app order carries this id too
    }
    basis = row["subtotal_minor"] - row["discount_minor"]  # what loyalty earns on
    if status is Status.PLACED:
        return payloads.OrderPlaced(
            **base,
            at=now,
            channel=specs.Channel(row["channel"]),
            currency=row["currency"],
            total_minor=row["total_minor"],
            pickup_slot=row["pickup_slot"],
        )
    if status is Status.PAID:
        return payloads.OrderPaid(**base, at=now)
    if status is Status.IN_PREPARATION:
        return payloads.OrderPreparing(**base, at=now)
    if status is Status.READY:
        return payloads.OrderReady(**base, at=now)
    if status is Status.COMPLETED:
        return payloads.OrderCompleted(
            **base,
            origin=payloads.Origin.APP,
            channel=specs.Channel(row["channel"]),
            completed_at=now,
            currency=row["currency"],
            subtotal_minor=basis,
            lines=tuple(
                payloads.OrderLine(
                    sku=line["sku"],
                    category=line["category"],
                    quantity=line["quantity"],
                    unit_price_minor=line["unitMinor"],
                )
                for line in row["lines"]
            ),
        )
    if status is Status.CANCELLED:
        return payloads.OrderCancelled(**base, cancelled_at=now)
    full = status is Status.REFUNDED
    # Refunds reach loyalty on its basis (pre-tax, after discount), prorated from the total.
    amount = min(basis, refund_minor * basis // max(row["total_minor"], 1))
    return payloads.OrderRefunded(
        **base,
        refund_id=str(uuid.uuid4()),
        refunded_at=now,
        currency=row["currency"],
        amount_minor=amount,
        full=full,
        money_minor=refund_minor,
    )


async def announce(
    session: AsyncSession,
    row: dict[str, Any],
    status: Status,
    *,
    topic: str,
    now: datetime,
    refund_minor: int = 0,
) -> None:
    payload = payload_of(row, status, now=now, refund_minor=refund_minor)
    envelope = events.envelope_of(
        payload, event_id=events.EventId(str(uuid.uuid4())), source=SOURCE, time=now
    )
    await outbox.add(session, envelope, topic=topic)
