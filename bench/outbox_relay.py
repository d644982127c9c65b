"""Outbox relay throughput (PostgreSQL outbox → Kafka) against a bare aiokafka producer, same run.

    .venv/bin/python -m bench.outbox_relay [--events 20000] [--batch 200] [--rounds 3]

Baseline: the same records (pre-serialized envelopes, same keys and headers) sent by a bare
AIOKafkaProducer with the relay's settings (idempotent, acks=all, linger 5 ms), acked per chunk of
`batch` like the relay. System: `outbox.Relay.publish_pending` until the outbox is empty (select a
batch in id order, publish, wait for the acks, mark sent). Reports events/s and the ratio
per round (baseline and relay alternate) and the median ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from qsr_devstack import testing
from qsr_kit import db, kafka, outbox, schema
from qsr_kit.domain import events, payloads, specs, topics

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def envelope(i: int) -> events.Envelope:
    payload = payloads.OrderCompleted(
        order_id=f"ord-{i}",
        store_id=f"store-{i % 50}",
        member_id=f"mem-{i % 1000}",
        program="rewards",
        origin=payloads.Origin.APP,
        order_key=f"store-{i % 50}:{i}",
        channel=specs.Channel.KIOSK,
        completed_at=NOW,
        currency="USD",
        subtotal_minor=1000 + i % 500,
        lines=(payloads.OrderLine(sku="burger", quantity=2, unit_price_minor=500),),
    )
    return events.envelope_of(
        payload, event_id=events.EventId(str(uuid.uuid4())), source="/qsr/bench", time=NOW
    )


async def baseline(bootstrap: str, topic: str, envs: list[events.Envelope], batch: int) -> float:
    producer = kafka.producer(bootstrap, client_id="bench-bare")
    await producer.start()
    records = [(e.partitionkey.encode(), events.to_bytes(e), events.headers_of(e)) for e in envs]
    try:
        started = time.perf_counter()
        for first in range(0, len(records), batch):
            acks = [
                await producer.send(topic, value, key=key, headers=headers)
                for key, value, headers in records[first : first + batch]
            ]
            await asyncio.gather(*acks)
        return len(records) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def relay_rate(
    bootstrap: str, dsn: str, topic: str, envs: list[events.Envelope], batch: int
) -> float:
    engine = db.engine_from_url(dsn)
    await db.migrate(engine)
    sessions = db.sessionmaker_of(engine)
    for first in range(0, len(envs), 1000):
        async with db.transaction(sessions) as session:
            for env in envs[first : first + 1000]:
                await outbox.add(session, env, topic=topic)
    producer = kafka.producer(bootstrap, client_id="bench-relay")
    await producer.start()
    try:
        relay = outbox.Relay(engine, kafka.KafkaPublisher(producer), batch=batch)
        started = time.perf_counter()
        published = 0
        while moved := await relay.publish_pending():
            published += moved
        elapsed = time.perf_counter() - started
        async with engine.connect() as connection:
            unsent = await connection.scalar(
                sa.select(sa.func.count()).where(schema.outbox.c.sent_at.is_(None))
            )
        assert published == len(envs) and unsent == 0, (published, unsent)
        return published / elapsed
    finally:
        await producer.stop()
        await engine.dispose()


async def measure(
    bootstrap: str, postgres: testing.Postgres, n: int, batch: int, rounds: int
) -> None:
    """Alternate baseline and relay `rounds` times (the box is shared); report the median ratio."""
    ratios = []
    print(f"events={n} batch={batch} partitions=3 rounds={rounds}")
    for round_ in range(rounds):
        suffix = uuid.uuid4().hex[:8]
        name = topics.topic_name(namespace=f"bench{suffix}", program="rewards", stream="orders")
        bare_topic = topics.topic_name(
            namespace=f"bare{suffix}", program="rewards", stream="orders"
        )
        await kafka.create_topics(bootstrap, [name, bare_topic], partitions=3)
        envs = [envelope(i) for i in range(n)]
        bare = await baseline(bootstrap, bare_topic, envs, batch)
        dsn = postgres.create_database(f"bench_{suffix}")
        relayed = await relay_rate(bootstrap, dsn, name, envs, batch)
        ratios.append(relayed / bare)
        print(f"round {round_}: bare producer {bare:7.0f}/s  relay {relayed:7.0f}/s  "
              f"ratio {relayed / bare:.2f}")  # fmt: skip
    print(f"median ratio relay/bare: {statistics.median(ratios):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    stack = testing.SessionStack()  # started outside the event loop: its probes run their own
    try:
        bootstrap, postgres = stack.kafka().bootstrap, stack.postgres()
        asyncio.run(measure(bootstrap, postgres, args.events, args.batch, args.rounds))
    finally:
        stack.close()


if __name__ == "__main__":
    main()
