"""The CustomResourceDefinitions of qsr.io, built from the spec models plus what a schema can't say.

`qsr dev crds --write` renders them into `crds/`; a test fails when the checked-in files drift
from `desired_crds()`. The API server evaluates the CEL rules, so `kubectl apply` rejects bad input.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml
from pydantic import BaseModel

from qsr_kit.domain import specs
from qsr_operator.domain import schemas

Manifest = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Rule:
    """One CEL rule (`x-kubernetes-validations` entry) attached at a path of the spec schema."""

    path: str
    rule: str
    message: str
    field_path: str | None = None

    def as_validation(self) -> dict[str, str]:
        out = {"rule": self.rule, "message": self.message}
        if self.field_path:
            out["fieldPath"] = self.field_path
        return out


@dataclasses.dataclass(frozen=True)
class Kind:
    kind: str
    plural: str
    short: str
    model: type[BaseModel]
    rules: tuple[Rule, ...]
    list_maps: tuple[tuple[str, tuple[str, ...]], ...]  # path -> list-map keys
    sets: tuple[str, ...]
    max_items: tuple[tuple[str, int], ...]
    status: dict[str, Any]
    columns: tuple[dict[str, Any], ...]


_TIER_ORDER = (
    "self.map(t, t.threshold).isSorted() && "
    "self.all(t, self.exists_one(u, u.threshold == t.threshold))"
)

PROGRAM_RULES = (
    # Strimzi: partitions only grow.
    Rule("kafka.partitions", "self >= oldSelf", "partitions can only grow, never decrease"),
    Rule("tiering.tiers", _TIER_ORDER, "tier thresholds must be strictly ascending"),
    Rule("rewards[]", "self.cost > 0", "reward cost must be positive", ".cost"),
    Rule("rewards[]", "self.kind != 'item' || has(self.sku)", "item rewards need a sku", ".sku"),
    Rule(
        "rewards[]",
        "self.kind != 'percent' || self.value <= 100",
        "percent is at most 100",
        ".value",
    ),
    Rule(
        "service",
        "self.minReplicas <= self.maxReplicas",
        "minReplicas must not exceed maxReplicas",
        ".minReplicas",
    ),
    Rule(
        "expiration",
        "self.policy != 'rollingDays' || has(self.days)",
        "rollingDays expiration needs days",
        ".days",
    ),
    Rule(
        "expiration",
        "self.policy != 'endOfPeriod' || has(self.period)",
        "endOfPeriod expiration needs a period",
        ".period",
    ),
    Rule(
        "provider",
        "self.type != 'external' || (has(self.endpoint) && has(self.secretRef))",
        "an external provider needs endpoint and secretRef",
        ".endpoint",
    ),
    Rule("earning.dayparts[]", "self.start != self.end", "a daypart must not be empty", ".end"),
    Rule(
        "earning.bonuses[]",
        "self.kind != 'multiplierWindow' || (has(self.startsAt) && has(self.endsAt))",
        "a multiplierWindow bonus needs startsAt and endsAt",
        ".startsAt",
    ),
)

STORE_RULES = (
    Rule("storeId", "self == oldSelf", "storeId is immutable"),
    Rule("hours[]", "self.open != self.close", "opening hours must not be empty", ".close"),
    Rule("channels", "size(self) >= 1", "at least one channel is required"),
)

_CONDITION = {
    "type": "object",
    "required": ["type", "status"],
    "properties": {
        "type": {"type": "string", "maxLength": 316},
        "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
        "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
        "lastTransitionTime": {"type": "string", "format": "date-time"},
        "reason": {"type": "string", "maxLength": 1024},
        "message": {"type": "string", "maxLength": 32768},
    },
}
_CONDITIONS = {
    "type": "array",
    "items": _CONDITION,
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
}
_COMMON_STATUS = {
    "observedGeneration": {"type": "integer", "format": "int64"},
    "conditions": _CONDITIONS,
    "lastHandledReconcileAt": {"type": "string"},
    # Kopf's own bookkeeping, if any, stays out of our fields.
    "kopf": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
}
PROGRAM_STATUS = {
    "type": "object",
    "properties": {
        **_COMMON_STATUS,
        "stores": {"type": "integer", "description": "StoreIntegrations naming this program"},
        "partitions": {"type": "integer", "description": "partitions of the topics in Kafka"},
        "topics": {"type": "array", "items": {"type": "string"}},
        "configChecksum": {"type": "string"},
    },
}
STORE_STATUS = {
    "type": "object",
    "properties": {
        **_COMMON_STATUS,
        "configChecksum": {"type": "string"},
        "publishedProgram": {"type": "string"},
    },
}

_READY = '.status.conditions[?(@.type=="Ready")]'
_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
_READY_COLUMNS = (
    {"name": "Ready", "type": "string", "jsonPath": f"{_READY}.status"},
    {"name": "Reason", "type": "string", "jsonPath": f"{_READY}.reason"},
)

PROGRAM = Kind(
    kind="LoyaltyProgram",
    plural="loyaltyprograms",
    short="lp",
    model=specs.LoyaltyProgramSpec,
    rules=PROGRAM_RULES,
    list_maps=(
        ("tiering.tiers", ("name",)),
        ("rewards", ("id",)),
        ("earning.itemMultipliers", ("sku",)),
        ("earning.categoryMultipliers", ("category",)),
        ("earning.channelMultipliers", ("channel",)),
        ("earning.dayparts", ("name",)),
        ("earning.bonuses", ("name",)),
    ),
    sets=(),
    max_items=(("tiering.tiers", 20), ("earning.dayparts", 24), ("earning.bonuses", 100)),
    status=PROGRAM_STATUS,
    columns=(
        *_READY_COLUMNS,
        {"name": "Stores", "type": "integer", "jsonPath": ".status.stores"},
        {"name": "Partitions", "type": "integer", "jsonPath": ".spec.kafka.partitions"},
        _AGE,
    ),
)

STORE = Kind(
    kind="StoreIntegration",
    plural="storeintegrations",
    short="si",
    model=specs.StoreIntegrationSpec,
    rules=STORE_RULES,
    list_maps=(("hours", ("day", "open")), ("pos.itemMapping", ("posItemId",))),
    sets=("channels",),
    max_items=(("hours", 28), ("channels", 6)),
    status=STORE_STATUS,
    columns=(
        *_READY_COLUMNS,
        {"name": "Program", "type": "string", "jsonPath": ".spec.programRef.name"},
        {"name": "Store", "type": "string", "jsonPath": ".spec.storeId", "priority": 1},
        _AGE,
    ),
)

KINDS = (PROGRAM, STORE)


def spec_schema(kind: Kind) -> schemas.Schema:
    """The spec's structural schema with list types, bounds and CEL rules attached."""
    schema = schemas.structural(kind.model)
    for path, keys in kind.list_maps:
        node = schemas.node_at(schema, path)
        node["x-kubernetes-list-type"] = "map"
        node["x-kubernetes-list-map-keys"] = list(keys)
    for path in kind.sets:
        schemas.node_at(schema, path)["x-kubernetes-list-type"] = "set"
    for path, limit in kind.max_items:
        schemas.node_at(schema, path)["maxItems"] = limit
    for rule in kind.rules:
        node = schemas.node_at(schema, rule.path.removesuffix("[]"))
        if rule.path.endswith("[]"):
            node = node["items"]
        node.setdefault("x-kubernetes-validations", []).append(rule.as_validation())
    return schema


def desired_crd(kind: Kind) -> Manifest:
    """The CustomResourceDefinition of one kind."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{kind.plural}.{specs.API_GROUP}",
            "labels": {"app.kubernetes.io/part-of": "qsr-platform"},
        },
        "spec": {
            "group": specs.API_GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.kind.lower(),
                "shortNames": [kind.short],
                "categories": ["qsr"],
            },
            "versions": [
                {
                    "name": specs.API_VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": list(kind.columns),
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": (kind.model.__doc__ or kind.kind).strip(),
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec_schema(kind),
                                "status": kind.status,
                            },
                        }
                    },
                }
            ],
        },
    }


def desired_crds() -> dict[str, Manifest]:
    """File name in `crds/` → CRD, for every kind."""
    return {f"{specs.API_GROUP}_{kind.plural}.yaml": desired_crd(kind) for kind in KINDS}


def render(crd: Manifest) -> str:
    """The checked-in YAML text of a CRD (stable key order, so diffs stay readable)."""
    header = "# Generated by `qsr dev crds --write` from qsr_kit.domain.specs; do not edit.\n"
    return header + yaml.safe_dump(crd, sort_keys=False, width=100)
