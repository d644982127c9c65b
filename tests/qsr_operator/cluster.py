"""Helpers for the operator's integration tests: API clients, waiting with deadlines, the operator
running in-process (its own thread and event loop) against the real API server and Kafka."""

from __future__ import annotations

import asyncio
import copy
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import kubernetes
from prometheus_client import REGISTRY

from qsr_devstack import testing
from qsr_operator import running
from qsr_operator.settings import Settings
from tests.qsr_operator.manifests import example_docs

T = TypeVar("T")
GROUP, VERSION = "qsr.io", "v1alpha1"
CRD_DIR = Path(__file__).resolve().parents[2] / "crds"


def wait_for(what: str, probe: Callable[[], T | None], *, timeout: float = 60.0) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


class Cluster:
    """Synchronous clients on the test API server, scoped to one namespace."""

    def __init__(self, kube: testing.Kube, namespace: str) -> None:
        self.kube = kube
        self.namespace = namespace
        self.api = kubernetes.config.new_client_from_config(config_file=str(kube.kubeconfig))
        self.core = kubernetes.client.CoreV1Api(self.api)
        self.apps = kubernetes.client.AppsV1Api(self.api)
        self.custom = kubernetes.client.CustomObjectsApi(self.api)
        self.autoscaling = kubernetes.client.AutoscalingV2Api(self.api)
        self.policy = kubernetes.client.PolicyV1Api(self.api)

    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.kube.bin_dir / "kubectl"), "--kubeconfig", str(self.kube.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def create(self, plural: str, body: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, plural, body
        )
        return created

    def get(self, plural: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, plural, name
        )
        return found

    def patch(self, plural: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        patched: dict[str, Any] = self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.namespace, plural, name, patch
        )
        return patched

    def delete(self, plural: str, name: str) -> None:
        self.custom.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, name)

    def condition(self, plural: str, name: str, kind: str) -> dict[str, Any] | None:
        for cond in (self.get(plural, name).get("status") or {}).get("conditions") or []:
            if cond["type"] == kind:
                return dict(cond)
        return None

    def wait_condition(
        self,
        plural: str,
        name: str,
        kind: str,
        status: str,
        *,
        reason: str | None = None,
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            cond = self.condition(plural, name, kind)
            if cond and cond["status"] == status and reason in (None, cond["reason"]):
                return cond
            return None

        return wait_for(f"{plural}/{name} {kind}={status} {reason or ''}", probe, timeout=timeout)

    def exists(self, read: Callable[..., Any], name: str) -> bool:
        try:
            read(name, self.namespace)
        except kubernetes.client.ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True


def program_body(name: str, **kafka: Any) -> dict[str, Any]:
    body = copy.deepcopy(example_docs("LoyaltyProgram")[0])
    body["metadata"] = {"name": name}
    body["spec"]["kafka"].update(kafka)
    return body


def store_body(name: str, *, program: str, store_id: str | None = None) -> dict[str, Any]:
    body = copy.deepcopy(example_docs("StoreIntegration")[0])
    body["metadata"] = {"name": name}
    body["spec"]["storeId"] = store_id or name
    body["spec"]["programRef"] = {"name": program}
    return body


def secret_bodies() -> list[dict[str, Any]]:
    return [{**d, "metadata": {"name": d["metadata"]["name"]}} for d in example_docs("Secret")]


def fresh_namespace(cluster_kube: testing.Kube, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    api = kubernetes.config.new_client_from_config(config_file=str(cluster_kube.kubeconfig))
    core = kubernetes.client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": name}})
    # The chart creates it in its namespace; the loyalty pods run as it (admission checks it).
    core.create_namespaced_service_account(name, {"metadata": {"name": "qsr-loyalty"}})
    return name


def install_crds(cluster: Cluster) -> None:
    applied = cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRD_DIR))
    assert applied.returncode == 0, applied.stderr
    waited = cluster.kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/loyaltyprograms.qsr.io",
        "crd/storeintegrations.qsr.io",
    )
    assert waited.returncode == 0, waited.stderr


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def writes() -> float:
    """Every write the operator's own client made so far (all verbs and kinds)."""
    return sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == "qsr_operator_api_writes"
        for sample in family.samples
        if sample.name.endswith("_total")
    )


def reconciles(kind: str) -> float:
    return sum(
        metric("controller_runtime_reconcile_total", controller=kind, result=r)
        for r in ("success", "requeue", "permanent", "error")
    )


@contextmanager
def running_operator(settings: Settings) -> Iterator[None]:
    """The real operator (`running.run`) in a thread of this process, stopped on exit."""
    stop, ready = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(running.run(settings, stop_flag=stop, ready_flag=ready))
        except BaseException as exc:  # reported to the test below
            failure.append(exc)

    thread = threading.Thread(target=target, name="qsr-operator", daemon=True)
    thread.start()
    wait_for("the operator to be ready", lambda: ready.is_set() or failure, timeout=60)
    assert not failure, failure
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "operator did not stop within 30 s"
        assert not failure, failure
