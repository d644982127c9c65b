"""Quoting and placing orders: store rules → price → slot → row → events, in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from qsr_kit.domain import specs
from qsr_ordering import announcing, repository
from qsr_ordering.domain import capacity, errors, hours, lifecycle, pricing
from qsr_ordering.domain.lifecycle import Status
from qsr_ordering.menus import CmsMenus
from qsr_ordering.schemas import PlaceOrderIn, QuoteIn


@dataclass(frozen=True)
class Context:
    menus: CmsMenus
    topic: str
    now: datetime


class OrderExists(errors.OrderingError):
    code = "order-exists"


async def quote(body: QuoteIn, store: specs.StoreIntegrationSpec, ctx: Context) -> pricing.Quote:
    at = body.pickup_at or ctx.now
    hours.ensure_accepting(store, channel=body.channel, at=at)
    menu = await ctx.menus.menu_of(store.store_id)
    local = hours.local_time_of(store, at=at).time()
    return pricing.quote_of(
        body.cart, menu, tax_rate_percent=store.tax_rate_percent, local_time=local
    )


async def place(
    session: AsyncSession, body: PlaceOrderIn, store: specs.StoreIntegrationSpec, ctx: Context
) -> dict[str, Any]:
    priced = await quote(body, store, ctx)
    order_id = body.order_id or uuid.uuid4().hex
    slot = await _book(session, store, at=body.pickup_at or ctx.now, now=ctx.now)
    row: dict[str, Any] = {
        "id": order_id,
        "store_id": store.store_id,
        "program": store.program_ref.name,
        "member_id": body.member_id,
        "channel": body.channel.value,
        "status": Status.PLACED.value,
        "currency": priced.currency,
        "subtotal_minor": priced.subtotal_minor,
        "discount_minor": priced.discount_minor,
        "tax_minor": priced.tax_minor,
        "tip_minor": priced.tip_minor,
        "total_minor": priced.total_minor,
        "refunded_minor": 0,
        "reward_id": body.cart.discount.reward_id if body.cart.discount else None,
        "payment_reference": None,
        "pickup_slot": slot,
        "lines": [_line(line) for line in priced.lines],
        "created_at": ctx.now,
        "updated_at": ctx.now,
    }
    # Placed, then paid when the payment comes along: both events, in that order, and the row
    # written once, in its final state. A taken id rolls the whole transaction back (the slot
    # too); under concurrency the second insert waits for the first and finds it.
    if body.payment is not None:
        paid = lifecycle.transition(_state(row), lifecycle.Action.PAY).status
        row.update(status=paid.value, payment_reference=body.payment.reference)
    if not await repository.insert_order(session, row):
        raise OrderExists(f"order {order_id} already exists", field="orderId")
    await announcing.announce(session, row, Status.PLACED, topic=ctx.topic, now=ctx.now)
    if body.payment is not None:
        await announcing.announce(session, row, paid, topic=ctx.topic, now=ctx.now)
    return row


async def _book(
    session: AsyncSession, store: specs.StoreIntegrationSpec, *, at: datetime, now: datetime
) -> datetime:
    slot = capacity.slot_of(max(at, now))
    if await repository.book_slot(
        session, store_id=store.store_id, slot=slot, capacity=store.kitchen.orders_per_slot
    ):
        return slot
    horizon = slot + capacity.SLOT * 96
    booked = await repository.bookings(session, store_id=store.store_id, start=slot, end=horizon)
    booked[slot] = max(booked.get(slot, 0), store.kitchen.orders_per_slot)
    free = capacity.next_free_slots(
        slot,
        booked=booked,
        capacity=store.kitchen.orders_per_slot,
        is_open=lambda s: hours.is_open(store, at=s),
    )
    raise errors.SlotFull(slot, next_free=free)


def _state(row: dict[str, Any]) -> lifecycle.OrderState:
    return lifecycle.OrderState(
        status=Status(row["status"]),
        total_minor=row["total_minor"],
        refunded_minor=row["refunded_minor"],
    )


def _line(line: pricing.PricedLine) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "name": line.name,
        "category": line.category,
        "quantity": line.quantity,
        "unitMinor": line.unit_minor,
        "modifiers": list(line.modifiers),
    }
