"""charts/qsr-platform against the real local API server: server-side dry run under Pod Security
"restricted", a real install whose pods are admitted and become Available (kwok's node), and an
uninstall that leaves the CRDs and the custom resources alone."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from qsr_devstack.testing import Kube
from tests.delivery import chart

pytestmark = pytest.mark.k8s

RESTRICTED = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")
}
CRDS = ("loyaltyprograms.qsr.io", "storeintegrations.qsr.io")
DEPLOYMENTS = ("qsr-operator", "qsr-identity", "qsr-ordering", "qsr-hub", "qsr-hub-ingest")


def kubectl(
    kube: Kube, *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(kube.bin_dir / "kubectl"), f"--kubeconfig={kube.kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def helm_on(kube: Kube, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return chart.helm(f"--kubeconfig={kube.kubeconfig}", *args, check=check, bin_dir=kube.bin_dir)


def wait_until_available(kube: Kube, namespace: str, name: str, *, timeout_s: int) -> bool:
    """The API server's own wait on the Available condition, bounded by timeout_s."""
    result = kubectl(
        kube, "-n", namespace, "wait", f"deployment/{name}", "--for=condition=Available",
        f"--timeout={timeout_s}s", check=False,
    )  # fmt: skip
    return result.returncode == 0


@pytest.fixture(scope="module")
def namespace(kube: Kube) -> Iterator[str]:
    name = f"qsr-chart-{uuid.uuid4().hex[:8]}"
    manifest = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": RESTRICTED},
    }
    kubectl(kube, "apply", "-f", "-", stdin=json.dumps(manifest))
    yield name
    kubectl(kube, "delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def installed(kube: Kube, namespace: str) -> str:
    helm_on(
        kube, "install", "qsr", str(chart.CHART), "--namespace", namespace,
        "--set", "kafka.bootstrap=127.0.0.1:9092", "--timeout", "120s",
    )  # fmt: skip
    return namespace


def test_template_passes_server_dry_run_without_pod_security_warnings(
    kube: Kube, namespace: str
) -> None:
    rendered = chart.helm(*chart.template_args(namespace=namespace)).stdout
    result = kubectl(kube, "apply", "--dry-run=server", "-n", namespace, "-f", "-", stdin=rendered)
    assert "deployment.apps/qsr-operator created (server dry run)" in result.stdout
    assert "PodSecurity" not in result.stderr


def test_restricted_namespace_rejects_a_pod_that_may_escalate(kube: Kube, namespace: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "escalating"},
        "spec": {"containers": [{"name": "c", "image": "qsr-platform:0.1.0"}]},
    }
    result = kubectl(
        kube,
        "apply",
        "--dry-run=server",
        "-n",
        namespace,
        "-f",
        "-",
        stdin=json.dumps(pod),
        check=False,
    )
    assert result.returncode != 0
    assert "violates PodSecurity" in result.stderr


def test_rendered_pods_are_admitted_under_restricted(kube: Kube, installed: str) -> None:
    for name, spec in chart.pod_specs(chart.render(namespace=installed)):
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"{name}-probe"},
            "spec": spec,
        }
        result = kubectl(
            kube,
            "apply",
            "--dry-run=server",
            "-n",
            installed,
            "-f",
            "-",
            stdin=json.dumps(pod),
            check=False,
        )
        assert result.returncode == 0, result.stderr


def test_install_makes_the_operator_deployment_available(kube: Kube, installed: str) -> None:
    assert wait_until_available(kube, installed, "qsr-operator", timeout_s=120)


def test_install_makes_every_service_deployment_available(kube: Kube, installed: str) -> None:
    waiting = [
        n for n in DEPLOYMENTS if not wait_until_available(kube, installed, n, timeout_s=120)
    ]
    assert waiting == []


def test_install_created_the_crds(kube: Kube, installed: str) -> None:
    for crd in CRDS:
        kubectl(kube, "get", "crd", crd)


def test_uninstall_keeps_the_crds_and_the_custom_resources(
    kube: Kube, installed: str, tmp_path: Path
) -> None:
    program = next(
        doc
        for doc in yaml.safe_load_all((chart.ROOT / "examples" / "program.yaml").read_text())
        if doc and doc["kind"] == "LoyaltyProgram"
    )
    program["metadata"]["namespace"] = installed
    kubectl(kube, "apply", "-f", "-", stdin=json.dumps(program))
    helm_on(kube, "uninstall", "qsr", "--namespace", installed, "--wait", "--timeout", "120s")
    assert helm_on(kube, "status", "qsr", "--namespace", installed, check=False).returncode != 0
    for crd in CRDS:
        kubectl(kube, "get", "crd", crd)
    name = program["metadata"]["name"]
    assert kubectl(
        kube, "-n", installed, "get", "loyaltyprogram", name, "-o", "name"
    ).stdout.strip()
