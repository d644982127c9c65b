"""Our loyalty service as the backend of the loyalty contract suite: the real qsr_loyalty app on
PostgreSQL, fed by real Kafka, served on 127.0.0.1 behind the simulators' fault layer (`/_faults`
arms latency, 5xx, hangs and dropped answers in front of it, exactly as for a simulator).

The contract program is the example one (same rewards) earning a flat 10 points per dollar, no
multipliers, bonuses or pending days, so an order of `points * 10` minor units earns exactly
`points`, available at once, as the Paytronix-style provider credits them: the suite's numbers
mean the same for both backends."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml
from fastapi import FastAPI

from qsr_hub.simulators.control import control_router
from qsr_hub.simulators.faults import ASGIApp, Faults, Receive, Scope, Send
from qsr_hub.simulators.serving import Server
from qsr_kit import auth, bus, db, kafka, schema
from qsr_kit.domain import events, payloads, specs, topics
from qsr_loyalty import main as loyalty_main
from qsr_loyalty.settings import Settings
from tests.qsr_hub.platform import eventually
from tests.qsr_ordering.menus import EXAMPLES
from tests.qsr_ordering.service import AUDIENCE, ISSUER

PROGRAM = "crispin-rewards"
# Loyalty's clock: after every order the suite announces (a Wednesday noon in Chicago).
NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


def contract_config(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    for name in ("program.yaml", "stores.yaml"):
        docs = [d for d in yaml.safe_load_all((EXAMPLES / name).read_text()) if d]
        for doc in docs:
            if doc["kind"] == "LoyaltyProgram":
                doc["spec"]["pendingDays"] = 0
                earning = doc["spec"]["earning"]
                for rule in ("itemMultipliers", "categoryMultipliers", "channelMultipliers"):
                    earning[rule] = []
                earning["dayparts"] = []
                earning["bonuses"] = []
        (folder / name).write_text(yaml.safe_dump_all(docs))
    return folder


def fronted(app: ASGIApp, faults: Faults) -> ASGIApp:
    """`app` behind the fault layer, with the simulators' `/_faults` control routes."""
    control = FastAPI()
    control.include_router(control_router(faults, state=dict))
    guarded = faults.middleware(app)

    async def front(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/_"):
            await control(scope, receive, send)
        else:
            await guarded(scope, receive, send)

    return front


@dataclass
class NativeLoyaltyService:
    url: str
    faults: Faults
    issuer: auth.LocalIssuer
    dsn: str
    bootstrap: str
    orders_topic: str

    async def token(self) -> str:
        scopes = ["loyalty:read", "loyalty:redeem"]
        return self.issuer.issue(subject="svc-hub", kind="service", scopes=scopes, now=time.time())

    async def enroll(self, client: httpx.AsyncClient, member_id: str) -> None:
        headers = {
            "Authorization": f"Bearer {await self.token()}",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        enrolled = await client.post(
            f"{self.url}/v1/members", json={"member_id": member_id}, headers=headers
        )
        assert enrolled.status_code == 201, enrolled.text

    async def announce(self, payload: payloads.OrderCompleted) -> None:
        """Publishes the order on the orders topic and returns once loyalty consumed it."""
        envelope = events.envelope_of(
            payload,
            event_id=events.EventId(str(uuid.uuid4())),
            source="/qsr/contract",
            time=payload.completed_at,
        )
        record = bus.Record(
            topic=self.orders_topic,
            key=envelope.partitionkey.encode(),
            value=events.to_bytes(envelope),
            headers=tuple(events.headers_of(envelope)),
        )
        producer = kafka.producer(self.bootstrap)
        await producer.start()
        try:
            await kafka.KafkaPublisher(producer).publish([record])
        finally:
            await producer.stop()
        await eventually(lambda: self._consumed(envelope.id), within=60)

    async def _consumed(self, event_id: str) -> bool:
        engine = db.engine_from_url(self.dsn)
        try:
            async with engine.connect() as connection:
                found = await connection.scalar(
                    sa.select(sa.func.count())
                    .select_from(schema.inbox)
                    .where(schema.inbox.c.event_id == event_id)
                )
        finally:
            await engine.dispose()
        return bool(found)


def order_of(member_id: str, *, points: int, order_key: str) -> payloads.OrderCompleted:
    """A completed in-store order that earns `points` under the contract program."""
    return payloads.OrderCompleted(
        order_id=order_key, store_id="store-0001", member_id=member_id, program=PROGRAM,
        origin=payloads.Origin.APP, order_key=order_key, channel=specs.Channel.IN_STORE,
        completed_at=NOW - timedelta(hours=1), currency="USD", subtotal_minor=points * 10,
    )  # fmt: skip


def serve(tmp: Path, postgres: Any, bootstrap: str) -> Iterator[NativeLoyaltyService]:
    namespace = f"contract{uuid.uuid4().hex[:8]}"
    names = [
        topics.topic_name(namespace=namespace, program=PROGRAM, stream=stream)
        for stream in (topics.Stream.ORDERS, topics.Stream.LOYALTY)
    ]
    # A sync session fixture: no event loop runs here (as in the `kafka` fixture's own start).
    asyncio.run(kafka.create_topics(bootstrap, [t for n in names for t in topics.companions_of(n)]))
    dsn = postgres.create_database(f"loyalty_{namespace}")
    issuer = auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE)
    settings = Settings(
        database_url=dsn, config_dir=contract_config(tmp / "config"), namespace=namespace,
        kafka_bootstrap=bootstrap, issuer=ISSUER, audience=AUDIENCE, sweep_seconds=3600,
    )  # fmt: skip
    faults = Faults()
    app = loyalty_main.create_app(settings, clock=lambda: NOW, issuer=issuer)
    with Server(fronted(app, faults), name="loyalty") as server:
        yield NativeLoyaltyService(server.url, faults, issuer, dsn, bootstrap, names[0])
