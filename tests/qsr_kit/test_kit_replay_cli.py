"""`qsr events replay` against real Kafka: DLQ records go back to their main topic, once."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from typer.testing import CliRunner

from qsr_cli import main
from qsr_devstack import testing
from qsr_kit import bus, consuming, kafka
from qsr_kit.domain import topics

from .test_kit_pipeline import read_topic


@pytest.mark.kafka
def test_replay_moves_dead_letters_back_without_bookkeeping_headers(kafka: testing.Kafka) -> None:
    name = topics.topic_name(namespace=f"t{uuid.uuid4().hex[:10]}", program="p", stream="orders")
    main_topic, retry, dlq = topics.companions_of(name)
    dead = bus.Record(
        topic=dlq,
        key=b"store-1",
        value=b'{"id": "e-1"}',
        headers=(("traceparent", b"00-abc"), (consuming.ERROR, b"RuntimeError: bug")),
    )

    async def seed() -> None:
        await kafka_mod.create_topics(kafka.bootstrap, [main_topic, retry, dlq], partitions=1)
        producer = kafka_mod.producer(kafka.bootstrap)
        await producer.start()
        try:
            await kafka_mod.KafkaPublisher(producer).publish([dead])
        finally:
            await producer.stop()

    asyncio.run(seed())
    runner = CliRunner()
    args = ["events", "replay", dlq, "--bootstrap", kafka.bootstrap]
    first = runner.invoke(main.app, args)
    second = runner.invoke(main.app, args)
    assert first.exit_code == 0, first.output
    assert f"replayed 1 record(s) from {dlq} to {main_topic}" in first.output
    assert "replayed 0 record(s)" in second.output
    [moved] = asyncio.run(read_topic(kafka.bootstrap, main_topic, 1))
    assert (moved.key, moved.value) == (dead.key, dead.value)
    assert moved.headers == (("traceparent", b"00-abc"),)


def test_replay_refuses_a_foreign_topic() -> None:
    result = CliRunner().invoke(
        main.app, ["events", "replay", "orders.dlq", "--bootstrap", "127.0.0.1:1"]
    )
    assert result.exit_code != 0
    assert "orders.dlq" in result.output


kafka_mod = kafka
