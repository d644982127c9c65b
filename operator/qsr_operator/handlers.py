"""Kopf wiring: every trigger calls the kind's one `reconcile()`; nothing else lives here.

`build_registry(settings)` returns a fresh `kopf.OperatorRegistry`, so tests and `main.py` each get
their own. LoyaltyProgram triggers: create/update/resume (with retries), child events, a periodic
resync timer. StoreIntegration triggers: raw watch events into `store_controller`'s work queue (no
Kopf finalizer or annotations on stores: one write per store), its resync loop and program events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

import kopf

from qsr_operator import deletion, diff_base, metrics, reconcile_program, reconcile_store, topics
from qsr_operator.runtime import Note, Outcome, Runtime
from qsr_operator.settings import Settings
from qsr_operator.store_controller import StoreController

PROGRAMS = ("qsr.io", "v1alpha1", "loyaltyprograms")
STORES = ("qsr.io", "v1alpha1", "storeintegrations")
CHILDREN = (
    ("v1", "configmaps"),
    ("v1", "services"),
    ("apps/v1", "deployments"),
    ("autoscaling/v2", "horizontalpodautoscalers"),
    ("policy/v1", "poddisruptionbudgets"),
)
MANAGED = {"app.kubernetes.io/managed-by": "qsr-operator"}
# Kopf's per-object workers. A store's handler only queues it (the work queue's pool bounds the
# reconciles), so many may run; a worker holds its slot for the batch window plus the idle timeout.
WORKER_LIMIT = 512
Index = kopf.Index[tuple[str, str], Any]


async def _run(
    kind: str,
    rt: Runtime,
    body: Mapping[str, Any],
    step: Callable[[], Awaitable[Outcome]],
    *,
    raise_errors: bool,
) -> Outcome:
    """One reconcile under the object's lock, with metrics, events and Kopf's error vocabulary."""
    meta = body["metadata"]
    started = time.perf_counter()
    async with rt.lock_for(kind, meta["namespace"], meta["name"]):
        try:
            outcome = await step()
        except Exception:
            metrics.RECONCILE_ERRORS.labels(controller=kind).inc()
            metrics.RECONCILES.labels(controller=kind, result="error").inc()
            raise
        finally:
            metrics.RECONCILE_TIME.labels(controller=kind).observe(time.perf_counter() - started)
    regarding = cast(kopf.Body, body)
    for note in outcome.notes:
        # Warnings would repeat on every retry; post them only when the status says something new.
        if not note.warning:
            kopf.event(regarding, type="Normal", reason=note.reason, message=note.message)
        elif outcome.status_written:
            kopf.warn(regarding, reason=note.reason, message=note.message)
    result = "permanent" if outcome.permanent else "requeue" if outcome.temporary else "success"
    metrics.RECONCILES.labels(controller=kind, result=result).inc()
    if raise_errors and outcome.permanent:
        raise kopf.PermanentError(outcome.permanent)
    if raise_errors and outcome.temporary:
        raise kopf.TemporaryError(outcome.temporary, delay=rt.settings.retry_seconds)
    return outcome


async def _unless_stopped(stopped: Any, work: Awaitable[None]) -> None:
    """Run a timer's reconcile, cancelled as soon as Kopf stops the timer (it never waits)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if not task.cancelled():
        task.result()


def _now() -> datetime:
    return datetime.now(UTC)


async def _program(
    rt: Runtime,
    stores: StoreController,
    body: Mapping[str, Any],
    store_ids: Index,
    *,
    raise_errors: bool,
) -> None:
    key = (body["metadata"]["namespace"], body["metadata"]["name"])
    count = len(store_ids.get(key, []))

    async def step() -> Outcome:
        if body["metadata"].get("uid", "") in rt.deleted:  # a late trigger (deletion.py)
            return Outcome()
        return await reconcile_program.reconcile(rt, body, stores=count, now=_now())

    try:
        await _run(reconcile_program.KIND, rt, body, step, raise_errors=raise_errors)
    finally:
        stores.sweep_once(*key)  # it checks that the program's topics are ready


def _store_controller(rt: Runtime) -> StoreController:
    async def run(body: Mapping[str, Any], programs: Any) -> Outcome:
        async def step() -> Outcome:
            return await reconcile_store.reconcile(rt, body, programs=programs, now=_now())

        return await _run(reconcile_store.KIND, rt, body, step, raise_errors=False)

    def post(body: Mapping[str, Any], note: Note) -> None:
        kind = "Warning" if note.warning else "Normal"
        kopf.event(cast(kopf.Body, body), type=kind, reason=note.reason, message=note.message)

    return StoreController(rt, run=run, post=post)


class _QuietEventHandlers(logging.Filter):
    """Drops Kopf's "Handler 'store-event' succeeded." line: one per store watch event, it says
    nothing (the handler only queues). Failures and every other handler's lines still pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno == logging.INFO and record.msg == "Handler 'store-event' succeeded."
        )


QUIET = _QuietEventHandlers()


def configure_kopf(kopf_settings: kopf.OperatorSettings) -> None:
    logging.getLogger("kopf.objects").addFilter(QUIET)  # added once, however often called
    kopf_settings.persistence.finalizer = "qsr.io/finalizer"
    kopf_settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="qsr.io")
    kopf_settings.persistence.diffbase_storage = diff_base.SlimDiffBaseStorage(
        prefix="qsr.io", key="last-handled-configuration"
    )
    kopf_settings.posting.level = logging.WARNING  # Kopf's own log lines: warnings become Events
    kopf_settings.posting.reporting_component = "qsr-operator"
    kopf_settings.networking.request_timeout = 60
    kopf_settings.networking.connect_timeout = 10
    # Objects handled at once: bounds the burst (memory, API and Kafka load) when many arrive.
    kopf_settings.queueing.worker_limit = WORKER_LIMIT
    kopf_settings.queueing.idle_timeout = 0.25  # an idle object's worker frees its slot soon


def build_registry(settings: Settings, runtime: Runtime) -> kopf.OperatorRegistry:
    """A fresh registry with every handler, bound to one runtime (clients, locks) and settings."""
    registry = kopf.OperatorRegistry()
    rt = runtime
    stores = _store_controller(rt)

    @kopf.on.startup(id="configure", registry=registry)
    async def configure(**kw: Any) -> None:
        configure_kopf(kw["settings"])
        stores.start()

    @kopf.on.cleanup(id="stop-stores", registry=registry)
    async def stop_stores(**_: Any) -> None:
        await stores.stop()

    @kopf.on.login(id="login", registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        # The identity our own client loaded (kubeconfig or service account), so both agree.
        creds = rt.kube.creds
        return kopf.ConnectionInfo(
            server=creds.server,
            ca_path=creds.ca_path,
            certificate_path=creds.certificate_path,
            private_key_path=creds.private_key_path,
            token=creds.token,
            scheme="Bearer" if creds.token else None,
            insecure=creds.insecure,
        )

    @kopf.on.probe(id="kafka", registry=registry)
    def kafka_address(**_: Any) -> str:
        return rt.settings.kafka_bootstrap

    # Kopf passes everything by keyword; handlers take **kw so they match Kopf's typed protocols.
    # Indexers are `async def`: Kopf awaits them in the event's task (a plain `def` would be run
    # in its thread pool, a thread hop per watch event).
    @kopf.index(*PROGRAMS, id="programs", registry=registry)
    async def programs(**kw: Any) -> dict[Any, Any]:
        # A snapshot, no copy: each watch event is a freshly parsed dict that Kopf only replaces
        # (never mutates), so the top-level dict of this event is enough.
        return {(kw["namespace"], kw["name"]): dict(kw["body"])}

    @kopf.index(*STORES, id="store_ids", registry=registry)
    async def store_ids(**kw: Any) -> dict[Any, Any]:
        program = (kw["spec"].get("programRef") or {}).get("name")
        return {(kw["namespace"], program): kw["spec"].get("storeId")}

    @kopf.on.resume(*PROGRAMS, id="program", registry=registry)
    @kopf.on.create(*PROGRAMS, id="program", registry=registry)
    @kopf.on.update(*PROGRAMS, id="program", registry=registry)
    async def program_changed(**kw: Any) -> None:
        await _program(rt, stores, kw["body"], kw["store_ids"], raise_errors=True)

    # The first resync one interval in: create/resume have just reconciled (a timer firing at once
    # would repeat that work while the program is being created).
    @kopf.timer(
        *PROGRAMS,
        id="program-resync",
        interval=settings.resync_seconds,
        initial_delay=settings.resync_seconds,
        registry=registry,
    )
    async def program_resync(**kw: Any) -> None:
        work = _program(rt, stores, kw["body"], kw["store_ids"], raise_errors=False)
        await _unless_stopped(kw["stopped"], work)

    @kopf.on.event(*PROGRAMS, id="program-event", registry=registry)
    async def program_event(**kw: Any) -> None:
        stores.bind(kw)  # so a namespace whose stores are all gone is still swept
        stores.program_seen(kw["type"], kw["body"])  # after Kopf's index has this event

    @kopf.on.delete(
        *PROGRAMS, id="program-deleted", timeout=settings.delete_timeout_seconds, registry=registry
    )
    async def program_deleted(**kw: Any) -> None:
        body = kw["body"]
        try:
            rt.forget(body)
            note = await deletion.delete_topics(rt, body, runtime=kw["runtime"])
        except topics.KafkaUnavailable as exc:
            raise kopf.TemporaryError(str(exc), delay=rt.settings.retry_seconds) from exc
        if note is not None:
            kind = "Warning" if note.warning else "Normal"  # TopicsLeftBehind: gave up on Kafka
            kopf.event(body, type=kind, reason=note.reason, message=note.message)

    for group_version, plural in CHILDREN:

        @kopf.on.event(
            group_version, plural, labels=MANAGED, id=f"child-{plural}", registry=registry
        )
        async def child_changed(**kw: Any) -> None:
            owner = kw["labels"].get("app.kubernetes.io/instance", "")
            deleted = kw["type"] == "DELETED"
            for program in list(kw["programs"].get((kw["namespace"], owner), [])):
                if reconcile_program.child_needs_reconcile(
                    rt, program, kw["body"], deleted=deleted
                ):
                    await _program(rt, stores, program, kw["store_ids"], raise_errors=False)

    @kopf.on.event(*STORES, id="store-event", registry=registry)
    async def store_event(**kw: Any) -> None:
        # A plain dict of the event's object: our queue keeps the latest one per store.
        stores.observe(kw["type"], dict(kw["body"]), kw)

    return registry
