"""A refunded order refunds the guest's card once: ordering and the hub on real PostgreSQL, wired
by real Kafka, the card processor simulator on HTTP (its faults injected over HTTP).

Each refund of a checkout order (ordering's `order.refunded`, with `money_minor`) becomes one
refund of the captured authorization; redelivered events, a processor that fails first and an
order the hub did not take payment for change nothing more."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from qsr_hub import main as hub_main
from qsr_hub.settings import HubSettings
from qsr_hub.tables import card_refunds
from qsr_kit import auth, db, schema
from qsr_kit.domain import payloads
from qsr_ordering import main as ordering_main
from qsr_ordering.settings import OrderingSettings
from tests.qsr_hub.platform import ORDERING, SERVICE_SCOPES, RunningClock, eventually
from tests.qsr_hub.sims import Simulator
from tests.qsr_hub.test_hub_on_kafka_postgres import kafka_topics
from tests.qsr_ordering.menus import EXAMPLES
from tests.qsr_ordering.service import AUDIENCE, ISSUER

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
CART = {"lines": [{"sku": "chicken-sandwich", "quantity": 2}], "tipMinor": 100}


@dataclasses.dataclass
class Stack:
    hub: httpx.AsyncClient
    ordering: httpx.AsyncClient
    hub_sessions: Any
    ordering_sessions: Any
    issuer: auth.LocalIssuer
    cards: Simulator

    def service(self, key: str | None = None) -> dict[str, str]:
        token = self.issuer.issue(
            subject="svc", kind="service", scopes=SERVICE_SCOPES, now=time.time()
        )
        return {"Authorization": f"Bearer {token}", "Idempotency-Key": key or str(uuid.uuid4())}

    async def completed_checkout(self) -> dict[str, Any]:
        """A paid app order, handed over and captured: the authorization is returned."""
        body = {"storeId": "store-0001", "channel": "mobile-pickup", "cart": CART}
        placed = await self.hub.post(
            "/v1/checkout",
            json={**body, "paymentToken": "tok_visa", "memberId": "m-refund"},
            headers=self.service(),
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["orderId"]
        await self.act(order_id, "start_preparation", "mark_ready", "complete")
        [charge] = [
            a
            for a in self.cards.sim.authorizations.values()
            if a["reference"] == placed.json()["checkoutId"]
        ]
        await eventually(lambda: charge["status"] == "captured", within=30)
        return {"orderId": order_id, **charge}

    async def act(self, order_id: str, *actions: str) -> None:
        for action in actions:
            moved = await self.ordering.post(
                f"/v1/orders/{order_id}/actions/{action}", headers=self.service()
            )
            assert moved.status_code == 200, moved.text

    async def refund(self, order_id: str, amount_minor: int | None = None) -> None:
        body = {} if amount_minor is None else {"amountMinor": amount_minor}
        refunded = await self.ordering.post(
            f"/v1/orders/{order_id}/refunds", json=body, headers=self.service()
        )
        assert refunded.status_code == 200, refunded.text

    async def refunds_of(self, order_id: str) -> list[Any]:
        async with db.transaction(self.hub_sessions) as session:
            rows = await session.execute(
                sa.select(card_refunds)
                .where(card_refunds.c.order_id == order_id)
                .order_by(card_refunds.c.created_at)
            )
        return list(rows)

    async def settled(self, order_id: str, count: int) -> list[Any]:
        """The hub's refund rows of the order once `count` of them left `pending`."""

        async def done() -> bool:
            rows = await self.refunds_of(order_id)
            finished: int = sum(r.status != "pending" for r in rows)
            return finished == count

        await eventually(done, within=30)
        return await self.refunds_of(order_id)

    async def hub_saw(self, event_ids: set[str]) -> bool:
        async with db.transaction(self.hub_sessions) as session:
            seen = await session.scalars(
                sa.select(schema.inbox.c.event_id).where(schema.inbox.c.event_id.in_(event_ids))
            )
            return bool(set(seen) == event_ids)


@contextlib.asynccontextmanager
async def stack(
    postgres: Any, kafka: Any, cms: Simulator, cards: Simulator, **hub: Any
) -> AsyncIterator[Stack]:
    run = uuid.uuid4().hex[:8]
    dbs = {name: postgres.create_database(f"{name}_{run}") for name in ("ordering", "hub")}
    await kafka_topics(kafka.bootstrap)
    issuer = auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE)
    verifier = auth.Verifier.static(issuer.jwks(), issuer=ISSUER, audience=AUDIENCE)
    clock = RunningClock()

    async def service_token() -> str:
        return issuer.issue(subject="svc", kind="service", scopes=SERVICE_SCOPES, now=time.time())

    ordering = ordering_main.create_app(
        OrderingSettings(
            database_url=dbs["ordering"], config_dir=EXAMPLES, menu_url=cms.url,
            issuer=ISSUER, audience=AUDIENCE, kafka_bootstrap=kafka.bootstrap,
        ),
        verifier=verifier,
        clock=clock,
    )  # fmt: skip
    async with ordering.router.lifespan_context(ordering):
        mounts: dict[str, httpx.AsyncBaseTransport] = {ORDERING: httpx.ASGITransport(app=ordering)}
        app = hub_main.create_app(
            HubSettings(
                database_url=dbs["hub"], config_dir=EXAMPLES, ordering_url=ORDERING,
                cms_url=cms.url, payments_url=cards.url, loyalty_url="http://127.0.0.1:9",
                issuer=ISSUER, audience=AUDIENCE, kafka_bootstrap=kafka.bootstrap,
                spoke_timeout_seconds=0.5, breaker_open_seconds=0.3, resume_every_seconds=0.1,
                **hub,
            ),
            verifier=verifier, service_token=service_token, clock=clock, mounts=mounts,
        )  # fmt: skip
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as h,
            httpx.AsyncClient(transport=mounts[ORDERING], base_url=ORDERING) as o,
        ):
            yield Stack(
                h,
                o,
                app.state.hub.sessions,
                ordering.state.ordering.sessions,
                issuer,
                cards,
            )


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
