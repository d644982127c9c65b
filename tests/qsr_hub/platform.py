"""The platform under test in one event loop: the real ordering and hub apps (each on its own
database, wired by the in-process bus), simulators on real HTTP for the outside world."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml
from fastapi import FastAPI

from qsr_hub import main as hub_main
from qsr_hub.settings import HubSettings
from qsr_hub.simulators.pos_sender import PosSender
from qsr_kit import auth, bus, db, schema
from qsr_kit.domain import specs
from qsr_ordering import main as ordering_main
from qsr_ordering.settings import OrderingSettings
from tests.qsr_hub.sims import Simulator
from tests.qsr_ordering.menus import EXAMPLES
from tests.qsr_ordering.service import AUDIENCE, ISSUER, Clock

ORDERING = "http://ordering.internal"
SERVICE_SCOPES = [
    "orders:read",
    "orders:write",
    "store:write",
    "store:read",
    "loyalty:read",
    "loyalty:redeem",
    "checkout",
]


class RunningClock(Clock):
    """Starts at the fixed test instant and then runs with real time (leases and retries lapse)."""

    def __init__(self) -> None:
        super().__init__()
        self._started = time.monotonic()

    def __call__(self) -> datetime:
        return self.now + timedelta(seconds=time.monotonic() - self._started)


@dataclasses.dataclass
class Platform:
    hub: FastAPI
    ordering: FastAPI
    client: httpx.AsyncClient  # → hub
    ordering_client: httpx.AsyncClient
    issuer: auth.LocalIssuer
    clock: Clock
    events: bus.InProcessBus
    cards: Simulator
    loyalty: Simulator
    hub_app: Callable[[], FastAPI] = dataclasses.field(default=lambda: FastAPI())

    def token(
        self, *, member_id: str | None = None, scopes: str = "checkout loyalty:read orders:read"
    ) -> str:
        if member_id:
            return self.issuer.issue(
                subject=member_id, kind="guest", scopes=scopes.split(), now=time.time()
            )
        return self.issuer.issue(
            subject="svc",
            kind="service",
            scopes=SERVICE_SCOPES,
            now=time.time(),
        )

    async def checkout(
        self, member_id: str, key: str | None = None, **changes: Any
    ) -> httpx.Response:
        body: dict[str, Any] = {
            "storeId": "store-0001",
            "channel": "mobile-pickup",
            "cart": {
                "lines": [
                    {"sku": "chicken-sandwich", "quantity": 1},
                    {"sku": "drink-medium", "quantity": 1, "modifiers": ["cola"]},
                ]
            },
            "rewardId": "free-drink",
            "paymentToken": "tok_visa",
        }
        body.update(changes)
        headers = {"Authorization": f"Bearer {self.token(member_id=member_id)}"}
        headers["Idempotency-Key"] = key or str(uuid.uuid4())
        return await self.client.post("/v1/checkout", json=body, headers=headers)

    async def staff(self, order_id: str, *actions: str) -> None:
        for action in actions:
            headers = {
                "Authorization": f"Bearer {self.token()}",
                "Idempotency-Key": str(uuid.uuid4()),
            }
            response = await self.ordering_client.post(
                f"/v1/orders/{order_id}/actions/{action}", headers=headers
            )
            assert response.status_code == 200, response.text

    def sender(self, http: httpx.AsyncClient, store_id: str = "store-0001") -> PosSender:
        pos_types = {"store-0001": specs.PosType.TOAST, "store-0002": specs.PosType.SQUARE}
        secret = f"dev-only-{store_id}-webhook".encode()
        return PosSender(
            self.client,
            hub_url="http://hub",
            store_id=store_id,
            pos_type=pos_types.get(store_id, specs.PosType.GENERIC),
            secret=secret,
        )

    def charges(self, reference: str | None = None) -> list[dict[str, Any]]:
        return [
            a for a in self.cards.sim.authorizations.values() if reference in (None, a["reference"])
        ]

    def points(self, member_id: str) -> int:
        return int(self.loyalty.sim.points.get(member_id, 0))


def external_loyalty_config(tmp_path: Path, *, loyalty_url: str, orders_per_slot: int = 12) -> Path:
    """The examples with the program on an external (Paytronix-style) provider."""
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    for name in ("program.yaml", "stores.yaml", "secrets.yaml"):
        docs = [d for d in yaml.safe_load_all((EXAMPLES / name).read_text()) if d]
        for doc in docs:
            if doc["kind"] == "LoyaltyProgram":
                doc["spec"]["provider"] = {"type": "external", "endpoint": loyalty_url}
            if doc["kind"] == "StoreIntegration":
                doc["spec"]["kitchen"]["ordersPerSlot"] = orders_per_slot
        (folder / name).write_text(yaml.safe_dump_all(docs))
    return folder


@contextlib.asynccontextmanager
async def running(
    *,
    config: Path,
    ordering_db: str,
    hub_db: str,
    cms_url: str,
    cards: Simulator,
    loyalty: Simulator,
    clock: Clock | None = None,
    issuer: auth.LocalIssuer | None = None,
    start_hub: bool = True,
    **hub_settings: Any,
) -> AsyncIterator[Platform]:
    clock = clock or RunningClock()
    issuer = issuer or auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE)
    verifier = auth.Verifier.static(issuer.jwks(), issuer=ISSUER, audience=AUDIENCE)
    events = bus.InProcessBus()
    ordering = ordering_main.create_app(
        OrderingSettings(
            database_url=ordering_db,
            config_dir=config,
            menu_url=cms_url,
            issuer=ISSUER,
            audience=AUDIENCE,
        ),
        verifier=verifier,
        publisher=events,
        clock=clock,
    )

    async def service_token() -> str:
        return issuer.issue(
            subject="svc-hub",
            kind="service",
            scopes=["orders:read", "orders:write", "store:write", "loyalty:read", "loyalty:redeem"],
            now=time.time(),
        )

    settings = {
        "database_url": hub_db,
        "config_dir": config,
        "ordering_url": ORDERING,
        "cms_url": cms_url,
        "payments_url": cards.url,
        "external_loyalty_url": loyalty.url,
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "spoke_timeout_seconds": 0.5,
        "breaker_open_seconds": 0.3,
        "saga_retry_seconds": 0.2,
        "resume_every_seconds": 0.1,
        **hub_settings,
    }
    async with ordering.router.lifespan_context(ordering):
        mounts: dict[str, httpx.AsyncBaseTransport] = {ORDERING: httpx.ASGITransport(app=ordering)}

        def hub_app() -> FastAPI:
            return hub_main.create_app(
                HubSettings(**settings),
                verifier=verifier,
                service_token=service_token,
                publisher=events,
                clock=clock,
                mounts=mounts,
            )

        async with httpx.AsyncClient(
            transport=mounts[ORDERING], base_url=ORDERING
        ) as ordering_client:
            platform = Platform(
                hub_app(),
                ordering,
                _NO_CLIENT,
                ordering_client,
                issuer,
                clock,
                events,
                cards,
                loyalty,
            )
            platform.hub_app = hub_app
            if not start_hub:
                yield platform
                return
            async with serving_hub(platform):
                yield platform


_NO_CLIENT = httpx.AsyncClient(base_url="http://hub.stopped")


@contextlib.asynccontextmanager
async def on_sqlite(
    tmp_path: Path,
    *,
    cms: Simulator,
    cards: Simulator,
    loyalty: Simulator,
    http: httpx.AsyncClient,
    **options: Any,
) -> AsyncIterator[Platform]:
    """The platform on SQLite with the program on the external (Paytronix-style) simulator; the
    simulators are cleared before and after. `options` go to `running`."""
    sims = (cards, loyalty, cms)
    for sim in sims:
        await sim.clear(http)
    try:
        async with running(
            config=external_loyalty_config(tmp_path, loyalty_url=loyalty.url),
            ordering_db=f"sqlite:///{tmp_path / 'ordering.db'}",
            hub_db=f"sqlite:///{tmp_path / 'hub.db'}",
            cms_url=cms.url,
            cards=cards,
            loyalty=loyalty,
            **options,
        ) as platform:
            yield platform
    finally:
        for sim in sims:
            await sim.clear(http)


@contextlib.asynccontextmanager
async def serving_hub(platform: Platform) -> AsyncIterator[Platform]:
    """Starts a hub process (a fresh app on the same database) and points the platform at it."""
    hub = platform.hub_app()
    async with (
        hub.router.lifespan_context(hub),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=hub), base_url="http://hub") as client,
    ):
        platform.hub, platform.client = hub, client
        yield platform
        # The ordering relay delivers events to this hub's consumer in the relay's own task: let it
        # finish before the hub closes its database, as a drained process would.
        await eventually(lambda: ordering_outbox_drained(platform))


async def ordering_outbox_drained(platform: Platform) -> bool:
    async with db.transaction(platform.ordering.state.ordering.sessions) as session:
        unsent = await session.scalar(
            sa.select(sa.func.count())
            .select_from(schema.outbox)
            .where(schema.outbox.c.sent_at.is_(None))
        )
    return unsent == 0


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], *, within: float = 10.0
) -> None:
    """Waits for a condition with a deadline (no fixed sleeps)."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def sale_time(clock: Clock) -> datetime:
    return clock.now


def member(platform: Platform, points: int = 1000) -> str:
    """A new guest with `points` at the external loyalty provider."""
    m = f"m-{uuid.uuid4().hex[:10]}"
    platform.loyalty.sim.points[m] = points
    return m
