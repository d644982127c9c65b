"""POS payloads → canonical order.completed: three vendors agree, unmapped items are reported."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from qsr_hub.domain import pos
from qsr_hub.simulators import pos_payloads
from qsr_hub.simulators.pos_payloads import Sale
from qsr_kit.domain import payloads, specs
from tests.qsr_ordering.menus import example_store

CLOSED = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
VENDORS = [specs.PosType.TOAST, specs.PosType.SQUARE, specs.PosType.GENERIC]


def sale(**changes: Any) -> Sale:
    base: dict[str, Any] = {
        "event_id": "evt-1",
        "check_number": "42",
        "business_date": "2026-11-25",
        "closed_at": CLOSED,
        "items": (("1001", 2, 699), ("3001", 1, 399)),
        "member_id": "m-1",
    }
    return Sale(**{**base, **changes})


def transformed(vendor: specs.PosType, s: Sale) -> list[pos.Transformed]:
    store = example_store()
    body = pos_payloads.body_of(vendor, s, store_id=store.store_id)
    return [
        pos.completed_of(check, store=store, program="crispin-rewards")
        for check in pos.checks_of(vendor, body, store=store)
        if check.is_completed
    ]


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_closed_check_becomes_order_completed_through_the_item_mapping(
    vendor: specs.PosType,
) -> None:
    [result] = transformed(vendor, sale())
    assert result.event.lines == (
        payloads.OrderLine(sku="chicken-sandwich", quantity=2, unit_price_minor=699),
        payloads.OrderLine(sku="fries-large", quantity=1, unit_price_minor=399),
    )
    assert (result.event.subtotal_minor, result.event.member_id) == (2 * 699 + 399, "m-1")
    assert result.event.origin is payloads.Origin.POS
    assert result.unmapped == ()


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_open_check_completes_nothing(vendor: specs.PosType) -> None:
    assert transformed(vendor, sale(closed_at=None)) == []


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_unmapped_item_is_reported_not_guessed(vendor: specs.PosType) -> None:
    [result] = transformed(vendor, sale(items=(("1001", 1, 699), ("9999", 1, 100))))
    assert [line.sku for line in result.event.lines] == ["chicken-sandwich"]
    assert result.unmapped == (pos.Unmapped(pos_item_id="9999", field="lines[1].posItemId"),)


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_check_of_an_app_order_carries_the_app_order_key(vendor: specs.PosType) -> None:
    [result] = transformed(vendor, sale(app_order_id="order-123"))
    assert result.event.order_key == "order-123"


@pytest.mark.parametrize("vendor", [specs.PosType.TOAST, specs.PosType.GENERIC])
def test_a_walk_in_check_is_keyed_by_store_business_date_and_check_number(
    vendor: specs.PosType,
) -> None:
    [result] = transformed(vendor, sale())
    assert result.event.order_key == "pos:store-0001:2026-11-25:42"


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_same_check_sent_twice_has_one_event_id(vendor: specs.PosType) -> None:
    [first] = transformed(vendor, sale(event_id="evt-1"))
    [again] = transformed(vendor, sale(event_id="evt-2"))
    assert first.event_id == again.event_id


def _broken(vendor: specs.PosType, path: list[str | int], value: Any) -> dict[str, Any]:
    body = pos_payloads.body_of(vendor, sale(), store_id="store-0001")
    node: Any = body
    for part in path[:-1]:
        node = node[part]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("vendor", "path", "value", "field"),
    [
        pytest.param(
            specs.PosType.TOAST,
            ["details", "order", "businessDate"],
            KeyError,
            "details.order.businessDate",
            id="toast-no-business-date",
        ),
        pytest.param(
            specs.PosType.TOAST,
            ["details", "order", "checks", 0, "selections", 0, "quantity"],
            1.5,
            "details.order.checks.0.selections.0.quantity",
            id="toast-fractional-quantity",
        ),
        pytest.param(
            specs.PosType.SQUARE,
            ["data", "object", "order", "line_items", 0, "quantity"],
            "two",
            "data.object.order.line_items.0.quantity",
            id="square-bad-quantity",
        ),
        pytest.param(specs.PosType.GENERIC, ["items"], [], "items", id="generic-no-items"),
        pytest.param(
            specs.PosType.GENERIC, ["storeId"], "store-0002", "storeId", id="generic-other-store"
        ),
        pytest.param(
            specs.PosType.GENERIC, ["surprise"], 1, "surprise", id="generic-unknown-field"
        ),
    ],
)
def test_a_malformed_body_names_the_field(
    vendor: specs.PosType, path: list[str | int], value: Any, field: str
) -> None:
    with pytest.raises(pos.PayloadError) as refused:
        pos.checks_of(vendor, _broken(vendor, path, value), store=example_store())
    assert refused.value.field == field
