"""The one idempotent reconcile of a StoreIntegration: check references, publish, report.

The store's config goes to its program's compacted store topic, where running services pick it up:
no Deployment changes, so onboarding the 1,000th store rolls nothing. Publishes only on a change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import pydantic

from qsr_kit.domain import specs
from qsr_operator import kube, runtime, topics
from qsr_operator.domain import conditions, stores, topic_plan
from qsr_operator.domain.conditions import Condition, Type
from qsr_operator.runtime import Note, Outcome, Runtime

KIND = "StoreIntegration"


def parse(body: Mapping[str, Any]) -> specs.StoreIntegrationSpec:
    return specs.StoreIntegrationSpec.model_validate(body.get("spec") or {})


async def missing_secrets(
    rt: Runtime, namespace: str, spec: specs.StoreIntegrationSpec
) -> list[str]:
    missing = []
    refs = stores.secret_refs(spec)
    # Concurrently: a store waits for one round trip, not one per Secret.
    found = await asyncio.gather(*(rt.kube.get("v1", "Secret", namespace, r.name) for _, r in refs))
    for (field, ref), secret in zip(refs, found, strict=True):
        data = {**((secret or {}).get("data") or {}), **((secret or {}).get("stringData") or {})}
        if secret is None:
            missing.append(f"{field}: Secret {ref.name!r} not found")
        elif ref.key not in data:
            missing.append(f"{field}: Secret {ref.name!r} has no key {ref.key!r}")
    return missing


def topics_ready(program: Mapping[str, Any]) -> bool:
    for condition in (program.get("status") or {}).get("conditions") or []:
        if condition.get("type") == Type.TOPICS_READY:
            return bool(condition.get("status") == "True")
    return False


Programs = Mapping[tuple[str, str], Collection[Mapping[str, Any]]]


async def reconcile(
    rt: Runtime, body: Mapping[str, Any], *, programs: Programs, now: datetime
) -> Outcome:
    """Check the program and secrets, publish the store's config if it changed, report status.

    `programs` is Kopf's index of program bodies by (namespace, name), kept by the watch: a store
    reads its program there, not with a GET. A stale entry only delays Ready to the next retry.
    """
    outcome = Outcome()
    meta = body["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    try:
        spec = parse(body)
    except pydantic.ValidationError as exc:
        outcome.permanent = f"spec is invalid: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
        invalid = Condition(Type.READY, False, "InvalidSpec", outcome.permanent)
        outcome.status_written = await runtime.write_status(
            rt, body, wanted=[invalid], extra={}, now=now
        )
        return outcome
    if runtime.is_paused(body):
        note = Condition(Type.RECONCILIATION_PAUSED, True, "Paused", "annotation is true")
        outcome.status_written = await runtime.write_status(
            rt, body, wanted=[note], extra={}, now=now
        )
        return outcome
    status = body.get("status") or {}
    checksum = status.get("configChecksum")
    try:
        program = next(iter(programs.get((namespace, spec.program_ref.name), ())), None)
        missing = await missing_secrets(rt, namespace, spec)
    except kube.KubeError as exc:
        outcome.temporary = f"Kubernetes API: {exc}"
        return outcome
    parts = [stores.program_found(spec.program_ref.name, exists=program is not None)]
    parts.append(stores.secrets_found(missing))
    record = stores.store_record(namespace=namespace, name=name, spec=spec)
    if program is None or missing:
        parts.append(stores.published(error=None, skipped="waiting for the program and secrets"))
        outcome.temporary = parts[0].message if program is None else parts[1].message
    elif not topics_ready(program):
        parts.append(stores.published(error=None, skipped="the program's topics are not ready"))
        outcome.temporary = "waiting for the program's topics"
    elif checksum == record.checksum and _published(status):
        parts.append(stores.published(error=None))
    else:
        topic = topic_plan.store_topic(namespace=namespace, program=spec.program_ref.name)
        try:
            await rt.publisher.send(topic, key=record.key, value=record.value)
            parts.append(stores.published(error=None))
            checksum = record.checksum  # the status says it; no Event per store (a write each)
        except topics.KafkaUnavailable as exc:
            parts.append(stores.published(error=str(exc)))
            outcome.temporary = str(exc)
    wanted = stores.store_conditions(parts)
    if not wanted[0].status:
        outcome.notes.append(Note(wanted[0].reason, wanted[0].message, warning=True))
    extra = {"configChecksum": checksum} if checksum else {}
    outcome.status_written = await runtime.write_status(
        rt, body, wanted=wanted, extra=extra, now=now
    )
    return outcome


def _published(status: Mapping[str, Any]) -> bool:
    return any(
        c.get("type") == conditions.Type.CONFIG_PUBLISHED and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


async def tombstone(rt: Runtime, body: Mapping[str, Any]) -> Note | None:
    """On deletion: a tombstone for the store id, so services forget the store."""
    try:
        spec = parse(body)
    except pydantic.ValidationError:
        return None
    if not _published(body.get("status") or {}):
        return None
    topic = topic_plan.store_topic(
        namespace=body["metadata"]["namespace"], program=spec.program_ref.name
    )
    await rt.publisher.send(topic, key=spec.store_id.encode(), value=None)
    return Note("ConfigRemoved", f"tombstone for store {spec.store_id} on {topic}")
