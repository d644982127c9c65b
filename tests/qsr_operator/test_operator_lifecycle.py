"""The operator against the real API server, controller-manager and Kafka: the whole lifecycle.

One operator (in-process, its own thread) watches a fresh namespace for this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from qsr_devstack import testing
from qsr_operator.domain import children
from qsr_operator.settings import Settings
from tests.qsr_operator import cluster
from tests.qsr_operator.cluster import Cluster, program_body, store_body, wait_for

pytestmark = [pytest.mark.k8s, pytest.mark.kafka]
LP, SI = "loyaltyprograms", "storeintegrations"


@pytest.fixture(scope="module")
def k8s(kube: testing.Kube) -> Cluster:
    c = Cluster(kube, cluster.fresh_namespace(kube, "op-life"))
    cluster.install_crds(c)
    for secret in cluster.secret_bodies():
        c.core.create_namespaced_secret(c.namespace, secret)
    return c


@pytest.fixture(scope="module")
def operator(k8s: Cluster, kafka: testing.Kafka) -> Iterator[None]:
    settings = Settings(
        kafka_bootstrap=kafka.bootstrap,
        kubeconfig=k8s.kube.kubeconfig,
        namespaces=[k8s.namespace],
        resync_seconds=2,
        retry_seconds=1,
        liveness_endpoint=None,
        metrics_port=None,
    )
    with cluster.running_operator(settings):
        yield


async def _topics(kafka: testing.Kafka, prefix: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        names = [n for n in await admin.list_topics() if n.startswith(prefix)]
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
    finally:
        await admin.close()


async def _wait_topics(kafka: testing.Kafka, prefix: str, check: Any, what: str) -> dict[str, int]:
    import asyncio
    import time

    deadline = time.monotonic() + 60
    found: dict[str, int] = {}
    while time.monotonic() < deadline:
        found = await _topics(kafka, prefix)
        if check(found):
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}; last: {found}")


def _ready_program(k8s: Cluster, name: str, **kafka: Any) -> dict[str, Any]:
    k8s.create(LP, program_body(name, **kafka))
    k8s.wait_condition(LP, name, "Ready", "True", timeout=90)
    return k8s.get(LP, name)


def _deployment(k8s: Cluster, program: str) -> Any:
    return k8s.apps.read_namespaced_deployment(f"{program}-loyalty", k8s.namespace)


@pytest.mark.usefixtures("operator")
async def test_program_becomes_ready_with_children_and_topics(
    k8s: Cluster, kafka: testing.Kafka
) -> None:
    program = _ready_program(k8s, "alpha", partitions=3)
    name, uid = "alpha-loyalty", program["metadata"]["uid"]
    reads = {
        "ConfigMap": k8s.core.read_namespaced_config_map,
        "Deployment": k8s.apps.read_namespaced_deployment,
        "Service": k8s.core.read_namespaced_service,
        "HorizontalPodAutoscaler": k8s.autoscaling.read_namespaced_horizontal_pod_autoscaler,
        "PodDisruptionBudget": k8s.policy.read_namespaced_pod_disruption_budget,
    }
    for read in reads.values():
        child = read(name, k8s.namespace)
        assert [r.uid for r in child.metadata.owner_references] == [uid]
        assert "qsr-operator" in {f.manager for f in child.metadata.managed_fields}
    prefix = f"qsr.{k8s.namespace}.alpha."
    topics = await _wait_topics(kafka, prefix, lambda t: len(t) == 10, "10 topics")
    assert topics[f"{prefix}orders.dlq"] == 3
    assert topics[f"{prefix}stores"] == 1


@pytest.mark.usefixtures("operator")
def test_rule_change_updates_config_and_rolls_the_deployment(k8s: Cluster) -> None:
    _ready_program(k8s, "bravo")
    before = _deployment(k8s, "bravo").spec.template.metadata.annotations
    k8s.patch(LP, "bravo", {"spec": {"earning": {"basePointsPerUnit": 12}}})

    def rolled() -> str | None:
        new = _deployment(k8s, "bravo").spec.template.metadata.annotations
        key = children.CHECKSUM_ANNOTATION
        return new[key] if new[key] != before[key] else None

    checksum = wait_for("a new pod-template checksum", rolled)
    config_map = k8s.core.read_namespaced_config_map("bravo-loyalty", k8s.namespace)
    assert config_map.metadata.annotations[children.CHECKSUM_ANNOTATION] == checksum
    assert '"basePointsPerUnit": 12' in config_map.data[children.CONFIG_KEY]


@pytest.mark.usefixtures("operator")
async def test_partitions_grow_in_kafka(k8s: Cluster, kafka: testing.Kafka) -> None:
    _ready_program(k8s, "charlie", partitions=3)
    k8s.patch(LP, "charlie", {"spec": {"kafka": {"partitions": 6}}})
    prefix = f"qsr.{k8s.namespace}.charlie."
    streams = [f"{prefix}{s}" for s in ("orders", "loyalty.retry", "pos-checks.dlq")]
    topics = await _wait_topics(
        kafka, prefix, lambda t: all(t.get(s) == 6 for s in streams), "6 partitions"
    )
    assert topics[f"{prefix}stores"] == 1
    hpa = k8s.autoscaling.read_namespaced_horizontal_pod_autoscaler(
        "charlie-loyalty", k8s.namespace
    )
    assert hpa.spec.max_replicas == 6


@pytest.mark.usefixtures("operator")
def test_partition_decrease_is_refused_by_the_api_server(k8s: Cluster) -> None:
    k8s.create(LP, program_body("delta", partitions=6))
    with pytest.raises(kubernetes.client.ApiException) as refused:
        k8s.patch(LP, "delta", {"spec": {"kafka": {"partitions": 3}}})
    assert refused.value.status == 422
    assert "spec.kafka.partitions" in refused.value.body
    assert k8s.get(LP, "delta")["spec"]["kafka"]["partitions"] == 6


@pytest.mark.usefixtures("operator")
def test_store_before_its_program_waits_then_becomes_ready_rolling_nothing(k8s: Cluster) -> None:
    _ready_program(k8s, "echo")
    generation = _deployment(k8s, "echo").metadata.generation
    k8s.create(SI, store_body("store-late", program="foxtrot"))
    waiting = k8s.wait_condition(SI, "store-late", "Ready", "False", reason="ProgramNotFound")
    assert "spec.programRef.name" in waiting["message"]
    _ready_program(k8s, "foxtrot")
    k8s.wait_condition(SI, "store-late", "Ready", "True")
    assert _deployment(k8s, "echo").metadata.generation == generation
    assert _deployment(k8s, "foxtrot").metadata.generation == 1


@pytest.mark.usefixtures("operator")
def test_store_without_its_secret_reports_secret_not_found_until_it_exists(k8s: Cluster) -> None:
    _ready_program(k8s, "golf")
    body = store_body("store-nosecret", program="golf")
    body["spec"]["payment"]["secretRef"] = {"name": "late-secret", "key": "api-key"}
    k8s.create(SI, body)
    waiting = k8s.wait_condition(SI, "store-nosecret", "Ready", "False", reason="SecretNotFound")
    assert "spec.payment.secretRef" in waiting["message"]
    k8s.core.create_namespaced_secret(
        k8s.namespace, {"metadata": {"name": "late-secret"}, "stringData": {"api-key": "x"}}
    )
    k8s.wait_condition(SI, "store-nosecret", "Ready", "True")


DRIFTS = [
    pytest.param(
        "ConfigMap",
        lambda k, n: k.core.patch_namespaced_config_map(
            n, k.namespace, {"data": {"program.json": "{}"}}
        ),
        lambda k, n: k.core.read_namespaced_config_map(n, k.namespace).data["program.json"] != "{}",
        id="configmap",
    ),
    pytest.param(
        "Deployment",
        lambda k, n: k.apps.patch_namespaced_deployment(
            n,
            k.namespace,
            {
                "spec": {
                    "template": {"spec": {"containers": [{"name": "loyalty", "image": "evil:1"}]}}
                }
            },
        ),
        lambda k, n: (
            k.apps.read_namespaced_deployment(n, k.namespace).spec.template.spec.containers[0].image
            != "evil:1"
        ),
        id="deployment",
    ),
    pytest.param(
        "Service",
        lambda k, n: k.core.patch_namespaced_service(
            n, k.namespace, [{"op": "replace", "path": "/spec/ports/0/targetPort", "value": 9999}]
        ),
        lambda k, n: (
            k.core.read_namespaced_service(n, k.namespace).spec.ports[0].target_port == "http"
        ),
        id="service",
    ),
    pytest.param(
        "HorizontalPodAutoscaler",
        lambda k, n: k.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
            n, k.namespace, {"spec": {"maxReplicas": 50}}
        ),
        lambda k, n: (
            k.autoscaling.read_namespaced_horizontal_pod_autoscaler(
                n, k.namespace
            ).spec.max_replicas
            == 6
        ),
        id="hpa",
    ),
    pytest.param(
        "PodDisruptionBudget",
        lambda k, n: k.policy.patch_namespaced_pod_disruption_budget(
            n, k.namespace, {"spec": {"maxUnavailable": 3}}
        ),
        lambda k, n: (
            k.policy.read_namespaced_pod_disruption_budget(n, k.namespace).spec.max_unavailable == 1
        ),
        id="pdb",
    ),
]


@pytest.mark.usefixtures("operator")
@pytest.mark.parametrize(("kind", "edit", "restored"), DRIFTS)
def test_drift_on_a_child_is_reverted(k8s: Cluster, kind: str, edit: Any, restored: Any) -> None:
    program = f"drift-{kind.lower()[:10]}"
    _ready_program(k8s, program)
    before = cluster.metric("qsr_operator_drift_corrections_total", kind=kind)
    edit(k8s, f"{program}-loyalty")
    wait_for(f"{kind} drift reverted", lambda: restored(k8s, f"{program}-loyalty"))
    wait_for(
        "the drift metric",
        lambda: cluster.metric("qsr_operator_drift_corrections_total", kind=kind) > before,
    )


@pytest.mark.usefixtures("operator")
async def test_topic_config_drift_is_reverted(k8s: Cluster, kafka: testing.Kafka) -> None:
    import asyncio
    import time

    _ready_program(k8s, "hotel")
    topic = f"qsr.{k8s.namespace}.hotel.orders"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "1000"})]
        )
        deadline, value = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            [response] = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": None})]
            )
            value = dict((e[0], e[1]) for e in response.resources[0][4])["retention.ms"]
            if value == str(168 * 3_600_000):
                break
            await asyncio.sleep(0.3)
    finally:
        await admin.close()
    assert value == str(168 * 3_600_000)


@pytest.mark.usefixtures("operator")
def test_paused_program_is_left_alone_until_resumed(k8s: Cluster) -> None:
    _ready_program(k8s, "india")
    k8s.patch(LP, "india", {"metadata": {"annotations": {"qsr.io/pause-reconciliation": "true"}}})
    k8s.wait_condition(LP, "india", "ReconciliationPaused", "True")
    k8s.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
        "india-loyalty", k8s.namespace, {"spec": {"maxReplicas": 40}}
    )
    seen, programs = cluster.reconciles("LoyaltyProgram"), len(_programs(k8s))
    # Two resync rounds later (each program every 2 s), the edit must still stand.
    wait_for(
        "two more resync rounds",
        lambda: cluster.reconciles("LoyaltyProgram") >= seen + 2 * programs + 2,
    )
    read = k8s.autoscaling.read_namespaced_horizontal_pod_autoscaler
    assert read("india-loyalty", k8s.namespace).spec.max_replicas == 40
    k8s.patch(LP, "india", {"metadata": {"annotations": {"qsr.io/pause-reconciliation": None}}})
    wait_for(
        "resumed drift correction",
        lambda: read("india-loyalty", k8s.namespace).spec.max_replicas == 6,
    )


@pytest.mark.usefixtures("operator")
def test_reconcile_request_is_echoed_in_status(k8s: Cluster) -> None:
    k8s.create(LP, program_body("juliet"))
    k8s.patch(
        LP, "juliet", {"metadata": {"annotations": {"qsr.io/reconcile-requested-at": "now-1"}}}
    )
    wait_for(
        "lastHandledReconcileAt",
        lambda: (
            (k8s.get(LP, "juliet").get("status") or {}).get("lastHandledReconcileAt") == "now-1"
        ),
    )


@pytest.mark.usefixtures("operator")
async def test_delete_with_retain_keeps_topics_and_collects_children(
    k8s: Cluster, kafka: testing.Kafka
) -> None:
    _ready_program(k8s, "kilo")
    k8s.delete(LP, "kilo")
    wait_for(
        "the program to go",
        lambda: not any(p["metadata"]["name"] == "kilo" for p in _programs(k8s)),
    )
    wait_for(
        "garbage collection of the Deployment",
        lambda: not k8s.exists(k8s.apps.read_namespaced_deployment, "kilo-loyalty"),
    )
    assert len(await _topics(kafka, f"qsr.{k8s.namespace}.kilo.")) == 10


@pytest.mark.usefixtures("operator")
async def test_delete_with_delete_policy_removes_topics(k8s: Cluster, kafka: testing.Kafka) -> None:
    _ready_program(k8s, "lima", deletionPolicy="Delete")
    k8s.delete(LP, "lima")
    prefix = f"qsr.{k8s.namespace}.lima."
    await _wait_topics(kafka, prefix, lambda t: len(t) == 0, "no topics left")
    wait_for(
        "the program to go",
        lambda: not any(p["metadata"]["name"] == "lima" for p in _programs(k8s)),
    )


def _programs(k8s: Cluster) -> list[dict[str, Any]]:
    listed = k8s.custom.list_namespaced_custom_object("qsr.io", "v1alpha1", k8s.namespace, LP)
    return list(listed["items"])
