"""A service's event backbone in one lifespan block: database (migrated), publisher, outbox relay,
idempotency store and consumers; Kafka when a bootstrap is given, else the in-process bus.

    consumers = [backbone.Consumer(group="loyalty", topics=[orders], handler=accrue)]
    async with backbone.started(settings.database_url, kafka_bootstrap=settings.kafka_bootstrap,
                                in_process=shared_bus, consumers=consumers, ...) as bb:
        app.state.backbone = bb   # bb.sessions, bb.relay.notify(), bb.idempotency
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import prometheus_client
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from qsr_kit import bus, consuming, db, idempotency, kafka, kafka_clients, outbox
from qsr_kit.domain import events, payloads, topics


@dataclass(frozen=True)
class Consumer:
    """One consumer group: its main topics (their .retry companions are consumed too)."""

    group: str
    topics: Sequence[str]
    handler: consuming.Handler
    registry: events.Registry = payloads.REGISTRY
    policy: consuming.RetryPolicy = field(default_factory=consuming.RetryPolicy)
    batched: bool = False  # Kafka: one transaction per partition batch (Processor.process_batch)


@dataclass
class Backbone:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    publisher: bus.Publisher
    relay: outbox.Relay
    idempotency: idempotency.Store


@contextlib.asynccontextmanager
async def started(
    database_url: str,
    *,
    kafka_bootstrap: str | None = None,
    in_process: bus.InProcessBus | None = None,
    consumers: Sequence[Consumer] = (),
    migrations: Sequence[Path] = (),
    metadata: Sequence[sa.MetaData] = (),
    registry: prometheus_client.CollectorRegistry | None = None,
    client_id: str = "qsr",
) -> AsyncIterator[Backbone]:
    """Start everything, yield, then stop it all in reverse order (tasks finish their record)."""
    if (kafka_bootstrap is None) == (in_process is None):
        raise ValueError("kafka_bootstrap or in_process: give exactly one")
    engine = db.engine_from_url(database_url)
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    producer = None
    try:
        await db.migrate(engine, version_locations=migrations, target_metadata=metadata)
        if kafka_bootstrap is not None:
            producer = kafka.producer(kafka_bootstrap, client_id=client_id)
            await kafka_clients.start(producer)
            publisher: bus.Publisher = kafka.KafkaPublisher(producer)
        else:
            assert in_process is not None
            publisher = in_process
        sessions = db.sessionmaker_of(engine)
        metrics = consuming.Metrics(registry) if registry is not None else None
        for consumer in consumers:
            processor = consuming.Processor(
                group=consumer.group,
                sessions=sessions,
                handler=consumer.handler,
                registry=consumer.registry,
                publisher=publisher,
                policy=consumer.policy,
                metrics=metrics,
            )
            mains = list(consumer.topics)
            retries = [topics.retry_of(topics.Topic(t)) for t in mains]
            if in_process is not None:
                for name in (*mains, *retries):
                    in_process.subscribe(name, processor.process)
                continue
            assert kafka_bootstrap is not None
            # Main and retry topics in separate groups: a waiting retry never blocks the stream.
            handling: dict[str, Any] = (
                {"process_batch": processor.process_batch}
                if consumer.batched
                else {"process": processor.process}
            )
            tasks.append(asyncio.create_task(kafka.run_consumer(
                stop=stop, bootstrap=kafka_bootstrap, group_id=consumer.group,
                topic_names=mains, metrics=metrics, **handling,
            )))  # fmt: skip
            tasks.append(asyncio.create_task(kafka.run_consumer(
                stop=stop, bootstrap=kafka_bootstrap, group_id=f"{consumer.group}.retry",
                topic_names=retries, metrics=metrics, process=processor.process,
            )))  # fmt: skip
        relay = outbox.Relay(engine, publisher, registry=registry)
        tasks.append(asyncio.create_task(relay.run(stop)))
        yield Backbone(engine, sessions, publisher, relay, idempotency.Store(sessions))
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if producer is not None:
            await producer.stop()
        await engine.dispose()
