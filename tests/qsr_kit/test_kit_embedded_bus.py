"""Embedded mode: the same outbox, relay and inbox consumer, dispatched in-process (SQLite);
plus relay leadership on PostgreSQL, observed through the in-process bus."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from qsr_devstack import testing
from qsr_kit import bus, consuming, db, outbox
from qsr_kit.domain import events, topics

from . import pipeline_support as support

TOPIC = topics.topic_name(namespace="embedded", program="rewards", stream="orders")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = db.engine_from_url(f"sqlite:///{tmp_path / 'embedded.db'}")
    await support.prepare(engine)
    yield engine
    await engine.dispose()


class Seen(list[str]):
    """Outcomes in delivery order; `arrived` is set at each one."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()


def wire(engine: AsyncEngine, switch: support.Switch) -> tuple[bus.InProcessBus, Seen]:
    in_process = bus.InProcessBus()
    processor = support.processor(engine, in_process, switch)
    seen = Seen()

    async def process(record: bus.Record) -> None:
        seen.append((await processor.process(record)).value)
        seen.arrived.set()

    in_process.subscribe(TOPIC, process)
    in_process.subscribe(topics.retry_of(TOPIC), process)
    return in_process, seen


async def add(engine: AsyncEngine, *envelopes: events.Envelope) -> None:
    async with db.transaction(db.sessionmaker_of(engine)) as session:
        for envelope in envelopes:
            await outbox.add(session, envelope, topic=TOPIC)


async def test_outbox_event_reaches_the_in_process_consumer_once(engine: AsyncEngine) -> None:
    in_process, seen = wire(engine, support.Switch())
    await add(engine, support.order_event("e-1"), support.order_event("e-2", seq=1))
    relay = outbox.Relay(engine, in_process)
    assert await relay.publish_pending() == 2
    assert await relay.publish_pending() == 0
    assert seen == ["processed", "processed"]
    assert await support.effect_counts(engine) == {"e-1": 1, "e-2": 1}


async def test_republished_event_is_a_duplicate_in_process(engine: AsyncEngine) -> None:
    in_process, seen = wire(engine, support.Switch())
    env = support.order_event("e-1")
    record = bus.Record(TOPIC, b"k", events.to_bytes(env), tuple(events.headers_of(env)))
    await in_process.publish([record, record])
    assert seen == ["processed", "duplicate"]
    assert await support.effect_counts(engine) == {"e-1": 1}


async def test_failing_event_goes_through_retry_to_the_in_process_dlq(engine: AsyncEngine) -> None:
    in_process, seen = wire(engine, support.Switch(broken=True))
    await add(engine, support.order_event("bug-1"))
    await outbox.Relay(engine, in_process).publish_pending()
    await asyncio.wait_for(in_process.drain(), timeout=10)
    assert seen == ["retry", "dead"]
    [dead] = in_process.dead
    assert dead.header(consuming.ERROR) == b"RuntimeError: ledger bug: cannot accrue"
    assert dead.topic == topics.dlq_of(TOPIC)


async def test_relay_run_publishes_until_stopped(engine: AsyncEngine) -> None:
    in_process, seen = wire(engine, support.Switch())
    relay = outbox.Relay(engine, in_process, idle_s=0.01)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    await add(engine, support.order_event("e-1"))
    relay.notify()
    await asyncio.wait_for(seen.arrived.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(running, timeout=10)
    assert seen == ["processed"]


@pytest.mark.postgres
async def test_only_one_of_two_relays_publishes_on_postgresql(postgres: testing.Postgres) -> None:
    engine = db.engine_from_url(postgres.create_database(f"relays_{uuid.uuid4().hex[:10]}"))
    await support.prepare(engine)
    received: list[list[bytes]] = [[], []]
    all_in = asyncio.Event()
    relays = []
    for index in (0, 1):
        in_process = bus.InProcessBus()

        async def record(r: bus.Record, sink: list[bytes] = received[index]) -> None:
            sink.append(r.value)
            if sum(map(len, received)) >= 20:
                all_in.set()

        in_process.subscribe(TOPIC, record)
        relays.append(outbox.Relay(engine, in_process, batch=3, idle_s=0.01))
    stop = asyncio.Event()
    running = [asyncio.create_task(relay.run(stop)) for relay in relays]
    try:
        for seq in range(20):
            await add(engine, support.order_event(f"e-{seq}", seq=seq))
        await asyncio.wait_for(all_in.wait(), timeout=20)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*running), timeout=10)
        await engine.dispose()
    assert sorted(len(sink) for sink in received) == [0, 20]


def batch_of(*envs: events.Envelope) -> list[bus.Record]:
    return [
        bus.Record(TOPIC, b"k", events.to_bytes(e), tuple(events.headers_of(e)), 0, offset)
        for offset, e in enumerate(envs)
    ]


async def test_batch_applies_each_event_once_in_one_transaction(engine: AsyncEngine) -> None:
    in_process, _ = wire(engine, support.Switch())
    processor = support.processor(engine, in_process, support.Switch())
    e1, e2 = support.order_event("e-1"), support.order_event("e-2", seq=1)
    outcomes = await processor.process_batch(batch_of(e1, e1, e2))
    again = await processor.process_batch(batch_of(e2))
    assert [o.value for o in outcomes] == ["processed", "duplicate", "processed"]
    assert [o.value for o in again] == ["duplicate"]
    assert await support.effect_counts(engine) == {"e-1": 1, "e-2": 1}


async def test_batch_with_a_failing_event_falls_back_to_one_by_one(engine: AsyncEngine) -> None:
    switch = support.Switch(broken_ids=frozenset({"bad"}))
    in_process, seen = wire(engine, switch)
    processor = support.processor(engine, in_process, switch)
    records = batch_of(support.order_event("e-1"), support.order_event("bad", seq=1))
    records.append(bus.Record(TOPIC, b"k", b"{poison", (), 0, 9))
    outcomes = await processor.process_batch(records)
    await asyncio.wait_for(in_process.drain(), timeout=10)
    assert [o.value for o in outcomes] == ["processed", "retry", "dead"]
    assert seen == ["dead"]  # its round through .retry failed too
    assert [r.offset for r in in_process.dead] == [0, 1]  # poison first, then "bad"
    assert await support.effect_counts(engine) == {"e-1": 1}


async def test_purges_forget_only_what_is_older_than_the_cutoff(engine: AsyncEngine) -> None:
    in_process, _ = wire(engine, support.Switch())
    await add(engine, support.order_event("e-1"))
    await outbox.Relay(engine, in_process).publish_pending()
    await add(engine, support.order_event("e-2", seq=1))  # not yet sent: never purged
    later = datetime.now(UTC) + timedelta(days=1)
    assert await outbox.purge_sent(engine, before=later) == 1
    sessions = db.sessionmaker_of(engine)
    assert await consuming.purge_inbox(sessions, before=later - timedelta(days=2)) == 0
    assert await consuming.purge_inbox(sessions, before=later) == 1
    assert await outbox.Relay(engine, in_process).publish_pending() == 1
