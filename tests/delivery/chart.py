"""Rendering charts/qsr-platform with the stack's helm (built with Kubernetes 1.34 defaults)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from qsr_devstack import paths

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "qsr-platform"
KUBE_VERSION = "1.34.4"
Manifest = dict[str, Any]


def helm(
    *args: str, check: bool = True, bin_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    binary = (bin_dir / "helm") if bin_dir else paths.binary("helm")
    result = subprocess.run(
        [str(binary), *args], capture_output=True, text=True, check=False, timeout=240
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def template_args(*extra: str, namespace: str = "qsr") -> list[str]:
    return [
        "template",
        "qsr",
        str(CHART),
        "--namespace",
        namespace,
        "--kube-version",
        KUBE_VERSION,
        *extra,
    ]


def render(*extra: str, namespace: str = "qsr") -> list[Manifest]:
    documents = yaml.safe_load_all(helm(*template_args(*extra, namespace=namespace)).stdout)
    return [doc for doc in documents if doc]


def of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def named(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    (found,) = [m for m in of_kind(manifests, kind) if m["metadata"]["name"] == name]
    return found


def pod_specs(manifests: list[Manifest]) -> Iterator[tuple[str, Manifest]]:
    for manifest in of_kind(manifests, "Deployment"):
        yield manifest["metadata"]["name"], manifest["spec"]["template"]["spec"]
