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
PUBLISHED_PROGRAM = "publishedProgram"  # status: the program whose store topic has the record


def parse(body: Mapping[str, Any]) -> specs.StoreIntegrationSpec:
    return specs.StoreIntegrationSpec.model_validate(body.get("spec") or {})


async def missing_secrets(
    rt: Runtime, namespace: str, spec: specs.StoreIntegrationSpec
) -> list[str]:
    missing = []
    refs = stores.secret_refs(spec)
    # From the Secret-keys cache; concurrently: one round trip at most, not one per Secret.
    found = await asyncio.gather(*(rt.secrets.keys(rt.kube, namespace, r.name) for _, r in refs))
    for (field, ref), keys in zip(refs, found, strict=True):
        if keys is None:
            missing.append(f"{field}: Secret {ref.name!r} not found")
        elif ref.key not in keys:
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
    elif (
        checksum == record.checksum
        and _published(status)
        and status.get(PUBLISHED_PROGRAM, spec.program_ref.name) == spec.program_ref.name
    ):
        parts.append(stores.published(error=None))
    else:
        try:
            await _publish(rt, namespace, spec, record, status, programs, outcome)
            parts.append(stores.published(error=None))
            checksum = record.checksum  # the status says it; no Event per store (a write each)
        except topics.KafkaUnavailable as exc:
            parts.append(stores.published(error=str(exc)))
            outcome.temporary = str(exc)
    wanted = stores.store_conditions(parts)
    if not wanted[0].status:
        outcome.notes.append(Note(wanted[0].reason, wanted[0].message, warning=True))
    extra: dict[str, Any] = {"configChecksum": checksum} if checksum else {}
    if outcome.published_program is not None:
        extra[PUBLISHED_PROGRAM] = outcome.published_program
    outcome.status_written = await runtime.write_status(
        rt, body, wanted=wanted, extra=extra, now=now
    )
    return outcome


async def _publish(
    rt: Runtime,
    namespace: str,
    spec: specs.StoreIntegrationSpec,
    record: stores.StoreRecord,
    status: Mapping[str, Any],
    programs: Programs,
    outcome: Outcome,
) -> None:
    """Publish on the program's store topic; after a `programRef` change, tombstone the old one.

    `status.publishedProgram` says where the record went last. It moves to the new program only
    once the old topic has its tombstone, so a failed tombstone is retried by the next reconcile.
    A program that no longer exists has no services reading its topic: nothing to tombstone.
    """
    program = spec.program_ref.name
    previous = status.get(PUBLISHED_PROGRAM)
    topic = topic_plan.store_topic(namespace=namespace, program=program)
    await rt.publisher.send(topic, key=record.key, value=record.value)
    outcome.published_program = previous or program
    if previous and previous != program and programs.get((namespace, previous)):
        old = topic_plan.store_topic(namespace=namespace, program=previous)
        await rt.publisher.send(old, key=record.key, value=None)
        outcome.notes.append(Note("ConfigMoved", f"store {spec.store_id}: tombstone on {old}"))
    outcome.published_program = program


def _published(status: Mapping[str, Any]) -> bool:
    return any(
        c.get("type") == conditions.Type.CONFIG_PUBLISHED and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


async def tombstone(rt: Runtime, body: Mapping[str, Any]) -> Note | None:
    """On deletion: a tombstone for the store id where it was published, so services forget it."""
    try:
        spec = parse(body)
    except pydantic.ValidationError:
        return None
    meta = body["metadata"]
    key = (body["kind"], meta["namespace"], meta["name"], meta.get("uid", ""))
    status = rt.written.get(key) or body.get("status") or {}
    if not _published(status):
        return None
    program = status.get(PUBLISHED_PROGRAM) or spec.program_ref.name
    topic = topic_plan.store_topic(namespace=meta["namespace"], program=program)
    await rt.publisher.send(topic, key=spec.store_id.encode(), value=None)
    return Note("ConfigRemoved", f"tombstone for store {spec.store_id} on {topic}")
