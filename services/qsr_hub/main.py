"""App factory for `qsr serve hub`: settings → lifespan-owned database, spokes, saga runner,
POS worker, outbox relay and the orders-stream consumer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from qsr_hub import api, consumers, ingest_main, pos_ingest, saga_store, tables
from qsr_hub.checkout import Runner
from qsr_hub.config import Config, MissingSecret, UnknownStore, store_feed
from qsr_hub.deps import Hub
from qsr_hub.domain import breaker
from qsr_hub.executing import Executor, Spokes
from qsr_hub.saga_store import SagaStore
from qsr_hub.settings import HubSettings
from qsr_hub.spokes import ports
from qsr_hub.spokes.guard import Guard, Policy
from qsr_hub.spokes.loyalty_native import NativeLoyalty
from qsr_hub.spokes.loyalty_paytronix import PaytronixLoyalty
from qsr_hub.spokes.menu_http import CmsMenus
from qsr_hub.spokes.ordering_http import OrderingClient
from qsr_hub.spokes.payments_http import CardProcessor
from qsr_hub.spokes.tokens import ClientCredentials, TokenSource
from qsr_kit import auth, bus, consuming, db, http, kafka, kafka_clients, outbox
from qsr_kit.domain import payloads, specs, topics

log = logging.getLogger(__name__)
# How long shutdown waits for workers (a Kafka consumer leaving its group, a spoke call) to end.
SHUTDOWN_GRACE_SECONDS = 10.0
# How long the POS worker lets webhooks gather after a wake-up before one pass transforms them.
POS_BATCH_WINDOW_SECONDS = 0.1


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: HubSettings | None = None,
    *,
    verifier: auth.Verifier | None = None,
    service_token: TokenSource | None = None,
    publisher: bus.Publisher | None = None,
    clock: Callable[[], datetime] = _utcnow,
    mounts: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """`mounts` routes some base URLs to in-process transports (embedded mode: one process)."""
    config = settings or HubSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = db.engine_from_url(config.database_url, pool_size=config.db_pool_size)
        if config.migrate:
            await db.migrate(
                engine, version_locations=[tables.MIGRATIONS], target_metadata=[tables.metadata]
            )
        sessions = db.sessionmaker_of(engine)
        # The webhook's own small pool: its insert never queues behind saga/worker transactions.
        ingest_engine = pos_ingest.engine_of(
            config.database_url, pool_size=config.pos_ingest_pool_size
        )
        saga_engine = saga_store.engine_of(config.database_url, pool_size=config.saga_pool_size)
        http.add_readiness_check(app, "db", lambda: db.ping(engine))
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        async with contextlib.AsyncExitStack() as stack:
            client = await stack.enter_async_context(
                httpx.AsyncClient(timeout=config.spoke_timeout_seconds + 1, mounts=mounts)
            )
            auth.install(app, verifier or _remote_verifier(config, client))
            token = service_token or _client_credentials(config, client)
            ingest = db.sessionmaker_of(ingest_engine)
            statements = db.sessionmaker_of(saga_engine) if saga_engine else None
            hub = _hub(config, (sessions, statements), ingest, client, token, clock)
            app.state.hub = hub
            events_out = await _publisher(stack, publisher, config)
            relay = outbox.Relay(engine, events_out) if events_out else None
            processor = consuming.Processor(
                group="hub",
                sessions=sessions,
                handler=consumers.handler(hub.runner, hub.config, hub.loyalty_for_program),
                registry=payloads.REGISTRY,
                publisher=events_out or bus.InProcessBus(),
            )
            order_topics = [_orders_topic(config, name) for name in hub.config.programs]
            subscriber = _ignore_outcome(processor.process)
            if isinstance(publisher, bus.InProcessBus):
                for topic in order_topics:
                    publisher.subscribe(topic, subscriber)
            spawn = _spawner(tasks)
            feed = store_feed(config, hub.config)
            if feed:
                http.add_readiness_check(app, "store-feed", feed.check)
                spawn(feed.run(stop))
            spawn(hub.runner.run_resumer(stop, every=config.resume_every_seconds))
            spawn(_pos_worker(hub, relay, stop))
            if relay:
                spawn(relay.run(stop))
            if config.kafka_bootstrap and not isinstance(publisher, bus.InProcessBus):
                spawn(
                    kafka.consume(
                        bootstrap=config.kafka_bootstrap,
                        group_id="hub",
                        topic_names=[
                            *order_topics,
                            *(topics.retry_of(topics.Topic(t)) for t in order_topics),
                        ],
                        process=processor.process,
                        stop=stop,
                    )
                )
            try:
                yield
            finally:
                # Let the workers finish their current transaction; cancel only what still hangs
                # on a spoke after the grace period (its saga lease lapses; another runner resumes).
                if isinstance(publisher, bus.InProcessBus):
                    for topic in order_topics:
                        publisher.subscribers[topic].remove(subscriber)
                stop.set()
                hub.pos_wakeup.set()
                hub.runner.kick()
                _, hanging = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
                for task in hanging:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await _dispose(engine)
                await _dispose(ingest_engine)
                if saga_engine:
                    await _dispose(saga_engine)

    app = http.service_app(
        title="qsr hub",
        lifespan=lifespan,
        domain_errors={
            UnknownStore: 404,
            MissingSecret: 503,
            ports.SpokeUnavailable: 503,
            ports.SpokeRefused: 404,
        },
    )
    ingest_main.install_pos_problems(app)
    app.include_router(api.router)
    return app


def _hub(
    config: HubSettings,
    pools: tuple[Any, Any | None],
    pos_sessions: Any,
    client: httpx.AsyncClient,
    token: TokenSource,
    clock: Callable[[], datetime],
) -> Hub:
    sessions, statements = pools  # transactional; the saga store's single statements
    spec = Config.from_folder(config.config_dir)
    policy = Policy(
        timeout=config.spoke_timeout_seconds,
        breaker=breaker.Settings(open_seconds=config.breaker_open_seconds),
    )
    ordering = OrderingClient(
        client, base_url=config.ordering_url, token=token, guard=Guard("ordering", policy)
    )
    payment_guard = Guard("payments", policy)
    payments: dict[str, ports.PaymentSpoke] = {}
    loyalties: dict[str, ports.LoyaltySpoke] = {}

    def payments_for(store: specs.StoreIntegrationSpec) -> ports.PaymentSpoke:
        if store.store_id not in payments:
            api_key = spec.secret(store.payment.secret_ref)
            payments[store.store_id] = CardProcessor(
                client, base_url=config.payments_url, api_key=api_key, guard=payment_guard
            )
        return payments[store.store_id]

    def loyalty_for_program(name: str) -> ports.LoyaltySpoke:
        if name not in loyalties:
            provider = spec.programs[name].provider
            if provider.type is specs.ProviderType.EXTERNAL:
                url = provider.endpoint or config.external_loyalty_url
                loyalties[name] = PaytronixLoyalty(
                    client, base_url=url, guard=Guard(f"loyalty-{name}", policy)
                )
            else:
                loyalties[name] = NativeLoyalty(
                    client,
                    base_url=config.loyalty_url,
                    token=token,
                    guard=Guard(f"loyalty-{name}", policy),
                )
        return loyalties[name]

    spokes = Spokes(
        config=spec,
        ordering=ordering,
        payments_for=payments_for,
        loyalty_for=lambda store: loyalty_for_program(store.program_ref.name),
    )
    lease = timedelta(seconds=config.saga_lease_seconds)
    store = SagaStore(sessions, lease=lease, statements=statements)
    runner = Runner(
        store,
        Executor(spokes),
        clock=clock,
        retry_after=timedelta(seconds=config.saga_retry_seconds),
    )
    return Hub(
        sessions=sessions,
        config=spec,
        namespace=config.namespace,
        sagas=store,
        runner=runner,
        ordering=ordering,
        menus=CmsMenus(client, base_url=config.cms_url, guard=Guard("cms", policy)),
        loyalty_for_program=loyalty_for_program,
        clock=clock,
        pos_wakeup=asyncio.Event(),
        pos_sessions=pos_sessions,
    )


async def _pos_worker(
    hub: Hub, relay: outbox.Relay | None, stop: asyncio.Event, *, batch: int = 100
) -> None:
    """Transforms kept webhooks off the request path: one pass per wake-up (or every 0.5 s)
    handles everything received since, up to `batch` per pass, so a burst of webhooks costs one
    scan and one relay round instead of one each, and the webhook route only ever inserts."""
    while not stop.is_set():
        try:
            done = await pos_ingest.process_pending(
                hub.sessions, hub.config, namespace=hub.namespace, now=hub.clock(), limit=batch
            )
            if done and relay:
                relay.notify()
            if done >= batch:
                continue  # more are waiting
        except Exception:  # a bad row or a database hiccup must not stop ingest; retried next pass
            log.exception("POS worker pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hub.pos_wakeup.wait(), timeout=0.5)
        hub.pos_wakeup.clear()
        # Webhooks arriving together share the next pass rather than waking it one by one.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=POS_BATCH_WINDOW_SECONDS)


def _spawner(tasks: list[asyncio.Task[None]]) -> Callable[[Coroutine[Any, Any, None]], None]:
    def spawn(work: Coroutine[Any, Any, None]) -> None:
        tasks.append(asyncio.create_task(work))

    return spawn


def _ignore_outcome(process: Callable[[bus.Record], Any]) -> bus.Subscriber:
    async def subscriber(record: bus.Record) -> None:
        await process(record)

    return subscriber


def _orders_topic(config: HubSettings, program: str) -> str:
    return topics.topic_name(
        namespace=config.namespace, program=program, stream=topics.Stream.ORDERS
    )


async def _publisher(
    stack: contextlib.AsyncExitStack, publisher: bus.Publisher | None, config: HubSettings
) -> bus.Publisher | None:
    if publisher is None and config.kafka_bootstrap:
        producer = kafka.producer(config.kafka_bootstrap, client_id="qsr-hub")
        await kafka_clients.start(producer)
        stack.push_async_callback(producer.stop)
        return kafka.KafkaPublisher(producer)
    return publisher


async def _dispose(engine: AsyncEngine) -> None:
    await engine.dispose()


def _remote_verifier(config: HubSettings, client: httpx.AsyncClient) -> auth.Verifier:
    if not config.jwks_url:
        raise ValueError("jwks_url: required unless a verifier is passed in")
    return auth.Verifier.remote(
        config.jwks_url, client=client, issuer=config.issuer, audience=config.audience
    )


def _client_credentials(config: HubSettings, client: httpx.AsyncClient) -> TokenSource:
    if not config.token_url or config.client_secret is None:
        raise ValueError("token_url, client_secret: required unless a service token is passed in")
    return ClientCredentials(
        client,
        token_url=config.token_url,
        client_id=config.client_id,
        client_secret=config.client_secret.get_secret_value(),
        scope="orders:read orders:write store:write loyalty:read loyalty:redeem",
    )
