"""Checkout throughput and latency: the hub's saga (ordering + card processor simulator, real
PostgreSQL) against a bare FastAPI endpoint doing one insert in the same database, same run, same
in-process HTTP harness; plus the POS webhook's 2xx latency while checkouts run.

    .venv/bin/python -m bench.checkout [--saturation-seconds 10] [--seconds 20] [--concurrency 8]\
        [--rounds 3]

Method: saturation = closed loop at `--concurrency` for `--saturation-seconds`; then an open loop
(constant arrival rate, half of saturation, latency measured from the scheduled send time so a
slow answer cannot hide queueing) for `--seconds`. Targets (issue 5): checkout p99 ≤ 4 x the
baseline's p99 at the same fraction of its own saturation; POS webhook p99 ≤ 200 ms under load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml
from fastapi import FastAPI

from qsr_devstack import testing
from qsr_hub import main as hub_main
from qsr_hub.domain import signatures
from qsr_hub.settings import HubSettings
from qsr_hub.simulators import cardsim, cms, pos_payloads
from qsr_hub.simulators.serving import Server
from qsr_kit import auth, bus, db
from qsr_kit.domain import specs
from qsr_ordering import main as ordering_main
from qsr_ordering.settings import OrderingSettings

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ISSUER, AUDIENCE = "https://identity.bench", "qsr-platform"
T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # Monday noon in Chicago: store-0001 is open
ORDERING = "http://ordering.internal"
Call = Callable[[int], Awaitable[httpx.Response]]


def clock() -> datetime:
    return T0 + timedelta(seconds=time.monotonic() % 600)  # stays inside opening hours


def config_dir(folder: Path) -> Path:
    for name in ("program.yaml", "stores.yaml", "secrets.yaml"):
        docs = [d for d in yaml.safe_load_all((EXAMPLES / name).read_text()) if d]
        for doc in docs:
            if doc["kind"] == "StoreIntegration":
                doc["spec"]["kitchen"]["ordersPerSlot"] = 10000
        (folder / name).write_text(yaml.safe_dump_all(docs))
    return folder


def baseline_app(url: str) -> FastAPI:
    """What the issue names as the baseline: a bare FastAPI endpoint doing one insert."""
    engine = db.engine_from_url(url, pool_size=10)
    table = sa.Table(
        "bench_rows",
        sa.MetaData(),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("body", sa.Text()),
    )
    app = FastAPI()
    app.state.engine = engine

    @app.post("/rows")
    async def insert(body: dict[str, Any]) -> dict[str, str]:
        row_id = uuid.uuid4().hex
        async with engine.begin() as conn:
            await conn.execute(sa.insert(table).values(id=row_id, body=json.dumps(body)))
        return {"id": row_id}

    async def create() -> None:
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)

    app.state.create = create
    return app


async def saturation(call: Call, *, concurrency: int, seconds: float) -> float:
    done = 0
    deadline = time.monotonic() + seconds

    async def worker(w: int) -> None:
        nonlocal done
        i = 0
        while time.monotonic() < deadline:
            response = await call(w * 1_000_000 + i)
            assert response.status_code < 300, response.text
            done += 1
            i += 1

    started = time.monotonic()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return done / (time.monotonic() - started)


async def open_loop(
    call: Call, *, rate: float, seconds: float, first: int
) -> tuple[list[float], int]:
    """Latencies (s) from each request's scheduled time, and how many failed. Requests are
    numbered from `first`, so every phase sends new Idempotency-Keys (not replays)."""
    total = max(1, int(rate * seconds))
    latencies: list[float] = []
    failures = 0
    start = time.monotonic()

    async def one(i: int) -> None:
        nonlocal failures
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
        response = await call(first + i)
        latencies.append(time.monotonic() - scheduled)
        failures += response.status_code >= 300

    await asyncio.gather(*(one(i) for i in range(total)))
    return latencies, failures


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def bench(args: argparse.Namespace, pg: testing.Postgres) -> None:
    run = uuid.uuid4().hex[:8]
    urls = {n: pg.create_database(f"bench_{n}_{run}") for n in ("ordering", "hub", "base")}
    issuer = auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE, lifetime_seconds=3600)
    verifier = auth.Verifier.static(issuer.jwks(), issuer=ISSUER, audience=AUDIENCE)
    service = issuer.issue(
        subject="svc",
        kind="service",
        scopes=["orders:read", "orders:write", "store:write"],
        now=time.time(),
    )
    guest = issuer.issue(subject="m-bench", kind="guest", scopes=["checkout"], now=time.time())

    async def service_token() -> str:
        return service

    with (
        tempfile.TemporaryDirectory() as tmp,
        Server(cardsim.create_app()) as cards,
        Server(cms.create_app()) as menu,
    ):
        config = config_dir(Path(tmp))
        events = bus.InProcessBus()
        ordering = ordering_main.create_app(
            OrderingSettings(
                database_url=urls["ordering"], config_dir=config, menu_url=menu.url,
                issuer=ISSUER, audience=AUDIENCE,
            ),
            verifier=verifier, publisher=events, clock=clock,
        )  # fmt: skip
        async with ordering.router.lifespan_context(ordering):
            mounts: dict[str, httpx.AsyncBaseTransport] = {
                ORDERING: httpx.ASGITransport(app=ordering)
            }
            hub = hub_main.create_app(
                HubSettings(
                    database_url=urls["hub"], config_dir=config, ordering_url=ORDERING,
                    cms_url=menu.url, payments_url=cards.url, issuer=ISSUER, audience=AUDIENCE,
                ),
                verifier=verifier, service_token=service_token, publisher=events, clock=clock,
                mounts=mounts,
            )  # fmt: skip
            base = baseline_app(urls["base"])
            await base.state.create()
            async with (
                hub.router.lifespan_context(hub),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=hub), base_url="http://hub"
                ) as client,
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=base), base_url="http://base"
                ) as bare,
            ):
                body = {
                    "storeId": "store-0001",
                    "channel": "mobile-pickup",
                    "cart": {"lines": [{"sku": "chicken-sandwich", "quantity": 1}]},
                    "paymentToken": "tok_visa",
                }
                auth_header = {"Authorization": f"Bearer {guest}"}

                async def checkout(i: int) -> httpx.Response:
                    headers = {**auth_header, "Idempotency-Key": f"{run}-{i}"}
                    return await client.post("/v1/checkout", json=body, headers=headers)

                async def baseline(i: int) -> httpx.Response:
                    return await bare.post("/rows", json=body)

                async def webhook(i: int) -> httpx.Response:
                    sale = pos_payloads.Sale(
                        event_id=f"{run}-pos-{i}", check_number=f"{run}-{i}",
                        business_date="2026-11-23",
                        closed_at=clock(), items=(("1001", 1, 699),), member_id=None,
                    )  # fmt: skip
                    raw = json.dumps(
                        pos_payloads.body_of(specs.PosType.TOAST, sale, store_id="store-0001")
                    ).encode()
                    ts = int(clock().timestamp())
                    sig = signatures.signature_of(
                        b"dev-only-store-0001-webhook", timestamp=ts, body=raw
                    )
                    headers = {
                        signatures.TIMESTAMP_HEADER: str(ts),
                        signatures.SIGNATURE_HEADER: sig,
                    }
                    return await client.post(
                        "/v1/pos/store-0001/events", content=raw, headers=headers
                    )

                await saturation(checkout, concurrency=2, seconds=2)  # warm-up
                await saturation(baseline, concurrency=2, seconds=2)
                sat_base = await saturation(
                    baseline, concurrency=args.concurrency, seconds=args.saturation_seconds
                )
                sat_sys = await saturation(
                    checkout, concurrency=args.concurrency, seconds=args.saturation_seconds
                )
                # Baseline and checkout alternate in `--rounds` slices, so load from other jobs on
                # the box falls on both alike.
                lat_base: list[float] = []
                lat_sys: list[float] = []
                fail_base = fail_sys = 0
                for r in range(args.rounds):
                    piece = args.seconds / args.rounds
                    lat, failed = await open_loop(
                        baseline, rate=sat_base / 2, seconds=piece, first=10_000_000 * (r + 1)
                    )
                    lat_base, fail_base = lat_base + lat, fail_base + failed
                    lat, failed = await open_loop(
                        checkout, rate=sat_sys / 2, seconds=piece, first=10_000_000 * (r + 11)
                    )
                    lat_sys, fail_sys = lat_sys + lat, fail_sys + failed
                (lat_mix, fail_mix), (lat_pos, fail_pos) = await asyncio.gather(
                    open_loop(checkout, rate=sat_sys / 2, seconds=args.seconds, first=900_000_000),
                    open_loop(webhook, rate=args.pos_rate, seconds=args.seconds, first=950_000_000),
                )
    print(
        f"saturation (closed loop, c={args.concurrency}): "
        f"checkout {sat_sys:.0f}/s, baseline {sat_base:.0f}/s"
    )
    rows = [
        ("baseline insert", sat_base / 2, lat_base, fail_base),
        ("checkout saga", sat_sys / 2, lat_sys, fail_sys),
        ("checkout saga, with POS webhooks", sat_sys / 2, lat_mix, fail_mix),
        ("POS webhook (during checkout load)", args.pos_rate, lat_pos, fail_pos),
    ]
    print("| what | rate/s | n | p50 ms | p99 ms | max ms | failed |")
    print("|---|---|---|---|---|---|---|")
    for name, rate, lat, failed in rows:
        print(
            f"| {name} | {rate:.0f} | {len(lat)} | {pct(lat, 50):.1f} | {pct(lat, 99):.1f} "
            f"| {max(lat) * 1000:.1f} | {failed} |"
        )
    ratio = pct(lat_sys, 99) / pct(lat_base, 99)
    print(
        f"checkout p99 / baseline p99 = {ratio:.2f} (target <= 4); "
        f"POS p99 = {pct(lat_pos, 99):.1f} ms (target <= 200)"
    )
    print(
        f"POS webhook p99 / baseline p99 = {pct(lat_pos, 99) / pct(lat_base, 99):.2f}; "
        f"median checkout {statistics.median(lat_sys) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saturation-seconds", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pos-rate", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    stack = testing.SessionStack()
    try:
        asyncio.run(bench(args, stack.postgres()))
    finally:
        stack.close()


if __name__ == "__main__":
    main()
