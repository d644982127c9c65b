"""The program a loyalty replica serves, read from LoyaltyProgram/StoreIntegration YAML documents:
`examples/` in the embedded mode, the operator-rendered config directory in a cluster.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from qsr_kit.domain import specs, topics


@dataclasses.dataclass(frozen=True)
class Program:
    name: str
    namespace: str
    spec: specs.LoyaltyProgramSpec
    zones: dict[str, dt.tzinfo]

    def zone_of(self, store_id: str) -> dt.tzinfo:
        """The store's time zone; UTC for a store this program does not know."""
        return self.zones.get(store_id, dt.UTC)

    @property
    def loyalty_topic(self) -> str:
        return topics.topic_name(
            namespace=self.namespace, program=self.name, stream=topics.Stream.LOYALTY
        )

    @property
    def orders_topic(self) -> str:
        return topics.topic_name(
            namespace=self.namespace, program=self.name, stream=topics.Stream.ORDERS
        )


def _documents(folder: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        found.extend(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict))
    return found


def load(folder: Path, *, name: str | None = None, namespace: str | None = None) -> Program:
    """The LoyaltyProgram in `folder` (the one named `name` if several) and its stores' zones."""
    docs = _documents(folder)
    chosen = [
        d
        for d in docs
        if d.get("kind") == "LoyaltyProgram"
        and (name is None or (d.get("metadata") or {}).get("name") == name)
    ]
    if len(chosen) != 1:
        wanted = f"LoyaltyProgram named {name}" if name else "LoyaltyProgram"
        raise ValueError(f"config_dir: expected one {wanted} in {folder}, found {len(chosen)}")
    metadata = chosen[0].get("metadata") or {}
    program_name = str(metadata.get("name", ""))
    spec = specs.LoyaltyProgramSpec.model_validate(chosen[0]["spec"])
    zones: dict[str, dt.tzinfo] = {}
    for store_doc in (d for d in docs if d.get("kind") == "StoreIntegration"):
        store = specs.StoreIntegrationSpec.model_validate(store_doc["spec"])
        if store.program_ref.name == program_name:
            zones[store.store_id] = ZoneInfo(store.timezone)
    return Program(
        name=program_name,
        namespace=namespace or str(metadata.get("namespace", "default")),
        spec=spec,
        zones=zones,
    )
