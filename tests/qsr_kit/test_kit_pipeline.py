"""Outbox → relay → Kafka → inbox consumer, retry/DLQ, replay: real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import prometheus_client
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer
from sqlalchemy.ext.asyncio import AsyncEngine

from qsr_devstack import testing
from qsr_kit import bus, consuming, db, kafka, outbox, schema
from qsr_kit.domain import events, topics

from . import pipeline_support as support
from .test_kit_events import TRACEPARENT

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = 60


@dataclass(frozen=True)
class Stream:
    main: topics.Topic
    retry: topics.Topic
    dlq: topics.Topic


@pytest.fixture
async def stream(kafka: testing.Kafka) -> Stream:
    bootstrap = kafka.bootstrap
    name = topics.topic_name(
        namespace=f"t{uuid.uuid4().hex[:10]}", program="rewards", stream="orders"
    )
    main, retry, dlq = topics.companions_of(name)
    await kafka_mod.create_topics(bootstrap, [main, retry, dlq], partitions=3)
    return Stream(main, retry, dlq)


kafka_mod = kafka  # the fixture named `kafka` shadows the module inside test signatures


async def fresh_engine(postgres: testing.Postgres, role: str) -> AsyncEngine:
    dsn = postgres.create_database(f"{role}_{uuid.uuid4().hex[:10]}")
    engine = db.engine_from_url(dsn)
    await support.prepare(engine)
    return engine


@pytest.fixture
async def ordering_db(postgres: testing.Postgres) -> AsyncIterator[AsyncEngine]:
    engine = await fresh_engine(postgres, "ordering")
    yield engine
    await engine.dispose()


@pytest.fixture
async def loyalty_db(postgres: testing.Postgres) -> AsyncIterator[AsyncEngine]:
    engine = await fresh_engine(postgres, "loyalty")
    yield engine
    await engine.dispose()


@pytest.fixture
def loyalty_dsn(loyalty_db: AsyncEngine) -> str:
    return loyalty_db.url.render_as_string(hide_password=False)


@pytest.fixture
async def publisher(kafka: testing.Kafka) -> AsyncIterator[kafka_mod.KafkaPublisher]:
    producer = kafka_mod.producer(kafka.bootstrap)
    await producer.start()
    yield kafka_mod.KafkaPublisher(producer)
    await producer.stop()


async def consume_until(
    bootstrap: str,
    processor: consuming.Processor,
    topic_names: Sequence[str],
    done: Callable[[list[consuming.Outcome]], bool],
    *,
    group: str = "loyalty",
    metrics: consuming.Metrics | None = None,
) -> list[consuming.Outcome]:
    """Run the real consume loop until `done(outcomes)` holds (or fail at the deadline)."""
    outcomes: list[consuming.Outcome] = []
    stop = asyncio.Event()

    async def process(record: bus.Record) -> None:
        outcomes.append(await processor.process(record))
        if done(outcomes):
            stop.set()

    loop = asyncio.create_task(
        kafka_mod.consume(
            bootstrap=bootstrap,
            group_id=group,
            topic_names=list(topic_names),
            process=process,
            stop=stop,
            metrics=metrics,
        )
    )
    async with asyncio.timeout(DEADLINE_S):
        await loop
    return outcomes


async def read_topic(bootstrap: str, topic: str, count: int) -> list[bus.Record]:
    """Every record of `topic` (waiting until `count` arrived), without a consumer group."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    records: list[bus.Record] = []
    try:
        async with asyncio.timeout(DEADLINE_S):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=200)
                for messages in batch.values():
                    records += [kafka_mod._record(m) for m in messages]
    finally:
        await consumer.stop()
    return records


def publish_raw(envelope: events.Envelope, topic: str) -> bus.Record:
    return bus.Record(
        topic=topic,
        key=envelope.partitionkey.encode(),
        value=events.to_bytes(envelope),
        headers=tuple(events.headers_of(envelope)),
    )


async def test_relay_publishes_every_event_in_order_per_key(
    kafka: testing.Kafka, stream: Stream, ordering_db: AsyncEngine
) -> None:
    sessions = db.sessionmaker_of(ordering_db)
    for seq in range(30):
        async with db.transaction(sessions) as session:
            env = support.order_event(f"e{seq}", store=f"store-{seq % 3}", seq=seq)
            await outbox.add(session, env, topic=stream.main)
    producer = kafka_mod.producer(kafka.bootstrap)
    await producer.start()
    relay = outbox.Relay(ordering_db, kafka_mod.KafkaPublisher(producer), batch=7)
    try:
        while await relay.publish_pending():
            pass
    finally:
        await producer.stop()
    records = await read_topic(kafka.bootstrap, stream.main, 30)
    by_key: dict[bytes, list[int]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_key.setdefault(record.key or b"", []).append(int(events.from_bytes(record.value).id[1:]))
    assert sorted(by_key) == [b"store-0", b"store-1", b"store-2"]
    for seqs in by_key.values():
        assert seqs == sorted(seqs) and len(seqs) == 10
    async with ordering_db.connect() as connection:
        unsent = await connection.scalar(
            sa.select(sa.func.count()).where(schema.outbox.c.sent_at.is_(None))
        )
    assert unsent == 0


async def test_redelivered_event_has_exactly_one_effect(
    kafka: testing.Kafka,
    stream: Stream,
    loyalty_db: AsyncEngine,
    publisher: kafka_mod.KafkaPublisher,
) -> None:
    env = support.order_event("dup-1")
    await publisher.publish([publish_raw(env, stream.main), publish_raw(env, stream.main)])
    processor = support.processor(loyalty_db, publisher, support.Switch())
    outcomes = await consume_until(
        kafka.bootstrap,
        processor,
        [stream.main],
        lambda o: len(o) >= 2,
    )
    assert sorted(outcomes) == [consuming.Outcome.DUPLICATE, consuming.Outcome.PROCESSED]
    assert await support.effect_counts(loyalty_db) == {"dup-1": 1}


async def test_unparseable_event_goes_to_the_dlq_at_once_with_its_reason(
    kafka: testing.Kafka,
    stream: Stream,
    loyalty_db: AsyncEngine,
    publisher: kafka_mod.KafkaPublisher,
) -> None:
    poison = bus.Record(topic=stream.main, key=b"store-1", value=b"{not json")
    await publisher.publish([poison, publish_raw(support.order_event("ok-1"), stream.main)])
    processor = support.processor(loyalty_db, publisher, support.Switch())
    outcomes = await consume_until(
        kafka.bootstrap,
        processor,
        [stream.main],
        lambda o: len(o) >= 2,
    )
    assert sorted(outcomes) == [consuming.Outcome.DEAD, consuming.Outcome.PROCESSED]
    [dead] = await read_topic(kafka.bootstrap, stream.dlq, 1)
    assert dead.value == b"{not json"
    assert (dead.header(consuming.ERROR) or b"").startswith(b"parse: $: not JSON")
    assert (dead.header(consuming.ORIGIN) or b"").startswith(stream.main.encode() + b"/")
    assert await support.effect_counts(loyalty_db) == {"ok-1": 1}


async def test_failing_event_retries_then_dead_letters_then_replays_once_after_the_fix(
    kafka: testing.Kafka,
    stream: Stream,
    loyalty_db: AsyncEngine,
    publisher: kafka_mod.KafkaPublisher,
) -> None:
    bootstrap: str = kafka.bootstrap
    switch = support.Switch(broken=True)
    processor = support.processor(loyalty_db, publisher, switch)
    await publisher.publish([publish_raw(support.order_event("bug-1"), stream.main)])
    both = [stream.main, stream.retry]
    outcomes = await consume_until(bootstrap, processor, both, lambda o: len(o) >= 2)
    assert outcomes == [consuming.Outcome.RETRY, consuming.Outcome.DEAD]
    [dead] = await read_topic(bootstrap, stream.dlq, 1)
    assert dead.header(consuming.ERROR) == b"RuntimeError: ledger bug: cannot accrue"
    assert dead.header("traceparent") == TRACEPARENT.encode()
    assert dead.header("ce_type") == b"io.qsr.order.completed.v1"
    assert await support.effect_counts(loyalty_db) == {}

    switch.broken = False
    assert await kafka_mod.replay(bootstrap=bootstrap, dlq=stream.dlq) == 1
    outcomes = await consume_until(bootstrap, processor, both, lambda o: len(o) >= 1)
    assert outcomes == [consuming.Outcome.PROCESSED]
    assert await support.effect_counts(loyalty_db) == {"bug-1": 1}
    assert await kafka_mod.replay(bootstrap=bootstrap, dlq=stream.dlq) == 0


async def test_consumer_killed_between_db_commit_and_offset_commit_has_one_effect(
    kafka: testing.Kafka,
    stream: Stream,
    loyalty_db: AsyncEngine,
    loyalty_dsn: str,
    publisher: kafka_mod.KafkaPublisher,
) -> None:
    bootstrap: str = kafka.bootstrap
    await publisher.publish([publish_raw(support.order_event("crash-1"), stream.main)])
    code, output = await run_crashing("consumer", bootstrap, loyalty_dsn, stream.main, "loyalty")
    assert code == -9, output
    assert output.startswith("processed "), output
    assert await support.effect_counts(loyalty_db) == {"crash-1": 1}

    processor = support.processor(loyalty_db, publisher, support.Switch())
    outcomes = await consume_until(bootstrap, processor, [stream.main], lambda o: len(o) >= 1)
    assert outcomes == [consuming.Outcome.DUPLICATE]  # redelivered: the offset was never committed
    assert await support.effect_counts(loyalty_db) == {"crash-1": 1}


async def test_relay_killed_between_publish_and_mark_sent_still_yields_one_effect(
    kafka: testing.Kafka,
    stream: Stream,
    ordering_db: AsyncEngine,
    loyalty_db: AsyncEngine,
    publisher: kafka_mod.KafkaPublisher,
) -> None:
    bootstrap: str = kafka.bootstrap
    async with db.transaction(db.sessionmaker_of(ordering_db)) as session:
        await outbox.add(session, support.order_event("relay-1"), topic=stream.main)
    dsn = ordering_db.url.render_as_string(hide_password=False)
    code, output = await run_crashing("relay", bootstrap, dsn)
    assert code == -9, output
    assert output.strip() == "published 1"
    assert await outbox.Relay(ordering_db, publisher).publish_pending() == 1  # again: never marked

    processor = support.processor(loyalty_db, publisher, support.Switch())
    outcomes = await consume_until(bootstrap, processor, [stream.main], lambda o: len(o) >= 2)
    assert sorted(outcomes) == [consuming.Outcome.DUPLICATE, consuming.Outcome.PROCESSED]
    assert await support.effect_counts(loyalty_db) == {"relay-1": 1}


async def test_consumer_reports_lag_and_outcomes_as_metrics(
    kafka: testing.Kafka,
    stream: Stream,
    loyalty_db: AsyncEngine,
    publisher: kafka_mod.KafkaPublisher,
) -> None:
    registry = prometheus_client.CollectorRegistry()
    metrics = consuming.Metrics(registry)
    envs = [support.order_event(f"m{i}", store="store-1") for i in range(5)]
    await publisher.publish([publish_raw(env, stream.main) for env in envs])
    processor = support.processor(loyalty_db, publisher, support.Switch())
    processor.metrics = metrics
    await consume_until(
        kafka.bootstrap,
        processor,
        [stream.main],
        lambda o: len(o) >= 5,
        metrics=metrics,
    )
    processed = registry.get_sample_value(
        "qsr_consumer_events_total",
        {"group": "loyalty", "topic": stream.main, "outcome": "processed"},
    )
    lags = [
        s.value
        for m in registry.collect()
        if m.name == "qsr_consumer_lag"
        for s in m.samples
        if s.labels["topic"] == stream.main
    ]
    assert processed == 5
    assert lags == [0]


async def run_crashing(*args: str) -> tuple[int | None, str]:
    """Exit code and stdout of a crashing_process run (its stderr joins stdout only on failure)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.qsr_kit.crashing_process",
        *args,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(DEADLINE_S):
        output, errors = await process.communicate()
    if process.returncode != -9:
        return process.returncode, (output + errors).decode()
    return process.returncode, output.decode()


async def test_run_consumer_restarts_after_an_outage_and_loses_nothing(
    kafka: testing.Kafka,
    stream: Stream,
    loyalty_db: AsyncEngine,
    publisher: kafka_mod.KafkaPublisher,
) -> None:
    await publisher.publish([publish_raw(support.order_event("out-1"), stream.main)])
    processor = support.processor(loyalty_db, publisher, support.Switch())
    outcomes: list[consuming.Outcome] = []
    stop = asyncio.Event()

    async def process(record: bus.Record) -> None:
        if not outcomes:
            outcomes.append(consuming.Outcome.RETRY)  # marks the outage, before any effect
            raise ConnectionError("database restarting")
        outcomes.append(await processor.process(record))
        stop.set()

    await asyncio.wait_for(
        kafka_mod.run_consumer(
            stop=stop,
            retry_s=0.1,
            bootstrap=kafka.bootstrap,
            group_id="loyalty",
            topic_names=[stream.main],
            process=process,
        ),
        timeout=DEADLINE_S,
    )
    assert outcomes == [consuming.Outcome.RETRY, consuming.Outcome.PROCESSED]
    assert await support.effect_counts(loyalty_db) == {"out-1": 1}


async def test_batched_consumer_with_duplicates_applies_each_event_once(
    kafka: testing.Kafka,
    stream: Stream,
    loyalty_db: AsyncEngine,
    publisher: kafka_mod.KafkaPublisher,
) -> None:
    envs = [support.order_event(f"b{i}", store=f"store-{i % 3}", seq=i) for i in range(40)]
    records = [publish_raw(env, stream.main) for env in envs]
    await publisher.publish(records + records[::4])  # 10 duplicates, redelivered later
    processor = support.processor(loyalty_db, publisher, support.Switch())
    outcomes: list[consuming.Outcome] = []
    stop = asyncio.Event()

    async def process_batch(batch: Sequence[bus.Record]) -> None:
        outcomes.extend(await processor.process_batch(batch))
        if len(outcomes) >= 50:
            stop.set()

    await asyncio.wait_for(
        kafka_mod.consume(
            bootstrap=kafka.bootstrap,
            group_id="loyalty",
            topic_names=[stream.main],
            process_batch=process_batch,
            stop=stop,
        ),
        timeout=DEADLINE_S,
    )
    assert outcomes.count(consuming.Outcome.PROCESSED) == 40
    assert outcomes.count(consuming.Outcome.DUPLICATE) == 10
    assert await support.effect_counts(loyalty_db) == {f"b{i}": 1 for i in range(40)}


async def test_writer_killed_after_commit_before_publish_still_yields_one_effect(
    kafka: testing.Kafka,
    stream: Stream,
    ordering_db: AsyncEngine,
    loyalty_db: AsyncEngine,
    publisher: kafka_mod.KafkaPublisher,
) -> None:
    dsn = ordering_db.url.render_as_string(hide_password=False)
    code, output = await run_crashing("writer", dsn, stream.main, "w-1")
    assert code == -9, output
    assert output.strip() == "committed"
    assert await outbox.Relay(ordering_db, publisher).publish_pending() == 1  # after "restart"

    processor = support.processor(loyalty_db, publisher, support.Switch())
    outcomes = await consume_until(kafka.bootstrap, processor, [stream.main], lambda o: len(o) >= 1)
    assert outcomes == [consuming.Outcome.PROCESSED]
    assert await support.effect_counts(loyalty_db) == {"w-1": 1}


async def test_replay_covers_every_partition_and_honours_the_limit(
    kafka: testing.Kafka, stream: Stream, publisher: kafka_mod.KafkaPublisher
) -> None:
    envs = [support.order_event(f"d{i}", store=f"store-{i}", seq=i) for i in range(9)]
    await publisher.publish([publish_raw(env, stream.dlq) for env in envs])
    first = await kafka_mod.replay(bootstrap=kafka.bootstrap, dlq=stream.dlq, limit=4)
    rest = await kafka_mod.replay(bootstrap=kafka.bootstrap, dlq=stream.dlq)
    moved = await read_topic(kafka.bootstrap, stream.main, 9)
    assert (first, rest) == (4, 5)
    assert len({r.partition for r in moved}) > 1
    assert sorted(events.from_bytes(r.value).id for r in moved) == sorted(e.id for e in envs)
