"""App factory for `qsr serve ordering`: settings → lifespan-owned database, menus, relay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from qsr_kit import auth, bus, db, http, idempotency, kafka, kafka_clients, outbox, storefeed
from qsr_ordering import api, placing, progressing, tables
from qsr_ordering.deps import Ordering
from qsr_ordering.domain import errors
from qsr_ordering.menus import CmsMenus, MenuUnavailable
from qsr_ordering.settings import OrderingSettings
from qsr_ordering.stores import Stores, UnknownStore

_STATUS = {
    errors.InvalidCart: 422,
    errors.ChannelNotOffered: 422,
    errors.InvalidRefund: 422,
    errors.StoreClosed: 409,
    errors.StorePaused: 409,
    errors.SlotFull: 409,
    errors.IllegalTransition: 409,
    placing.OrderExists: 409,
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: OrderingSettings | None = None,
    *,
    verifier: auth.Verifier | None = None,
    publisher: bus.Publisher | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> FastAPI:
    config = settings or OrderingSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = db.engine_from_url(config.database_url, pool_size=config.db_pool_size)
        if config.migrate:
            await db.migrate(
                engine, version_locations=[tables.MIGRATIONS], target_metadata=[tables.metadata]
            )
        sessions = db.sessionmaker_of(engine)
        idempotency.attach(app, idempotency.Store(sessions))
        http.add_readiness_check(app, "db", lambda: db.ping(engine))
        stop = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=5.0))
            auth.install(app, verifier or _remote_verifier(config, client))
            relay = await _relay(stack, engine, publisher, config)
            stores = Stores.from_folder(config.config_dir)
            app.state.ordering = Ordering(
                sessions=sessions,
                stores=stores,
                menus=CmsMenus(client, base_url=config.menu_url, ttl=config.menu_ttl_seconds),
                namespace=config.namespace,
                clock=clock,
                notify=relay.notify if relay else (lambda: None),
            )
            task = asyncio.create_task(relay.run(stop)) if relay else None
            feed = _store_feed(app, config, stores, stop)
            try:
                yield
            finally:
                stop.set()
                if task:
                    await task
                if feed:
                    await feed
                await engine.dispose()

    app = http.service_app(
        title="qsr ordering",
        lifespan=lifespan,
        domain_errors={UnknownStore: 404, progressing.UnknownOrder: 404, MenuUnavailable: 503},
    )
    app.add_exception_handler(errors.OrderingError, _ordering_problem)
    app.include_router(api.router)
    return app


def _remote_verifier(config: OrderingSettings, client: httpx.AsyncClient) -> auth.Verifier:
    if not config.jwks_url:
        raise ValueError("jwks_url: required unless a verifier is passed in")
    return auth.Verifier.remote(
        config.jwks_url, client=client, issuer=config.issuer, audience=config.audience
    )


def _store_feed(
    app: FastAPI, config: OrderingSettings, stores: Stores, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    feed = storefeed.from_settings(
        bootstrap=config.kafka_bootstrap,
        topics=config.store_topics,
        upsert=stores.replace,
        remove=stores.remove,
        client_id="qsr-ordering-stores",
    )
    if feed is None:
        return None
    http.add_readiness_check(app, "store-feed", feed.check)
    return asyncio.create_task(feed.run(stop))


async def _relay(
    stack: contextlib.AsyncExitStack,
    engine: AsyncEngine,
    publisher: bus.Publisher | None,
    config: OrderingSettings,
) -> outbox.Relay | None:
    if publisher is None and config.kafka_bootstrap:
        producer = kafka.producer(config.kafka_bootstrap, client_id="qsr-ordering")
        await kafka_clients.start(producer)
        stack.push_async_callback(producer.stop)
        publisher = kafka.KafkaPublisher(producer)
    return outbox.Relay(engine, publisher) if publisher else None


def _ordering_problem(request: Request, error: Exception) -> Response:
    assert isinstance(error, errors.OrderingError)
    status = next((code for cls, code in _STATUS.items() if isinstance(error, cls)), 400)
    extra: dict[str, object] = {"code": error.code}
    if error.field:
        extra["errors"] = [{"field": error.field, "message": error.detail}]
    if isinstance(error, errors.SlotFull):
        extra["nextFreeSlots"] = [slot.isoformat() for slot in error.next_free]
    return http.problem(
        status,
        title=error.code.replace("-", " ").capitalize(),
        detail=error.detail,
        type_=f"https://qsr.io/problems/{error.code}",
        **extra,
    )
