"""The store feed on a real Kafka: it reads the whole table before calling itself caught up, keeps
following, skips bad records, waits for a missing topic, and stops when told."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from qsr_kit import storefeed
from qsr_kit.domain import specs, store_records, topics
from tests.qsr_kit.storefeed_topics import new_topic_name, store_topic, until
from tests.qsr_ordering.menus import example_store

pytestmark = [pytest.mark.kafka]


class Table:
    def __init__(self) -> None:
        self.stores: dict[str, specs.StoreIntegrationSpec] = {}
        self.upserts: list[str] = []

    def upsert(self, spec: specs.StoreIntegrationSpec) -> None:
        self.stores[spec.store_id] = spec
        self.upserts.append(spec.store_id)

    def remove(self, store_id: str) -> None:
        self.stores.pop(store_id, None)


@asynccontextmanager
async def following(
    bootstrap: str, topic: str, **options: Any
) -> AsyncIterator[tuple[storefeed.StoreFeed, Table]]:
    table = Table()
    feed = storefeed.StoreFeed(
        bootstrap=bootstrap,
        topics=[topic],
        upsert=table.upsert,
        remove=table.remove,
        backoff_s=(0.1, 0.5),
        **options,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    try:
        yield feed, table
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def test_caught_up_means_every_record_before_the_start_was_applied(kafka: Any) -> None:
    async with store_topic(kafka.bootstrap) as topic:
        for store_id in ("store-0001", "store-0002", "store-0003"):
            await topic.publish(example_store(store_id))
        await topic.delete("store-0002")
        async with following(kafka.bootstrap, topic.name) as (feed, table):
            await asyncio.wait_for(feed.caught_up.wait(), timeout=20)
            assert sorted(table.stores) == ["store-0001", "store-0003"]
            await feed.check()


async def test_an_empty_topic_is_caught_up_at_once_and_later_records_still_arrive(
    kafka: Any,
) -> None:
    async with (
        store_topic(kafka.bootstrap) as topic,
        following(kafka.bootstrap, topic.name) as (feed, table),
    ):
        await asyncio.wait_for(feed.caught_up.wait(), timeout=20)
        assert table.stores == {}
        await topic.publish(example_store("store-0001", paused=True))
        await until(lambda: "store-0001" in table.stores, what="store-0001 applied")
        assert table.stores["store-0001"].paused is True


async def test_a_bad_record_is_logged_naming_the_field_and_the_next_one_applies(
    kafka: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        store_topic(kafka.bootstrap, partitions=1) as topic,
        following(kafka.bootstrap, topic.name) as (feed, table),
    ):
        await asyncio.wait_for(feed.caught_up.wait(), timeout=20)
        with caplog.at_level(logging.ERROR, logger="qsr_kit.storefeed"):
            await topic.publish_raw(b"store-0001", b"{not json")
            await topic.publish(example_store("store-0001"))
            await until(lambda: "store-0001" in table.stores, what="good record applied")
        assert feed.skipped == 1
        assert "value: not JSON" in caplog.text


async def test_a_missing_topic_keeps_the_feed_not_ready_until_it_exists(kafka: Any) -> None:
    name = new_topic_name()
    async with following(kafka.bootstrap, name) as (feed, table):
        with pytest.raises(storefeed.FeedNotReady, match="catching up"):
            await feed.check()
        async with store_topic(kafka.bootstrap, name=name) as topic:
            await topic.publish(example_store("store-0003"))
            await asyncio.wait_for(feed.caught_up.wait(), timeout=20)
            await until(lambda: "store-0003" in table.stores, what="store-0003 applied")
            await feed.check()


async def test_a_namespace_wildcard_follows_a_program_topic_created_later(kafka: Any) -> None:
    namespace = f"ns{uuid.uuid4().hex[:8]}"
    first, later = (
        topics.topic_name(namespace=namespace, program=p, stream=topics.Stream.STORES)
        for p in ("first", "later")
    )
    async with store_topic(kafka.bootstrap, name=first) as topic:
        await topic.publish(example_store("store-0001"))
        wildcard = f"qsr.{namespace}.*.stores"
        async with following(kafka.bootstrap, wildcard, discover_every_s=0.5) as (feed, table):
            await asyncio.wait_for(feed.caught_up.wait(), timeout=20)
            assert table.upserts == ["store-0001"]
            async with store_topic(kafka.bootstrap, name=later) as new_program:
                await new_program.publish(example_store("store-0002"))
                await until(lambda: "store-0002" in table.stores, what="the new topic followed")
            # The reassignment that found the new topic did not replay the first one.
            assert table.upserts == ["store-0001", "store-0002"]


def test_a_wildcard_only_stands_for_the_program() -> None:
    with pytest.raises(ValueError, match=r"store_topics: 'qsr\.\*\.p\.stores'"):
        store_records.pattern_of(["qsr.*.p.stores"])
    pattern = store_records.pattern_of(["qsr.brand-a.*.stores", "qsr.b.p.stores"])
    assert pattern is not None
    assert pattern.fullmatch("qsr.brand-a.crispin-rewards.stores")
    assert pattern.match("qsr.b.p.stores")
    assert not pattern.match("qsr.brand-a.crispin-rewards.stores-x")
    assert not pattern.match("qsr.brand-b.crispin-rewards.stores")


def test_store_topics_without_a_bootstrap_are_a_settings_error() -> None:
    with pytest.raises(ValueError, match="store_topics: needs kafka_bootstrap"):
        storefeed.from_settings(
            bootstrap=None, topics="a.stores", upsert=print, remove=print, client_id="t"
        )
    none = storefeed.from_settings(
        bootstrap="127.0.0.1:1", topics="", upsert=print, remove=print, client_id="t"
    )
    assert none is None
