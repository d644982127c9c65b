"""The event bus port: records, the `Publisher` protocol, and the embedded in-process bus.

The outbox relay and the consumers talk only to a `Publisher`; Kafka (`qsr_kit.kafka`) and the
in-process bus (embedded mode) are its two adapters, so the same code path runs in both modes.

    bus = bus.InProcessBus()
    bus.subscribe(topic, processor.process)        # consumers: a Processor per group
    relay = outbox.Relay(sessions, bus)            # the relay publishes to the bus
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from qsr_kit.domain import topics

log = logging.getLogger(__name__)

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Record:
    """One message: what is published, and (with partition/offset) what is consumed."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers = ()
    partition: int = 0
    offset: int = -1

    def header(self, name: str) -> bytes | None:
        """The last value of a header (later headers override earlier ones), or None."""
        found = None
        for key, value in self.headers:
            if key == name:
                found = value
        return found


class Publisher(Protocol):
    async def publish(self, records: Sequence[Record]) -> None:
        """Returns when every record is durably accepted, in order per key; raises otherwise."""
        ...


Subscriber = Callable[[Record], Awaitable[object]]


@dataclass
class InProcessBus:
    """Embedded mode: `publish` returns after every subscriber processed the record (an "ack").

    Retry topics are delivered by a background task (the consumer itself waits out the delay); DLQ
    records are kept in `dead` and logged: embedded retries and dead letters die with the process.
    """

    subscribers: dict[str, list[Subscriber]] = field(default_factory=dict)
    dead: list[Record] = field(default_factory=list)
    _offsets: dict[str, int] = field(default_factory=dict)
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        self.subscribers.setdefault(topic, []).append(subscriber)

    async def publish(self, records: Sequence[Record]) -> None:
        for record in records:
            offset = self._offsets.get(record.topic, 0)
            self._offsets[record.topic] = offset + 1
            delivered = Record(record.topic, record.key, record.value, record.headers, 0, offset)
            kind = topics.kind_of(topics.Topic(record.topic))
            if kind is topics.Kind.DLQ:
                log.error("dead letter on %s: %r", record.topic, dict(record.headers))
                self.dead.append(delivered)
            elif kind is topics.Kind.RETRY:
                task = asyncio.create_task(self._deliver(delivered, retry=True))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
            await self._deliver(delivered)

    async def drain(self) -> None:
        """Wait for delayed (retry) deliveries; tests and shutdown use it."""
        while self._pending:
            await asyncio.gather(*list(self._pending))

    async def _deliver(self, record: Record, *, retry: bool = False) -> None:
        kind = topics.kind_of(topics.Topic(record.topic))
        if kind is topics.Kind.RETRY and not retry:
            return  # delivered by a background task: the publisher must not wait for it
        for subscriber in self.subscribers.get(record.topic, []):
            await subscriber(record)
