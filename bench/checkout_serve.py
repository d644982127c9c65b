"""One app of the checkout benchmark in its own uvicorn process, served as `qsr serve` does, except
that hub and ordering trust the bench's issuer (`QSR_BENCH_JWKS`, `QSR_BENCH_SERVICE_TOKEN`)
instead of an identity service. `python -m bench.checkout_serve APP --port PORT`; started and
stopped by pid by `bench.checkout`."""

from __future__ import annotations

import argparse
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI

from qsr_kit import auth, db, telemetry

APPS = ("hub", "hub-ingest", "ordering", "baseline", "cardsim", "cms")


def _verifier() -> auth.Verifier:
    return auth.Verifier.static(
        json.loads(os.environ["QSR_BENCH_JWKS"]),
        issuer=os.environ["QSR_BENCH_ISSUER"],
        audience=os.environ["QSR_BENCH_AUDIENCE"],
    )


def baseline_app(url: str) -> FastAPI:
    """What the issue names as the baseline: a bare FastAPI endpoint doing one insert, on an
    engine with the hub's and ordering's settings (`qsr_kit.db.engine_from_url`, pool 10 + 10)."""
    engine = db.engine_from_url(url, pool_size=10)
    table = sa.Table(
        "bench_rows",
        sa.MetaData(),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("body", sa.Text()),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/rows")
    async def insert(body: dict[str, Any]) -> dict[str, str]:
        row_id = uuid.uuid4().hex
        async with engine.begin() as conn:
            await conn.execute(sa.insert(table).values(id=row_id, body=json.dumps(body)))
        return {"id": row_id}

    return app


def app_of(name: str) -> Any:
    if name == "hub":
        from qsr_hub import main as hub_main

        token = os.environ["QSR_BENCH_SERVICE_TOKEN"]

        async def service_token() -> str:
            return token

        return hub_main.create_app(verifier=_verifier(), service_token=service_token)
    if name == "hub-ingest":
        from qsr_hub import ingest_main

        return ingest_main.create_app()
    if name == "ordering":
        from qsr_ordering import main as ordering_main

        return ordering_main.create_app(verifier=_verifier())
    if name == "baseline":
        return baseline_app(os.environ["QSR_BENCH_BASELINE_URL"])
    if name == "cardsim":
        from qsr_hub.simulators import cardsim

        return cardsim.create_app()
    from qsr_hub.simulators import cms

    return cms.create_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=APPS)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import uvicorn

    app = app_of(args.app)
    if args.app in ("hub", "hub-ingest", "ordering"):
        # As `qsr serve` (services/qsr_cli/serve.py): the same logging, tracing and uvicorn call.
        telemetry.configure_logging()
        telemetry.instrument_app(app, telemetry.configure_tracing(f"qsr-{args.app}"))
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None)
    else:  # the bare baseline and the simulators of outside systems: no access log, no tracing
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
