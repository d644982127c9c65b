"""Order events through real Kafka into the ledger on real PostgreSQL: redelivery, the same order
from two sources, a full replay by a fresh consumer group, and loyalty events out to Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from qsr_devstack import testing
from qsr_kit import bus, db, http
from qsr_kit import kafka as kafka_mod
from qsr_kit.domain import events, payloads, topics
from tests.qsr_loyalty import support

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
DEADLINE_STEPS = 1200  # x 50 ms = 60 s


@dataclass(frozen=True)
class Setup:
    bootstrap: str
    namespace: str
    dsn: str

    @property
    def orders(self) -> str:
        return topics.topic_name(namespace=self.namespace, program=support.PROGRAM, stream="orders")

    @property
    def loyalty(self) -> str:
        return topics.topic_name(
            namespace=self.namespace, program=support.PROGRAM, stream="loyalty"
        )

    def running(
        self, group: str = "qsr-loyalty"
    ) -> contextlib.AbstractAsyncContextManager[support.Service]:
        return support.running(
            self.dsn, kafka_bootstrap=self.bootstrap, namespace=self.namespace, consumer_group=group
        )


@pytest.fixture
async def setup(kafka: testing.Kafka, postgres: testing.Postgres) -> Setup:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    names = [
        t
        for stream in ("orders", "loyalty")
        for t in topics.companions_of(
            topics.topic_name(namespace=namespace, program=support.PROGRAM, stream=stream)
        )
    ]
    await kafka_mod.create_topics(kafka.bootstrap, names, partitions=3)
    return Setup(kafka.bootstrap, namespace, postgres.create_database(f"loyalty_{namespace}"))


@pytest.fixture
async def publish(setup: Setup) -> AsyncIterator[object]:
    producer = kafka_mod.producer(setup.bootstrap)
    await producer.start()
    publisher = kafka_mod.KafkaPublisher(producer)

    async def send(*envelopes: events.Envelope) -> None:
        await publisher.publish(
            [
                bus.Record(
                    setup.orders,
                    e.partitionkey.encode(),
                    events.to_bytes(e),
                    tuple(events.headers_of(e)),
                )
                for e in envelopes
            ]
        )

    yield send
    await producer.stop()


def outcomes(service: support.Service, group: str, outcome: str) -> float:
    registry = http.registry_of(service.app)
    topic = service.app.state.loyalty_program.orders_topic
    labels = {"group": group, "topic": topic, "outcome": outcome}
    return registry.get_sample_value("qsr_consumer_events_total", labels) or 0.0


async def until_consumed(
    service: support.Service, *, group: str = "qsr-loyalty", **expected: int
) -> None:
    for _ in range(DEADLINE_STEPS):
        if all(outcomes(service, group, name) >= count for name, count in expected.items()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"consumer did not reach {expected} within the deadline")


async def accrual_count(service: support.Service) -> int:
    async with db.transaction(service.app.state.loyalty_sessions) as session:
        query = sa.text("SELECT count(*) FROM loyalty_entries WHERE kind = 'accrual'")
        return int(await session.scalar(query) or 0)


async def test_redelivered_event_has_one_effect(setup: Setup, publish) -> None:
    async with setup.running() as service:
        await service.enroll("m-1")
        event = support.completed(member_id="m-1", order_key="order:o-1")
        await publish(event, event)
        await until_consumed(service, processed=1, duplicate=1)
        assert (await accrual_count(service), (await service.balance("m-1"))["pending"]) == (1, 200)


async def test_same_order_from_app_and_pos_earns_once(setup: Setup, publish) -> None:
    async with setup.running() as service:
        await service.enroll("m-1")
        key = "check:store-0001:2026-11-10:417"
        await publish(
            support.completed(
                member_id="m-1", order_key=key, origin=payloads.Origin.APP, order_id="app-1"
            ),
            support.completed(
                member_id="m-1", order_key=key, origin=payloads.Origin.POS, order_id="pos-1"
            ),
        )
        await until_consumed(service, processed=2)
        assert (await accrual_count(service), (await service.balance("m-1"))["pending"]) == (1, 200)


async def test_replay_by_a_fresh_group_changes_nothing(setup: Setup, publish) -> None:
    async with setup.running() as service:
        await service.enroll("m-1")
        await publish(
            *(support.completed(member_id="m-1", order_key=f"order:{n}") for n in range(5))
        )
        await until_consumed(service, processed=5)
        before = await service.balance("m-1")
    async with setup.running(group="qsr-loyalty-replay") as replaying:
        await until_consumed(replaying, group="qsr-loyalty-replay", processed=5)
        assert (await accrual_count(replaying), await replaying.balance("m-1")) == (5, before)


async def test_accrual_is_published_to_the_loyalty_topic(setup: Setup, publish) -> None:
    async with setup.running() as service:
        await service.enroll("m-1")
        await publish(support.completed(member_id="m-1", order_key="order:o-1"))
        await until_consumed(service, processed=1)
        consumer = AIOKafkaConsumer(
            setup.loyalty, bootstrap_servers=setup.bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            seen: list[str] = []
            for _ in range(300):
                batch = await consumer.getmany(timeout_ms=200)
                seen += [events.from_bytes(m.value).type for ms in batch.values() for m in ms]
                if payloads.PointsAccrued.event_type in seen:
                    break
        finally:
            await consumer.stop()
        assert payloads.PointsAccrued.event_type in seen
