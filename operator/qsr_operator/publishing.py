"""Publishing store configuration to the program's compacted store topic (tombstone on delete).

Running services consume that topic, so a new or changed store reaches them without a restart and
without touching any Deployment. Called by the StoreIntegration reconciler.
"""

from __future__ import annotations

import dataclasses

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from qsr_operator import metrics
from qsr_operator.topics import KafkaUnavailable

SEND_TIMEOUT_MS = 10_000


@dataclasses.dataclass
class StorePublisher:
    bootstrap: str
    producer: AIOKafkaProducer | None = None
    closed: bool = False

    async def _producer(self) -> AIOKafkaProducer:
        if self.closed:
            raise KafkaUnavailable("the operator is stopping")
        if self.producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                acks="all",
                enable_idempotence=True,
                request_timeout_ms=SEND_TIMEOUT_MS,
            )
            try:
                await producer.start()
            except (KafkaError, OSError) as exc:
                await producer.stop()
                raise KafkaUnavailable(f"cannot reach Kafka at {self.bootstrap}: {exc}") from exc
            self.producer = producer
        return self.producer

    async def close(self, *, final: bool = False) -> None:
        self.closed = self.closed or final
        if self.producer is not None:
            await self.producer.stop()
            self.producer = None

    async def send(self, topic: str, *, key: bytes, value: bytes | None) -> None:
        """Write one record and wait for the broker's ack; `value=None` is a tombstone."""
        producer = await self._producer()
        try:
            await producer.send_and_wait(topic, value=value, key=key)
        except (KafkaError, OSError) as exc:
            await self.close()
            raise KafkaUnavailable(f"publishing to {topic}: {exc!r}") from exc
        metrics.STORE_RECORDS.labels(kind="tombstone" if value is None else "config").inc()
