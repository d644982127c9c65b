"""App factory for `qsr serve hub-ingest`: the POS webhook route alone, in a process of its own,
so a vendor's 2xx does not wait behind checkouts in the hub's event loop. It verifies,
validates and keeps (same checks, answers and rows as the hub's route); the hub's POS worker
transforms what it keeps (docs/hub.md, "The webhook's budget")."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import Response

from qsr_hub import pos_ingest, tables
from qsr_hub.config import Config, MissingSecret, UnknownStore, store_feed
from qsr_hub.domain import pos, signatures
from qsr_hub.settings import HubSettings
from qsr_kit import db, http


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: HubSettings | None = None, *, clock: Callable[[], datetime] = _utcnow
) -> FastAPI:
    config = settings or HubSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if config.migrate:  # on a transactional engine: the migration lock lasts its transaction
            migrating = db.engine_from_url(config.database_url, pool_size=1)
            try:
                await db.migrate(
                    migrating,
                    version_locations=[tables.MIGRATIONS],
                    target_metadata=[tables.metadata],
                )
            finally:
                await migrating.dispose()
        engine = pos_ingest.engine_of(config.database_url, pool_size=config.pos_ingest_pool_size)
        http.add_readiness_check(app, "db", lambda: db.ping(engine))
        app.state.sessions = db.sessionmaker_of(engine)
        app.state.config = Config.from_folder(config.config_dir)
        feed, stop = store_feed(config, app.state.config), asyncio.Event()
        if feed:
            http.add_readiness_check(app, "store-feed", feed.check)
        following = asyncio.create_task(feed.run(stop)) if feed else None
        try:
            yield
        finally:
            stop.set()
            if following:
                await following
            await engine.dispose()

    app = http.service_app(
        title="qsr hub POS ingest",
        lifespan=lifespan,
        domain_errors={UnknownStore: 404, MissingSecret: 503},
    )
    install_pos_problems(app)

    @app.post("/v1/pos/{store_id}/events", status_code=202)
    async def pos_event(
        store_id: str,
        request: Request,
        timestamp: str | None = Header(default=None, alias=signatures.TIMESTAMP_HEADER),
        signature: str | None = Header(default=None, alias=signatures.SIGNATURE_HEADER),
    ) -> dict[str, Any]:
        receipt = await pos_ingest.receive(
            request.app.state.sessions,
            request.app.state.config,
            store_id=store_id,
            raw=await request.body(),
            timestamp=timestamp,
            signature=signature,
            now=clock(),
        )
        return {"eventId": receipt.id, "duplicate": receipt.duplicate}

    return app


def install_pos_problems(app: FastAPI) -> None:
    """A bad signature is a 401, a body we cannot read a 400 (kept), each naming the field."""
    app.add_exception_handler(signatures.SignatureError, _signature_problem)
    app.add_exception_handler(pos_ingest.Rejected, _rejected_problem)


def _signature_problem(request: Request, error: Exception) -> Response:
    assert isinstance(error, signatures.SignatureError)
    return http.problem(
        401,
        title="Unauthorized",
        detail=str(error),
        type_="https://qsr.io/problems/webhook-signature",
        errors=[{"field": error.field, "message": error.reason}],
    )


def _rejected_problem(request: Request, error: Exception) -> Response:
    assert isinstance(error, pos_ingest.Rejected)
    payload_error: pos.PayloadError = error.error
    return http.problem(
        400,
        title="Bad Request",
        detail=str(payload_error),
        type_="https://qsr.io/problems/pos-payload",
        errors=[{"field": payload_error.field, "message": payload_error.reason}],
        keptAs=error.event_id,
    )
