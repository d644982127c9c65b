"""A reference service wired with `backbone.started`: an idempotent HTTP mutation writes an event
to the outbox; another service's consumer applies it exactly once. Embedded (SQLite, in-process
bus) and cluster (PostgreSQL, Kafka) run the same code; only the arguments differ."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qsr_devstack import testing
from qsr_kit import backbone, bus, db, http, idempotency, kafka, outbox
from qsr_kit.domain import events, payloads, specs, topics

from . import pipeline_support as support
from .test_kit_events import NOW

# A Kafka group join on a loaded 2-core machine can take tens of seconds (as in test_kit_pipeline).
DEADLINE_S = 60


class CompleteIn(BaseModel):
    store_id: str
    member_id: str
    subtotal_minor: int


async def caller() -> str:
    return "service:pos-bridge"


Idem = Annotated[idempotency.Guard, Depends(idempotency.guard(caller))]


def ordering_app(
    database_url: str,
    topic: str,
    *,
    kafka_bootstrap: str | None,
    in_process: bus.InProcessBus | None,
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with backbone.started(
            database_url,
            kafka_bootstrap=kafka_bootstrap,
            in_process=in_process,
            registry=http.registry_of(app),
        ) as bb:
            app.state.backbone = bb
            idempotency.attach(app, bb.idempotency)
            http.add_readiness_check(app, "db", lambda: db.ping(bb.engine))
            yield

    app = http.service_app(title="ordering", lifespan=lifespan)

    async def complete(session: AsyncSession, order_id: str, body: CompleteIn) -> dict[str, str]:
        payload = payloads.OrderCompleted(
            order_id=order_id, store_id=body.store_id, member_id=body.member_id,
            program="rewards", origin=payloads.Origin.APP, order_key=f"{body.store_id}:{order_id}",
            channel=specs.Channel.KIOSK, completed_at=NOW, currency="USD",
            subtotal_minor=body.subtotal_minor,
        )  # fmt: skip
        event_id = events.EventId(str(uuid.uuid4()))
        env = events.envelope_of(payload, event_id=event_id, source="/qsr/ordering", time=NOW)
        await outbox.add(session, env, topic=topic)
        return {"order_id": order_id, "event_id": event_id}

    @app.post("/v1/orders/{order_id}/complete", status_code=202)
    async def complete_route(
        order_id: str, body: CompleteIn, idem: Idem, request: Request
    ) -> Response:
        response = await idem.run(lambda s: complete(s, order_id, body), status_code=202)
        request.app.state.backbone.relay.notify()
        return response

    return app


async def effects_when(engine: AsyncEngine, expected: int) -> dict[str, int]:
    """Effect counts once `expected` events have effects (or at the deadline)."""
    deadline = asyncio.get_running_loop().time() + DEADLINE_S
    counts = await support.effect_counts(engine)
    while len(counts) < expected and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)  # polling a condition, not waiting for a race to settle
        counts = await support.effect_counts(engine)
    return counts


async def exercise(
    ordering_url: str,
    loyalty_url: str,
    topic: str,
    *,
    kafka_bootstrap: str | None = None,
    in_process: bus.InProcessBus | None = None,
) -> tuple[list[int], dict[str, int]]:
    loyalty_engine = db.engine_from_url(loyalty_url)
    await support.prepare(loyalty_engine)
    consumers = [
        backbone.Consumer(group="loyalty", topics=[topic], handler=support.Switch().handle)
    ]
    app = ordering_app(ordering_url, topic, kafka_bootstrap=kafka_bootstrap, in_process=in_process)
    try:
        async with (
            backbone.started(
                loyalty_url, kafka_bootstrap=kafka_bootstrap, in_process=in_process,
                consumers=consumers,
            ),
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
        ):  # fmt: skip
            body = {"store_id": "store-1", "member_id": "mem-1", "subtotal_minor": 1250}
            statuses = []
            for order, key in (("o-1", "k-1"), ("o-1", "k-1"), ("o-2", "k-2")):
                response = await c.post(
                    f"/v1/orders/{order}/complete", json=body, headers={"Idempotency-Key": key}
                )
                statuses.append(response.status_code)
            assert (await c.get("/readyz")).status_code == 200
            counts = await effects_when(loyalty_engine, 2)
    finally:
        await loyalty_engine.dispose()
    return statuses, counts


async def test_embedded_mode_applies_each_completed_order_once(tmp_path: Path) -> None:
    topic = topics.topic_name(namespace="embedded", program="rewards", stream="orders")
    statuses, counts = await exercise(
        f"sqlite:///{tmp_path / 'ordering.db'}",
        f"sqlite:///{tmp_path / 'loyalty.db'}",
        topic,
        in_process=bus.InProcessBus(),
    )
    assert statuses == [202, 202, 202]
    assert sorted(counts.values()) == [1, 1]


@pytest.mark.kafka
@pytest.mark.postgres
async def test_cluster_mode_applies_each_completed_order_once(
    kafka: testing.Kafka, postgres: testing.Postgres
) -> None:
    name = topics.topic_name(namespace=f"t{uuid.uuid4().hex[:10]}", program="p", stream="orders")
    await kafka_io.create_topics(kafka.bootstrap, topics.companions_of(name))
    suffix = uuid.uuid4().hex[:10]
    statuses, counts = await exercise(
        postgres.create_database(f"ordering_{suffix}"),
        postgres.create_database(f"loyalty_{suffix}"),
        name,
        kafka_bootstrap=kafka.bootstrap,
    )
    assert statuses == [202, 202, 202]
    assert sorted(counts.values()) == [1, 1]


kafka_io = kafka
