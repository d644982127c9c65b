"""Moves a placed order through its lifecycle (and refunds it), one event per transition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from qsr_ordering import announcing, repository
from qsr_ordering.domain import lifecycle
from qsr_ordering.domain.lifecycle import Action, Status


class UnknownOrder(LookupError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order {order_id!r}")


async def locked(session: AsyncSession, order_id: str) -> dict[str, Any]:
    row = await repository.order_by_id(session, order_id, for_update=True)
    if row is None:
        raise UnknownOrder(order_id)
    return row


async def act(
    session: AsyncSession,
    row: dict[str, Any],
    action: Action,
    *,
    topic: str,
    now: datetime,
    amount_minor: int | None = None,
) -> dict[str, Any]:
    before = lifecycle.OrderState(
        status=Status(row["status"]),
        total_minor=row["total_minor"],
        refunded_minor=row["refunded_minor"],
    )
    after = lifecycle.transition(before, action, amount_minor=amount_minor)
    row = {
        **row,
        "status": after.status.value,
        "refunded_minor": after.refunded_minor,
        "updated_at": now,
    }
    await repository.update_order(
        session,
        row["id"],
        status=row["status"],
        refunded_minor=row["refunded_minor"],
        updated_at=now,
    )
    if after.status is Status.CANCELLED:
        await repository.release_slot(session, store_id=row["store_id"], slot=row["pickup_slot"])
    refunded = after.refunded_minor - before.refunded_minor
    await announcing.announce(
        session, row, after.status, topic=topic, now=now, refund_minor=refunded
    )
    return row
