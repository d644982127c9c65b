"""Starting the checkout benchmark's apps, one uvicorn process each (`bench.checkout_serve`), on
127.0.0.1 with their own databases and the dev stack's Kafka; and the probes that say where time
goes: CPU and run-queue time per process (/proc), the webhook app's own latency histogram
(/metrics), PostgreSQL backends' waits, the load generator's loop lag, py-spy on the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from qsr_devstack import processes
from qsr_kit import auth, kafka
from qsr_kit.domain import topics

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ISSUER, AUDIENCE = "https://identity.bench", "qsr-platform"
PROGRAM = "crispin-rewards"
WEBHOOK_ROUTE = "/v1/pos/{store_id}/events"


def config_dir(folder: Path) -> Path:
    """The examples with every store open around the clock and room for every checkout."""
    for name in ("program.yaml", "stores.yaml", "secrets.yaml"):
        docs = [d for d in yaml.safe_load_all((EXAMPLES / name).read_text()) if d]
        for doc in docs:
            if doc["kind"] == "StoreIntegration":
                doc["spec"]["kitchen"]["ordersPerSlot"] = 10000
                days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                doc["spec"]["hours"] = [{"day": d, "open": "00:00", "close": "00:00"} for d in days]
        (folder / name).write_text(yaml.safe_dump_all(docs))
    return folder


def answers(url: str) -> Callable[[], bool]:
    def check() -> bool:
        return httpx.get(url, timeout=2).status_code == 200

    return check


@contextlib.contextmanager
def apps(folder: Path, env_of: dict[str, dict[str, str]]) -> Iterator[dict[str, processes.Started]]:
    """Starts one uvicorn process per app; every started process is stopped by its pid."""
    started: dict[str, processes.Started] = {}
    try:
        for name, env in env_of.items():
            argv = [sys.executable, "-m", "bench.checkout_serve", name, "--port", env["PORT"]]
            started[name] = processes.start(
                name, argv, log=folder / f"{name}.log", die_with_parent=True, env=env
            )
        for name, proc in started.items():
            url = f"http://127.0.0.1:{env_of[name]['PORT']}"
            path = "/readyz" if name in ("hub", "hub-ingest", "ordering") else "/openapi.json"
            if name == "baseline":
                path = "/healthz"
            processes.wait_healthy(proc, answers(url + path), timeout=90)
        yield started
    finally:
        for proc in started.values():
            processes.stop(proc.pid, popen=proc.popen)


def environments(
    urls: dict[str, str], folder: Path, bootstrap: str, issuer: auth.LocalIssuer
) -> dict[str, dict[str, str]]:
    names = ("cardsim", "cms", "baseline", "ordering", "hub", "hub-ingest")
    port = {name: str(processes.free_port()) for name in names}
    local = {name: f"http://127.0.0.1:{p}" for name, p in port.items()}
    service = issuer.issue(
        subject="svc-hub",
        kind="service",
        scopes=["orders:read", "orders:write", "store:write", "loyalty:read", "loyalty:redeem"],
        now=time.time(),
    )
    common = {
        "QSR_BENCH_JWKS": json.dumps(issuer.jwks()),
        "QSR_BENCH_ISSUER": ISSUER,
        "QSR_BENCH_AUDIENCE": AUDIENCE,
    }
    return {
        "cardsim": {"PORT": port["cardsim"]},
        "cms": {"PORT": port["cms"]},
        "baseline": {"PORT": port["baseline"], "QSR_BENCH_BASELINE_URL": urls["base"]},
        "ordering": {
            **common,
            "PORT": port["ordering"],
            "QSR_ORDERING_DATABASE_URL": urls["ordering"],
            "QSR_ORDERING_CONFIG_DIR": str(folder),
            "QSR_ORDERING_MENU_URL": local["cms"],
            "QSR_ORDERING_ISSUER": ISSUER,
            "QSR_ORDERING_AUDIENCE": AUDIENCE,
            "QSR_ORDERING_KAFKA_BOOTSTRAP": bootstrap,
        },
        "hub": {
            **common,
            "PORT": port["hub"],
            "QSR_BENCH_SERVICE_TOKEN": service,
            "QSR_HUB_DATABASE_URL": urls["hub"],
            "QSR_HUB_CONFIG_DIR": str(folder),
            "QSR_HUB_ORDERING_URL": local["ordering"],
            "QSR_HUB_CMS_URL": local["cms"],
            "QSR_HUB_PAYMENTS_URL": local["cardsim"],
            "QSR_HUB_ISSUER": ISSUER,
            "QSR_HUB_AUDIENCE": AUDIENCE,
            "QSR_HUB_KAFKA_BOOTSTRAP": bootstrap,
        },
        "hub-ingest": {
            "PORT": port["hub-ingest"],
            "QSR_HUB_DATABASE_URL": urls["hub"],
            "QSR_HUB_CONFIG_DIR": str(folder),
        },
    }


async def create_topics(bootstrap: str) -> None:
    orders = topics.topic_name(namespace="default", program=PROGRAM, stream=topics.Stream.ORDERS)
    loyalty = topics.topic_name(namespace="default", program=PROGRAM, stream=topics.Stream.LOYALTY)
    await kafka.create_topics(
        bootstrap, [orders, topics.retry_of(orders), topics.dlq_of(orders), loyalty]
    )


def cpu_now(pids: dict[str, int]) -> dict[str, tuple[float, float]]:
    """Per process (PostgreSQL: with its backends): (seconds on a CPU, seconds runnable but
    waiting for one), summed over threads, from /proc/*/task/*/schedstat."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
    found: dict[str, tuple[float, float]] = {}
    for name, pid in pids.items():
        ran = waited = 0.0
        for member in (pid, *(children.get(pid, []) if name == "postgres" else ())):
            for task in Path(f"/proc/{member}/task").glob("*/schedstat"):
                with contextlib.suppress(OSError, ValueError):
                    on_cpu, on_queue, _ = (int(x) for x in task.read_text().split())
                    ran, waited = ran + on_cpu / 1e9, waited + on_queue / 1e9
        found[name] = (ran, waited)
    return found


def webhook_buckets(hub_url: str) -> dict[float, float]:
    """The hub's own histogram of the webhook route's time in the app (cumulative per bucket)."""
    text = httpx.get(f"{hub_url}/metrics", timeout=5).text
    found: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "http_request_duration_seconds":
            continue
        for sample in family.samples:
            labels = sample.labels
            if sample.name.endswith("_bucket") and labels.get("route") == WEBHOOK_ROUTE:
                found[float(labels["le"])] = sample.value
    return found


@contextlib.asynccontextmanager
async def pg_activity(dsn: str) -> AsyncIterator[Counter[str]]:
    """Samples pg_stat_activity every 50 ms: what the bench databases' busy backends wait on."""
    seen: Counter[str] = Counter()
    done = asyncio.Event()
    conn = await asyncpg.connect(dsn)

    async def sample() -> None:
        while not done.is_set():
            rows = await conn.fetch(
                "SELECT datname, state, wait_event_type, wait_event FROM pg_stat_activity"
                " WHERE datname LIKE 'bench_%' AND state <> 'idle' AND pid <> pg_backend_pid()"
            )
            seen["samples"] += 1
            for r in rows:
                app = r["datname"].split("_")[1]
                seen[f"{app} {r['state']} {r['wait_event_type']}/{r['wait_event']}"] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=0.05)

    task = asyncio.create_task(sample())
    try:
        yield seen
    finally:
        done.set()
        await task
        await conn.close()


@contextlib.asynccontextmanager
async def loop_lag() -> AsyncIterator[list[float]]:
    """How late this (load-generating) loop wakes from a 10 ms sleep: if it stalls, the latencies
    it measures include its own delay, not only the servers'."""
    lags: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            asked = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - asked - 0.01)

    task = asyncio.create_task(probe())
    try:
        yield lags
    finally:
        done.set()
        await task


def bucket_summary(before: dict[float, float], after: dict[float, float]) -> str:
    delta = {le: after[le] - before.get(le, 0.0) for le in sorted(after)}
    total = delta.get(float("inf"), 0.0)
    if not total:
        return "no webhook observed"
    shown = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25)
    return ", ".join(f"<= {le * 1000:g} ms {100 * delta[le] / total:.1f} %" for le in shown)


@contextlib.asynccontextmanager
async def profiling(py_spy: str | None, out_path: str, pid: int) -> AsyncIterator[None]:
    """`--py-spy BIN`: samples the hub process for the mixed phase (stopped by its pid)."""
    if not py_spy:
        yield
        return
    out = Path(out_path)
    argv = [py_spy, "record", "-p", str(pid), "-f", "raw", "-o", str(out), "--nonblocking"]
    spy = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled and exits
        await asyncio.wait_for(spy.wait(), timeout=30)
        print(f"mixed phase, py-spy samples of the hub: {out}")
