"""Checkout throughput and latency: the hub's saga (ordering + card processor and CMS simulators,
real PostgreSQL and Kafka) against a bare FastAPI endpoint doing one insert in the same database,
same run; plus the POS webhook's 2xx latency while checkouts run. Every app runs in its own
uvicorn process on 127.0.0.1 (`bench.checkout_serve`), as deployed; this process only generates
load, over real HTTP (`bench.checkout_load`: aiohttp, one pacing loop per open loop).

    .venv/bin/python -m bench.checkout [--saturation-seconds 10] [--seconds 20] [--concurrency 8]\
        [--rounds 3] [--pos-rate 20] [--in-flight 64]

Method: saturation = closed loop at `--concurrency` for `--saturation-seconds`; then an open loop
(constant arrival rate, half of saturation, latency measured from the scheduled send time so a
slow answer cannot hide queueing, nor a request the generator sent late or held back because
`--in-flight` were unanswered) for `--seconds`, baseline and checkout alternating in
`--rounds` slices; then checkouts at the same rate with POS webhooks at `--pos-rate` alongside,
sent to the ingest-only process (`--pos-via hub-ingest`, default) or to the hub's own route.
Targets (issue 5): checkout p99 <= 4 x the baseline's p99 at the same fraction of its own
saturation; POS webhook p99 <= 200 ms under load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench import checkout_launch as launch
from bench import checkout_load as gen
from qsr_devstack import testing
from qsr_hub.domain import signatures
from qsr_hub.simulators import pos_payloads
from qsr_kit import auth
from qsr_kit.domain import specs

pct = gen.pct


def row(name: str, rate: float, timed: gen.Timed) -> str:
    lat, late = timed.latencies, timed.late
    return (
        f"| {name} | {rate:.0f} | {len(lat)} | {pct(lat, 50):.1f} | {pct(lat, 99):.1f} "
        f"| {max(lat) * 1000:.1f} | {timed.failed} {dict(timed.failures) or ''} "
        f"| {pct(late, 99):.1f} / {max(late) * 1000:.1f} |"
    )


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Bench:
    def __init__(self, args: argparse.Namespace, url: dict[str, str], guest: str, dsn: str) -> None:
        self.args, self.url, self.guest, self.dsn = args, url, guest, dsn
        self.run = uuid.uuid4().hex[:8]

    def client(self, name: str) -> contextlib.AbstractAsyncContextManager[aiohttp.ClientSession]:
        return gen.session(self.url[name], connections=self.args.in_flight)

    async def measure(self, pids: dict[str, int]) -> None:
        args = self.args
        async with (
            self.client("hub") as client,
            self.client(args.pos_via) as pos_client,
            self.client("baseline") as bare,
        ):
            checkout = self.checkout_call(client)
            webhook = self.webhook_call(pos_client)

            async def baseline(i: int) -> int:
                return await gen.post(bare, "/rows", json={"storeId": "store-0001", "n": i})

            await gen.saturation(checkout, concurrency=2, seconds=2, first=0)  # warm-up
            await gen.saturation(baseline, concurrency=2, seconds=2, first=0)
            await gen.saturation(webhook, concurrency=2, seconds=1, first=0)
            c, s, bound = args.concurrency, args.saturation_seconds, args.in_flight
            sat_base = await gen.saturation(baseline, concurrency=c, seconds=s, first=1 << 30)
            sat_sys = await gen.saturation(checkout, concurrency=c, seconds=s, first=1 << 30)
            # Baseline and checkout alternate in `--rounds` slices, so load from other jobs on
            # the box falls on both alike.
            alone = {"base": gen.Timed(), "sys": gen.Timed()}
            piece = args.seconds / args.rounds
            async with launch.loop_lag() as lags_alone:
                for r in range(args.rounds):
                    for key, call, rate in (
                        ("base", baseline, sat_base),
                        ("sys", checkout, sat_sys),
                    ):
                        alone[key] += await gen.open_loop(
                            call, rate=rate / 2, seconds=piece, first=(r + 1) << 32, in_flight=bound
                        )
            load_mixed = load()
            buckets = launch.webhook_buckets(self.url[args.pos_via])
            cpu = launch.cpu_now(pids)
            began = time.monotonic()
            async with (
                launch.loop_lag() as lags,
                launch.profiling(args.py_spy, args.py_spy_out, pids["hub"]),
                launch.pg_activity(self.dsn) as waits,
            ):
                mixed, pos = await asyncio.gather(
                    gen.open_loop(
                        checkout,
                        rate=sat_sys / 2,
                        seconds=args.seconds,
                        first=1 << 40,
                        in_flight=bound,
                    ),
                    gen.open_loop(
                        webhook,
                        rate=args.pos_rate,
                        seconds=args.seconds,
                        first=1 << 40,
                        in_flight=bound,
                    ),
                )
            wall = time.monotonic() - began
            after = launch.cpu_now(pids)
            # Clamped: a PostgreSQL backend that exits takes its time with it (live ones only).
            used = {
                k: (max(0.0, v[0] - cpu[k][0]), max(0.0, v[1] - cpu[k][1]))
                for k, v in after.items()
            }
            server_side = launch.bucket_summary(
                buckets, launch.webhook_buckets(self.url[args.pos_via])
            )
        print(
            f"saturation (closed loop, c={c}): checkout {sat_sys:.0f}/s, baseline {sat_base:.0f}/s"
        )
        print("| what | rate/s | n | p50 ms | p99 ms | max ms | failed | sent late p99 / max ms |")
        print("|---|---|---|---|---|---|---|---|")
        print(row("baseline insert", sat_base / 2, alone["base"]))
        print(row("checkout saga alone", sat_sys / 2, alone["sys"]))
        print(row("checkout saga, with POS webhooks", sat_sys / 2, mixed))
        print(row("POS webhook (during checkout load)", args.pos_rate, pos))
        p99_base, p99_pos = pct(alone["base"].latencies, 99), pct(pos.latencies, 99)
        print(
            f"checkout p99 / baseline p99 = {pct(alone['sys'].latencies, 99) / p99_base:.2f}"
            f" (target <= 4); POS p99 = {p99_pos:.1f} ms (target <= 200), "
            f"{p99_pos / p99_base:.2f} x the baseline's p99"
        )
        print(f"mixed phase: webhooks to {args.pos_via}; `uptime` load at its start {load_mixed}")
        print(
            f"mixed phase, webhook time inside the app that took it (its /metrics): {server_side}"
        )
        for phase, lagged in (("alone phases", lags_alone), ("mixed phase", lags)):
            print(
                f"{phase}, load generator loop lag: p99 {pct(lagged, 99):.1f} ms, "
                f"max {max(lagged) * 1000:.1f} ms"
            )
        print(
            "mixed phase, % of the phase each process ran on a CPU / waited for one: "
            + ", ".join(
                f"{name} {100 * ran / wall:.0f}/{100 * waited / wall:.0f}"
                for name, (ran, waited) in used.items()
            )
        )
        samples = waits.pop("samples", 1)
        print(
            f"mixed phase, busy PostgreSQL backends per sample ({samples} samples): "
            + "; ".join(f"{k} {n / samples:.2f}" for k, n in waits.most_common(8))
        )

    def checkout_call(self, client: aiohttp.ClientSession) -> gen.Call:
        body = {
            "storeId": "store-0001",
            "channel": "mobile-pickup",
            "cart": {"lines": [{"sku": "chicken-sandwich", "quantity": 1}]},
            "paymentToken": "tok_visa",
        }

        async def checkout(i: int) -> int:
            headers = {
                "Authorization": f"Bearer {self.guest}",
                "Idempotency-Key": f"{self.run}-{i}",
            }
            return await gen.post(client, "/v1/checkout", json=body, headers=headers)

        return checkout

    def webhook_call(self, client: aiohttp.ClientSession) -> gen.Call:
        async def webhook(i: int) -> int:
            now = datetime.now(UTC)
            sale = pos_payloads.Sale(
                event_id=f"{self.run}-pos-{i}", check_number=f"{self.run}-{i}",
                business_date=now.date().isoformat(), closed_at=now,
                items=(("1001", 1, 699),), member_id=None,
            )  # fmt: skip
            raw = json.dumps(
                pos_payloads.body_of(specs.PosType.TOAST, sale, store_id="store-0001")
            ).encode()
            ts = int(now.timestamp())
            sig = signatures.signature_of(b"dev-only-store-0001-webhook", timestamp=ts, body=raw)
            headers = {signatures.TIMESTAMP_HEADER: str(ts), signatures.SIGNATURE_HEADER: sig}
            return await gen.post(client, "/v1/pos/store-0001/events", data=raw, headers=headers)

        return webhook


async def bench(args: argparse.Namespace, pg: testing.Postgres, bootstrap: str) -> None:
    await launch.create_topics(bootstrap)
    run = uuid.uuid4().hex[:8]
    urls = {n: pg.create_database(f"bench_{n}_{run}") for n in ("ordering", "hub", "base")}
    issuer = auth.LocalIssuer(issuer=launch.ISSUER, audience=launch.AUDIENCE, lifetime_seconds=3600)
    guest = issuer.issue(subject="m-bench", kind="guest", scopes=["checkout"], now=time.time())
    with tempfile.TemporaryDirectory() as tmp:
        folder = launch.config_dir(Path(tmp))
        env_of = launch.environments(urls, folder, bootstrap, issuer)
        url = {name: f"http://127.0.0.1:{env['PORT']}" for name, env in env_of.items()}
        before = load()
        with launch.apps(Path(tmp), env_of) as started:
            pids = {name: proc.pid for name, proc in started.items()}
            pids.update(args.stack_pids, bench=os.getpid())
            await Bench(args, url, guest, pg.dsn).measure(pids)
    print(f"`uptime` load (1/5/15 min): {before} at start, {load()} at end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saturation-seconds", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pos-rate", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--in-flight",
        type=int,
        default=64,
        help="open loop: most requests unanswered per target (then the pacer waits, and it counts)",
    )
    parser.add_argument(
        "--pos-via",
        choices=("hub-ingest", "hub"),
        default="hub-ingest",
        help="webhooks to the ingest-only process (`qsr serve hub-ingest`) or the hub's own route",
    )
    parser.add_argument("--py-spy", help="py-spy binary: sample the hub in the mixed phase")
    parser.add_argument("--py-spy-out", default="/tmp/hub-mixed.pyspy.txt")
    args = parser.parse_args()
    stack = testing.SessionStack()
    try:
        # Started before the loop: the stack's health checks run their own event loops.
        pg, bootstrap = stack.postgres(), stack.kafka().bootstrap
        args.stack_pids = {name: stack.stack.procs[name].pid for name in ("postgres", "kafka")}
        asyncio.run(bench(args, pg, bootstrap))
    finally:
        stack.close()


if __name__ == "__main__":
    main()
