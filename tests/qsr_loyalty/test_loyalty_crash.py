"""Kill -9 of the loyalty consumer between its database commit and its offset commit: after the
restart every order has earned exactly once (real Kafka, real PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from qsr_devstack import testing
from qsr_kit import bus, db, http
from qsr_kit import kafka as kafka_mod
from qsr_kit.domain import events, topics
from qsr_loyalty import accounts, main, program, tables
from tests.qsr_loyalty import support
from tests.qsr_loyalty.conftest import EXAMPLES

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
REPO = Path(__file__).resolve().parents[2]


async def test_consumer_killed_after_db_commit_credits_each_order_once(
    kafka: testing.Kafka, postgres: testing.Postgres
) -> None:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    orders = topics.topic_name(namespace=namespace, program=support.PROGRAM, stream="orders")
    loyalty = topics.topic_name(namespace=namespace, program=support.PROGRAM, stream="loyalty")
    await kafka_mod.create_topics(
        kafka.bootstrap,
        [*topics.companions_of(orders), *topics.companions_of(loyalty)],
        partitions=1,
    )
    dsn = postgres.create_database(f"loyalty_{namespace}")
    engine = db.engine_from_url(dsn)
    await db.migrate(engine, version_locations=[main.MIGRATIONS], target_metadata=[tables.metadata])
    async with db.transaction(db.sessionmaker_of(engine)) as session:
        await accounts.enroll(
            session, program.load(EXAMPLES), member_id="m-1", birthday=None, now=support.T0
        )
    await engine.dispose()
    producer = kafka_mod.producer(kafka.bootstrap)
    await producer.start()
    envelopes = [support.completed(member_id="m-1", order_key=f"order:{n}") for n in range(3)]
    await kafka_mod.KafkaPublisher(producer).publish([support_record(e, orders) for e in envelopes])
    await producer.stop()

    crashed = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.qsr_loyalty.crashing_consumer", kafka.bootstrap, dsn, orders,
        "qsr-loyalty", cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    async with asyncio.timeout(120):
        output, _ = await crashed.communicate()
    assert (crashed.returncode, output.decode().splitlines()[-1]) == (
        -signal.SIGKILL,
        "processed 0/0",
    )

    async with support.running(
        dsn, kafka_bootstrap=kafka.bootstrap, namespace=namespace
    ) as service:
        registry = http.registry_of(service.app)
        labels = {"group": "qsr-loyalty", "topic": orders}
        for _ in range(1200):  # 60 s at most: the restarted consumer re-reads offset 0 onwards
            seen = sum(
                registry.get_sample_value("qsr_consumer_events_total", {**labels, "outcome": o})
                or 0
                for o in ("processed", "duplicate")
            )
            if seen >= 3:
                break
            await asyncio.sleep(0.05)
        async with db.transaction(service.app.state.loyalty_sessions) as session:
            accruals = await session.scalar(
                sa.text("SELECT count(*) FROM loyalty_entries WHERE kind = 'accrual'")
            )
        assert (accruals, (await service.balance("m-1"))["pending"]) == (3, 400)  # 3x100 + welcome


def support_record(envelope: events.Envelope, topic: str) -> bus.Record:
    headers = tuple(events.headers_of(envelope))
    return bus.Record(topic, envelope.partitionkey.encode(), events.to_bytes(envelope), headers)
