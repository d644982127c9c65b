"""Idempotent consumers: the inbox row and the handler's effects commit in one transaction.

A failing handler is retried in-process with backoff, then re-published to `.retry` (processed after
a delay), then dead-lettered to `.dlq` with the error and the original headers. An event that does
not parse goes to the DLQ at once. Used by every service's `consumers.py`, in both modes:

    processor = consuming.Processor(group="loyalty", sessions=sessions, handler=accrue,
                                    registry=payloads.REGISTRY, publisher=publisher)
    await kafka.consume(bootstrap=..., group_id="loyalty", topics=[...], process=processor.process)
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import prometheus_client
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from qsr_kit import bus, db, inbox, schema
from qsr_kit.domain import events, topics

log = logging.getLogger(__name__)

ERROR = "qsr-error"  # why the event failed: "<ExceptionType>: <message>" or "parse: <field>: ..."
RETRIES = "qsr-retries"  # rounds through the .retry topic so far
NOT_BEFORE = "qsr-not-before"  # epoch milliseconds: a .retry record waits until then
ORIGIN = "qsr-origin"  # "<topic>/<partition>/<offset>" where the event was first consumed
GROUP = "qsr-group"  # the consumer group that gave up
OWN_HEADERS = frozenset({ERROR, RETRIES, NOT_BEFORE, ORIGIN, GROUP})
_MAX_ERROR = 1000

Handler = Callable[[AsyncSession, events.Envelope, events.Payload], Awaitable[None]]
# Optional: the fresh (not yet seen) events of one transaction at once, in order, for set-based SQL.
BatchHandler = Callable[
    [AsyncSession, Sequence[tuple[events.Envelope, events.Payload]]], Awaitable[None]
]
# Optional, PostgreSQL: the same on the raw asyncpg connection inside the transaction (`inbox`);
# raises NeedsSession when the events need the session path (rolled back, run there instead).
DriverHandler = Callable[[Any, Sequence[tuple[events.Envelope, events.Payload]]], Awaitable[None]]
Parsed = tuple[events.Envelope, events.Payload] | events.EventParseError


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help (the event is wrong): straight to the DLQ."""


class NeedsSession(Exception):
    """Raised by a driver handler: these events need the session path (e.g. a rare case written
    with SQLAlchemy); the driver transaction is rolled back and the session path runs them."""


class Outcome(enum.StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    RETRY = "retry"
    DEAD = "dead"


# The database or broker is away: not the event's fault, so neither retry topic nor DLQ; the
# caller stops without committing the offset and the record is consumed again later.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    OSError,
)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # in-process tries per delivery
    backoff_s: float = 0.05  # before the 2nd try, doubled each time
    retry_rounds: int = 1  # rounds via .retry before the DLQ
    retry_delay_s: float = 5.0  # how long a .retry record waits before it is processed


class Metrics:
    """Consumer metrics on a service's registry: outcomes and lag per partition."""

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        self.events = prometheus_client.Counter(
            "qsr_consumer_events",
            "Events consumed, by outcome",
            ("group", "topic", "outcome"),
            registry=registry,
        )
        self.lag = prometheus_client.Gauge(
            "qsr_consumer_lag",
            "Records behind the partition's high watermark",
            ("group", "topic", "partition"),
            registry=registry,
        )


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Processor:
    """One consumer group's handling of one record; raises only when a dependency is unavailable."""

    def __init__(
        self,
        *,
        group: str,
        sessions: async_sessionmaker[AsyncSession],
        handler: Handler,
        registry: events.Registry,
        publisher: bus.Publisher,
        policy: RetryPolicy | None = None,
        metrics: Metrics | None = None,
        now_ms: Callable[[], int] = _wall_ms,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        batch_handler: BatchHandler | None = None,
        driver_handler: DriverHandler | None = None,
    ) -> None:
        self.group, self.sessions, self.handler = group, sessions, handler
        self.batch_handler, self.driver_handler = batch_handler, driver_handler
        bind = sessions.kw.get("bind")
        dsn = inbox.dsn_of(bind) if isinstance(bind, AsyncEngine) else None
        self.direct = inbox.Inbox(dsn, group=group) if dsn and driver_handler else None
        self.registry, self.publisher = registry, publisher
        self.policy = policy or RetryPolicy()
        self.metrics, self.now_ms, self.sleep = metrics, now_ms, sleep

    async def process(self, record: bus.Record) -> Outcome:
        outcome = await self._process(record)
        if self.metrics is not None:
            self.metrics.events.labels(self.group, record.topic, outcome.value).inc()
        return outcome

    async def aclose(self) -> None:
        """Close the driver path's connection, if any (the service's lifespan, at shutdown)."""
        if self.direct is not None:
            await self.direct.aclose()

    def parse(self, record: bus.Record) -> Parsed:
        """The record's envelope and typed payload, or why it does not parse."""
        try:
            return self.registry.parse(record.value)
        except events.EventParseError as exc:
            return exc

    async def process_each(self, records: Sequence[bus.Record]) -> list[Outcome]:
        """`process` for each record in order, one transaction each, while the records after
        the current one are parsed in the gaps: a task parses ahead and yields after each record,
        so it runs while the current transaction waits on the database (one transaction at a
        time, as with `process`; the caller commits the offsets after the last one)."""
        parsed: list[Parsed] = []
        ready = asyncio.Event()

        async def parse_ahead() -> None:
            for record in records:
                parsed.append(self.parse(record))
                ready.set()
                await asyncio.sleep(0)

        ahead = asyncio.create_task(parse_ahead())
        outcomes: list[Outcome] = []
        try:
            for i, record in enumerate(records):
                while len(parsed) <= i:
                    ready.clear()
                    await ready.wait()
                outcomes.append(await self._counted(record, parsed[i]))
        finally:
            ahead.cancel()
        return outcomes

    async def _counted(self, record: bus.Record, parsed: Parsed) -> Outcome:
        outcome = await self._handle(record, parsed)
        if self.metrics is not None:
            self.metrics.events.labels(self.group, record.topic, outcome.value).inc()
        return outcome

    async def _process(self, record: bus.Record) -> Outcome:
        return await self._handle(record, self.parse(record))

    async def _handle(self, record: bus.Record, parsed: Parsed) -> Outcome:
        if isinstance(parsed, events.EventParseError):
            await self._dead(record, f"parse: {parsed}")
            return Outcome.DEAD
        envelope, payload = parsed
        await self._wait_until_due(record)
        error: BaseException | None = None
        for attempt in range(self.policy.attempts):
            if attempt:
                await self.sleep(self.policy.backoff_s * 2 ** (attempt - 1))
            try:
                return await self._apply(record, envelope, payload)
            except UNAVAILABLE:
                raise
            except PermanentError as exc:
                await self._dead(record, _describe(exc))
                return Outcome.DEAD
            except Exception as exc:  # a handler bug or a transient conflict: retry it
                log.warning(
                    "group %s: %s failed (try %d): %s", self.group, envelope.id, attempt, exc
                )
                error = exc
        assert error is not None
        rounds = int(record.header(RETRIES) or b"0")
        if rounds < self.policy.retry_rounds:
            await self._to_retry(record, _describe(error), rounds + 1)
            return Outcome.RETRY
        await self._dead(record, _describe(error))
        return Outcome.DEAD

    async def process_batch(self, records: Sequence[bus.Record]) -> list[Outcome]:
        """Many records in ONE transaction (inbox rows + effects), for throughput. If any record
        does not parse, is a retry, or makes the batch fail, the batch falls back to `process`
        one record at a time, so failure handling is exactly the single-record path."""
        try:
            typed = [(r, *self.registry.parse(r.value)) for r in records]
        except events.EventParseError:
            return [await self.process(r) for r in records]
        if any(r.header(NOT_BEFORE) is not None for r in records) or not typed:
            return [await self.process(r) for r in records]
        try:
            outcomes = await self._apply_all(typed)
        except UNAVAILABLE:
            raise
        except Exception as exc:
            log.info("group %s: batch of %d failed (%s); one by one", self.group, len(typed), exc)
            return [await self.process(r) for r in records]
        if self.metrics is not None:
            for record, outcome in zip(records, outcomes, strict=True):
                self.metrics.events.labels(self.group, record.topic, outcome.value).inc()
        return outcomes

    async def _apply(
        self, record: bus.Record, envelope: events.Envelope, payload: events.Payload
    ) -> Outcome:
        [outcome] = await self._apply_all([(record, envelope, payload)])
        return outcome

    async def _apply_all(
        self, items: Sequence[tuple[bus.Record, events.Envelope, events.Payload]]
    ) -> list[Outcome]:
        now = datetime.now(UTC)
        if self.direct is not None:
            try:
                return await self._apply_direct(items, now)
            except NeedsSession:
                pass  # rolled back; the session path below runs the same events
        rows = [
            {
                "consumer_group": self.group,
                "event_id": envelope.id,
                "event_type": envelope.type,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "processed_at": now,
            }
            for record, envelope, _ in items
        ]
        async with db.transaction(self.sessions) as session:
            fresh = await inbox.record(session, rows)
            outcomes, todo = _split(items, fresh)
            if self.batch_handler is not None:
                await self.batch_handler(session, todo)
            else:
                for envelope, payload in todo:
                    await self.handler(session, envelope, payload)
        return outcomes

    async def _apply_direct(
        self, items: Sequence[tuple[bus.Record, events.Envelope, events.Payload]], now: datetime
    ) -> list[Outcome]:
        """`_apply_all` on the raw driver (`inbox.Inbox`): BEGIN, inbox rows, handler, COMMIT."""
        assert self.direct is not None and self.driver_handler is not None
        handler = self.driver_handler
        rows = (
            [e.id for _, e, _ in items],
            [e.type for _, e, _ in items],
            [r.topic for r, _, _ in items],
            [r.partition for r, _, _ in items],
            [r.offset for r, _, _ in items],
        )

        async def body(connection: Any, fresh: set[str]) -> list[Outcome]:
            outcomes, todo = _split(items, fresh)
            await handler(connection, todo)
            return outcomes

        return await self.direct.run(rows, now, body)

    async def _wait_until_due(self, record: bus.Record) -> None:
        raw = record.header(NOT_BEFORE)
        if raw is not None:
            wait_s = (int(raw) - self.now_ms()) / 1000
            if wait_s > 0:
                await self.sleep(min(wait_s, self.policy.retry_delay_s))

    async def _to_retry(self, record: bus.Record, error: str, rounds: int) -> None:
        due = self.now_ms() + int(self.policy.retry_delay_s * 1000)
        extra = {RETRIES: str(rounds), NOT_BEFORE: str(due), ERROR: error}
        retry = topics.retry_of(topics.Topic(record.topic))
        await self.publisher.publish([_forward(record, retry, extra, self.group)])

    async def _dead(self, record: bus.Record, error: str) -> None:
        log.error("group %s: dead-lettering %s: %s", self.group, _origin(record), error)
        dlq = topics.dlq_of(topics.Topic(record.topic))
        extra = {ERROR: error, RETRIES: (record.header(RETRIES) or b"0").decode()}
        await self.publisher.publish([_forward(record, dlq, extra, self.group)])


def _split(
    items: Sequence[tuple[bus.Record, events.Envelope, events.Payload]], fresh: set[str]
) -> tuple[list[Outcome], list[tuple[events.Envelope, events.Payload]]]:
    """Each item's outcome by the inbox's fresh ids, and the fresh events to handle, in order."""
    outcomes, todo = [], []
    for _, envelope, payload in items:
        if envelope.id not in fresh:
            outcomes.append(Outcome.DUPLICATE)
            continue
        fresh.discard(envelope.id)  # the same id twice in one batch: the 2nd is a duplicate
        todo.append((envelope, payload))
        outcomes.append(Outcome.PROCESSED)
    return outcomes, todo


def original_headers(record: bus.Record) -> bus.Headers:
    """The headers the producer set, without the retry/DLQ bookkeeping."""
    return tuple((k, v) for k, v in record.headers if k not in OWN_HEADERS)


def _forward(record: bus.Record, topic: str, extra: dict[str, str], group: str) -> bus.Record:
    origin = record.header(ORIGIN) or _origin(record).encode()
    own = {**extra, GROUP: group}
    headers = (
        *original_headers(record),
        (ORIGIN, origin),
        *((k, v[:_MAX_ERROR].encode()) for k, v in own.items()),
    )
    return bus.Record(topic=topic, key=record.key, value=record.value, headers=headers)


def _origin(record: bus.Record) -> str:
    return f"{record.topic}/{record.partition}/{record.offset}"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


async def purge_inbox(sessions: async_sessionmaker[AsyncSession], *, before: datetime) -> int:
    """Forget event ids processed before `before`. Keep them longer than any redelivery can
    arrive (the topic's retention, and replays of the DLQ), or a late copy would apply twice."""
    table = schema.inbox
    async with db.transaction(sessions) as session:
        result = await session.execute(sa.delete(table).where(table.c.processed_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
