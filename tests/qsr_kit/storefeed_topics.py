"""A store topic on the real Kafka, written exactly as the operator writes it (its own function)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from qsr_kit import kafka as kafka_io
from qsr_kit.domain import specs, topics
from qsr_operator.domain.stores import store_record

NAMESPACE = "brand-a"


def new_topic_name() -> str:
    """A store topic name of the operator's shape, unique to the test."""
    program = f"p{uuid.uuid4().hex[:10]}"
    return topics.topic_name(namespace=NAMESPACE, program=program, stream=topics.Stream.STORES)


@dataclass
class StoreTopic:
    name: str
    producer: AIOKafkaProducer

    async def publish(self, spec: specs.StoreIntegrationSpec) -> None:
        record = store_record(namespace=NAMESPACE, name=spec.store_id, spec=spec)
        await self.producer.send_and_wait(self.name, record.value, key=record.key)

    async def delete(self, store_id: str) -> None:
        await self.producer.send_and_wait(self.name, None, key=store_id.encode())

    async def publish_raw(self, key: bytes | None, value: bytes | None) -> None:
        await self.producer.send_and_wait(self.name, value, key=key)


@asynccontextmanager
async def store_topic(
    bootstrap: str, *, name: str | None = None, create: bool = True, partitions: int = 3
) -> AsyncIterator[StoreTopic]:
    topic = name or new_topic_name()
    if create:
        await kafka_io.create_topics(bootstrap, [topic], partitions=partitions)
    producer = kafka_io.producer(bootstrap, client_id="test-operator")
    await producer.start()
    try:
        yield StoreTopic(topic, producer)
    finally:
        await producer.stop()


async def until(condition: Callable[[], bool], *, what: str, within_s: float = 20.0) -> None:
    """Wait for `condition` with a deadline (polled; fails naming what never happened)."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"within {within_s}s: {what}")
        await asyncio.sleep(0.02)
