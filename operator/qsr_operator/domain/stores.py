"""A StoreIntegration as the running services see it: one record on the program's store topic.

Pure: the record is keyed by store id (the topic is compacted), carries secret *references* only,
and its checksum lets the reconciler publish once per change, never on a restart.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from qsr_kit.domain import specs
from qsr_operator.domain import children
from qsr_operator.domain.conditions import Condition, Type, summary


@dataclasses.dataclass(frozen=True)
class StoreRecord:
    key: bytes
    value: bytes
    checksum: str


def store_record(*, namespace: str, name: str, spec: specs.StoreIntegrationSpec) -> StoreRecord:
    body = {
        "namespace": namespace,
        "name": name,
        "spec": spec.model_dump(mode="json", by_alias=True),
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return StoreRecord(spec.store_id.encode(), text.encode(), children.checksum_of(text))


def secret_refs(spec: specs.StoreIntegrationSpec) -> list[tuple[str, specs.SecretRef]]:
    """(field path, reference) of every Secret the store needs."""
    return [
        ("spec.pos.webhookSecretRef", spec.pos.webhook_secret_ref),
        ("spec.payment.secretRef", spec.payment.secret_ref),
    ]


def program_found(program: str, *, exists: bool) -> Condition:
    if exists:
        return Condition(Type.PROGRAM_FOUND, True, "ProgramFound", f"LoyaltyProgram {program}")
    return Condition(
        Type.PROGRAM_FOUND,
        False,
        "ProgramNotFound",
        f"spec.programRef.name: LoyaltyProgram {program!r} does not exist in this namespace",
    )


def secrets_found(missing: Sequence[str]) -> Condition:
    if not missing:
        return Condition(Type.SECRETS_FOUND, True, "SecretsFound", "every referenced key exists")
    return Condition(Type.SECRETS_FOUND, False, "SecretNotFound", "; ".join(missing))


def published(*, error: str | None, skipped: str | None = None) -> Condition:
    if error is not None:
        return Condition(Type.CONFIG_PUBLISHED, False, "KafkaUnavailable", error)
    if skipped is not None:
        return Condition(Type.CONFIG_PUBLISHED, False, "NotPublished", skipped)
    return Condition(Type.CONFIG_PUBLISHED, True, "Published", "store config on the store topic")


def store_conditions(parts: Sequence[Condition]) -> list[Condition]:
    return [summary(parts), *parts]
