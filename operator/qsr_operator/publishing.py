"""Publishing store configuration to the program's compacted store topic (tombstone on delete).

Running services consume that topic, so a new or changed store reaches them without a restart and
without touching any Deployment. Called by the StoreIntegration reconciler.

One producer per operator: a lock makes concurrent first sends share the one being started, and
`close(final=True)` at shutdown stops it (a producer started after that is stopped at once).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from qsr_kit import kafka_clients
from qsr_operator import metrics
from qsr_operator.inflight import InFlight
from qsr_operator.topics import KafkaUnavailable

SEND_TIMEOUT_MS = 10_000
# Records from concurrent reconciles within this window share one produce request: fewer requests
# for the operator's client and the broker when stores arrive in a burst, ~10 ms more per record.
LINGER_MS = 10
READ_TIMEOUT_SECONDS = 30.0  # reading a store topic back from the start


@dataclasses.dataclass
class StorePublisher:
    bootstrap: str
    producer: AIOKafkaProducer | None = None
    closed: bool = False
    starting: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    in_flight: InFlight[AIOKafkaProducer] = dataclasses.field(
        default_factory=lambda: InFlight(_stop)
    )

    async def _producer(self) -> AIOKafkaProducer:
        async with self.starting:
            if self.closed:
                raise KafkaUnavailable("the operator is stopping")
            if self.producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap,
                    acks="all",
                    enable_idempotence=True,
                    request_timeout_ms=SEND_TIMEOUT_MS,
                    linger_ms=LINGER_MS,
                )
                metrics.KAFKA_CLIENTS_STARTED.labels(kind="producer").inc()
                try:
                    await kafka_clients.start(producer)
                except (KafkaError, OSError) as exc:
                    await _stop(producer)
                    raise KafkaUnavailable(
                        f"cannot reach Kafka at {self.bootstrap}: {exc}"
                    ) from exc
                except BaseException:  # cancelled (shutdown): `start` has stopped it
                    await _stop(producer)
                    raise
                if self.closed:  # shutdown began while it was starting
                    await _stop(producer)
                    raise KafkaUnavailable("the operator is stopping")
                self.producer = producer
            return self.producer

    async def close(self, *, final: bool = False, failed: AIOKafkaProducer | None = None) -> None:
        """Stop the producer; with `failed`, only if that one is still the current producer."""
        self.closed = self.closed or final
        if self.producer is None or (failed is not None and self.producer is not failed):
            return
        producer, self.producer = self.producer, None  # detach first: no await in between
        await self.in_flight.retire(producer)  # stopped by its last send in flight, if any

    async def send(self, topic: str, *, key: bytes, value: bytes | None) -> None:
        """Write one record and wait for the broker's ack; `value=None` is a tombstone."""
        producer = await self._producer()
        async with self.in_flight.using(producer):  # no await between getting it and counting it
            try:
                await producer.send_and_wait(topic, value=value, key=key)
            except (KafkaError, OSError) as exc:
                await self.close(failed=producer)
                raise KafkaUnavailable(f"publishing to {topic}: {exc!r}") from exc
        metrics.STORE_RECORDS.labels(kind="tombstone" if value is None else "config").inc()

    async def send_all(self, topic: str, records: list[tuple[bytes, bytes | None]]) -> None:
        """Write several records at once (they share produce requests); the first error is raised
        once every send has settled."""
        sends = (self.send(topic, key=key, value=value) for key, value in records)
        for result in await asyncio.gather(*sends, return_exceptions=True):
            if isinstance(result, BaseException):
                raise result

    async def live_keys(self, topic: str, *, partitions: int) -> set[bytes]:
        """The keys whose latest record on `topic` is not a tombstone (read from the start)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            request_timeout_ms=SEND_TIMEOUT_MS,
        )
        metrics.KAFKA_CLIENTS_STARTED.labels(kind="consumer").inc()
        try:
            await kafka_clients.start(consumer)
            return await _read_live_keys(consumer, topic, partitions)
        except (KafkaError, OSError) as exc:
            raise KafkaUnavailable(f"reading {topic}: {exc!r}") from exc
        finally:
            try:
                await consumer.stop()
            finally:
                metrics.KAFKA_CLIENTS_STOPPED.labels(kind="consumer").inc()


async def _read_live_keys(consumer: AIOKafkaConsumer, topic: str, count: int) -> set[bytes]:
    partitions = [TopicPartition(topic, n) for n in range(count)]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    ends = await consumer.end_offsets(partitions)
    live: dict[bytes, bool] = {}
    deadline = time.monotonic() + READ_TIMEOUT_SECONDS
    while [p for p in partitions if await consumer.position(p) < ends[p]]:
        if time.monotonic() > deadline:
            raise KafkaUnavailable(f"reading {topic}: not at its end after {READ_TIMEOUT_SECONDS}s")
        batches = await consumer.getmany(*partitions, timeout_ms=1000)
        for records in batches.values():
            for record in records:
                if record.key is not None:
                    live[record.key] = record.value is not None
    return {key for key, alive in live.items() if alive}


async def _stop(producer: AIOKafkaProducer) -> None:
    try:
        await producer.stop()
    finally:
        metrics.KAFKA_CLIENTS_STOPPED.labels(kind="producer").inc()
