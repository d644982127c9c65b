"""Transactional outbox: events are written in the caller's transaction, a relay publishes them.

At-least-once and in order per key: the relay publishes unsent rows in id order, waits for every
ack, then marks them sent (a crash in between publishes them again; consumers dedupe by event id).
Write the event AFTER the state change that locks the entity, so ids follow commit order per key.

    await outbox.add(session, envelope, topic=orders_topic)          # inside the unit of work
    relay = outbox.Relay(engine, publisher); await relay.run(stop)  # a task per service
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import prometheus_client
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from qsr_kit import bus, db, schema
from qsr_kit.domain import events

log = logging.getLogger(__name__)
_t = schema.outbox
# pg_try_advisory_lock key of the relay leader; one relay per database publishes.
_RELAY_LOCK = 7_242_002


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def add(
    session: AsyncSession, envelope: events.Envelope, *, topic: str, now: datetime | None = None
) -> None:
    """Queue an event in the caller's transaction: it is published only if that commits."""
    await session.execute(
        sa.insert(_t).values(
            event_id=envelope.id,
            event_type=envelope.type,
            topic=topic,
            key=envelope.partitionkey,
            value=events.to_bytes(envelope).decode(),
            created_at=now or envelope.time,
        )
    )


class Relay:
    """Publishes the outbox through a Publisher (Kafka or the in-process bus)."""

    def __init__(
        self,
        engine: AsyncEngine,
        publisher: bus.Publisher,
        *,
        batch: int = 200,
        idle_s: float = 0.05,
        registry: prometheus_client.CollectorRegistry | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.engine, self.publisher = engine, publisher
        self._unsent = (
            sa.select(_t.c.id, _t.c.event_id, _t.c.event_type, _t.c.topic, _t.c.key, _t.c.value)
            .where(_t.c.sent_at.is_(None))
            .order_by(_t.c.id)
            .limit(batch)
        )
        self.batch, self.idle_s, self.clock = batch, idle_s, clock
        self.wakeup = asyncio.Event()
        self.published = prometheus_client.Counter(
            "qsr_outbox_published", "Outbox events published", registry=registry
        )

    def notify(self) -> None:
        """Call after a commit that added events, to publish without waiting for the poll."""
        self.wakeup.set()

    async def publish_pending(self) -> int:
        """One round: publish up to `batch` unsent events in order, then mark them sent."""
        async with self.engine.begin() as connection:  # Core, not a Session: this is the hot loop
            rows = (await connection.execute(self._unsent)).all()
        if not rows:
            return 0
        # Not inside the read transaction: the in-process bus runs consumers that write the same
        # (SQLite) database, and holding a transaction across the network is never needed.
        await self.publisher.publish([_record(row) for row in rows])
        async with self.engine.begin() as connection:
            await self._mark_sent(connection, rows)
        return len(rows)

    async def _publish_on(self, connection: AsyncConnection) -> int:
        """`publish_pending` on the leader's own connection (PostgreSQL): no pool checkout and no
        pre-ping per round; the read also proves the connection, and so the lock, alive."""
        rows = (await connection.execute(self._unsent)).all()
        await connection.commit()
        if not rows:
            return 0
        await self.publisher.publish([_record(row) for row in rows])
        await self._mark_sent(connection, rows)
        return len(rows)

    async def _mark_sent(self, connection: AsyncConnection, rows: Sequence[Any]) -> None:
        ids = [row.id for row in rows]
        await connection.execute(sa.update(_t).where(_t.c.id.in_(ids)), {"sent_at": self.clock()})
        await connection.commit()
        self.published.inc(len(rows))

    async def run(self, stop: asyncio.Event, *, retry_s: float = 1.0) -> None:
        """Publish until `stop` is set; on PostgreSQL only the advisory-lock holder publishes.
        A broker or database outage is logged and retried: the events wait in the outbox."""
        while not stop.is_set():
            try:
                await self._lead_and_publish(stop)
            except Exception:
                log.exception("outbox relay failed; retrying in %.1fs", retry_s)
                await _wait_any(stop, asyncio.Event(), seconds=retry_s)

    async def _lead_and_publish(self, stop: asyncio.Event) -> None:
        """Rounds until `stop`. A full batch is followed by the next one at once (a backlog);
        after a smaller one the relay waits `idle_s` or a `notify()`, busy or idle, so under a
        steady trickle of commits it publishes every `idle_s` in one batch instead of a round per
        event or two: an event waits at most `idle_s` plus one round (read, publish, mark)."""
        async with self.engine.connect() as connection:
            leading = False
            while not stop.is_set():
                if leading and connection.dialect.name == "postgresql":
                    moved = await self._publish_on(connection)  # a dead connection raises here
                else:
                    leading = await _lead(connection, already=leading)
                    moved = await self.publish_pending() if leading else 0
                if moved >= self.batch:
                    continue
                await _wait_any(stop, self.wakeup, seconds=self.idle_s)
                self.wakeup.clear()


def _record(row: Any) -> bus.Record:
    # Validated when it was added; only the traceparent is read back, by a plain JSON parse.
    traceparent = json.loads(row.value).get("traceparent")
    headers = events.headers_for(
        event_id=row.event_id, event_type=row.event_type, traceparent=traceparent
    )
    return bus.Record(row.topic, row.key.encode(), row.value.encode(), tuple(headers))


async def _lead(connection: AsyncConnection, *, already: bool) -> bool:
    if connection.dialect.name != "postgresql":
        return True  # SQLite: one process owns the file
    if already:  # the lock lives as long as this connection: prove it is alive
        await connection.execute(sa.text("SELECT 1"))
        await connection.commit()
        return True
    # Session-level lock: held until this connection closes (the relay stops or dies).
    held = await connection.scalar(sa.select(sa.func.pg_try_advisory_lock(_RELAY_LOCK)))
    await connection.commit()
    return bool(held)


async def _wait_any(stop: asyncio.Event, wakeup: asyncio.Event, *, seconds: float) -> None:
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(wakeup.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def purge_sent(engine: AsyncEngine, *, before: datetime) -> int:
    """Delete events published before `before` (a periodic job); returns how many."""
    async with db.transaction(db.sessionmaker_of(engine)) as session:
        result = await session.execute(sa.delete(_t).where(_t.c.sent_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
