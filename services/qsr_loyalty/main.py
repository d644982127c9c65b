"""The loyalty app factory: `qsr serve loyalty` and `qsr run` call `create_app()`.

The lifespan owns the engine, the publisher (Kafka, or the in-process bus in the embedded mode),
the outbox relay, the order consumer and the sweep job; settings and the clock are passed in.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response

from qsr_kit import auth, bus, consuming, db, http, idempotency, kafka, kafka_clients, outbox
from qsr_kit.domain import payloads, topics
from qsr_loyalty import api, consumers, program, redemptions, retiering, seeding, tables
from qsr_loyalty.domain import errors
from qsr_loyalty.settings import Settings

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = _utcnow,
    issuer: auth.LocalIssuer | None = None,
    event_bus: bus.InProcessBus | None = None,
) -> FastAPI:
    """The loyalty service. Without `jwks_url` tokens come from a local dev issuer (embedded)."""
    settings = settings or Settings()
    app = http.service_app(title="qsr-loyalty", lifespan=_lifespan)
    app.state.loyalty_settings = settings
    app.state.loyalty_program = program.load(
        settings.config_dir, name=settings.program, namespace=settings.namespace
    )
    app.state.loyalty_clock = clock
    app.state.loyalty_bus = event_bus or bus.InProcessBus()
    app.add_exception_handler(errors.LoyaltyError, _problem)
    if settings.jwks_url:
        client = httpx.AsyncClient(timeout=5.0)
        app.state.loyalty_http = client
        verifier = auth.Verifier.remote(
            settings.jwks_url, client=client, issuer=settings.issuer, audience=settings.audience
        )
    else:
        issuer = issuer or auth.LocalIssuer(issuer=settings.issuer, audience=settings.audience)
        app.state.loyalty_dev_issuer = issuer
        verifier = auth.Verifier.static(
            issuer.jwks(), issuer=settings.issuer, audience=settings.audience
        )
    auth.install(app, verifier)
    app.include_router(api.router)
    return app


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.LoyaltyError)
    extra = {"field": exc.field} if exc.field else {}
    slug = type(exc).__name__.lower()
    return http.problem(
        exc.status,
        title=exc.title,
        detail=exc.detail,
        type_=f"https://qsr.io/problems/{slug}",
        **extra,
    )


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.loyalty_settings
    served: program.Program = app.state.loyalty_program
    engine = db.engine_from_url(settings.database_url)
    await db.migrate(engine, version_locations=[MIGRATIONS], target_metadata=[tables.metadata])
    sessions = db.sessionmaker_of(engine)
    app.state.loyalty_sessions = sessions
    idempotency.attach(app, idempotency.Store(sessions))
    http.add_readiness_check(app, "db", lambda: db.ping(engine))
    registry = http.registry_of(app)
    producer = kafka.producer(settings.kafka_bootstrap) if settings.kafka_bootstrap else None
    publisher: bus.Publisher = app.state.loyalty_bus
    if producer is not None:
        await kafka_clients.start(producer)
        publisher = kafka.KafkaPublisher(producer)
    relay = outbox.Relay(engine, publisher, registry=registry)
    app.state.loyalty_relay = relay
    metrics_of_orders = consumers.Metrics.on(registry)
    consumer_engine = consumers.engine_for(engine, settings.database_url)
    processor = consuming.Processor(
        group=settings.consumer_group,
        sessions=db.sessionmaker_of(consumer_engine),
        handler=consumers.handler(served, metrics_of_orders),
        batch_handler=consumers.batch_handler(served, metrics_of_orders),
        driver_handler=consumers.driver_handler(served, metrics_of_orders),
        registry=payloads.REGISTRY,
        publisher=publisher,
        metrics=consuming.Metrics(registry),
    )
    app.state.loyalty_processor = processor
    if settings.seed:
        await seeding.seed(sessions, served, processor, now=app.state.loyalty_clock())
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(relay.run(stop)),
        asyncio.create_task(_sweeping(app, stop)),
    ]
    retier = retiering.run(sessions, served, clock=app.state.loyalty_clock, stop=stop)
    app.state.loyalty_retiering = asyncio.create_task(retier)  # a new program re-tiers everyone
    tasks.append(app.state.loyalty_retiering)
    if settings.consume:
        orders = topics.Topic(served.orders_topic)
        if settings.kafka_bootstrap:
            # one event per transaction either way in one-by-one mode (`process_each` parses the
            # next records while the current transaction waits on the database)
            mode: dict[str, Any] = {
                "process_batch": (
                    processor.process_batch if settings.consume_batch else processor.process_each
                )
            }
            consume = kafka.run_consumer(
                stop=stop, bootstrap=settings.kafka_bootstrap, group_id=processor.group,
                topic_names=[orders, topics.retry_of(orders)], metrics=processor.metrics,
                max_records=consumers.MAX_RECORDS, **mode,
            )  # fmt: skip
            tasks.append(asyncio.create_task(consume))
        else:
            for topic in (orders, topics.retry_of(orders)):
                app.state.loyalty_bus.subscribe(topic, _subscriber(processor))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if producer is not None:
            await producer.stop()
        client: httpx.AsyncClient | None = getattr(app.state, "loyalty_http", None)
        if client is not None:
            await client.aclose()
        await processor.aclose()
        await consumer_engine.dispose()
        await engine.dispose()


def _subscriber(processor: consuming.Processor) -> bus.Subscriber:
    async def deliver(record: bus.Record) -> None:
        await processor.process(record)

    return deliver


async def _sweeping(app: FastAPI, stop: asyncio.Event) -> None:
    """Expire due lots and release stale holds every `sweep_seconds`."""
    settings: Settings = app.state.loyalty_settings
    clock: Clock = app.state.loyalty_clock
    while not stop.is_set():
        try:
            await redemptions.sweep(
                app.state.loyalty_sessions, app.state.loyalty_program, now=clock()
            )
        except Exception:
            log.exception("loyalty sweep failed; next round in %s s", settings.sweep_seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.sweep_seconds)
