"""The chart's RBAC is enough for the real operator and no more: the operator, run in-process with
the token of the chart's `qsr-operator` service account, makes the examples Ready, and the API
server refuses that account everything outside the kinds it manages."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from qsr_devstack.testing import Kafka, Kube
from qsr_operator.settings import Settings
from tests.delivery import chart
from tests.qsr_operator.cluster import Cluster, running_operator

pytestmark = [pytest.mark.k8s, pytest.mark.kafka]

RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted"}


def kubectl(kube: Kube, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(kube.bin_dir / "kubectl"), f"--kubeconfig={kube.kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def apply(kube: Kube, items: list[dict[str, Any]]) -> None:
    manifest = {"apiVersion": "v1", "kind": "List", "items": items}
    result = kubectl(kube, "apply", "-f", "-", stdin=json.dumps(manifest))
    assert result.returncode == 0, result.stderr


def examples_in(namespace: str) -> list[dict[str, Any]]:
    docs = []
    for name in ("secrets.yaml", "program.yaml", "stores.yaml"):
        for doc in yaml.safe_load_all((chart.ROOT / "examples" / name).read_text()):
            if doc:
                doc["metadata"]["namespace"] = namespace
                docs.append(doc)
    return docs


@pytest.fixture(scope="module")
def namespace(kube: Kube, kafka: Kafka) -> Iterator[str]:
    name = f"qsr-rbac-{uuid.uuid4().hex[:8]}"
    manifest = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": RESTRICTED},
    }
    assert kubectl(kube, "apply", "-f", "-", stdin=json.dumps(manifest)).returncode == 0
    chart.helm(
        f"--kubeconfig={kube.kubeconfig}", "install", "qsr", str(chart.CHART), "--namespace", name,
        "--set", f"kafka.bootstrap={kafka.bootstrap}", bin_dir=kube.bin_dir,
    )  # fmt: skip
    yield name
    chart.helm(f"--kubeconfig={kube.kubeconfig}", "uninstall", "qsr", "--namespace", name,
               check=False, bin_dir=kube.bin_dir)  # fmt: skip
    kubectl(kube, "delete", "namespace", name, "--wait=false")


@pytest.fixture(scope="module")
def operator_kubeconfig(
    kube: Kube, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A kubeconfig that authenticates as system:serviceaccount:<ns>:qsr-operator."""
    token = kubectl(kube, "-n", namespace, "create", "token", "qsr-operator", "--duration=1h")
    assert token.returncode == 0, token.stderr
    admin = yaml.safe_load(kube.kubeconfig.read_text())
    cluster = admin["clusters"][0]["cluster"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": cluster}],
        "users": [{"name": "qsr-operator", "user": {"token": token.stdout.strip()}}],
        "contexts": [{"name": "op", "context": {"cluster": "local", "user": "qsr-operator"}}],
        "current-context": "op",
    }
    path = tmp_path_factory.mktemp("operator") / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


def can(kube: Kube, namespace: str, verb: str, resource: str, *, where: str | None = None) -> bool:
    account = f"system:serviceaccount:{namespace}:qsr-operator"
    result = kubectl(
        kube, "auth", "can-i", verb, resource, "-n", where or namespace, f"--as={account}"
    )
    return result.stdout.strip() == "yes"


@pytest.mark.parametrize(
    ("verb", "resource"),
    [
        ("patch", "loyaltyprograms.qsr.io"),
        ("patch", "storeintegrations.qsr.io/status"),
        ("create", "deployments.apps"),
        ("delete", "horizontalpodautoscalers.autoscaling"),
        ("create", "poddisruptionbudgets.policy"),
        ("get", "secrets"),
        ("create", "events"),
        ("list", "customresourcedefinitions.apiextensions.k8s.io"),
    ],
)
def test_operator_account_may_manage_its_kinds(
    kube: Kube, namespace: str, verb: str, resource: str
) -> None:
    assert can(kube, namespace, verb, resource)


@pytest.mark.parametrize(
    ("verb", "resource"),
    [
        ("create", "secrets"),
        ("delete", "secrets"),
        ("create", "pods"),
        ("create", "pods/exec"),
        ("create", "roles.rbac.authorization.k8s.io"),
        ("delete", "customresourcedefinitions.apiextensions.k8s.io"),
        ("update", "namespaces"),
        ("list", "nodes"),
    ],
)
def test_operator_account_is_refused_everything_else(
    kube: Kube, namespace: str, verb: str, resource: str
) -> None:
    assert not can(kube, namespace, verb, resource)


def test_operator_account_has_no_rights_in_other_namespaces(kube: Kube, namespace: str) -> None:
    assert not can(kube, namespace, "create", "deployments.apps", where="default")
    assert not can(kube, namespace, "get", "secrets", where="default")


def test_operator_with_the_chart_rbac_makes_the_examples_ready(
    kube: Kube, kafka: Kafka, namespace: str, operator_kubeconfig: Path
) -> None:
    cluster = Cluster(kube, namespace)
    settings = Settings(
        kafka_bootstrap=kafka.bootstrap,
        kubeconfig=operator_kubeconfig,
        namespaces=[namespace],
        resync_seconds=2,  # as the operator's own integration tests: short waits between retries
        retry_seconds=1,
        liveness_endpoint=None,
        metrics_port=None,
    )
    program, *stores = [d for d in examples_in(namespace) if d["kind"] != "Secret"]
    secrets = [d for d in examples_in(namespace) if d["kind"] == "Secret"]
    with running_operator(settings):
        apply(kube, [*secrets, program])
        cluster.wait_condition("loyaltyprograms", "crispin-rewards", "Ready", "True", timeout=120)
        apply(kube, stores)
        for store in stores:
            name = store["metadata"]["name"]
            cluster.wait_condition("storeintegrations", name, "Ready", "True", timeout=60)
    deployment = cluster.apps.read_namespaced_deployment("crispin-rewards-loyalty", namespace)
    assert deployment.metadata.labels["app.kubernetes.io/managed-by"] == "qsr-operator"
