"""The Kafka adapter of the bus (aiokafka 0.14 against Kafka 4.x): publisher, consumer loop, replay.

Producer: idempotent, acks=all, so a relay retry never reorders or duplicates within a session.
Consumer: auto-commit off; a partition's offset is committed only after its records' database
transactions committed, so a crash at any point means "consumed again", never "lost".

    publisher = kafka.KafkaPublisher(await kafka_clients.start(kafka.producer(bootstrap)))
    await kafka.consume(bootstrap=b, group_id="loyalty", topic_names=[t, topics.retry_of(t)],
                        process=processor.process, stop=stop, metrics=consuming.Metrics(reg))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from qsr_kit import bus, consuming, kafka_clients
from qsr_kit.domain import topics

log = logging.getLogger(__name__)
TOPIC_ALREADY_EXISTS = 36
POLL_MS = 200


def producer(bootstrap: str, *, client_id: str = "qsr") -> AIOKafkaProducer:
    """The one producer configuration: idempotent, acks=all, a short linger for batching."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
    )


class KafkaPublisher:
    """`bus.Publisher` over a producer the caller started (in the lifespan) and stops."""

    def __init__(self, kafka_producer: AIOKafkaProducer) -> None:
        self.producer = kafka_producer

    async def publish(self, records: Sequence[bus.Record]) -> None:
        acks = [
            await self.producer.send(r.topic, r.value, key=r.key, headers=list(r.headers))
            for r in records
        ]
        await asyncio.gather(*acks)


async def consume(
    *,
    bootstrap: str,
    group_id: str,
    topic_names: Iterable[str],
    stop: asyncio.Event,
    process: Callable[[bus.Record], Awaitable[object]] | None = None,
    process_batch: Callable[[Sequence[bus.Record]], Awaitable[object]] | None = None,
    metrics: consuming.Metrics | None = None,
    max_records: int = 100,
) -> None:
    """Consume until `stop` is set, record by record (`process`) or per partition batch
    (`process_batch`, e.g. `Processor.process_batch`). Raises, without committing, when they do."""
    if (process is None) == (process_batch is None):
        raise ValueError("process or process_batch: give exactly one")
    consumer = AIOKafkaConsumer(
        *topic_names,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_records,
    )
    await kafka_clients.start(consumer)
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=POLL_MS, max_records=max_records)
            for partition, messages in batch.items():
                if process_batch is not None:
                    await process_batch([_record(m) for m in messages])
                else:
                    assert process is not None
                    for message in messages:
                        await process(_record(message))
                await consumer.commit({partition: messages[-1].offset + 1})
                if metrics is not None:
                    _observe_lag(consumer, partition, messages[-1].offset + 1, group_id, metrics)
    finally:
        await consumer.stop()


async def run_consumer(*, stop: asyncio.Event, retry_s: float = 1.0, **consume_kwargs: Any) -> None:
    """`consume` for a service's lifetime: when a dependency is away (the loop raised, nothing was
    committed for the failed record), log, wait `retry_s`, and consume again from the offsets."""
    while not stop.is_set():
        try:
            await consume(stop=stop, **consume_kwargs)
        except Exception:
            log.exception(
                "consumer %s stopped; restarting in %.1fs", consume_kwargs.get("group_id"), retry_s
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=retry_s)


def _observe_lag(
    consumer: AIOKafkaConsumer,
    partition: TopicPartition,
    committed: int,
    group_id: str,
    metrics: consuming.Metrics,
) -> None:
    highwater = consumer.highwater(partition)
    if highwater is not None:
        labels = (group_id, partition.topic, str(partition.partition))
        metrics.lag.labels(*labels).set(max(0, highwater - committed))


def _record(message: Any) -> bus.Record:
    return bus.Record(
        topic=message.topic,
        key=message.key,
        value=message.value,
        headers=tuple(message.headers or ()),
        partition=message.partition,
        offset=message.offset,
    )


async def replay(
    *,
    bootstrap: str,
    dlq: str,
    group_id: str = "qsr-replay",
    limit: int | None = None,
) -> int:
    """Move records from a DLQ back to its original topic (same key, value and original headers).

    Reads up to the DLQ's end as of the start (bounded), commits what it re-published; the event
    ids are unchanged, so consumers still process each event at most once.
    """
    if topics.kind_of(topics.Topic(dlq)) is not topics.Kind.DLQ:
        raise ValueError(f"topic: {dlq!r} is not a .dlq topic")
    target = topics.original_of(topics.Topic(dlq))
    consumer = AIOKafkaConsumer(
        dlq,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    moved = 0
    async with (
        kafka_clients.started(consumer),
        kafka_clients.started(producer(bootstrap, client_id="qsr-replay")) as kafka_producer,
    ):
        partitions = await _assigned(consumer)
        ends = await consumer.end_offsets(partitions)
        publisher = KafkaPublisher(kafka_producer)
        for partition in partitions:
            while (await consumer.position(partition)) < ends[partition]:
                if limit is not None and moved >= limit:
                    return moved
                batch = await consumer.getmany(partition, timeout_ms=POLL_MS, max_records=100)
                messages = [m for m in batch.get(partition, []) if m.offset < ends[partition]]
                if limit is not None:
                    messages = messages[: limit - moved]
                if not messages:
                    continue
                records = [_record(m) for m in messages]
                await publisher.publish(
                    [
                        bus.Record(target, r.key, r.value, consuming.original_headers(r))
                        for r in records
                    ]
                )
                await consumer.commit({partition: messages[-1].offset + 1})
                consumer.seek(partition, messages[-1].offset + 1)
                moved += len(messages)
        return moved


async def _assigned(consumer: AIOKafkaConsumer, *, timeout_s: float = 30.0) -> list[TopicPartition]:
    """Wait for the group to assign partitions (a fresh group needs one join round)."""
    async with asyncio.timeout(timeout_s):
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=POLL_MS, max_records=1)
            for partition in consumer.assignment():
                committed = await consumer.committed(partition)
                consumer.seek(partition, committed or 0)
    return sorted(consumer.assignment(), key=lambda p: p.partition)


async def create_topics(
    bootstrap: str, names: Iterable[str], *, partitions: int = 3, replication: int = 1
) -> None:
    """Create topics that do not exist yet (tests, embedded tooling; the operator owns them in a
    cluster). Raises on any error other than "already exists"."""
    async with kafka_clients.started(AIOKafkaAdminClient(bootstrap_servers=bootstrap)) as admin:
        response = await admin.create_topics(
            [NewTopic(name, partitions, replication) for name in names]
        )
        for topic_name, code, *_ in response.topic_errors:
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"topic {topic_name!r}: create failed with error code {code}")
