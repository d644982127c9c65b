"""Bad manifests are refused by the API server itself (schema + CEL), naming the field.

`kubectl apply --dry-run=server`: the same path as a user's `kubectl apply`, nothing stored.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from qsr_devstack import testing
from tests.qsr_operator import cluster
from tests.qsr_operator.cluster import Cluster, program_body, store_body

pytestmark = [pytest.mark.k8s]
Edit = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def k8s(kube: testing.Kube) -> Cluster:
    c = Cluster(kube, cluster.fresh_namespace(kube, "op-valid"))
    cluster.install_crds(c)
    return c


def _apply(k8s: Cluster, doc: dict[str, Any], *, dry_run: bool = True) -> tuple[int, str]:
    args = ["apply", "-n", k8s.namespace, "-f", "-"]
    if dry_run:
        args.append("--dry-run=server")
    done = k8s.kubectl(*args, stdin=yaml.safe_dump(doc))
    return done.returncode, done.stderr


def _set(path: str, value: Any) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        node = doc["spec"]
        *parents, leaf = path.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[leaf]
        else:
            node[leaf] = value

    return edit


_DELETE = object()

PROGRAM_CASES = [
    pytest.param(_set("kafka.partitions", 0), "spec.kafka.partitions", id="zero-partitions"),
    pytest.param(_set("currency", "usd"), "spec.currency", id="lowercase-currency"),
    pytest.param(
        _set("tiering.tiers", [{"name": "a", "threshold": 10}, {"name": "b", "threshold": 5}]),
        "spec.tiering.tiers",
        id="tiers-descending",
    ),
    pytest.param(_set("rewards.0.cost", 0), "spec.rewards[0].cost", id="reward-cost-zero"),
    pytest.param(_set("rewards.0.sku", _DELETE), "spec.rewards[0].sku", id="item-reward-no-sku"),
    pytest.param(
        _set("service.minReplicas", 9), "spec.service.minReplicas", id="min-above-max-replicas"
    ),
    pytest.param(
        _set("kafka.deletionPolicy", "Keep"), "spec.kafka.deletionPolicy", id="bad-deletion-policy"
    ),
    pytest.param(
        _set("provider", {"type": "external"}), "spec.provider.endpoint", id="external-no-endpoint"
    ),
    pytest.param(_set("earning", {}), "spec.earning.basePointsPerUnit", id="no-base-points"),
    pytest.param(_set("bogusField", 1), "spec.bogusField", id="unknown-field"),
    pytest.param(
        _set("expiration", {"policy": "rollingDays"}), "spec.expiration.days", id="rolling-no-days"
    ),
]

STORE_CASES = [
    pytest.param(_set("channels", []), "spec.channels", id="no-channel"),
    pytest.param(_set("channels", ["in-store", "teleport"]), "spec.channels[1]", id="bad-channel"),
    pytest.param(_set("hours.0.close", "07:00"), "spec.hours[0].close", id="empty-window"),
    pytest.param(_set("hours.0.open", "25:00"), "spec.hours[0].open", id="hour-25"),
    pytest.param(_set("pos.type", "clover"), "spec.pos.type", id="unknown-pos"),
    pytest.param(_set("storeId", _DELETE), "spec.storeId", id="no-store-id"),
    pytest.param(_set("kitchen.ordersPerSlot", 0), "spec.kitchen.ordersPerSlot", id="no-capacity"),
    pytest.param(
        _set("payment.secretRef", {"name": "Bad_Name", "key": "k"}),
        "spec.payment.secretRef.name",
        id="bad-secret-name",
    ),
]


@pytest.mark.parametrize(("edit", "field"), PROGRAM_CASES)
def test_invalid_program_is_rejected_naming_the_field(k8s: Cluster, edit: Edit, field: str) -> None:
    doc = program_body("invalid")
    edit(doc)
    code, stderr = _apply(k8s, doc)
    assert code != 0
    assert field in stderr


@pytest.mark.parametrize(("edit", "field"), STORE_CASES)
def test_invalid_store_is_rejected_naming_the_field(k8s: Cluster, edit: Edit, field: str) -> None:
    doc = store_body("invalid", program="p")
    edit(doc)
    code, stderr = _apply(k8s, doc)
    assert code != 0
    assert field in stderr


def test_store_id_cannot_change(k8s: Cluster) -> None:
    doc = store_body("fixed-id", program="p")
    assert _apply(k8s, doc, dry_run=False)[0] == 0
    changed = copy.deepcopy(doc)
    changed["spec"]["storeId"] = "another-id"
    code, stderr = _apply(k8s, changed)
    assert (code != 0, "spec.storeId" in stderr, "immutable" in stderr) == (True, True, True)


def test_examples_are_accepted(k8s: Cluster) -> None:
    done = k8s.kubectl("apply", "--dry-run=server", "-f", str(cluster.CRD_DIR.parent / "examples"))
    assert done.returncode == 0, done.stderr
