"""POS webhook payloads → canonical `order.completed`: the transformation step of POS ingest.

`checks_of` reads a vendor payload into `Check`s (raising `PayloadError` naming the field); a check
becomes `OrderCompleted` through the store's item mapping. An unmapped item is reported, never
guessed. The natural key makes the app order and its POS check earn once: the app's order id when
the POS carries it (Toast `externalId`, Square `reference_id`), else store + business date + check.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from qsr_hub.domain import pos_formats as fmt
from qsr_kit.domain import payloads, specs

_M = TypeVar("_M", bound=BaseModel)
_KEYS = uuid.UUID("5b0d3c8e-3f57-4a8c-9a43-6f1f1f0c2b11")
_TOAST_CHANNELS = {
    "DINE_IN": specs.Channel.IN_STORE,
    "TAKE_OUT": specs.Channel.IN_STORE,
    "DRIVE_THRU": specs.Channel.DRIVE_THRU,
    "CURBSIDE": specs.Channel.CURBSIDE,
    "DELIVERY": specs.Channel.DELIVERY,
}
_SQUARE_CHANNELS = {
    "PICKUP": specs.Channel.MOBILE_PICKUP,
    "DELIVERY": specs.Channel.DELIVERY,
    "SHIPMENT": specs.Channel.DELIVERY,
}


class PayloadError(ValueError):
    """A webhook body we cannot read: `field` is the dotted path of the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class CheckLine:
    pos_item_id: str
    quantity: int
    unit_minor: int


@dataclass(frozen=True)
class Check:
    """One closed (or still open) check, vendor-neutral."""

    vendor_event_id: str
    store_id: str
    business_date: str
    check_number: str
    closed_at: datetime | None
    voided: bool
    app_order_id: str | None
    member_id: str | None
    channel: specs.Channel
    currency: str
    subtotal_minor: int
    lines: tuple[CheckLine, ...]

    @property
    def order_key(self) -> str:
        if self.app_order_id:
            return self.app_order_id
        return f"pos:{self.store_id}:{self.business_date}:{self.check_number}"

    @property
    def is_completed(self) -> bool:
        return self.closed_at is not None and not self.voided


@dataclass(frozen=True)
class Unmapped:
    pos_item_id: str
    field: str


@dataclass(frozen=True)
class Transformed:
    event: payloads.OrderCompleted
    event_id: str
    unmapped: tuple[Unmapped, ...]


def checks_of(
    pos_type: specs.PosType, body: Mapping[str, Any], *, store: specs.StoreIntegrationSpec
) -> tuple[Check, ...]:
    """Every check in a webhook body; raises PayloadError naming the first bad field."""
    if pos_type is specs.PosType.TOAST:
        return _toast_checks(_parsed(fmt.ToastWebhook, body), store=store)
    if pos_type is specs.PosType.SQUARE:
        return (_square_check(_parsed(fmt.SquareWebhook, body), store=store),)
    return (_generic_check(_parsed(fmt.GenericCheck, body), store=store),)


def completed_of(check: Check, *, store: specs.StoreIntegrationSpec, program: str) -> Transformed:
    """The canonical order.completed of a closed check, with the items the mapping does not know."""
    if not check.is_completed or check.closed_at is None:
        raise ValueError("only a closed, non-voided check completes an order")
    mapping = {m.pos_item_id: m.sku for m in store.pos.item_mapping}
    lines: list[payloads.OrderLine] = []
    unmapped: list[Unmapped] = []
    for i, line in enumerate(check.lines):
        sku = mapping.get(line.pos_item_id)
        if sku is None:
            unmapped.append(Unmapped(pos_item_id=line.pos_item_id, field=f"lines[{i}].posItemId"))
            continue
        lines.append(
            payloads.OrderLine(sku=sku, quantity=line.quantity, unit_price_minor=line.unit_minor)
        )
    event = payloads.OrderCompleted(
        order_id=check.order_key,
        store_id=check.store_id,
        member_id=check.member_id,
        program=program,
        origin=payloads.Origin.POS,
        order_key=check.order_key,
        channel=check.channel,
        completed_at=check.closed_at,
        currency=check.currency,
        subtotal_minor=check.subtotal_minor,
        lines=tuple(lines),
    )
    event_id = str(uuid.uuid5(_KEYS, f"{check.order_key}|pos|completed"))
    return Transformed(event=event, event_id=event_id, unmapped=tuple(unmapped))


def _parsed(model: type[_M], body: Mapping[str, Any]) -> _M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "$"
        raise PayloadError(field, first["msg"]) from None


def _minor(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _whole(quantity: Decimal, field: str) -> int:
    if quantity != quantity.to_integral_value():
        raise PayloadError(field, "fractional quantities are not supported")
    return int(quantity)


def _toast_checks(
    hook: fmt.ToastWebhook, *, store: specs.StoreIntegrationSpec
) -> tuple[Check, ...]:
    order = hook.details.order
    date = str(order.business_date)
    business_date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    checks = []
    for c, check in enumerate(order.checks):
        lines = []
        for s, sel in enumerate(check.selections):
            if sel.voided:
                continue
            field = f"details.order.checks.{c}.selections.{s}.quantity"
            quantity = _whole(sel.quantity, field)
            lines.append(CheckLine(sel.item.guid, quantity, _minor(sel.price) // quantity))
        loyalty = check.applied_loyalty_info
        checks.append(
            Check(
                vendor_event_id=hook.guid,
                store_id=store.store_id,
                business_date=business_date,
                check_number=check.display_number,
                closed_at=check.closed_date,
                voided=check.voided,
                app_order_id=order.external_id,
                member_id=loyalty.loyalty_identifier if loyalty else None,
                channel=_TOAST_CHANNELS.get(order.dining_option.behavior, specs.Channel.IN_STORE),
                currency="USD",
                subtotal_minor=_minor(check.amount),
                lines=tuple(lines),
            )
        )
    return tuple(checks)


def _square_check(hook: fmt.SquareWebhook, *, store: specs.StoreIntegrationSpec) -> Check:
    order = hook.data.object.order
    lines = tuple(
        CheckLine(
            item.catalog_object_id,
            _whole(item.quantity, f"data.object.order.line_items.{i}.quantity"),
            item.base_price_money.amount,
        )
        for i, item in enumerate(order.line_items)
    )
    closed = order.closed_at if order.state == "COMPLETED" else None
    stamp = closed or hook.created_at
    kind = order.fulfillments[0].type if order.fulfillments else ""
    currencies = {item.base_price_money.currency for item in order.line_items} or {"USD"}
    if len(currencies) > 1:
        raise PayloadError("data.object.order.line_items", "mixed currencies")
    return Check(
        vendor_event_id=hook.event_id,
        store_id=store.store_id,
        business_date=stamp.astimezone(ZoneInfo(store.timezone)).date().isoformat(),
        check_number=order.id,
        closed_at=closed,
        voided=order.state == "CANCELED",
        app_order_id=order.reference_id,
        member_id=order.customer_id,
        channel=_SQUARE_CHANNELS.get(kind, specs.Channel.IN_STORE),
        currency=currencies.pop(),
        subtotal_minor=sum(line.unit_minor * line.quantity for line in lines),
        lines=lines,
    )


def _generic_check(check: fmt.GenericCheck, *, store: specs.StoreIntegrationSpec) -> Check:
    if check.store_id != store.store_id:
        raise PayloadError("storeId", f"{check.store_id!r} posted to store {store.store_id!r}")
    lines = tuple(CheckLine(i.pos_item_id, i.quantity, i.unit_price_minor) for i in check.items)
    return Check(
        vendor_event_id=check.event_id,
        store_id=store.store_id,
        business_date=check.business_date,
        check_number=check.check_number,
        closed_at=check.closed_at if check.type == "check.closed" else None,
        voided=False,
        app_order_id=check.order_id,
        member_id=check.member_id,
        channel=check.channel,
        currency=check.currency,
        subtotal_minor=sum(line.unit_minor * line.quantity for line in lines),
        lines=lines,
    )
