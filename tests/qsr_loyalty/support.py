"""Test support for the loyalty service: the app on a real database with a settable clock, tokens
from a local issuer, and order events as the ordering service and the hub publish them."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

from qsr_kit import auth, bus
from qsr_kit.domain import events, payloads, specs
from qsr_loyalty import main
from qsr_loyalty.settings import Settings
from tests.qsr_loyalty.conftest import EXAMPLES

ISSUER, AUDIENCE = "https://identity.test", "qsr-loyalty"
PROGRAM = "crispin-rewards"
T0 = dt.datetime(2026, 11, 10, 18, 0, tzinfo=dt.UTC)


@dataclasses.dataclass
class Clock:
    now: dt.datetime = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclasses.dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    issuer: auth.LocalIssuer
    clock: Clock

    def token(
        self, *, member_id: str | None = None, scopes: str = "loyalty:read loyalty:redeem"
    ) -> str:
        kind: Any = "guest" if member_id else "service"
        return self.issuer.issue(
            subject=member_id or "svc-hub", kind=kind, scopes=scopes.split(), now=time.time(),
            member_id=member_id,
        )  # fmt: skip

    def headers(
        self, *, member_id: str | None = None, key: str | None = "auto", **kw: str
    ) -> dict[str, str]:
        found = {"Authorization": f"Bearer {self.token(member_id=member_id, **kw)}"}
        if key is not None:
            found["Idempotency-Key"] = str(uuid.uuid4()) if key == "auto" else key
        return found

    async def enroll(self, member_id: str, **body: Any) -> httpx.Response:
        return await self.client.post(
            "/v1/members", json={"member_id": member_id, **body}, headers=self.headers()
        )

    async def balance(self, member_id: str) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/members/{member_id}/balance", headers=self.headers(key=None)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def deliver(self, envelope: events.Envelope) -> None:
        """Publish an order event on the program's orders topic through the app's in-process bus."""
        record = bus.Record(
            topic=self.app.state.loyalty_program.orders_topic,
            key=envelope.partitionkey.encode(),
            value=events.to_bytes(envelope),
            headers=tuple(events.headers_of(envelope)),
        )
        await self.app.state.loyalty_bus.publish([record])


@contextlib.asynccontextmanager
async def running(database_url: str, **settings: Any) -> AsyncIterator[Service]:
    clock = Clock()
    issuer = auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE)
    config = Settings(
        database_url=database_url, config_dir=EXAMPLES, issuer=ISSUER, audience=AUDIENCE,
        sweep_seconds=3600, **settings,
    )  # fmt: skip
    app = main.create_app(config, clock=clock, issuer=issuer)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://loyalty") as client:
            yield Service(app, client, issuer, clock)


def completed(
    *,
    member_id: str,
    order_key: str,
    amount_minor: int = 1000,
    at: dt.datetime = T0,
    event_id: str | None = None,
    origin: payloads.Origin = payloads.Origin.APP,
    order_id: str = "o-1",
    store_id: str = "store-0001",
    program: str = PROGRAM,
) -> events.Envelope:
    payload = payloads.OrderCompleted(
        order_id=order_id, store_id=store_id, member_id=member_id, program=program, origin=origin,
        order_key=order_key, channel=specs.Channel.IN_STORE, completed_at=at, currency="USD",
        subtotal_minor=amount_minor,
        lines=(
            payloads.OrderLine(sku="chicken-sandwich", quantity=1, unit_price_minor=amount_minor),
        ),
    )  # fmt: skip
    return events.envelope_of(
        payload, event_id=events.EventId(event_id or str(uuid.uuid4())), source="/qsr/test", time=at
    )


def refunded(
    *, member_id: str, order_key: str, refund_id: str, amount_minor: int, full: bool = False,
    at: dt.datetime = T0, order_id: str = "o-1",
) -> events.Envelope:  # fmt: skip
    payload = payloads.OrderRefunded(
        order_id=order_id, store_id="store-0001", member_id=member_id, program=PROGRAM,
        order_key=order_key, refund_id=refund_id, refunded_at=at, currency="USD",
        amount_minor=amount_minor, full=full,
    )  # fmt: skip
    return events.envelope_of(
        payload, event_id=events.EventId(str(uuid.uuid4())), source="/qsr/test", time=at
    )


def cancelled(*, order_id: str, at: dt.datetime = T0) -> events.Envelope:
    payload = payloads.OrderCancelled(
        order_id=order_id, store_id="store-0001", program=PROGRAM, order_key=f"order:{order_id}",
        cancelled_at=at,
    )  # fmt: skip
    return events.envelope_of(
        payload, event_id=events.EventId(str(uuid.uuid4())), source="/qsr/test", time=at
    )
