"""Deleting a `deletionPolicy: Delete` program while Kafka is gone: the finalizer retries, then
gives up after `delete_timeout_seconds`, the object goes, and a Warning Event names the topics left
behind. Kafka here is a bootstrap address nobody listens on; the shared broker is not touched."""

from __future__ import annotations

from typing import Any

import pytest

from qsr_devstack import processes, testing
from qsr_kit.domain import specs
from qsr_operator.domain import topic_plan
from qsr_operator.settings import Settings
from tests.qsr_operator import cluster
from tests.qsr_operator.cluster import Cluster, program_body, wait_for

pytestmark = [pytest.mark.k8s]
LP = "loyaltyprograms"
DELETE_TIMEOUT = 6.0


@pytest.fixture(scope="module")
def k8s(kube: testing.Kube) -> Cluster:
    c = Cluster(kube, cluster.fresh_namespace(kube, "op-delete-nokafka"))
    cluster.install_crds(c)
    return c


def _gone(k8s: Cluster, name: str) -> bool:
    listed = k8s.custom.list_namespaced_custom_object("qsr.io", "v1alpha1", k8s.namespace, LP)
    return all(o["metadata"]["name"] != name for o in listed["items"])


def _left_behind_events(k8s: Cluster, name: str) -> list[Any]:
    selector = f"involvedObject.name={name},reason=TopicsLeftBehind"
    return list(k8s.core.list_namespaced_event(k8s.namespace, field_selector=selector).items)


def test_delete_policy_program_is_deleted_with_a_warning_when_kafka_stays_gone(
    k8s: Cluster,
) -> None:
    settings = Settings(
        kafka_bootstrap=f"127.0.0.1:{processes.free_port()}",  # nothing listens there
        kubeconfig=k8s.kube.kubeconfig,
        namespaces=[k8s.namespace],
        resync_seconds=2,
        retry_seconds=1,
        delete_timeout_seconds=DELETE_TIMEOUT,
        liveness_endpoint=None,
        metrics_port=None,
    )
    with cluster.running_operator(settings):
        body = program_body("orphan", deletionPolicy="Delete")
        k8s.create(LP, body)
        k8s.wait_condition(LP, "orphan", "Ready", "False", reason="KafkaUnavailable")
        assert "qsr.io/finalizer" in k8s.get(LP, "orphan")["metadata"]["finalizers"]
        k8s.delete(LP, "orphan")
        # The deadline: the delete timeout, plus Kopf's retry rounds and the API's latency.
        wait_for(
            "the program to be gone", lambda: _gone(k8s, "orphan"), timeout=DELETE_TIMEOUT + 20
        )
        events = wait_for("a TopicsLeftBehind event", lambda: _left_behind_events(k8s, "orphan"))
    assert events[0].type == "Warning"
    spec = specs.LoyaltyProgramSpec.model_validate(body["spec"])
    for topic in topic_plan.desired_topics(namespace=k8s.namespace, program="orphan", spec=spec):
        assert topic.name in events[0].message
