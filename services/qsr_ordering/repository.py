"""Ordering's queries. The request boundary owns the transaction; these only read and write in it.

Slot booking is one atomic upsert guarded by `booked < capacity`: under concurrency PostgreSQL
locks the row and re-checks the guard, so a slot never holds more than its capacity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from qsr_ordering.tables import orders, slot_bookings


async def book_slot(session: AsyncSession, *, store_id: str, slot: datetime, capacity: int) -> bool:
    """Takes one place in the slot; False when it is already full."""
    dialect = session.get_bind().dialect.name
    insert = (
        postgresql.insert(slot_bookings)
        if dialect == "postgresql"
        else sqlite.insert(slot_bookings)
    )
    statement = (
        insert.values(store_id=store_id, slot=slot, booked=1)
        .on_conflict_do_update(
            index_elements=[slot_bookings.c.store_id, slot_bookings.c.slot],
            set_={"booked": slot_bookings.c.booked + 1},
            where=slot_bookings.c.booked < capacity,
        )
        .returning(slot_bookings.c.booked)
    )
    booked = (await session.execute(statement)).scalar_one_or_none()
    return booked is not None and booked <= capacity


async def release_slot(session: AsyncSession, *, store_id: str, slot: datetime) -> None:
    await session.execute(
        sa.update(slot_bookings)
        .where(
            (slot_bookings.c.store_id == store_id)
            & (slot_bookings.c.slot == slot)
            & (slot_bookings.c.booked > 0)
        )
        .values(booked=slot_bookings.c.booked - 1)
    )


async def bookings(
    session: AsyncSession, *, store_id: str, start: datetime, end: datetime
) -> dict[datetime, int]:
    rows = await session.execute(
        sa.select(slot_bookings.c.slot, slot_bookings.c.booked).where(
            (slot_bookings.c.store_id == store_id)
            & (slot_bookings.c.slot >= start)
            & (slot_bookings.c.slot <= end)
        )
    )
    return {row.slot: row.booked for row in rows}


async def insert_order(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Inserts a new order; False when its id is taken (nothing written)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(orders) if dialect == "postgresql" else sqlite.insert(orders)
    statement = insert.values(**row).on_conflict_do_nothing(index_elements=[orders.c.id])
    return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]


async def order_by_id(
    session: AsyncSession, order_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    query = sa.select(orders).where(orders.c.id == order_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().one_or_none()
    return dict(row) if row else None


async def update_order(session: AsyncSession, order_id: str, **values: Any) -> None:
    await session.execute(sa.update(orders).where(orders.c.id == order_id).values(**values))


async def orders_of_member(
    session: AsyncSession, member_id: str, *, limit: int
) -> list[dict[str, Any]]:
    rows = await session.execute(
        sa.select(orders)
        .where(orders.c.member_id == member_id)
        .order_by(orders.c.created_at.desc())
        .limit(limit)
    )
    return [dict(r) for r in rows.mappings()]
