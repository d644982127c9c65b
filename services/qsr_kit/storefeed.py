"""Follow the compacted store topics: StoreIntegration changes reach a running service.

The operator publishes one record per store (key = store id, tombstone on delete). A store topic
is a table, not a stream of work: no consumer group, every partition assigned and read from the
beginning, nothing committed. `caught_up` is set once every partition reached the end offset seen
when the feed first connected, so `/readyz` can wait for the whole table; the feed then keeps
following. A bad record is logged (field named) and skipped. When Kafka is away, or a topic does
not exist yet, the feed retries with backoff and resumes from the positions it had reached.

    feed = storefeed.StoreFeed(bootstrap=b, topics=[t], upsert=stores.replace, remove=stores.remove)
    http.add_readiness_check(app, "store-feed", feed.check)
    task = asyncio.create_task(feed.run(stop))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from qsr_kit import kafka_clients
from qsr_kit.domain import specs, store_records

log = logging.getLogger(__name__)
POLL_MS = 200
STOP_GRACE_S = 2.0
ASSIGN_TIMEOUT_S = 30.0


class FeedNotReady(RuntimeError):
    pass


class StoreFeed:
    def __init__(
        self,
        *,
        bootstrap: str,
        topics: Sequence[str],
        upsert: Callable[[specs.StoreIntegrationSpec], None],
        remove: Callable[[str], None],
        backoff_s: tuple[float, float] = (0.2, 5.0),
        client_id: str = "qsr-store-feed",
        discover_every_s: float = 30.0,
    ) -> None:
        """`topics`: names, or `qsr.<namespace>.*.stores` for every program's store topic of a
        namespace (new programs' topics are found within `discover_every_s`)."""
        if not topics:
            raise ValueError("topics: give at least one store topic")
        self.bootstrap = bootstrap
        self.topics = list(topics)
        self.caught_up = asyncio.Event()
        self.applied = 0
        self.skipped = 0
        self._upsert, self._remove = upsert, remove
        self._backoff = backoff_s
        self._client_id = client_id
        self._positions: dict[TopicPartition, int] = {}
        self._targets: dict[TopicPartition, int] | None = None
        self._pattern = store_records.pattern_of(self.topics)
        self._discover_every_s = discover_every_s

    async def check(self) -> None:
        """Readiness: raises until the table has been read up to where it stood at start."""
        if not self.caught_up.is_set():
            raise FeedNotReady(f"store feed: catching up on {', '.join(self.topics)}")

    async def run(self, stop: asyncio.Event) -> None:
        """Follow until `stop` is set; reconnect with backoff when Kafka or a topic is away."""
        delay = self._backoff[0]
        while not stop.is_set():
            try:
                await self._until_stopped(stop)
                return
            except Exception as error:  # Kafka away, topic missing: not fatal, retried
                log.warning("store feed: %s; retrying in %.1fs", error, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, self._backoff[1])

    async def _until_stopped(self, stop: asyncio.Event) -> None:
        """`_follow`, cancelled if it has not ended STOP_GRACE_S after `stop` (a call that waits on
        an absent broker must not hold shutdown)."""
        follow = asyncio.create_task(self._follow(stop))
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({follow, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not follow.done():
                await asyncio.wait({follow}, timeout=STOP_GRACE_S)
                follow.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await follow
                return
            await follow
        finally:
            stopped.cancel()
            follow.cancel()

    async def _follow(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=int(self._discover_every_s * 1000),
        )
        try:
            await kafka_clients.start(consumer)
            partitions = await self._partitions(consumer)
            for partition in partitions:
                if partition in self._positions:
                    consumer.seek(partition, self._positions[partition])
                else:
                    await consumer.seek_to_beginning(partition)
            if self._targets is None:
                self._targets = await consumer.end_offsets(partitions)
            await self._note_progress(consumer)
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=POLL_MS)
                for partition, messages in batch.items():
                    done = self._positions.get(partition, 0)
                    if messages[0].offset < done:
                        # A reassignment (a new topic or partition found) reset the position:
                        # never apply an older version of a store again, go back to where we were.
                        consumer.seek(partition, done)
                        messages = [m for m in messages if m.offset >= done]
                    for message in messages:
                        self._apply(message.key, message.value, where=message)
                    if messages:
                        self._positions[partition] = messages[-1].offset + 1
                await self._note_progress(consumer)
        finally:
            await consumer.stop()

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        """Subscribe (no group: every partition is assigned here) once every named topic exists;
        with a wildcard, every matching topic now and (at each metadata refresh) later."""
        known = await consumer.topics()
        missing = [t for t in self.topics if "*" not in t and t not in known]
        if missing:
            raise FeedNotReady(f"topics {', '.join(missing)}: do not exist (yet)")
        if self._pattern is None:
            names = list(self.topics)
            consumer.subscribe(names)
        else:
            names = sorted(t for t in known if self._pattern.fullmatch(t))
            consumer.subscribe(pattern=self._pattern.pattern)
        async with asyncio.timeout(ASSIGN_TIMEOUT_S):
            while True:
                ids = {t: consumer.partitions_for_topic(t) for t in names}
                wanted = {TopicPartition(t, p) for t, found in ids.items() for p in found or ()}
                if all(ids.values()) and wanted <= consumer.assignment():
                    return sorted(wanted)
                await asyncio.sleep(POLL_MS / 1000)

    def _apply(self, key: bytes | None, value: bytes | None, *, where: object) -> None:
        try:
            change = store_records.parse(key=key, value=value)
        except store_records.BadStoreRecord as error:
            self.skipped += 1
            log.error("store feed: skipped record %s: %s", _where(where), error)
            return
        if isinstance(change, store_records.Upserted):
            self._upsert(change.spec)
        else:
            self._remove(change.store_id)
        self.applied += 1

    async def _note_progress(self, consumer: AIOKafkaConsumer) -> None:
        if self.caught_up.is_set() or self._targets is None:
            return
        # The consumer's position also moves past offsets compaction removed.
        for partition in self._targets:
            self._positions[partition] = await consumer.position(partition)
        if all(self._positions[p] >= end for p, end in self._targets.items()):
            log.info("store feed: caught up on %s", ", ".join(self.topics))
            self.caught_up.set()


def _where(message: object) -> str:
    topic = getattr(message, "topic", "?")
    return f"{topic}[{getattr(message, 'partition', '?')}]@{getattr(message, 'offset', '?')}"


def from_settings(
    *,
    bootstrap: str | None,
    topics: str,
    upsert: Callable[[specs.StoreIntegrationSpec], None],
    remove: Callable[[str], None],
    client_id: str,
) -> StoreFeed | None:
    """The feed a service's settings ask for (`store_topics`, comma-separated), or None."""
    names = store_records.topics_of(topics)
    if not names:
        return None
    if not bootstrap:
        raise ValueError("store_topics: needs kafka_bootstrap to follow the store topics")
    return StoreFeed(
        bootstrap=bootstrap, topics=names, upsert=upsert, remove=remove, client_id=client_id
    )
