"""Restarts: of the operator (nothing changed → zero writes) and of Kafka (KafkaUnavailable, then
Ready again by itself). Kafka here is a broker of this module's own, so stopping it harms no one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qsr_devstack import processes, services, testing
from qsr_operator.settings import Settings
from tests.qsr_operator import cluster
from tests.qsr_operator.cluster import Cluster, program_body, store_body, wait_for

pytestmark = [pytest.mark.k8s, pytest.mark.kafka]
LP, SI = "loyaltyprograms", "storeintegrations"


@pytest.fixture(scope="module")
def k8s(kube: testing.Kube) -> Cluster:
    c = Cluster(kube, cluster.fresh_namespace(kube, "op-restart"))
    cluster.install_crds(c)
    for secret in cluster.secret_bodies():
        c.core.create_namespaced_secret(c.namespace, secret)
    return c


def _settings(k8s: Cluster, bootstrap: str) -> Settings:
    return Settings(
        kafka_bootstrap=bootstrap,
        kubeconfig=k8s.kube.kubeconfig,
        namespaces=[k8s.namespace],
        resync_seconds=2,
        retry_seconds=1,
        liveness_endpoint=None,
        metrics_port=None,
    )


def _versions(k8s: Cluster) -> dict[str, str]:
    """resourceVersion of every object the operator could write (its CRs and quiet children)."""
    out: dict[str, str] = {}
    for plural in (LP, SI):
        listed = k8s.custom.list_namespaced_custom_object(
            "qsr.io", "v1alpha1", k8s.namespace, plural
        )
        out |= {
            f"{plural}/{o['metadata']['name']}": o["metadata"]["resourceVersion"]
            for o in listed["items"]
        }
    for kind, lister in (
        ("configmap", k8s.core.list_namespaced_config_map),
        ("service", k8s.core.list_namespaced_service),
        ("pdb", k8s.policy.list_namespaced_pod_disruption_budget),
    ):
        items = lister(
            k8s.namespace, label_selector="app.kubernetes.io/managed-by=qsr-operator"
        ).items
        out |= {f"{kind}/{o.metadata.name}": o.metadata.resource_version for o in items}
    return out


def test_operator_restart_with_nothing_changed_makes_zero_writes(
    k8s: Cluster, kafka: testing.Kafka
) -> None:
    settings = _settings(k8s, kafka.bootstrap)
    with cluster.running_operator(settings):
        k8s.create(LP, program_body("quiet"))
        for n in range(3):
            k8s.create(SI, store_body(f"quiet-{n}", program="quiet"))
        k8s.wait_condition(LP, "quiet", "Ready", "True", timeout=90)
        for n in range(3):
            k8s.wait_condition(SI, f"quiet-{n}", "Ready", "True")
        # Settled: the program's status counts its stores (set by a resync).
        wait_for(
            "stores counted", lambda: (k8s.get(LP, "quiet").get("status") or {}).get("stores") == 3
        )
    before, writes = _versions(k8s), cluster.writes()
    reconciled = cluster.reconciles("LoyaltyProgram") + cluster.reconciles("StoreIntegration")
    with cluster.running_operator(settings):
        # resume + two resync rounds of each of the 4 objects
        wait_for(
            "three reconciles of every object",
            lambda: (
                cluster.reconciles("LoyaltyProgram") + cluster.reconciles("StoreIntegration")
                >= reconciled + 12
            ),
        )
        assert cluster.writes() == writes
        assert _versions(k8s) == before


def test_kafka_outage_reports_kafka_unavailable_then_recovers(k8s: Cluster, tmp_path: Path) -> None:
    proc, bootstrap = services.start_kafka(tmp_path, die_with_parent=True)
    command = Path(f"/proc/{proc.pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    restarted: processes.Started | None = None
    try:
        with cluster.running_operator(_settings(k8s, bootstrap)):
            k8s.create(LP, program_body("outage"))
            k8s.wait_condition(LP, "outage", "Ready", "True", timeout=90)
            processes.stop(proc.pid, popen=proc.popen)
            down = k8s.wait_condition(LP, "outage", "Ready", "False", reason="KafkaUnavailable")
            assert bootstrap in down["message"]
            # Same command, same data and ports: the broker comes back as it was.
            restarted = processes.start(
                "kafka-again",
                [os.fsdecode(part) for part in command],
                log=tmp_path / "kafka-again.log",
                die_with_parent=True,
            )
            k8s.wait_condition(LP, "outage", "Ready", "True", timeout=120)
            topics = k8s.condition(LP, "outage", "TopicsReady")
            assert topics is not None and topics["status"] == "True"
    finally:
        processes.stop(proc.pid, popen=proc.popen)
        if restarted is not None:
            processes.stop(restarted.pid, popen=restarted.popen)
