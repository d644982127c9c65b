"""Ordering and the hub on real PostgreSQL, wired by real Kafka, with the card processor
simulator on HTTP: the stack of the card refund tests, and what they ask of it."""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa

from qsr_hub import main as hub_main
from qsr_hub.settings import HubSettings
from qsr_hub.tables import card_refunds
from qsr_kit import auth, db, schema
from qsr_kit.domain import events, payloads
from qsr_ordering import main as ordering_main
from qsr_ordering.settings import OrderingSettings
from tests.qsr_hub.platform import ORDERING, SERVICE_SCOPES, RunningClock, eventually
from tests.qsr_hub.sims import Simulator
from tests.qsr_hub.test_hub_on_kafka_postgres import kafka_topics
from tests.qsr_ordering.menus import EXAMPLES
from tests.qsr_ordering.service import AUDIENCE, ISSUER

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

    async def announce_older_refund(self, order_id: str, *, full: bool) -> str:
        """Queues in ordering's outbox an `order.refunded` as a producer from before `money_minor`
        wrote it (the field absent), on the order's topic and key; returns its event id."""
        outbox = schema.outbox
        async with db.transaction(self.ordering_sessions) as session:
            completed = (
                await session.execute(
                    sa.select(outbox).where(
                        outbox.c.event_type == payloads.OrderCompleted.event_type
                    )
                )
            ).one()
            payload = payloads.OrderRefunded(
                order_id=order_id, store_id="store-0001", program="crispin-rewards",
                order_key=order_id, refund_id=str(uuid.uuid4()), refunded_at=datetime.now(UTC),
                currency="USD", amount_minor=100, full=full,
            )  # fmt: skip
            envelope = events.envelope_of(
                payload, event_id=events.EventId(str(uuid.uuid4())), source="/qsr/old-ordering",
                time=payload.refunded_at,
            )  # fmt: skip
            await session.execute(
                sa.insert(outbox).values(
                    event_id=envelope.id, event_type=payloads.OrderRefunded.event_type,
                    topic=completed.topic, key=completed.key,
                    value=events.to_bytes(envelope).decode(), created_at=payload.refunded_at,
                )
            )  # fmt: skip
        return envelope.id


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
