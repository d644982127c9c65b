"""OpenTelemetry for every service and the operator: tracer provider from the standard OTEL_*
variables, instrumentation hooks (FastAPI, httpx, SQLAlchemy), W3C `traceparent` in Kafka headers,
and JSON log lines that carry the current trace and span ids.

Entry modules call `configure_tracing()` and `configure_logging()` once at startup (lifespan) and
pass the provider to the `instrument_*` hooks; tests pass an in-memory exporter instead.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind

if TYPE_CHECKING:
    import fastapi
    import httpx
    from sqlalchemy.ext.asyncio import AsyncEngine

Headers = Sequence[tuple[str, bytes]]

# Probes and scrapes would drown the real traffic in traces.
EXCLUDED_URLS = "healthz,readyz,metrics"
TRACE_HEADERS = ("traceparent", "tracestate")
INSTRUMENTATION = "qsr_kit"


def configure_tracing(
    service_name: str,
    *,
    exporter: SpanExporter | None = None,
    environ: Mapping[str, str] | None = None,
    set_global: bool = True,
) -> TracerProvider:
    """A tracer provider configured the standard way.

    OTEL_SERVICE_NAME (else `service_name`) and OTEL_RESOURCE_ATTRIBUTES name the resource;
    OTEL_TRACES_SAMPLER(_ARG) pick the sampler (the SDK reads them); spans go to `exporter`
    when given (tests), to OTLP/HTTP when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set, nowhere
    when OTEL_TRACES_EXPORTER=none or no endpoint is configured.
    """
    env = os.environ if environ is None else environ
    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or service_name})
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        # Synchronous export: a test sees every span as soon as it ends.
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif _otlp_wanted(env):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if set_global:
        trace.set_tracer_provider(provider)
    return provider


def _otlp_wanted(env: Mapping[str, str]) -> bool:
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return bool(
        env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


# --- instrumentation hooks ------------------------------------------------------------------


def instrument_app(app: fastapi.FastAPI, provider: TracerProvider) -> None:
    """Server spans for every route (route template as the span name), probes excluded, and no
    per-message ASGI send/receive spans (noise at one or more per request)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=EXCLUDED_URLS,
        exclude_spans=["receive", "send"],
    )


def instrument_http_client(client: httpx.AsyncClient, provider: TracerProvider) -> None:
    """Client spans for calls through `client`, with `traceparent` injected into the request."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)


def instrument_engine(engine: AsyncEngine, provider: TracerProvider) -> None:
    """A span per SQL statement on `engine` (the async engine's sync core is what executes)."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # The instrumentation declares sqlalchemy < 2.1 but only hooks the stable cursor-execute
    # events, which 2.1 keeps; tests/qsr_kit/test_telemetry.py proves the spans appear.
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine,
        tracer_provider=provider,
        enable_commenter=False,
        skip_dep_check=True,
    )


# --- Kafka: traceparent in headers, messaging spans ------------------------------------------


def inject_headers(
    headers: Headers = (), *, context: Context | None = None
) -> list[tuple[str, bytes]]:
    """`headers` plus the W3C `traceparent`/`tracestate` of `context` (default: the current one).

    Existing trace headers are replaced, so a re-published record carries the new parent.
    """
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    kept = [(k, v) for k, v in headers if k not in TRACE_HEADERS]
    return kept + [(key, value.encode()) for key, value in carrier.items()]


def extract_context(headers: Headers) -> Context:
    """The remote parent carried in Kafka headers (an empty context when there is none)."""
    carrier = {key: value.decode("latin-1") for key, value in headers if key in TRACE_HEADERS}
    return propagate.extract(carrier)


def current_traceparent() -> str | None:
    """The current span as a `traceparent` value, for the CloudEvents envelope extension."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None) -> Context:
    return propagate.extract({"traceparent": traceparent} if traceparent else {})


@contextlib.contextmanager
def producing(
    provider: TracerProvider, topic: str, *, key: bytes | None = None
) -> Iterator[trace.Span]:
    """A PRODUCER span `send <topic>` (messaging semconv); inject headers inside it."""
    tracer = provider.get_tracer(INSTRUMENTATION)
    with tracer.start_as_current_span(
        f"send {topic}", kind=SpanKind.PRODUCER, attributes=_messaging(topic, "send", key)
    ) as span:
        yield span


@contextlib.contextmanager
def consuming(
    provider: TracerProvider,
    topic: str,
    headers: Headers,
    *,
    group: str,
    key: bytes | None = None,
    partition: int | None = None,
    offset: int | None = None,
) -> Iterator[trace.Span]:
    """A CONSUMER span `process <topic>` whose parent is the producer's, from the headers."""
    tracer = provider.get_tracer(INSTRUMENTATION)
    attributes = _messaging(topic, "process", key)
    attributes["messaging.consumer.group.name"] = group
    if partition is not None:
        attributes["messaging.destination.partition.id"] = str(partition)
    if offset is not None:
        attributes["messaging.kafka.offset"] = offset
    with tracer.start_as_current_span(
        f"process {topic}",
        context=extract_context(headers),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    ) as span:
        yield span


@contextlib.contextmanager
def reconciling(
    provider: TracerProvider, *, kind: str, namespace: str, name: str, generation: int | None
) -> Iterator[trace.Span]:
    """The operator's span around one reconcile; Kubernetes and Kafka admin calls nest in it.

    The caller sets `qsr.reconcile.result` on the span before leaving (success, error, paused).
    """
    tracer = provider.get_tracer(INSTRUMENTATION)
    attributes: dict[str, Any] = {
        "k8s.namespace.name": namespace,
        "qsr.resource.kind": kind,
        "qsr.resource.name": name,
    }
    if generation is not None:
        attributes["k8s.object.generation"] = generation
    with tracer.start_as_current_span(f"reconcile {kind}", attributes=attributes) as span:
        yield span


def _messaging(topic: str, operation: str, key: bytes | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
    }
    if key is not None:
        attributes["messaging.kafka.message.key"] = key.decode("utf-8", "replace")
    return attributes


# --- logs ----------------------------------------------------------------------------------

_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, trace/span ids, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            line["trace_id"] = trace.format_trace_id(span.trace_id)
            line["span_id"] = trace.format_span_id(span.span_id)
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                line[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(*, level: int | str = logging.INFO, fmt: str | None = None) -> None:
    """Root logging as JSON (QSR_LOG_FORMAT=json, the chart's default) or plain text."""
    chosen = (fmt or os.environ.get("QSR_LOG_FORMAT", "text")).lower()
    handler = logging.StreamHandler()
    if chosen == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
