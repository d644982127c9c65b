"""Many stores reconciled at once share the operator's one Kafka producer, closed at shutdown.

The stores exist before the operator starts, so its resume handlers reconcile them all together and
their first publishes race for the producer. Counted through the operator's own metrics.
"""

from __future__ import annotations

import pytest

from qsr_devstack import testing
from qsr_operator.settings import Settings
from tests.qsr_operator import cluster
from tests.qsr_operator.cluster import Cluster, program_body, store_body

pytestmark = [pytest.mark.k8s, pytest.mark.kafka]
LP, SI = "loyaltyprograms", "storeintegrations"
STORES = 12
STARTED = "qsr_operator_kafka_clients_started_total"
STOPPED = "qsr_operator_kafka_clients_stopped_total"


@pytest.fixture(scope="module")
def k8s(kube: testing.Kube) -> Cluster:
    c = Cluster(kube, cluster.fresh_namespace(kube, "op-burst"))
    cluster.install_crds(c)
    for secret in cluster.secret_bodies():
        c.core.create_namespaced_secret(c.namespace, secret)
    return c


@pytest.fixture(scope="module")
def settings(k8s: Cluster, kafka: testing.Kafka) -> Settings:
    return Settings(
        kafka_bootstrap=kafka.bootstrap,
        kubeconfig=k8s.kube.kubeconfig,
        namespaces=[k8s.namespace],
        resync_seconds=60,
        retry_seconds=1,
        liveness_endpoint=None,
        metrics_port=None,
    )


def _clients(kind: str) -> tuple[float, float]:
    return cluster.metric(STARTED, kind=kind), cluster.metric(STOPPED, kind=kind)


def test_stores_reconciled_together_start_one_producer_and_stop_it(
    k8s: Cluster, settings: Settings
) -> None:
    with cluster.running_operator(settings):
        k8s.create(LP, program_body("burst"))
        k8s.wait_condition(LP, "burst", "Ready", "True")
    for n in range(STORES):
        k8s.create(SI, store_body(f"burst-{n}", program="burst"))
    started, stopped = _clients("producer")
    with cluster.running_operator(settings):
        for n in range(STORES):
            k8s.wait_condition(SI, f"burst-{n}", "Ready", "True")
        assert _clients("producer")[0] - started == 1
    assert _clients("producer") == (started + 1, stopped + 1)


def test_every_kafka_client_is_stopped_when_the_operator_stops(
    k8s: Cluster, settings: Settings
) -> None:
    before = {kind: _clients(kind) for kind in ("producer", "admin")}
    with cluster.running_operator(settings):
        k8s.create(LP, program_body("burst-stop"))
        k8s.create(SI, store_body("burst-stop-0", program="burst-stop"))
        k8s.wait_condition(SI, "burst-stop-0", "Ready", "True")
    for kind, (started, stopped) in before.items():
        now_started, now_stopped = _clients(kind)
        assert now_started > started
        assert now_stopped - stopped == now_started - started
