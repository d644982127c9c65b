"""Which Kafka topics a program needs, and what to change so Kafka matches them (Strimzi semantics).

Pure: the topics adapter describes Kafka into `ActualTopic`s, asks `plan()` what to do, and does it.
Sync runs one way, spec → Kafka; partitions only grow; topic config overrides converge to the spec.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from qsr_kit.domain import specs, topics

# Streams a program's services produce and consume; each gets .retry and .dlq companions.
STREAMS = (topics.Stream.ORDERS, topics.Stream.LOYALTY, topics.Stream.POS_CHECKS)
# The store-config topic is compacted and keyed by store id. One partition keeps every version of a
# key in one ordered log, so growing the program's partitions can never reorder a store's config.
STORE_PARTITIONS = 1


@dataclasses.dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    config: Mapping[str, str]


@dataclasses.dataclass(frozen=True)
class ActualTopic:
    """A topic as Kafka reports it; `config` holds only its dynamic (per-topic) overrides."""

    name: str
    partitions: int
    config: Mapping[str, str]


@dataclasses.dataclass(frozen=True)
class Refused:
    name: str
    reason: str
    message: str


@dataclasses.dataclass(frozen=True)
class TopicPlan:
    create: tuple[TopicSpec, ...] = ()
    grow: Mapping[str, int] = dataclasses.field(default_factory=dict)
    reconfigure: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    refused: tuple[Refused, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.create or self.grow or self.reconfigure)


def store_topic(*, namespace: str, program: str) -> str:
    return topics.topic_name(namespace=namespace, program=program, stream=topics.Stream.STORES)


def desired_topics(
    *, namespace: str, program: str, spec: specs.LoyaltyProgramSpec
) -> list[TopicSpec]:
    """Every topic of a program: three per stream, plus the compacted store-config topic."""
    kafka = spec.kafka
    retention = {
        "cleanup.policy": "delete",
        "retention.ms": str(kafka.retention_hours * 3_600_000),
    }
    out = [
        TopicSpec(name, kafka.partitions, kafka.replication_factor, retention)
        for stream in STREAMS
        for name in topics.companions_of(
            topics.topic_name(namespace=namespace, program=program, stream=stream)
        )
    ]
    out.append(
        TopicSpec(
            store_topic(namespace=namespace, program=program),
            STORE_PARTITIONS,
            kafka.replication_factor,
            {"cleanup.policy": "compact"},
        )
    )
    return out


def plan(desired: Sequence[TopicSpec], actual: Mapping[str, ActualTopic]) -> TopicPlan:
    """What to create, grow and reconfigure; a shrink is refused (`NotSupported`), never done."""
    create: list[TopicSpec] = []
    grow: dict[str, int] = {}
    reconfigure: dict[str, Mapping[str, str]] = {}
    refused: list[Refused] = []
    for topic in desired:
        live = actual.get(topic.name)
        if live is None:
            create.append(topic)
            continue
        if topic.partitions > live.partitions:
            grow[topic.name] = topic.partitions
        elif topic.partitions < live.partitions:
            # Strimzi: "Decreasing partitions not supported".
            refused.append(
                Refused(
                    topic.name,
                    "NotSupported",
                    f"topic {topic.name} has {live.partitions} partitions; "
                    f"decreasing to {topic.partitions} is not supported",
                )
            )
        if dict(live.config) != dict(topic.config):
            reconfigure[topic.name] = topic.config
    return TopicPlan(tuple(create), grow, reconfigure, tuple(refused))


def drifted_keys(topic: TopicSpec, live: ActualTopic) -> list[str]:
    """Config keys changed behind the operator's back (for the drift metric and event)."""
    keys = set(topic.config) | set(live.config)
    return sorted(k for k in keys if topic.config.get(k) != live.config.get(k))
