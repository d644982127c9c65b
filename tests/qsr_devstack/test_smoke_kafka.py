"""The broker is a real Kafka 4.x: every admin call the operator needs works through aiokafka."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from qsr_devstack.testing import Kafka

pytestmark = pytest.mark.kafka


async def test_topic_lifecycle_produce_consume_grow_and_configure(kafka: Kafka) -> None:
    topic, group = f"smoke-{uuid.uuid4().hex[:8]}", f"smoke-group-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, 1, 1, topic_configs={"retention.ms": "3600000"})]
        )
        assert topic in await admin.list_topics()

        producer = AIOKafkaProducer(
            bootstrap_servers=kafka.bootstrap, enable_idempotence=True, acks="all"
        )
        await producer.start()
        try:
            sent = await producer.send_and_wait(topic, b"hello", key=b"k1")
        finally:
            await producer.stop()

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka.bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            record = await consumer.getone()
            await consumer.commit()
        finally:
            await consumer.stop()
        assert (record.key, record.value, record.offset) == (b"k1", b"hello", sent.offset)

        await admin.create_partitions({topic: NewPartitions(total_count=3)})
        described = await admin.describe_topics([topic])
        assert len(described[0]["partitions"]) == 3

        resource = ConfigResource(ConfigResourceType.TOPIC, topic)
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "7200000"})]
        )
        [response] = await admin.describe_configs([resource])
        entries = {e[0]: e[1] for e in response.resources[0][4]}
        assert entries["retention.ms"] == "7200000"

        groups = await admin.list_consumer_groups()
        assert group in {g[0] for g in groups}
    finally:
        await admin.close()
