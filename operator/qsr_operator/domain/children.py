"""Desired Kubernetes children of a LoyaltyProgram: ConfigMap, Deployment, Service, HPA, PDB.

Pure `desired_*` builders: the reconciler server-side applies exactly what they return, and the
drift check compares the live objects against the same dicts. Names and labels: DESIGN.md §3.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from qsr_kit.domain import specs

Manifest = dict[str, Any]

COMPONENT = "loyalty"
APP_NAME = "qsr-loyalty"
CHECKSUM_ANNOTATION = "qsr.io/config-checksum"
CONFIG_KEY = "program.json"
CONFIG_DIR = "/etc/qsr/program"
HTTP_PORT = 8080
UNPRIVILEGED_UID = 10001
SERVICE_ACCOUNT = "qsr-loyalty"  # the chart creates it, annotated with the IRSA role


@dataclasses.dataclass(frozen=True)
class Owner:
    """The custom resource that owns the children (same namespace; GC deletes them with it)."""

    kind: str
    name: str
    namespace: str
    uid: str

    def reference(self) -> Manifest:
        return {
            "apiVersion": f"{specs.API_GROUP}/{specs.API_VERSION}",
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


@dataclasses.dataclass(frozen=True)
class Environment:
    """What the operator knows that the spec doesn't: where Kafka is, which service account."""

    kafka_bootstrap: str
    service_account: str = SERVICE_ACCOUNT


def labels_for(owner: Owner) -> dict[str, str]:
    """The labels on every child (DESIGN.md §3); also how child events find their owner."""
    return {
        "app.kubernetes.io/name": APP_NAME,
        "app.kubernetes.io/instance": owner.name,
        "app.kubernetes.io/component": COMPONENT,
        "app.kubernetes.io/part-of": "qsr-platform",
        "app.kubernetes.io/managed-by": "qsr-operator",
    }


def selector_for(owner: Owner) -> dict[str, str]:
    labels = labels_for(owner)
    return {k: labels[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}


def child_name(owner: Owner) -> str:
    return f"{owner.name}-{COMPONENT}"


def _metadata(owner: Owner, **extra: Any) -> Manifest:
    return {
        "name": child_name(owner),
        "namespace": owner.namespace,
        "labels": labels_for(owner),
        "ownerReferences": [owner.reference()],
        **extra,
    }


def rendered_program(spec: specs.LoyaltyProgramSpec) -> str:
    """The program as the loyalty service reads it: canonical JSON, so equal specs render equal."""
    return json.dumps(spec.model_dump(mode="json", by_alias=True), sort_keys=True, indent=1)


def checksum_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def desired_config_map(owner: Owner, spec: specs.LoyaltyProgramSpec) -> Manifest:
    rendered = rendered_program(spec)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(owner, annotations={CHECKSUM_ANNOTATION: checksum_of(rendered)}),
        "data": {CONFIG_KEY: rendered},
    }


def _resource_list(resources: specs.ResourceList) -> dict[str, str]:
    return {k: v for k, v in resources.model_dump().items() if v is not None}


_CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _probe(path: str, *, period: int, failures: int) -> Manifest:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "failureThreshold": failures,
    }


def desired_deployment(
    owner: Owner, spec: specs.LoyaltyProgramSpec, *, env: Environment, config_checksum: str
) -> Manifest:
    """The loyalty service. No `spec.replicas`: the HPA owns it (SSA would fight the HPA)."""
    service = spec.service
    container = {
        "name": COMPONENT,
        "image": service.image,
        "command": ["qsr", "serve", COMPONENT],
        # Inside the pod's own network namespace: the Service must reach it.
        "args": ["--host", "0.0.0.0", "--port", str(HTTP_PORT)],
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        "env": [
            {"name": "QSR_PROGRAM_FILE", "value": f"{CONFIG_DIR}/{CONFIG_KEY}"},
            {"name": "QSR_KAFKA_BOOTSTRAP", "value": env.kafka_bootstrap},
            {"name": "QSR_NAMESPACE", "value": owner.namespace},
            {"name": "QSR_PROGRAM", "value": owner.name},
        ],
        "resources": {
            "requests": _resource_list(service.resources.requests),
            "limits": _resource_list(service.resources.limits),
        },
        "livenessProbe": _probe("/healthz", period=10, failures=3),
        "readinessProbe": _probe("/readyz", period=5, failures=2),
        "securityContext": _CONTAINER_SECURITY,
        "volumeMounts": [{"name": "program", "mountPath": CONFIG_DIR, "readOnly": True}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(owner),
        "spec": {
            "selector": {"matchLabels": selector_for(owner)},
            "template": {
                "metadata": {
                    "labels": labels_for(owner),
                    "annotations": {CHECKSUM_ANNOTATION: config_checksum},
                },
                "spec": {
                    "serviceAccountName": env.service_account,
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": UNPRIVILEGED_UID,
                        "runAsGroup": UNPRIVILEGED_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {"name": "program", "configMap": {"name": child_name(owner)}},
                    ],
                },
            },
        },
    }


def desired_service(owner: Owner) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(owner),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_for(owner),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def replica_bounds(spec: specs.LoyaltyProgramSpec) -> tuple[int, int]:
    """(min, max) replicas: never more consumers than partitions, or the extra ones idle."""
    maximum = min(spec.service.max_replicas, spec.kafka.partitions)
    return min(spec.service.min_replicas, maximum), maximum


def desired_hpa(owner: Owner, spec: specs.LoyaltyProgramSpec) -> Manifest:
    minimum, maximum = replica_bounds(spec)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(owner),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": child_name(owner),
            },
            "minReplicas": minimum,
            "maxReplicas": maximum,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": spec.service.target_cpu_utilization,
                        },
                    },
                }
            ],
        },
    }


def desired_pdb(owner: Owner) -> Manifest:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(owner),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector_for(owner)}},
    }


def desired_children(
    owner: Owner, spec: specs.LoyaltyProgramSpec, *, env: Environment
) -> list[Manifest]:
    """Every child, ConfigMap first so the Deployment never mounts a missing or stale config."""
    config_map = desired_config_map(owner, spec)
    checksum = config_map["metadata"]["annotations"][CHECKSUM_ANNOTATION]
    return [
        config_map,
        desired_deployment(owner, spec, env=env, config_checksum=checksum),
        desired_service(owner),
        desired_hpa(owner, spec),
        desired_pdb(owner),
    ]
