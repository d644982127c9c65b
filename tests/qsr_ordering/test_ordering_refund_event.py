"""`order.refunded` carries both amounts: the money given back (what the card is refunded) and
loyalty's prorated basis; older events without the money amount still parse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from qsr_kit import db, schema
from qsr_kit.domain import events, payloads
from tests.qsr_ordering.service import Ordering, config_dir, order_body, running


@pytest.fixture
async def ordering(database_url: str, cms_url: str, tmp_path: Path) -> AsyncIterator[Ordering]:
    async with running(database_url, cms_url=cms_url, config=config_dir(tmp_path)) as service:
        yield service


async def refunded_payloads(ordering: Ordering) -> list[payloads.OrderRefunded]:
    async with db.transaction(ordering.app.state.ordering.sessions) as session:
        rows = await session.execute(
            sa.select(schema.outbox.c.value)
            .where(schema.outbox.c.event_type == payloads.OrderRefunded.event_type)
            .order_by(schema.outbox.c.id)
        )
    found = [payloads.REGISTRY.payload_of(events.from_bytes(r.value.encode())) for r in rows]
    return [p for p in found if isinstance(p, payloads.OrderRefunded)]


async def test_a_partial_then_full_refund_announce_the_money_given_back(
    ordering: Ordering,
) -> None:
    order = (await ordering.place(order_body())).json()
    for action in ("start_preparation", "mark_ready", "complete"):
        await ordering.act(order["id"], action)
    url = f"/v1/orders/{order['id']}/refunds"
    await ordering.client.post(url, json={"amountMinor": 500}, headers=ordering.headers())
    await ordering.client.post(url, json={}, headers=ordering.headers())

    partial, rest = await refunded_payloads(ordering)
    assert (partial.money_minor, partial.full) == (500, False)
    assert (rest.money_minor, rest.full) == (order["totalMinor"] - 500, True)
    assert {partial.currency, rest.currency} == {order["currency"]}
    basis = order["subtotalMinor"] - order["discountMinor"]
    assert partial.amount_minor == 500 * basis // order["totalMinor"]
    assert partial.refund_id != rest.refund_id


def test_an_order_refunded_event_without_the_money_amount_still_parses() -> None:
    older = {
        "order_id": "o-1",
        "store_id": "store-0001",
        "program": "crispin-rewards",
        "order_key": "o-1",
        "refund_id": "r-1",
        "refunded_at": "2026-11-25T18:00:00Z",
        "currency": "USD",
        "amount_minor": 400,
        "full": False,
    }
    assert payloads.OrderRefunded.model_validate(older).money_minor is None
