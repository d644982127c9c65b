"""Ledger throughput: order.completed events Kafka → loyalty consumer → PostgreSQL (inbox, lot,
entry, member row, outbox; synchronous commit), against pgbench running the identical SQL in the
same run; and GET balance over HTTP against a bare asyncpg loop running the same queries.

    .venv/bin/python -m bench.ledger [--events 2000] [--members 200] [--seconds 15]
                                     [--concurrency 8]

Identical SQL: the statements one accrual issues are captured from the service (asyncpg's query
logger on the consumer's driver connection, SQLAlchemy's cursor hook for the rest) and rendered
into a pgbench script (`ledger_pgbench`: one event per transaction, 1 client, run in -M simple and
-M prepared, before and after the system phases; the baseline is the faster mode's mean), with the
event's unique key and the member varied per transaction. The system runs the real app (consumer,
relay, sweep) with 10 % of the events delivered twice, one event or one partition batch per
transaction, on a topic filled before the app starts (timed from the first processed record to the
last); afterwards the ledger invariants are checked on the data. The consumer handles its
partitions one after the other, so pgbench runs one client (-c 1).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import prometheus_client
import sqlalchemy as sa

from bench import ledger_pgbench
from qsr_devstack import testing
from qsr_kit import bus, consuming, db
from qsr_kit import kafka as kafka_mod
from qsr_kit.domain import events, payloads, specs, topics
from qsr_loyalty import accounts, consumers, main, program, tables
from qsr_loyalty.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PROGRAM = program.load(EXAMPLES)
MARK, FIRST_MEMBER = "ZZKEYZZ", 1000
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def member(i: int) -> str:
    return f"bm{FIRST_MEMBER + i}"


# What pgbench varies per transaction in the captured SQL: the event's key and its member.
VARIED = {
    MARK: "CAST(:client_id AS text) || '-' || CAST(:n AS text)",
    member(0): "'bm' || CAST(:m AS text)",
}


def order_event(key: str, member_id: str) -> events.Envelope:
    payload = payloads.OrderCompleted(
        order_id=key, store_id="store-0001", member_id=member_id, program=PROGRAM.name,
        origin=payloads.Origin.APP, order_key=f"order:{key}", channel=specs.Channel.KIOSK,
        completed_at=NOW, currency="USD", subtotal_minor=1299,
        lines=(payloads.OrderLine(sku="chicken-sandwich", quantity=1, unit_price_minor=1299),),
    )  # fmt: skip
    return events.envelope_of(payload, event_id=events.EventId(key), source="/bench", time=NOW)


def record_of(envelope: events.Envelope, topic: str) -> bus.Record:
    headers = tuple(events.headers_of(envelope))
    return bus.Record(topic, envelope.partitionkey.encode(), events.to_bytes(envelope), headers)


async def prepared_db(pg: testing.Postgres, name: str, members: int) -> str:
    """A fresh database with the loyalty schema and `members` enrolled members."""
    dsn = pg.create_database(f"{name}_{uuid.uuid4().hex[:8]}")
    engine = db.engine_from_url(dsn)
    await db.migrate(engine, version_locations=[main.MIGRATIONS], target_metadata=[tables.metadata])
    async with db.transaction(db.sessionmaker_of(engine)) as session:
        for i in range(members):
            await accounts.enroll(session, PROGRAM, member_id=member(i), birthday=None, now=NOW)
    await engine.dispose()
    return dsn


async def captured_accrual(dsn: str) -> list[str]:
    """The statements the consumer issues for one accrual (inbox row through outbox event)."""
    engine = db.engine_from_url(dsn)
    seen: list[str] = []
    processor = consuming.Processor(
        group="bench-capture", sessions=db.sessionmaker_of(engine),
        handler=consumers.handler(PROGRAM), registry=payloads.REGISTRY,
        publisher=bus.InProcessBus(), driver_handler=consumers.driver_handler(PROGRAM),
    )  # fmt: skip
    await processor.process(record_of(order_event("warmup", member(0)), "t"))
    assert processor.direct is not None and processor.direct.connection is not None
    processor.direct.connection.add_query_logger(lambda query: logged(query))

    def hook(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        for one in params if many else [params]:  # executemany: one statement per row
            seen.append(ledger_pgbench.rendered(statement, tuple(one or ()), VARIED))

    def logged(query: Any) -> None:  # statements run on the raw asyncpg connection (pgwave)
        if query.query not in ("BEGIN;", "COMMIT;", "ROLLBACK;"):
            seen.append(ledger_pgbench.rendered(query.query, tuple(query.args), VARIED))

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(logged)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", hook)
    sa.event.listen(engine.sync_engine, "checkout", checkout)
    outcome = await processor.process(record_of(order_event(MARK, member(0)), "t"))
    await asyncio.sleep(0.1)  # asyncpg hands logged queries over with call_soon
    sa.event.remove(engine.sync_engine, "before_cursor_execute", hook)
    sa.event.remove(engine.sync_engine, "checkout", checkout)
    await processor.aclose()
    await engine.dispose()
    assert outcome is consuming.Outcome.PROCESSED, outcome
    return seen


async def system_rate(
    dsn: str, bootstrap: str, *, events_n: int, members: int, batch: bool
) -> tuple[float, dict[str, int]]:
    """Events/s through the running app, consuming a topic filled beforehand: from the first
    processed record to the last (the bench's own producing is not timed, and does not compete
    for the CPU while the consumer runs); duplicates are processed but not counted as events."""
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    names = [t for s in ("orders", "loyalty") for t in topics.companions_of(
        topics.topic_name(namespace=namespace, program=PROGRAM.name, stream=s))]  # fmt: skip
    await kafka_mod.create_topics(bootstrap, names, partitions=3)
    settings = Settings(
        database_url=dsn, config_dir=EXAMPLES, namespace=namespace, kafka_bootstrap=bootstrap,
        consumer_group="bench", consume_batch=batch, sweep_seconds=3600,
    )  # fmt: skip
    app = main.create_app(settings)
    orders = app.state.loyalty_program.orders_topic
    envs = [order_event(uuid.uuid4().hex, member(i % members)) for i in range(events_n)]
    records = [record_of(e, orders) for e in envs] + [record_of(e, orders) for e in envs[::10]]
    producer = kafka_mod.producer(bootstrap)
    await producer.start()
    await kafka_mod.KafkaPublisher(producer).publish(records)
    await producer.stop()
    async with app.router.lifespan_context(app):
        consumed: prometheus_client.Counter = app.state.loyalty_processor.metrics.events

        def count() -> float:  # that one counter's samples, not a walk of the whole registry
            wanted = {"processed", "duplicate"}
            return sum(
                float(sample.value)
                for family in consumed.collect()
                for sample in family.samples
                if sample.name.endswith("_total")
                and sample.labels["topic"] == orders
                and sample.labels["outcome"] in wanted
            )

        for _ in range(60000):  # 120 s at most for the group to join and commit a first batch
            if count():
                break
            await asyncio.sleep(0.002)
        started, first = time.perf_counter(), count()
        for _ in range(60000):  # 600 s at most; a coarser poll steals less CPU from the app
            if count() >= len(records):
                break
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        facts = await invariants(app)
    timed = (len(records) - first) / len(records) * events_n
    return timed / elapsed, facts


async def invariants(app: Any) -> dict[str, int]:
    async with db.transaction(app.state.loyalty_sessions) as session:

        async def one(sql: str) -> int:
            return int(await session.scalar(sa.text(sql)) or 0)

        return {
            "accruals": await one("SELECT count(*) FROM loyalty_entries WHERE kind = 'accrual'"),
            "orders": await one(
                "SELECT count(DISTINCT order_key) FROM loyalty_entries WHERE kind = 'accrual'"
            ),
            "sum_entries": await one("SELECT coalesce(sum(points), 0) FROM loyalty_entries"),
            "sum_lots_minus_debt": await one(
                "SELECT (SELECT coalesce(sum(remaining), 0) FROM loyalty_lots)"
                " - (SELECT coalesce(sum(debt), 0) FROM loyalty_members)"
            ),
            "negative_lots": await one("SELECT count(*) FROM loyalty_lots WHERE remaining < 0"),
        }


async def balance_rates(
    dsn: str, *, members: int, seconds: int, concurrency: int
) -> tuple[float, float]:
    """GET balance over HTTP (app in a subprocess) vs bare asyncpg running the same queries."""
    engine = db.engine_from_url(dsn)
    seen: list[tuple[str, tuple[Any, ...]]] = []

    def hook(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        seen.append((statement, tuple(params or ())))

    sa.event.listen(engine.sync_engine, "before_cursor_execute", hook)
    async with db.transaction(db.sessionmaker_of(engine)) as session:
        await accounts.view_of(session, PROGRAM, member(0), now=NOW)
    await engine.dispose()
    server = _server(dsn)
    try:
        assert server.stdout is not None
        port, token = server.stdout.readline().split()
        url = f"http://127.0.0.1:{port}/v1/members/{member(0)}/balance"
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
            for _ in range(600):
                try:
                    if (await client.get(url)).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            http_rate = await _closed_loop(lambda: client.get(url), seconds, concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)

    async def queries() -> None:
        async with pool.acquire() as conn, conn.transaction():
            for statement, params in seen:
                await conn.fetch(statement, *params)

    bare_rate = await _closed_loop(queries, seconds, concurrency)
    await pool.close()
    return http_rate, bare_rate


def _server(dsn: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "bench.ledger", "--serve", dsn]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


async def _closed_loop(call: Any, seconds: int, concurrency: int) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await call()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


def serve(dsn: str) -> None:
    """Child process: the loyalty app on a free port; prints the port and a service token."""
    import socket

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(database_url=dsn, config_dir=EXAMPLES, consume=False, sweep_seconds=3600)
    app = main.create_app(settings)
    token = app.state.loyalty_dev_issuer.issue(
        subject="bench",
        kind="service",
        scopes=["loyalty:read"],
        now=time.time(),
        lifetime_seconds=3600,
    )
    print(port, token, flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def bench(args: argparse.Namespace, pg: testing.Postgres, kf: testing.Kafka) -> None:
    n, members, seconds, c = args.events, args.members, args.seconds, args.concurrency
    statements = await captured_accrual(await prepared_db(pg, "capture", members))

    variables = [
        "\\set n random(1, 1000000000000000)",
        f"\\set m random({FIRST_MEMBER}, {FIRST_MEMBER + members - 1})",
    ]

    async def pgbench_round(tag: str) -> dict[str, float]:
        rates = {}
        for mode in ("simple", "prepared"):  # the system prepares its statements (asyncpg)
            pgbench_db = await prepared_db(pg, f"pgbench_{mode}_{tag}", members)
            rates[mode] = ledger_pgbench.tps(
                pgbench_db, statements, variables=variables, seconds=seconds, mode=mode
            )
        return rates

    before = await pgbench_round("before")
    single_db = await prepared_db(pg, "single", members)
    single, single_facts = await system_rate(
        single_db, kf.bootstrap, events_n=n, members=members, batch=False
    )
    batched_db = await prepared_db(pg, "batched", members)
    batched, batch_facts = await system_rate(
        batched_db, kf.bootstrap, events_n=n * 5, members=members, batch=True
    )
    after = await pgbench_round("after")  # the box is shared: the load drifts between phases
    means = {mode: (before[mode] + after[mode]) / 2 for mode in before}
    baseline = max(means.values())  # the faster mode, averaged over before and after
    broken = [f for f in (_broken(single_facts, n), _broken(batch_facts, n * 5)) if f]
    balance_db = await prepared_db(pg, "balance", members)
    http_rate, bare_rate = await balance_rates(
        balance_db, members=members, seconds=seconds, concurrency=c
    )
    print(f"statements per accrual: {len(statements)} (+ BEGIN/COMMIT)")
    for mode, rate in means.items():
        print(
            f"pgbench -M {mode}, identical SQL, 1 event/tx, c=1: {rate:,.0f} tx/s"
            f" (before {before[mode]:,.0f}, after {after[mode]:,.0f})"
        )
    print(f"baseline (the faster pgbench mode, mean): {baseline:,.0f} tx/s")
    print(f"system, 1 event/tx: {single:,.0f} events/s, ratio {single / baseline:.2f}")
    print(f"  invariants: {single_facts}")
    print(f"system, batched: {batched:,.0f} events/s, ratio {batched / baseline:.2f}")
    print(f"  invariants: {batch_facts}")
    print(f"GET balance over HTTP, c={c}: {http_rate:,.0f} req/s")
    print(
        f"bare asyncpg, same queries, c={c}: {bare_rate:,.0f} /s, ratio {http_rate / bare_rate:.2f}"
    )
    if broken:
        raise SystemExit(f"ledger invariants broken: {broken}")
    print("invariants hold after both runs")


def _broken(facts: dict[str, int], events_n: int) -> str | None:
    """What is wrong with a run's ledger: one accrual per distinct order despite the duplicates,
    Σ entries = Σ lot remaining - debt, no lot below zero."""
    wrong = {
        "accruals": facts["accruals"] != events_n,
        "orders": facts["orders"] != events_n,
        "sums": facts["sum_entries"] != facts["sum_lots_minus_debt"],
        "negative_lots": facts["negative_lots"] != 0,
    }
    return ", ".join(k for k, bad in wrong.items() if bad) or None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serve", metavar="DSN", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.serve:
        serve(parsed.serve)
    else:
        stack = testing.SessionStack()  # started outside the event loop: the stack uses its own
        try:
            asyncio.run(bench(parsed, stack.postgres(), stack.kafka()))
        finally:
            stack.close()
