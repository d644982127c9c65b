"""The platform around a hub run as real processes (`HubProcess`) for crash tests: identity
(client-credentials tokens, JWKS), ordering on PostgreSQL + Kafka and the simulators, all on
127.0.0.1 HTTP in this process; the hub's settings as the `QSR_HUB_*` environment."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from pydantic import SecretStr

from qsr_hub.domain import saga
from qsr_hub.simulators.serving import Server
from qsr_hub.tables import sagas
from qsr_identity import main as identity_main
from qsr_identity.settings import IdentitySettings, SeedClient
from qsr_kit import db, kafka
from qsr_kit.domain import topics
from qsr_ordering import main as ordering_main
from qsr_ordering.settings import OrderingSettings
from tests.qsr_hub.hub_process import HubProcess, free_port
from tests.qsr_hub.platform import RunningClock, external_loyalty_config
from tests.qsr_hub.sims import Simulator

AUDIENCE = "qsr-platform"
HUB_SCOPES = ("orders:read", "orders:write", "store:write", "loyalty:read", "loyalty:redeem")
DRIVER_SCOPES = ("checkout", "orders:read", "orders:write", "store:write", "store:read")


@dataclasses.dataclass
class Stack:
    env: dict[str, str]
    tmp: Path
    ordering_url: str
    identity_url: str
    driver_secret: str
    hub_db: str
    cards: Simulator
    loyalty: Simulator
    http: httpx.AsyncClient

    async def headers(self) -> dict[str, str]:
        answer = await self.http.post(
            f"{self.identity_url}/oauth2/token",
            data={"grant_type": "client_credentials", "scope": " ".join(DRIVER_SCOPES)},
            auth=("driver", self.driver_secret),
        )
        assert answer.status_code == 200, answer.text
        return {
            "Authorization": f"Bearer {answer.json()['access_token']}",
            "Idempotency-Key": str(uuid.uuid4()),
        }

    def hub(self, name: str) -> HubProcess:
        return HubProcess(self.env, log=self.tmp / f"{name}.log")

    async def saga(self) -> saga.Saga | None:
        engine = db.engine_from_url(self.hub_db)
        try:
            async with db.transaction(db.sessionmaker_of(engine)) as session:
                state = await session.scalar(sa.select(sagas.c.state))
        finally:
            await engine.dispose()
        return saga.Saga.model_validate_json(state) if state else None

    async def order(self, order_id: str) -> httpx.Response:
        return await self.http.get(
            f"{self.ordering_url}/v1/orders/{order_id}", headers=await self.headers()
        )


@contextlib.asynccontextmanager
async def crash_stack(
    tmp: Path,
    postgres: Any,
    bootstrap: str,
    sims: dict[str, Simulator],
    http: httpx.AsyncClient,
) -> AsyncIterator[Stack]:
    run = uuid.uuid4().hex[:8]
    namespace = f"crash{run}"
    orders = topics.topic_name(namespace=namespace, program="crispin-rewards", stream="orders")
    await kafka.create_topics(bootstrap, topics.companions_of(orders), partitions=1)
    dbs = {name: postgres.create_database(f"{name}_{run}") for name in ("ordering", "hub")}
    config = external_loyalty_config(tmp, loyalty_url=sims["loyalty"].url, orders_per_slot=1)
    hub_secret, driver_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    jwks = f"{issuer}/.well-known/jwks.json"
    identity = identity_main.create_app(
        IdentitySettings(
            issuer=issuer,
            audience=AUDIENCE,
            database_url=f"sqlite:///{tmp / 'identity.db'}",
            key_publish_ahead_seconds=0,
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            clients=(
                SeedClient(client_id="qsr-hub", secret=SecretStr(hub_secret), scopes=HUB_SCOPES),
                SeedClient(
                    client_id="driver", secret=SecretStr(driver_secret), scopes=DRIVER_SCOPES
                ),
            ),
        )
    )
    ordering = ordering_main.create_app(
        OrderingSettings(
            database_url=dbs["ordering"], config_dir=config, menu_url=sims["cms"].url,
            namespace=namespace, issuer=issuer, audience=AUDIENCE, jwks_url=jwks,
            kafka_bootstrap=bootstrap,
        ),
        clock=RunningClock(),
    )  # fmt: skip
    with (
        Server(identity, port=port, name="identity"),
        Server(ordering, name="ordering") as ordering_server,
    ):
        env = {
            "QSR_HUB_DATABASE_URL": dbs["hub"],
            "QSR_HUB_CONFIG_DIR": str(config),
            "QSR_HUB_NAMESPACE": namespace,
            "QSR_HUB_ORDERING_URL": ordering_server.url,
            "QSR_HUB_CMS_URL": sims["cms"].url,
            "QSR_HUB_PAYMENTS_URL": sims["cards"].url,
            "QSR_HUB_EXTERNAL_LOYALTY_URL": sims["loyalty"].url,
            "QSR_HUB_ISSUER": issuer,
            "QSR_HUB_AUDIENCE": AUDIENCE,
            "QSR_HUB_JWKS_URL": jwks,
            "QSR_HUB_TOKEN_URL": f"{issuer}/oauth2/token",
            "QSR_HUB_CLIENT_ID": "qsr-hub",
            "QSR_HUB_CLIENT_SECRET": hub_secret,
            "QSR_HUB_KAFKA_BOOTSTRAP": bootstrap,
            # Long enough that a stalled call is still in flight when the hub is killed.
            "QSR_HUB_SPOKE_TIMEOUT_SECONDS": "20",
            "QSR_HUB_SAGA_LEASE_SECONDS": "2",
            "QSR_HUB_SAGA_RETRY_SECONDS": "0.3",
            "QSR_HUB_RESUME_EVERY_SECONDS": "0.2",
            "OTEL_TRACES_EXPORTER": "none",
        }
        yield Stack(
            env, tmp, ordering_server.url, issuer, driver_secret, dbs["hub"],
            sims["cards"], sims["loyalty"], http,
        )  # fmt: skip
