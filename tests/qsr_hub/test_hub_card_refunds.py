"""A refunded order refunds the guest's card once: ordering and the hub on real PostgreSQL, wired
by real Kafka, the card processor simulator on HTTP (its faults injected over HTTP).

Each refund of a checkout order (ordering's `order.refunded`, with `money_minor`) becomes one
refund of the captured authorization; redelivered events, a processor that fails first and an
order the hub did not take payment for change nothing more."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from qsr_kit import db, schema
from qsr_kit.domain import payloads
from tests.qsr_hub.platform import eventually
from tests.qsr_hub.refund_stack import CART, Stack, stack
from tests.qsr_hub.sims import Simulator

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
async def refunds(
    postgres: Any,
    kafka: Any,
    cms_sim: Simulator,
    card_processor: Simulator,
    http: httpx.AsyncClient,
) -> AsyncIterator[Stack]:
    await card_processor.clear(http)
    async with stack(postgres, kafka, cms_sim, card_processor, saga_retry_seconds=1.0) as running:
        yield running
    await card_processor.clear(http)


async def test_a_partial_then_full_refund_refund_the_card_by_the_money_given_back(
    refunds: Stack,
) -> None:
    charge = await refunds.completed_checkout()
    auth_id, total = charge["id"], charge["amountMinor"]
    card = refunds.cards.sim.authorizations[auth_id]

    await refunds.refund(charge["orderId"], 500)
    await refunds.settled(charge["orderId"], 1)
    assert card["refundedMinor"] == 500
    await refunds.refund(charge["orderId"])
    rows = await refunds.settled(charge["orderId"], 2)
    assert card["refundedMinor"] == total
    assert [(r.status, r.refunded_minor, r.full) for r in rows] == [
        ("refunded", 500, False),
        ("refunded", total - 500, True),
    ]


async def test_a_failing_processor_is_retried_visibly_and_refunds_once(
    refunds: Stack, http: httpx.AsyncClient
) -> None:
    charge = await refunds.completed_checkout()
    card = refunds.cards.sim.authorizations[charge["id"]]
    # One pass tries 3 times: the first pass fails, the next one gets through after one more 5xx.
    await refunds.cards.arm(
        http, kind="error", path_prefix=f"/v1/authorizations/{charge['id']}/refunds", count=4
    )
    await refunds.refund(charge["orderId"], 700)

    async def failed_and_waiting() -> bool:
        rows = await refunds.refunds_of(charge["orderId"])
        return bool(rows) and rows[0].status == "pending" and rows[0].last_error is not None

    await eventually(failed_and_waiting, within=30)
    [row] = await refunds.settled(charge["orderId"], 1)
    assert card["refundedMinor"] == 700
    assert (row.status, row.refunded_minor) == ("refunded", 700)
    assert row.attempts >= 2


async def test_a_redelivered_or_repeated_refund_event_refunds_once(refunds: Stack) -> None:
    charge = await refunds.completed_checkout()
    card = refunds.cards.sim.authorizations[charge["id"]]
    await refunds.refund(charge["orderId"], 300)
    await refunds.settled(charge["orderId"], 1)

    # The relay sends the event again (at least once), and a copy under another event id.
    copy_id = str(uuid.uuid4())
    async with db.transaction(refunds.ordering_sessions) as session:
        outbox = schema.outbox
        original = (
            await session.execute(
                sa.select(outbox).where(outbox.c.event_type == payloads.OrderRefunded.event_type)
            )
        ).one()
        await session.execute(
            sa.update(outbox).where(outbox.c.id == original.id).values(sent_at=None)
        )
        value = {**json.loads(original.value), "id": copy_id}
        await session.execute(
            sa.insert(outbox).values(
                event_id=copy_id,
                event_type=original.event_type,
                topic=original.topic,
                key=original.key,
                value=json.dumps(value),
                created_at=original.created_at,
            )
        )
    await eventually(lambda: refunds.hub_saw({original.event_id, copy_id}), within=30)
    await refunds.settled(charge["orderId"], 1)  # nothing new became due
    assert card["refundedMinor"] == 300
    assert len(await refunds.refunds_of(charge["orderId"])) == 1


async def test_a_refund_of_an_order_the_hub_did_not_charge_is_ignored(refunds: Stack) -> None:
    body = {
        "storeId": "store-0001",
        "channel": "in-store",
        "cart": CART,
        "payment": {"reference": "pos-cash-drawer-1"},
    }
    placed = await refunds.ordering.post("/v1/orders", json=body, headers=refunds.service())
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    await refunds.act(order_id, "start_preparation", "mark_ready", "complete")
    charges = {k: dict(v) for k, v in refunds.cards.sim.authorizations.items()}
    await refunds.refund(order_id)

    async with db.transaction(refunds.ordering_sessions) as session:
        event_id = (
            await session.execute(
                sa.select(schema.outbox.c.event_id).where(
                    schema.outbox.c.event_type == payloads.OrderRefunded.event_type
                )
            )
        ).scalar_one()
    await eventually(lambda: refunds.hub_saw({event_id}), within=30)
    assert await refunds.refunds_of(order_id) == []
    assert refunds.cards.sim.authorizations == charges


async def test_a_full_refund_from_an_older_producer_refunds_the_rest_of_the_capture(
    refunds: Stack,
) -> None:
    charge = await refunds.completed_checkout()
    card = refunds.cards.sim.authorizations[charge["id"]]
    await refunds.announce_older_refund(charge["orderId"], full=True)
    [row] = await refunds.settled(charge["orderId"], 1)
    assert (row.status, row.money_minor, row.refunded_minor) == (
        "refunded",
        None,
        charge["amountMinor"],
    )
    assert card["refundedMinor"] == charge["amountMinor"]


async def test_a_partial_refund_without_its_money_amount_is_refused_visibly(
    refunds: Stack,
) -> None:
    charge = await refunds.completed_checkout()
    card = refunds.cards.sim.authorizations[charge["id"]]
    await refunds.announce_older_refund(charge["orderId"], full=False)
    [row] = await refunds.settled(charge["orderId"], 1)
    assert (row.status, row.last_error) == ("refused", "the event names no money amount")
    assert card["refundedMinor"] == 0
