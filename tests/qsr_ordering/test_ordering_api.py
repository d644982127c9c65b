"""Ordering API: Idempotency-Key, store rules as problems, capacity, lifecycle events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.qsr_ordering.service import Ordering, config_dir, order_body, running


@pytest.fixture
async def ordering(database_url: str, cms_url: str, tmp_path: Path) -> AsyncIterator[Ordering]:
    async with running(
        database_url, cms_url=cms_url, config=config_dir(tmp_path, orders_per_slot=2)
    ) as service:
        yield service


async def test_a_placed_and_paid_order_is_priced_and_announced(ordering: Ordering) -> None:
    response = await ordering.place(order_body())
    assert response.status_code == 201, response.text
    order = response.json()
    # 2 * (699 + 50) + 249 = 1747; tax 8.25 % → 144.1275 → 144; tip 100
    assert (order["subtotalMinor"], order["taxMinor"], order["totalMinor"]) == (
        1747,
        144,
        1747 + 144 + 100,
    )
    assert order["status"] == "paid"
    assert await ordering.outbox_types() == ["io.qsr.order.placed.v1", "io.qsr.order.paid.v1"]


async def test_the_same_idempotency_key_replays_the_first_order(ordering: Ordering) -> None:
    first = await ordering.place(order_body(), key="k-1")
    again = await ordering.place(order_body(), key="k-1")
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(await ordering.outbox_types()) == 2


async def test_a_taken_order_id_is_409_and_keeps_neither_slot_nor_events(
    ordering: Ordering,
) -> None:
    assert (await ordering.place(order_body(orderId="order-taken-1"))).status_code == 201
    again = await ordering.place(order_body(orderId="order-taken-1"))  # a new Idempotency-Key
    assert (again.status_code, again.json()["code"]) == (409, "order-exists")
    assert len(await ordering.outbox_types()) == 2
    # Two places per slot: had the refused order kept its booking, this one would not fit.
    assert (await ordering.place(order_body())).status_code == 201


async def test_a_bad_cart_is_a_problem_naming_the_field(ordering: Ordering) -> None:
    body = order_body(cart={"lines": [{"sku": "caviar", "quantity": 1}]})
    response = await ordering.place(body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"] == [
        {"field": "lines[0].sku", "message": "unknown sku 'caviar'"}
    ]


async def test_a_closed_store_refuses_the_order(ordering: Ordering) -> None:
    ordering.clock.advance(hours=-10)  # 02:00 in Chicago on a Monday
    response = await ordering.place(order_body())
    assert (response.status_code, response.json()["code"]) == (409, "store-closed")


async def test_a_full_slot_answers_409_with_the_next_free_slots(ordering: Ordering) -> None:
    for _ in range(2):
        assert (await ordering.place(order_body())).status_code == 201
    full = await ordering.place(order_body())
    assert full.status_code == 409
    assert full.json()["code"] == "slot-full"
    assert full.json()["nextFreeSlots"][0] == "2026-11-23T18:15:00+00:00"


async def test_cancelling_frees_the_slot(ordering: Ordering) -> None:
    ids = [(await ordering.place(order_body())).json()["id"] for _ in range(2)]
    assert (await ordering.act(ids[0], "cancel")).json()["status"] == "cancelled"
    assert (await ordering.place(order_body())).status_code == 201


async def test_the_lifecycle_ends_with_order_completed_carrying_the_lines(
    ordering: Ordering,
) -> None:
    order_id = (await ordering.place(order_body())).json()["id"]
    for action in ("start_preparation", "mark_ready", "complete"):
        response = await ordering.act(order_id, action, staff_store="store-0001")
        assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"
    assert (await ordering.outbox_types())[-3:] == [
        "io.qsr.order.preparing.v1",
        "io.qsr.order.ready.v1",
        "io.qsr.order.completed.v1",
    ]


async def test_an_illegal_transition_is_409_naming_state_and_action(ordering: Ordering) -> None:
    order_id = (await ordering.place(order_body())).json()["id"]
    response = await ordering.act(order_id, "complete")
    assert response.status_code == 409
    assert "cannot complete an order that is paid" in response.json()["detail"]


async def test_refunds_partial_then_full(ordering: Ordering) -> None:
    order_id = (await ordering.place(order_body())).json()["id"]
    for action in ("start_preparation", "mark_ready", "complete"):
        await ordering.act(order_id, action)
    url = f"/v1/orders/{order_id}/refunds"
    partial = await ordering.client.post(url, json={"amountMinor": 500}, headers=ordering.headers())
    assert (partial.json()["status"], partial.json()["refundedMinor"]) == (
        "partially_refunded",
        500,
    )
    full = await ordering.client.post(url, json={}, headers=ordering.headers())
    assert full.json()["status"] == "refunded"
    too_much = await ordering.client.post(url, json={"amountMinor": 1}, headers=ordering.headers())
    assert too_much.status_code == 409


async def test_staff_of_another_store_may_not_move_the_order(ordering: Ordering) -> None:
    order_id = (await ordering.place(order_body())).json()["id"]
    response = await ordering.act(order_id, "start_preparation", staff_store="store-0002")
    assert response.status_code == 403


async def test_a_guest_places_for_themself_and_cannot_read_others(ordering: Ordering) -> None:
    mine = await ordering.place(order_body(memberId="someone-else"), member_id="m-7")
    assert mine.json()["memberId"] == "m-7"
    other = await ordering.client.get(
        f"/v1/orders/{mine.json()['id']}", headers=ordering.headers(member_id="m-8", key=None)
    )
    assert other.status_code == 403


@pytest.mark.parametrize(
    "pickup_at",
    [
        pytest.param("0001-01-01T00:00:00Z", id="year-1-in-chicago-underflows"),
        pytest.param("9999-12-31T23:59:00Z", id="year-9999"),
    ],
)
async def test_an_implausible_pickup_time_is_refused_naming_the_field(
    ordering: Ordering, pickup_at: str
) -> None:
    # Year 1 UTC is year 0 in the store's zone: a 500 before the calendar rule.
    response = await ordering.place(order_body(pickupAt=pickup_at))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.pickupAt"
