"""StoreIntegrations: raw watch events feed a coalescing work queue; bounded workers reconcile.

No Kopf change handlers for stores, so no finalizer, no diff-base or progress annotations: a store
costs one API write (its status, only when it changes). Every path calls the same `reconcile()`:
the watch's initial listing (resume), each event, a program turning ready or going away, and one
resync loop for all stores.

Deletes: the DELETED event's last body gives the tombstone. A store deleted while the operator was
down left its record on the compacted topic, so the first time each program is reconciled in this
process (and again after a tombstone gave up), its store topic is read back and every key no
live store of that program claims gets a tombstone (controller-runtime's orphan sweep).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from qsr_operator import kube, reconcile_store, topics
from qsr_operator.domain import topic_plan
from qsr_operator.runtime import Note, Outcome, Runtime
from qsr_operator.workqueue import WorkQueue

logger = logging.getLogger(__name__)
Key = tuple[str, str]
Programs = reconcile_store.Programs
StoreIds = Mapping[Key, Any]  # Kopf's index: (namespace, program) -> store ids
Run = Callable[[Mapping[str, Any], Programs], Awaitable[Outcome]]
Post = Callable[[Mapping[str, Any], Note], None]


class StoreController:
    def __init__(self, rt: Runtime, *, run: Run, post: Post) -> None:
        self.rt = rt
        self._run, self._post = run, post
        self.bodies: dict[Key, Mapping[str, Any]] = {}
        self.deleted: dict[Key, Mapping[str, Any]] = {}
        self.gave_up_at: dict[Key, float] = {}
        self.programs: Programs = {}
        self.store_ids: StoreIds = {}
        self.program_ready: dict[Key, bool] = {}
        self.swept: set[Key] = set()
        workers = rt.settings.store_workers
        self.queue: WorkQueue[Key] = WorkQueue("stores", self._reconcile, workers=workers)
        self.sweeps: WorkQueue[Key] = WorkQueue("store-sweeps", self._sweep, workers=1)
        self._resync: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.queue.start()
        self.sweeps.start()
        self._resync = asyncio.create_task(self._resync_loop(), name="stores-resync")

    async def stop(self) -> None:
        if self._resync is not None:
            self._resync.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._resync
        await self.sweeps.stop()
        await self.queue.stop()

    def bind(self, indexes: Mapping[str, Any]) -> None:
        """Kopf's live indexes (complete before any handler runs), from a handler's arguments."""
        self.programs, self.store_ids = indexes["programs"], indexes["store_ids"]

    def observe(
        self, kind: str | None, body: Mapping[str, Any], indexes: Mapping[str, Any]
    ) -> None:
        """A store's watch event (kind None: the initial listing). Only queues; never waits."""
        self.bind(indexes)
        meta = body["metadata"]
        key = (meta["namespace"], meta["name"])
        if kind == "DELETED":
            self.bodies.pop(key, None)
            self.deleted[key] = body
        else:
            previous, self.bodies[key] = self.bodies.get(key), body
            if previous is not None and self._own_write(previous, body):
                return  # the echo of our own status patch: nothing new to reconcile
        self.queue.add(key)

    def _own_write(self, previous: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
        """Whether `body` differs from `previous` only by the status we wrote last."""
        old, new = previous["metadata"], body["metadata"]
        same = all(
            old.get(field) == new.get(field)
            for field in ("uid", "generation", "labels", "annotations", "deletionTimestamp")
        )
        written = self.rt.written.get((body["kind"], new["namespace"], new["name"], new["uid"]))
        return same and written is not None and body.get("status") == written

    def program_seen(self, kind: str | None, body: Mapping[str, Any]) -> None:
        """A program's event: when it turns ready or goes away, its stores are reconciled now."""
        meta = body["metadata"]
        key = (meta["namespace"], meta["name"])
        ready = kind != "DELETED" and reconcile_store.topics_ready(body)
        was_ready = self.program_ready.get(key, False)
        if kind == "DELETED":
            self.program_ready.pop(key, None)
            self.swept.discard(key)  # a program made again under this name is swept again
        else:
            self.program_ready[key] = ready
        if was_ready == ready:
            return
        for store, store_body in list(self.bodies.items()):
            if store[0] == key[0] and _program_of(store_body) == key[1]:
                self.queue.add(store)

    def sweep_once(self, namespace: str, program: str) -> None:
        """Tombstone orphaned records on this program's topic, once per process (or after a
        tombstone gave up)."""
        if (namespace, program) not in self.swept:
            self.sweeps.add((namespace, program))

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.rt.settings.resync_seconds)
            for key in list(self.bodies):
                self.queue.add(key)

    async def _reconcile(self, key: Key) -> float | None:
        retry = self.rt.settings.retry_seconds
        gone = self.deleted.get(key)
        if gone is not None:
            if not await self._tombstone(key, gone):
                return retry
            if self.deleted.get(key) is gone:
                del self.deleted[key]
        body = self.bodies.get(key)
        if body is None:
            return None
        try:
            outcome = await self._run(body, self.programs)
        except kube.KubeError as exc:  # the status patch failed: counted as an error, retried
            logger.warning("reconcile of %s/%s: Kubernetes API: %s; retrying", *key, exc)
            return retry
        return retry if outcome.temporary else None

    async def _tombstone(self, key: Key, body: Mapping[str, Any]) -> bool:
        """True once done (or given up on after the delete timeout); False to retry."""
        try:
            note = await reconcile_store.tombstone(self.rt, body)
        except topics.KafkaUnavailable as exc:
            first = self.gave_up_at.setdefault(key, time.monotonic())
            if time.monotonic() - first < self.rt.settings.delete_timeout_seconds:
                logger.warning("tombstone for %s/%s: %s; retrying", *key, exc)
                return False
            logger.error("tombstone for %s/%s given up: %s", *key, exc)
            # The next sweep of the namespace's programs writes it.
            self.swept = {done for done in self.swept if done[0] != key[0]}
            note = None
        self.gave_up_at.pop(key, None)
        self.rt.forget(body)
        if note is not None:
            self._post(body, note)
        return True

    async def _sweep(self, key: Key) -> float | None:
        namespace, program = key
        if key in self.swept:
            return None
        found = next(iter(self.programs.get(key, ())), None)
        if found is None or not reconcile_store.topics_ready(found):
            return None  # swept when its program reconciles with topics ready
        topic = topic_plan.store_topic(namespace=namespace, program=program)
        try:
            actual = (await self.rt.topics.describe([topic])).get(topic)
            if actual is None:
                return None  # no topic, nothing published: swept when it exists
            published = await self.rt.publisher.live_keys(topic, partitions=actual.partitions)
            live = {str(s).encode() for s in self.store_ids.get(key, ())}
            orphans = sorted(published - live)
            await self.rt.publisher.send_all(topic, [(store_id, None) for store_id in orphans])
        except topics.KafkaUnavailable as exc:
            logger.warning("sweep of %s: %s; retrying", topic, exc)
            return self.rt.settings.retry_seconds
        if orphans:
            logger.info("sweep of %s: tombstones for %d deleted store(s)", topic, len(orphans))
            self._post(found, Note("ConfigRemoved", _swept(orphans, topic)))
        self.swept.add(key)
        return None


def _program_of(body: Mapping[str, Any]) -> str | None:
    ref = (body.get("spec") or {}).get("programRef") or {}
    name = ref.get("name")
    return None if name is None else str(name)


def _swept(orphans: list[bytes], topic: str) -> str:
    shown = ", ".join(k.decode(errors="replace") for k in orphans[:5])
    more = f" and {len(orphans) - 5} more" if len(orphans) > 5 else ""
    return f"tombstones on {topic} for stores no StoreIntegration has any more: {shown}{more}"
