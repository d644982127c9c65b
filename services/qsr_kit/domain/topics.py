"""Kafka topic names: `qsr.<namespace>.<program>.<stream>` and its `.retry` / `.dlq` companions.

Pure; the operator creates these topics and services publish/consume them, so both ask here.

    orders = topics.topic_name(namespace="brand-a", program="rewards", stream=topics.Stream.ORDERS)
    topics.retry_of(orders)  # 'qsr.brand-a.rewards.orders.retry'
    topics.original_of(topics.dlq_of(orders)) == orders
"""

from __future__ import annotations

import enum
import re
from typing import NewType

Topic = NewType("Topic", str)

PREFIX = "qsr"
RETRY_SUFFIX = ".retry"
DLQ_SUFFIX = ".dlq"
_PART = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Kafka: topic names are at most 249 characters of [a-zA-Z0-9._-].
_MAX_TOPIC = 249


class Stream(enum.StrEnum):
    ORDERS = "orders"
    LOYALTY = "loyalty"
    POS_CHECKS = "pos-checks"
    STORES = "stores"  # compacted, keyed by store id


class Kind(enum.StrEnum):
    MAIN = "main"
    RETRY = "retry"
    DLQ = "dlq"


def topic_name(*, namespace: str, program: str, stream: str) -> Topic:
    """The main topic of a stream; raises ValueError naming the bad part."""
    for field, value in (("namespace", namespace), ("program", program), ("stream", stream)):
        if not _PART.match(value):
            raise ValueError(f"{field}: {value!r} is not a lowercase DNS label")
    name = f"{PREFIX}.{namespace}.{program}.{stream}"
    if len(name) + len(RETRY_SUFFIX) > _MAX_TOPIC:
        raise ValueError(f"topic {name!r} is too long for Kafka with its companions")
    return Topic(name)


def retry_of(topic: Topic) -> Topic:
    return Topic(original_of(topic) + RETRY_SUFFIX)


def dlq_of(topic: Topic) -> Topic:
    return Topic(original_of(topic) + DLQ_SUFFIX)


def kind_of(topic: Topic) -> Kind:
    if topic.endswith(RETRY_SUFFIX):
        return Kind.RETRY
    if topic.endswith(DLQ_SUFFIX):
        return Kind.DLQ
    return Kind.MAIN


def original_of(topic: Topic) -> Topic:
    """The main topic of a main, retry or DLQ topic."""
    for suffix in (RETRY_SUFFIX, DLQ_SUFFIX):
        if topic.endswith(suffix):
            return Topic(topic[: -len(suffix)])
    return topic


def companions_of(topic: Topic) -> tuple[Topic, Topic, Topic]:
    """(main, retry, dlq): the three topics a stream needs."""
    main = original_of(topic)
    return main, retry_of(main), dlq_of(main)
