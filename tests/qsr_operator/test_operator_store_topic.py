"""What a StoreIntegration leaves on the compacted store topics, read back from the real Kafka.

Stores carry no finalizer: a delete seen live gets its tombstone from the watch's last body, a
delete while the operator was down from the startup sweep of the program's topic, and a
`programRef` change tombstones the record on the old program's topic.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from qsr_devstack import testing
from qsr_operator.domain import topic_plan
from qsr_operator.settings import Settings
from tests.qsr_operator import cluster
from tests.qsr_operator.cluster import Cluster, program_body, store_body, wait_for

pytestmark = [pytest.mark.k8s, pytest.mark.kafka]
LP, SI = "loyaltyprograms", "storeintegrations"
Latest = dict[bytes, bytes | None]


@pytest.fixture(scope="module")
def k8s(kube: testing.Kube) -> Cluster:
    c = Cluster(kube, cluster.fresh_namespace(kube, "op-topic"))
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
        resync_seconds=2,
        retry_seconds=1,
        liveness_endpoint=None,
        metrics_port=None,
    )


async def _latest(kafka: testing.Kafka, topic: str) -> Latest:
    """The latest value per key on the topic's one partition (None: a tombstone)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        end = (await consumer.end_offsets([partition]))[partition]
        latest: Latest = {}
        while await consumer.position(partition) < end:
            for record in (await consumer.getmany(partition, timeout_ms=1000)).get(partition, []):
                latest[record.key] = record.value
        return latest
    finally:
        await consumer.stop()


async def _wait_latest(
    kafka: testing.Kafka, topic: str, store_id: str, *, tombstone: bool
) -> Latest:
    key, deadline = store_id.encode(), time.monotonic() + 60
    latest: Latest = {}
    while time.monotonic() < deadline:
        latest = await _latest(kafka, topic)
        if key in latest and (latest[key] is None) == tombstone:
            return latest
        await asyncio.sleep(0.3)
    what = "tombstone" if tombstone else "record"
    raise AssertionError(f"no {what} for {store_id} on {topic}; last: {latest}")


def _topic(k8s: Cluster, program: str) -> str:
    return topic_plan.store_topic(namespace=k8s.namespace, program=program)


def _ready(k8s: Cluster, program: str, stores: list[str]) -> None:
    k8s.create(LP, program_body(program))
    for name in stores:
        k8s.create(SI, store_body(name, program=program))
    k8s.wait_condition(LP, program, "Ready", "True", timeout=90)
    for name in stores:
        k8s.wait_condition(SI, name, "Ready", "True")


def _gone(k8s: Cluster, name: str) -> bool:
    listed = k8s.custom.list_namespaced_custom_object("qsr.io", "v1alpha1", k8s.namespace, SI)
    return all(item["metadata"]["name"] != name for item in listed["items"])


async def test_store_carries_no_finalizer_and_its_delete_leaves_a_tombstone(
    k8s: Cluster, kafka: testing.Kafka, settings: Settings
) -> None:
    with cluster.running_operator(settings):
        await asyncio.to_thread(_ready, k8s, "topic-a", ["ta-1", "ta-2"])
        store = k8s.get(SI, "ta-1")
        assert not store["metadata"].get("finalizers")
        await _wait_latest(kafka, _topic(k8s, "topic-a"), "ta-1", tombstone=False)
        k8s.delete(SI, "ta-1")
        latest = await _wait_latest(kafka, _topic(k8s, "topic-a"), "ta-1", tombstone=True)
    assert latest[b"ta-2"] is not None


async def test_store_deleted_while_the_operator_was_down_is_tombstoned_at_startup(
    k8s: Cluster, kafka: testing.Kafka, settings: Settings
) -> None:
    with cluster.running_operator(settings):
        await asyncio.to_thread(_ready, k8s, "topic-b", ["tb-1", "tb-2"])
    topic = _topic(k8s, "topic-b")
    before = await _latest(kafka, topic)
    assert before[b"tb-1"] is not None and before[b"tb-2"] is not None
    k8s.delete(SI, "tb-1")  # no finalizer: gone at once, with no operator to see it
    wait_for("tb-1 to be gone", lambda: _gone(k8s, "tb-1"))
    with cluster.running_operator(settings):
        latest = await _wait_latest(kafka, topic, "tb-1", tombstone=True)
    assert latest[b"tb-2"] is not None


async def test_program_ref_change_tombstones_the_record_on_the_old_program_topic(
    k8s: Cluster, kafka: testing.Kafka, settings: Settings
) -> None:
    with cluster.running_operator(settings):
        await asyncio.to_thread(_ready, k8s, "topic-c", ["tc-1"])
        await asyncio.to_thread(_ready, k8s, "topic-d", [])
        await _wait_latest(kafka, _topic(k8s, "topic-c"), "tc-1", tombstone=False)
        k8s.patch(SI, "tc-1", {"spec": {"programRef": {"name": "topic-d"}}})
        moved = await _wait_latest(kafka, _topic(k8s, "topic-d"), "tc-1", tombstone=False)
        await _wait_latest(kafka, _topic(k8s, "topic-c"), "tc-1", tombstone=True)
        wait_for(
            "status.publishedProgram",
            lambda: (k8s.get(SI, "tc-1").get("status") or {}).get("publishedProgram") == "topic-d",
        )
    assert b'"topic-d"' in (moved[b"tc-1"] or b"")


async def test_last_store_of_a_namespace_deleted_while_down_is_tombstoned_at_startup(
    kube: testing.Kube, kafka: testing.Kafka, settings: Settings
) -> None:
    # A namespace of its own: with no store left, no store event ever reaches the operator.
    alone = Cluster(kube, cluster.fresh_namespace(kube, "op-last"))
    for secret in cluster.secret_bodies():
        alone.core.create_namespaced_secret(alone.namespace, secret)
    scoped = settings.model_copy(update={"namespaces": [alone.namespace]})
    with cluster.running_operator(scoped):
        await asyncio.to_thread(_ready, alone, "topic-e", ["te-1"])
    topic = _topic(alone, "topic-e")
    assert (await _latest(kafka, topic))[b"te-1"] is not None
    alone.delete(SI, "te-1")
    wait_for("te-1 to be gone", lambda: _gone(alone, "te-1"))
    with cluster.running_operator(scoped):
        latest = await _wait_latest(kafka, topic, "te-1", tombstone=True)
    assert list(latest) == [b"te-1"]
