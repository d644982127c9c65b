"""traceparent survives a real Kafka broker: the consumer's span joins the producer's trace."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from qsr_devstack.testing import Kafka
from qsr_kit import kafka as kafka_io
from qsr_kit import telemetry

pytestmark = pytest.mark.kafka


async def test_consumer_span_joins_the_producer_trace_through_the_broker(kafka: Kafka) -> None:
    exporter = InMemorySpanExporter()
    provider = telemetry.configure_tracing("test", exporter=exporter, set_global=False)
    topic = f"qsr.telemetry-{uuid.uuid4().hex[:8]}.p.orders"
    await kafka_io.create_topics(kafka.bootstrap, [topic], partitions=1)

    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    try:
        with telemetry.producing(provider, topic, key=b"order-1"):
            headers = telemetry.inject_headers([("ce_type", b"io.qsr.order.completed.v1")])
            await producer.send_and_wait(topic, b"{}", key=b"order-1", headers=headers)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka.bootstrap, group_id="g", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    with telemetry.consuming(
        provider, topic, list(message.headers), group="g", offset=message.offset
    ):
        pass

    spans = exporter.get_finished_spans()
    (producer_span,) = [s for s in spans if s.kind == SpanKind.PRODUCER]
    (consumer_span,) = [s for s in spans if s.kind == SpanKind.CONSUMER]
    assert consumer_span.context.trace_id == producer_span.context.trace_id
    assert consumer_span.parent is not None
    assert consumer_span.parent.span_id == producer_span.context.span_id
