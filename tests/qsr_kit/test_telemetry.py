"""qsr_kit.telemetry: one checkout → order.completed → accrual is one trace (HTTP server and client
spans, a Kafka record's headers, the consumer's span), SQL spans, env configuration, JSON logs."""

from __future__ import annotations

import io
import json
import logging

import fastapi
import httpx
import sqlalchemy as sa
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from sqlalchemy.ext.asyncio import create_async_engine

from qsr_kit import telemetry

TOPIC = "qsr.default.crispin-rewards.orders"


def tracing() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = telemetry.configure_tracing("test", exporter=exporter, set_global=False)
    return provider, exporter


def ordering_app(
    provider: TracerProvider, outbox: list[list[tuple[str, bytes]]]
) -> fastapi.FastAPI:
    app = fastapi.FastAPI()

    @app.post("/v1/orders")
    async def place() -> dict[str, str]:
        with telemetry.producing(provider, TOPIC, key=b"order-1"):
            outbox.append(telemetry.inject_headers([("ce_type", b"io.qsr.order.completed.v1")]))
        return {"id": "order-1"}

    telemetry.instrument_app(app, provider)
    return app


def hub_app(provider: TracerProvider, ordering: fastapi.FastAPI) -> fastapi.FastAPI:
    app = fastapi.FastAPI()

    @app.post("/v1/checkout")
    async def checkout() -> dict[str, str]:
        transport = httpx.ASGITransport(app=ordering)
        async with httpx.AsyncClient(transport=transport, base_url="http://ordering") as client:
            telemetry.instrument_http_client(client, provider)
            response = await client.post("/v1/orders")
        return dict(response.json())

    telemetry.instrument_app(app, provider)
    return app


async def checkout_then_accrue() -> tuple[list[ReadableSpan], list[tuple[str, bytes]]]:
    provider, exporter = tracing()
    outbox: list[list[tuple[str, bytes]]] = []
    hub = hub_app(provider, ordering_app(provider, outbox))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=hub), base_url="http://hub"
    ) as app:
        assert (await app.post("/v1/checkout")).status_code == 200
    (headers,) = outbox
    with telemetry.consuming(provider, TOPIC, headers, group="qsr-default-loyalty", offset=7):
        pass
    return list(exporter.get_finished_spans()), headers


async def test_checkout_to_accrual_is_one_trace() -> None:
    spans, _ = await checkout_then_accrue()
    names = [span.name for span in spans]
    assert "POST /v1/checkout" in names and f"process {TOPIC}" in names
    assert len({span.context.trace_id for span in spans}) == 1


async def test_kafka_record_carries_the_producer_span_as_traceparent() -> None:
    spans, headers = await checkout_then_accrue()
    (producer,) = [s for s in spans if s.kind == SpanKind.PRODUCER]
    traceparent = dict(headers)["traceparent"].decode()
    version, trace_id, parent_id, flags = traceparent.split("-")
    assert (version, trace_id, parent_id) == (
        "00",
        format_trace_id(producer.context.trace_id),
        format_span_id(producer.context.span_id),
    )
    assert int(flags, 16) & 0x01  # sampled


async def test_consumer_span_is_a_child_of_the_producer_span() -> None:
    spans, _ = await checkout_then_accrue()
    (producer,) = [s for s in spans if s.kind == SpanKind.PRODUCER]
    (consumer,) = [s for s in spans if s.kind == SpanKind.CONSUMER]
    assert consumer.parent is not None
    assert consumer.parent.span_id == producer.context.span_id
    assert consumer.name == f"process {TOPIC}"
    assert consumer.attributes is not None
    assert consumer.attributes["messaging.system"] == "kafka"
    assert consumer.attributes["messaging.consumer.group.name"] == "qsr-default-loyalty"


async def test_downstream_request_span_is_a_child_of_the_client_span() -> None:
    spans, _ = await checkout_then_accrue()
    (client,) = [s for s in spans if s.kind == SpanKind.CLIENT]
    (ordering,) = [s for s in spans if s.name == "POST /v1/orders"]
    assert ordering.parent is not None
    assert ordering.parent.span_id == client.context.span_id


def test_inject_replaces_stale_trace_headers() -> None:
    provider, _ = tracing()
    stale = [("traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01"), ("k", b"v")]
    with provider.get_tracer("t").start_as_current_span("republish") as span:
        headers = telemetry.inject_headers(stale)
    assert [k for k, _ in headers].count("traceparent") == 1
    assert (
        format_trace_id(span.get_span_context().trace_id) in dict(headers)["traceparent"].decode()
    )
    assert ("k", b"v") in headers


def test_headers_without_traceparent_start_a_new_trace() -> None:
    provider, exporter = tracing()
    with telemetry.consuming(provider, TOPIC, [("other", b"x")], group="g"):
        pass
    (span,) = exporter.get_finished_spans()
    assert span.parent is None


def test_traceparent_round_trips_through_the_event_envelope_value() -> None:
    provider, exporter = tracing()
    with provider.get_tracer("t").start_as_current_span("outer"):
        value = telemetry.current_traceparent()
    assert value is not None
    with provider.get_tracer("t").start_as_current_span(
        "inner", context=telemetry.context_from_traceparent(value)
    ):
        pass
    outer, inner = exporter.get_finished_spans()
    assert inner.context.trace_id == outer.context.trace_id


async def test_sql_statements_become_child_spans() -> None:
    provider, exporter = tracing()
    engine = create_async_engine("sqlite+aiosqlite://")
    telemetry.instrument_engine(engine, provider)
    try:
        with provider.get_tracer("t").start_as_current_span("request") as request:
            async with engine.connect() as connection:
                assert (await connection.execute(sa.text("select 1"))).scalar() == 1
    finally:
        await engine.dispose()
    sql = [
        s
        for s in exporter.get_finished_spans()
        if s.attributes and "db.system" in str(dict(s.attributes))
    ]
    assert sql
    assert all(
        s.parent is not None and s.parent.span_id == request.get_span_context().span_id for s in sql
    )


def test_service_name_comes_from_otel_service_name() -> None:
    provider = telemetry.configure_tracing(
        "fallback",
        environ={"OTEL_SERVICE_NAME": "qsr-hub", "OTEL_TRACES_EXPORTER": "none"},
        set_global=False,
    )
    assert provider.resource.attributes["service.name"] == "qsr-hub"


def test_otlp_export_follows_the_standard_endpoint_variable() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = telemetry.configure_tracing(
        "x", environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, set_global=False
    )
    try:
        # The SDK keeps processors on a private multiplexer; nothing public lists them.
        processors = provider._active_span_processor._span_processors
        assert [type(p.span_exporter) for p in processors] == [OTLPSpanExporter]  # type: ignore[attr-defined]
    finally:
        provider.shutdown()


def test_no_exporter_without_an_endpoint_or_when_disabled() -> None:
    for environ in (
        {},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"},
    ):
        provider = telemetry.configure_tracing("x", environ=environ, set_global=False)
        assert provider._active_span_processor._span_processors == ()


def test_json_log_lines_carry_trace_and_span_ids() -> None:
    provider, _ = tracing()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(telemetry.JsonFormatter())
    logger = logging.getLogger("qsr.test.telemetry")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with provider.get_tracer("t").start_as_current_span("work") as span:
            logger.warning("store %s offline", "store-0001", extra={"store_id": "store-0001"})
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    context = span.get_span_context()
    assert line["trace_id"] == format_trace_id(context.trace_id)
    assert line["span_id"] == format_span_id(context.span_id)
    assert line["message"] == "store store-0001 offline"
    assert line["level"] == "warning"
    assert line["store_id"] == "store-0001"


def test_json_log_lines_outside_a_span_have_no_trace_id() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain", None, None)
    line = json.loads(telemetry.JsonFormatter().format(record))
    assert "trace_id" not in line
    assert line["message"] == "plain"


def test_reconcile_span_names_the_object_and_parents_nested_calls() -> None:
    provider, exporter = tracing()
    with telemetry.reconciling(
        provider, kind="LoyaltyProgram", namespace="brand-a", name="crispin-rewards", generation=3
    ) as span:
        span.set_attribute("qsr.reconcile.result", "success")
        with provider.get_tracer("t").start_as_current_span("PATCH deployments"):
            pass
    child, parent = exporter.get_finished_spans()
    assert parent.name == "reconcile LoyaltyProgram"
    assert parent.attributes is not None
    assert parent.attributes["k8s.namespace.name"] == "brand-a"
    assert parent.attributes["k8s.object.generation"] == 3
    assert child.parent is not None and child.parent.span_id == parent.context.span_id
