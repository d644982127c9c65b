"""kubectl and helm are the pinned builds: kubectl reaches the server, helm knows it is 1.34."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from qsr_devstack import paths
from qsr_devstack.testing import Kube


@pytest.mark.k8s
def test_kubectl_reads_readyz_and_the_server_version(kube: Kube) -> None:
    kubectl = [str(kube.bin_dir / "kubectl"), f"--kubeconfig={kube.kubeconfig}"]
    readyz = subprocess.run([*kubectl, "get", "--raw", "/readyz"], capture_output=True, text=True)
    version = subprocess.run([*kubectl, "version", "-o", "json"], capture_output=True, text=True)
    assert readyz.stdout == "ok"
    server = json.loads(version.stdout)["serverVersion"]
    assert server["gitVersion"] == f"v{paths.K8S_VERSION}"


def test_helm_renders_for_the_pinned_kubernetes_without_a_cluster(tmp_path: Path) -> None:
    chart = tmp_path / "probe"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: probe\nversion: 0.1.0\nkubeVersion: '>=1.34.0-0'\n"
    )
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe}\n"
        "data: {kube: {{ .Capabilities.KubeVersion.Version | quote }}}\n"
    )
    helm = str(paths.binary("helm"))
    rendered = subprocess.run([helm, "template", str(chart)], capture_output=True, text=True)
    assert rendered.returncode == 0, rendered.stderr
    assert 'kube: "v1.34.0"' in rendered.stdout
