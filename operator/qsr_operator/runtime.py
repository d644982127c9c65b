"""What a running operator holds (API client, Kafka clients, locks) and what a reconcile returns.

Built once at startup by `main.py`; handlers close over it; reconcilers take it as an argument.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from qsr_operator import kube
from qsr_operator.domain import conditions
from qsr_operator.publishing import StorePublisher
from qsr_operator.secret_keys import SecretKeys
from qsr_operator.settings import Settings
from qsr_operator.topics import TopicAdmin

logger = logging.getLogger(__name__)
PAUSE_ANNOTATION = "qsr.io/pause-reconciliation"
REQUESTED_AT_ANNOTATION = "qsr.io/reconcile-requested-at"


@dataclasses.dataclass
class Runtime:
    settings: Settings
    kube: kube.Kube
    topics: TopicAdmin
    publisher: StorePublisher
    secrets: SecretKeys = dataclasses.field(init=False)  # which keys each Secret holds, cached
    locks: dict[tuple[str, str, str], asyncio.Lock] = dataclasses.field(default_factory=dict)
    # The status each object was last given: a trigger may carry a body from before our own last
    # write (child events read an index the watch has not updated yet); never write it twice.
    written: dict[tuple[str, str, str, str], dict[str, Any]] = dataclasses.field(
        default_factory=dict
    )
    # uids of programs whose finalizer ran: a late trigger must not recreate their topics.
    deleted: set[str] = dataclasses.field(default_factory=set)

    def __post_init__(self) -> None:
        self.secrets = SecretKeys(ttl=self.settings.secret_cache_seconds)

    def lock_for(self, kind: str, namespace: str, name: str) -> asyncio.Lock:
        """One reconcile at a time per object, whichever trigger (handler, child, timer) fired."""
        return self.locks.setdefault((kind, namespace, name), asyncio.Lock())

    def forget(self, body: Mapping[str, Any]) -> None:
        """Drop what we remember of a deleted object."""
        meta = body["metadata"]
        self.written.pop((body["kind"], meta["namespace"], meta["name"], meta.get("uid", "")), None)

    async def close(self) -> None:
        """Stop every client, each even if closing an earlier one failed."""
        try:
            await self.publisher.close(final=True)
        finally:
            try:
                await self.topics.close(final=True)
            finally:
                await self.kube.close()


@dataclasses.dataclass(frozen=True)
class Note:
    """Something worth a Kubernetes Event on the object."""

    reason: str
    message: str
    warning: bool = False


@dataclasses.dataclass
class Outcome:
    notes: list[Note] = dataclasses.field(default_factory=list)
    temporary: str | None = None  # retry later (Kafka or API trouble)
    permanent: str | None = None  # the spec can't work until someone changes it
    status_written: bool = False
    published_program: str | None = None  # a StoreIntegration's record is on this program's topic


def is_paused(body: Mapping[str, Any]) -> bool:
    annotations = body.get("metadata", {}).get("annotations") or {}
    return str(annotations.get(PAUSE_ANNOTATION, "")).lower() == "true"


def requested_at(body: Mapping[str, Any]) -> str | None:
    annotations = body.get("metadata", {}).get("annotations") or {}
    value = annotations.get(REQUESTED_AT_ANNOTATION)
    return None if value is None else str(value)


async def write_status(
    runtime: Runtime,
    body: Mapping[str, Any],
    *,
    wanted: list[conditions.Condition],
    extra: Mapping[str, Any],
    now: Any,
) -> bool:
    """Patch the status keys that differ; False (and no API call) when nothing does."""
    meta = body["metadata"]
    key = (body["kind"], meta["namespace"], meta["name"], meta.get("uid", ""))
    # We are the only writer of status: what we wrote last is newer than any body we were handed.
    current = runtime.written.get(key) or body.get("status") or {}
    generation = int(meta.get("generation", 0))
    desired: dict[str, Any] = {
        "observedGeneration": generation,
        "conditions": conditions.merge(
            current.get("conditions") or [], wanted, generation=generation, now=now
        ),
        **extra,
    }
    stamp = requested_at(body)
    if stamp is not None:
        desired["lastHandledReconcileAt"] = stamp
    patch = conditions.status_patch(current, desired)
    if not patch:
        return False
    logger.debug("status of %s/%s: %s", meta["namespace"], meta["name"], sorted(patch))
    await runtime.kube.patch_status(
        body["apiVersion"], body["kind"], meta["namespace"], meta["name"], patch
    )
    runtime.written[key] = {**current, **desired}
    return True
