"""The conditions of a LoyaltyProgram, from what the reconciler observed (pure).

`ServiceAvailable` comes from the Deployment's real status; `Ready` summarises the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from qsr_kit.domain import specs
from qsr_operator.domain import children, topic_plan
from qsr_operator.domain.conditions import Condition, Type, summary


@dataclasses.dataclass(frozen=True)
class TopicsOutcome:
    """What happened to the topics: refused changes, or Kafka trouble (`error` set)."""

    refused: tuple[topic_plan.Refused, ...] = ()
    error: str | None = None


def service_available(deployment: Mapping[str, Any] | None) -> Condition:
    if deployment is None:
        return Condition(Type.SERVICE_AVAILABLE, False, "DeploymentMissing", "not created yet")
    status = deployment.get("status", {})
    generation = deployment.get("metadata", {}).get("generation", 0)
    if status.get("observedGeneration", 0) < generation:
        return Condition(
            Type.SERVICE_AVAILABLE, False, "RolloutPending", "deployment controller catching up"
        )
    for cond in status.get("conditions", []):
        if cond.get("type") == "Available":
            ok = cond.get("status") == "True"
            reason = "MinimumReplicasAvailable" if ok else cond.get("reason", "Unavailable")
            return Condition(Type.SERVICE_AVAILABLE, ok, reason, cond.get("message", ""))
    return Condition(Type.SERVICE_AVAILABLE, False, "Progressing", "no Available condition yet")


def topics_ready(outcome: TopicsOutcome) -> Condition:
    if outcome.error is not None:
        return Condition(Type.TOPICS_READY, False, "KafkaUnavailable", outcome.error)
    if outcome.refused:
        first = outcome.refused[0]
        return Condition(Type.TOPICS_READY, False, first.reason, first.message)
    return Condition(Type.TOPICS_READY, True, "TopicsReconciled", "every topic matches the spec")


def autoscaling(spec: specs.LoyaltyProgramSpec) -> Condition:
    minimum, maximum = children.replica_bounds(spec)
    if maximum < spec.service.max_replicas:
        message = (
            f"maxReplicas {spec.service.max_replicas} capped to {maximum}, "
            f"the topics' partition count"
        )
        return Condition(Type.AUTOSCALING, True, "CappedByPartitions", message)
    return Condition(Type.AUTOSCALING, True, "Configured", f"{minimum}..{maximum} replicas")


def program_conditions(
    spec: specs.LoyaltyProgramSpec,
    *,
    deployment: Mapping[str, Any] | None,
    topics: TopicsOutcome,
) -> list[Condition]:
    parts = [
        Condition(Type.CONFIG_APPLIED, True, "Applied", "children match the rendered program"),
        service_available(deployment),
        topics_ready(topics),
        autoscaling(spec),
    ]
    # Kafka trouble is the headline: it is what the operator waits on and what recovers by itself.
    ready = summary([parts[2], *parts[:2], *parts[3:]])
    return [ready, *parts]


def paused_conditions(previous: Sequence[Mapping[str, Any]]) -> list[Condition]:
    """While paused: keep every other condition as it was, and say why nothing moves."""
    kept = [
        Condition(Type(c["type"]), _status(c), c.get("reason", ""), c.get("message", ""))
        for c in previous
        if c.get("type") in Type.__members__.values()
        and c.get("type") != Type.RECONCILIATION_PAUSED
    ]
    note = Condition(
        Type.RECONCILIATION_PAUSED, True, "Paused", "annotation qsr.io/pause-reconciliation is true"
    )
    return [*kept, note]


def _status(condition: Mapping[str, Any]) -> bool | None:
    return {"True": True, "False": False}.get(condition.get("status", ""))
