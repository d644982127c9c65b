"""The ordering app on a real database with a settable clock and local tokens, for tests."""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml
from fastapi import FastAPI

from qsr_kit import auth, bus, db, schema
from qsr_ordering import main
from qsr_ordering.settings import OrderingSettings
from tests.qsr_ordering.menus import EXAMPLES

ISSUER, AUDIENCE = "https://identity.test", "qsr-platform"
# Monday 2026-11-23 12:00 in Chicago: store-0001 is open.
T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


@dataclasses.dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclasses.dataclass
class Ordering:
    app: FastAPI
    client: httpx.AsyncClient
    issuer: auth.LocalIssuer
    clock: Clock
    bus: bus.InProcessBus

    def headers(
        self,
        *,
        member_id: str | None = None,
        staff_store: str | None = None,
        key: str | None = "auto",
    ) -> dict[str, str]:
        if member_id:
            token = self.issuer.issue(
                subject=member_id,
                kind="guest",
                scopes=["orders:read", "orders:write"],
                now=time.time(),
            )
        elif staff_store:
            token = self.issuer.issue(
                subject="staff-1",
                kind="staff",
                scopes=["store:write"],
                now=time.time(),
                store_ids=[staff_store],
            )
        else:
            token = self.issuer.issue(
                subject="svc-hub",
                kind="service",
                scopes=["orders:read", "orders:write", "store:write"],
                now=time.time(),
            )
        found = {"Authorization": f"Bearer {token}"}
        if key is not None:
            found["Idempotency-Key"] = str(uuid.uuid4()) if key == "auto" else key
        return found

    async def place(self, body: dict[str, Any], **headers: Any) -> httpx.Response:
        return await self.client.post("/v1/orders", json=body, headers=self.headers(**headers))

    async def act(self, order_id: str, action: str, **headers: Any) -> httpx.Response:
        return await self.client.post(
            f"/v1/orders/{order_id}/actions/{action}", headers=self.headers(**headers)
        )

    async def outbox_types(self) -> list[str]:
        async with db.transaction(self.app.state.ordering.sessions) as session:
            rows = await session.execute(
                sa.select(schema.outbox.c.event_type).order_by(schema.outbox.c.id)
            )
        return [r.event_type for r in rows]


def config_dir(tmp_path: Path, *, orders_per_slot: int | None = None) -> Path:
    """The example stores, optionally with a tighter kitchen."""
    docs = list(yaml.safe_load_all((EXAMPLES / "stores.yaml").read_text()))
    for doc in docs:
        if orders_per_slot is not None:
            doc["spec"]["kitchen"]["ordersPerSlot"] = orders_per_slot
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    (folder / "stores.yaml").write_text(yaml.safe_dump_all(docs))
    return folder


@contextlib.asynccontextmanager
async def running(database_url: str, *, cms_url: str, config: Path) -> AsyncIterator[Ordering]:
    clock = Clock()
    issuer = auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE)
    events = bus.InProcessBus()
    settings = OrderingSettings(
        database_url=database_url,
        config_dir=config,
        menu_url=cms_url,
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    verifier = auth.Verifier.static(issuer.jwks(), issuer=ISSUER, audience=AUDIENCE)
    app = main.create_app(settings, verifier=verifier, publisher=events, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ordering") as client:
            yield Ordering(app, client, issuer, clock, events)


def order_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "storeId": "store-0001",
        "channel": "mobile-pickup",
        "memberId": "m-1",
        "cart": {
            "lines": [
                {"sku": "chicken-sandwich", "quantity": 2, "modifiers": ["spicy-mayo"]},
                {"sku": "drink-medium", "quantity": 1, "modifiers": ["cola"]},
            ],
            "tipMinor": 100,
        },
        "payment": {"reference": "auth-ref-1"},
    }
    body.update(changes)
    return body
