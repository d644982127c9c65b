"""Builds POS webhook bodies the way Toast-like, Square-like and generic POS systems send them.

Used by the POS webhook sender simulator, the demo and the tests; pure (no clock, ids passed in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qsr_kit.domain import specs


@dataclass(frozen=True)
class Sale:
    """One purchase as the POS saw it; amounts in minor units."""

    event_id: str
    check_number: str
    business_date: str  # YYYY-MM-DD
    closed_at: datetime | None
    items: tuple[tuple[str, int, int], ...]  # (pos item id, quantity, unit minor)
    app_order_id: str | None = None
    member_id: str | None = None
    channel: specs.Channel = specs.Channel.IN_STORE
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def subtotal_minor(self) -> int:
        return sum(q * unit for _, q, unit in self.items)


def body_of(pos_type: specs.PosType, sale: Sale, *, store_id: str) -> dict[str, Any]:
    if pos_type is specs.PosType.TOAST:
        return toast_body(sale)
    if pos_type is specs.PosType.SQUARE:
        return square_body(sale, store_id=store_id)
    return generic_body(sale, store_id=store_id)


def _dollars(minor: int) -> float:
    return round(minor / 100, 2)


def toast_body(sale: Sale) -> dict[str, Any]:
    behavior = {
        specs.Channel.DRIVE_THRU: "DRIVE_THRU",
        specs.Channel.DELIVERY: "DELIVERY",
        specs.Channel.CURBSIDE: "CURBSIDE",
    }.get(sale.channel, "TAKE_OUT")
    check: dict[str, Any] = {
        "guid": f"check-{sale.check_number}",
        "displayNumber": sale.check_number,
        "closedDate": sale.closed_at.isoformat() if sale.closed_at else None,
        "voided": False,
        "amount": _dollars(sale.subtotal_minor),
        "selections": [
            {"item": {"guid": item}, "quantity": q, "price": _dollars(q * unit), "voided": False}
            for item, q, unit in sale.items
        ],
    }
    if sale.member_id:
        check["appliedLoyaltyInfo"] = {"loyaltyIdentifier": sale.member_id}
    return {
        "guid": sale.event_id,
        "eventType": "order_updated",
        "timestamp": (sale.closed_at.isoformat() if sale.closed_at else "2026-01-01T00:00:00Z"),
        "details": {
            "restaurantGuid": "rest-1",
            "order": {
                "guid": f"order-{sale.check_number}",
                "externalId": sale.app_order_id,
                "businessDate": int(sale.business_date.replace("-", "")),
                "diningOption": {"behavior": behavior},
                "checks": [check],
            },
        },
        **sale.extra,
    }


def square_body(sale: Sale, *, store_id: str) -> dict[str, Any]:
    order: dict[str, Any] = {
        "id": sale.check_number,
        "location_id": store_id,
        "state": "COMPLETED" if sale.closed_at else "OPEN",
        "line_items": [
            {
                "catalog_object_id": item,
                "quantity": str(q),
                "base_price_money": {"amount": unit, "currency": "USD"},
            }
            for item, q, unit in sale.items
        ],
        "fulfillments": [
            {"type": "PICKUP" if sale.channel is specs.Channel.MOBILE_PICKUP else "DINE_IN"}
        ],
    }
    if sale.closed_at:
        order["closed_at"] = sale.closed_at.isoformat()
    if sale.app_order_id:
        order["reference_id"] = sale.app_order_id
    if sale.member_id:
        order["customer_id"] = sale.member_id
    stamp = sale.closed_at.isoformat() if sale.closed_at else f"{sale.business_date}T12:00:00Z"
    return {
        "merchant_id": "merchant-1",
        "type": "order.updated",
        "event_id": sale.event_id,
        "created_at": stamp,
        "data": {"type": "order", "id": sale.check_number, "object": {"order": order}},
        **sale.extra,
    }


def generic_body(sale: Sale, *, store_id: str) -> dict[str, Any]:
    return {
        "eventId": sale.event_id,
        "type": "check.closed" if sale.closed_at else "check.updated",
        "storeId": store_id,
        "businessDate": sale.business_date,
        "checkNumber": sale.check_number,
        "closedAt": sale.closed_at.isoformat() if sale.closed_at else None,
        "orderId": sale.app_order_id,
        "memberId": sale.member_id,
        "channel": sale.channel.value,
        "currency": "USD",
        "items": [
            {"posItemId": item, "quantity": q, "unitPriceMinor": unit}
            for item, q, unit in sale.items
        ],
        **sale.extra,
    }
