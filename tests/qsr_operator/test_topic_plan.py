"""Which topics a program needs and how Kafka converges to them (Strimzi semantics), no broker."""

from __future__ import annotations

from typing import Any

from qsr_kit.domain import specs
from qsr_operator.domain import topic_plan
from qsr_operator.domain.topic_plan import ActualTopic, TopicSpec


def _desired(program_spec: specs.LoyaltyProgramSpec) -> list[TopicSpec]:
    return topic_plan.desired_topics(namespace="brand-a", program="rewards", spec=program_spec)


def _live(topic: TopicSpec, **changes: Any) -> ActualTopic:
    fields = {"name": topic.name, "partitions": topic.partitions, "config": dict(topic.config)}
    return ActualTopic(**{**fields, **changes})


def test_every_stream_has_retry_and_dlq_companions(program_spec) -> None:
    names = {t.name for t in _desired(program_spec)}
    for stream in ("orders", "loyalty", "pos-checks"):
        main = f"qsr.brand-a.rewards.{stream}"
        assert {main, f"{main}.retry", f"{main}.dlq"} <= names


def test_stream_topics_take_partitions_replication_and_retention_from_the_spec(
    program_spec,
) -> None:
    orders = next(t for t in _desired(program_spec) if t.name == "qsr.brand-a.rewards.orders")
    assert (orders.partitions, orders.replication_factor, orders.config["retention.ms"]) == (
        program_spec.kafka.partitions,
        program_spec.kafka.replication_factor,
        str(program_spec.kafka.retention_hours * 3600 * 1000),
    )


def test_store_topic_is_compacted_with_one_partition(program_spec) -> None:
    stores = next(t for t in _desired(program_spec) if t.name.endswith(".stores"))
    assert (stores.name, stores.partitions, dict(stores.config)) == (
        "qsr.brand-a.rewards.stores",
        1,
        {"cleanup.policy": "compact"},
    )


def test_missing_topics_are_created(program_spec) -> None:
    desired = _desired(program_spec)
    assert topic_plan.plan(desired, {}).create == tuple(desired)


def test_matching_topics_need_nothing(program_spec) -> None:
    desired = _desired(program_spec)
    actual = {t.name: _live(t) for t in desired}
    assert topic_plan.plan(desired, actual).is_empty


def test_partitions_grow_to_the_spec(program_spec) -> None:
    desired = _desired(program_spec)
    actual = {t.name: _live(t, partitions=1) for t in desired}
    grown = topic_plan.plan(desired, actual).grow
    assert grown["qsr.brand-a.rewards.orders"] == program_spec.kafka.partitions
    assert "qsr.brand-a.rewards.stores" not in grown


def test_partitions_never_shrink(program_spec) -> None:
    desired = _desired(program_spec)
    actual = {t.name: _live(t, partitions=t.partitions + 3) for t in desired}
    result = topic_plan.plan(desired, actual)
    assert (result.grow, result.is_empty) == ({}, True)
    assert {r.reason for r in result.refused} == {"NotSupported"}
    assert "decreasing" in result.refused[0].message


def test_config_changed_behind_our_back_is_reverted(program_spec) -> None:
    desired = _desired(program_spec)
    actual = {t.name: _live(t) for t in desired}
    orders = "qsr.brand-a.rewards.orders"
    actual[orders] = _live(
        next(t for t in desired if t.name == orders), config={"retention.ms": "1"}
    )
    result = topic_plan.plan(desired, actual)
    assert dict(result.reconfigure) == {orders: next(t.config for t in desired if t.name == orders)}


def test_drifted_keys_name_changed_and_stray_keys() -> None:
    topic = TopicSpec("t", 1, 1, {"retention.ms": "10", "cleanup.policy": "delete"})
    live = ActualTopic("t", 1, {"retention.ms": "5", "cleanup.policy": "delete", "segment.ms": "9"})
    assert topic_plan.drifted_keys(topic, live) == ["retention.ms", "segment.ms"]
