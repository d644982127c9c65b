"""Status conditions in the `metav1.Condition` shape, and the status a reconcile wants to write.

Pure: `lastTransitionTime` only moves when a condition's status flips, so an unchanged world
yields an identical status and the reconciler can skip the write (a restart makes zero writes).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any


class Type(enum.StrEnum):
    READY = "Ready"
    CONFIG_APPLIED = "ConfigApplied"
    SERVICE_AVAILABLE = "ServiceAvailable"
    TOPICS_READY = "TopicsReady"
    AUTOSCALING = "Autoscaling"
    RECONCILIATION_PAUSED = "ReconciliationPaused"
    PROGRAM_FOUND = "ProgramFound"
    SECRETS_FOUND = "SecretsFound"
    CONFIG_PUBLISHED = "ConfigPublished"


@dataclasses.dataclass(frozen=True)
class Condition:
    type: Type
    status: bool | None  # None = Unknown
    reason: str
    message: str

    @property
    def status_text(self) -> str:
        return "Unknown" if self.status is None else str(self.status)


def merge(
    previous: Sequence[Mapping[str, Any]],
    wanted: Sequence[Condition],
    *,
    generation: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """The new `status.conditions`: keeps `lastTransitionTime` of conditions whose status held."""
    before = {c.get("type"): c for c in previous}
    out = []
    for condition in wanted:
        old = before.get(condition.type.value)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        if old is not None and old.get("status") == condition.status_text:
            stamp = old.get("lastTransitionTime", stamp)
        out.append(
            {
                "type": condition.type.value,
                "status": condition.status_text,
                "observedGeneration": generation,
                "lastTransitionTime": stamp,
                "reason": condition.reason,
                "message": condition.message,
            }
        )
    return out


def summary(parts: Sequence[Condition]) -> Condition:
    """`Ready`: True when every part is True, else the first part that isn't, with its reason."""
    for part in parts:
        if part.status is not True:
            return Condition(Type.READY, False, part.reason, part.message)
    return Condition(Type.READY, True, "Ready", "all conditions are met")


def status_patch(current: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level status keys whose value differs; empty means: write nothing."""
    return {k: v for k, v in desired.items() if current.get(k) != v}
