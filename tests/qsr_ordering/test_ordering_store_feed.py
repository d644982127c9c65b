"""A running ordering app follows the operator's store topic: a published store becomes orderable,
a pause and a tombstone take effect, a malformed record is skipped, and /readyz waits for the
table to be read. No restart anywhere; the records are the operator's own (`store_record`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from qsr_kit import auth, bus
from qsr_ordering import main
from qsr_ordering.settings import OrderingSettings
from qsr_ordering.stores import Stores, UnknownStore
from tests.qsr_kit.storefeed_topics import StoreTopic, new_topic_name, store_topic, until
from tests.qsr_ordering.menus import EXAMPLES, example_store
from tests.qsr_ordering.service import AUDIENCE, ISSUER, Clock, Ordering, order_body

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def config_without_store_0001(tmp_path: Path) -> Path:
    """The example stores but store-0001, which only the topic will bring."""
    docs = [
        doc
        for doc in yaml.safe_load_all((EXAMPLES / "stores.yaml").read_text())
        if doc and doc["spec"]["storeId"] != "store-0001"
    ]
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "stores.yaml").write_text(yaml.safe_dump_all(docs))
    return folder


@contextlib.asynccontextmanager
async def running(
    *, postgres: Any, kafka: Any, cms_url: str, config: Path, topic: str
) -> AsyncIterator[Ordering]:
    issuer = auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE)
    settings = OrderingSettings(
        database_url=postgres.create_database(f"ordering_feed_{uuid.uuid4().hex[:10]}"),
        config_dir=config,
        menu_url=cms_url,
        issuer=ISSUER,
        audience=AUDIENCE,
        kafka_bootstrap=kafka.bootstrap,
        store_topics=topic,
    )
    verifier = auth.Verifier.static(issuer.jwks(), issuer=ISSUER, audience=AUDIENCE)
    events = bus.InProcessBus()
    clock = Clock()
    app = main.create_app(settings, verifier=verifier, publisher=events, clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o") as client,
    ):
        yield Ordering(app, client, issuer, clock, events)


async def ready(ordering: Ordering, *, within_s: float = 20.0) -> None:
    """Wait (deadline) for /readyz 200; the feed's check is what holds it back."""
    deadline = time.monotonic() + within_s
    while (answer := await ordering.client.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, f"/readyz still {answer.status_code}: {answer.text}"
        await asyncio.sleep(0.02)


def stores_of(ordering: Ordering) -> Stores:
    stores: Stores = ordering.app.state.ordering.stores
    return stores


def known(ordering: Ordering, store_id: str) -> bool:
    try:
        stores_of(ordering).get(store_id)
    except UnknownStore:
        return False
    return True


@pytest.fixture
async def topic(kafka: Any) -> AsyncIterator[StoreTopic]:
    async with store_topic(kafka.bootstrap) as made:
        yield made


@pytest.fixture
async def ordering(
    postgres: Any, kafka: Any, cms_url: str, tmp_path: Path, topic: StoreTopic
) -> AsyncIterator[Ordering]:
    config = config_without_store_0001(tmp_path)
    async with running(
        postgres=postgres, kafka=kafka, cms_url=cms_url, config=config, topic=topic.name
    ) as service:
        await ready(service)
        yield service


async def test_a_published_store_becomes_orderable_without_a_restart(
    ordering: Ordering, topic: StoreTopic
) -> None:
    refused = await ordering.place(order_body())
    assert refused.status_code == 404, refused.text
    await topic.publish(example_store("store-0001"))
    await until(lambda: known(ordering, "store-0001"), what="store-0001 reached ordering")
    placed = await ordering.place(order_body())
    assert placed.status_code == 201, placed.text


async def test_a_published_pause_refuses_new_orders(ordering: Ordering, topic: StoreTopic) -> None:
    await topic.publish(example_store("store-0001"))
    await until(lambda: known(ordering, "store-0001"), what="store-0001 reached ordering")
    await topic.publish(example_store("store-0001", paused=True))
    await until(
        lambda: stores_of(ordering).get("store-0001").paused, what="the pause reached ordering"
    )
    response = await ordering.place(order_body())
    assert (response.status_code, response.json()["code"]) == (409, "store-paused")


async def test_a_tombstone_makes_the_store_unknown(ordering: Ordering, topic: StoreTopic) -> None:
    await topic.publish(example_store("store-0001"))
    await until(lambda: known(ordering, "store-0001"), what="store-0001 reached ordering")
    await topic.delete("store-0001")
    await until(lambda: not known(ordering, "store-0001"), what="the tombstone reached ordering")
    response = await ordering.place(order_body())
    assert response.status_code == 404, response.text


async def test_a_malformed_record_is_skipped_and_the_next_good_one_applies(
    ordering: Ordering, topic: StoreTopic, caplog: pytest.LogCaptureFixture
) -> None:
    record = example_store("store-0001").model_dump(mode="json", by_alias=True)
    record["kitchen"]["ordersPerSlot"] = -1
    with caplog.at_level(logging.ERROR, logger="qsr_kit.storefeed"):
        await topic.publish_raw(b"store-0001", json.dumps({"spec": record}).encode())
        await topic.publish(example_store("store-0001"))
        await until(lambda: known(ordering, "store-0001"), what="the good record applied")
    assert "spec.kitchen.ordersPerSlot" in caplog.text
    placed = await ordering.place(order_body())
    assert placed.status_code == 201, placed.text


async def test_readiness_holds_while_the_store_topic_is_missing(
    postgres: Any, kafka: Any, cms_url: str, tmp_path: Path
) -> None:
    config = config_without_store_0001(tmp_path)
    async with running(
        postgres=postgres, kafka=kafka, cms_url=cms_url, config=config, topic=new_topic_name()
    ) as ordering:
        waiting = await ordering.client.get("/readyz")
        assert waiting.status_code == 503
        assert waiting.json()["checks"] == {"db": "ok", "store-feed": "failed: FeedNotReady"}


async def test_ready_means_the_stores_published_before_the_start_are_applied(
    postgres: Any, kafka: Any, cms_url: str, tmp_path: Path, topic: StoreTopic
) -> None:
    await topic.publish(example_store("store-0002", paused=True))
    await topic.publish(example_store("store-0001"))
    config = config_without_store_0001(tmp_path)
    async with running(
        postgres=postgres, kafka=kafka, cms_url=cms_url, config=config, topic=topic.name
    ) as ordering:
        await ready(ordering)
        assert known(ordering, "store-0001")
        assert stores_of(ordering).get("store-0002").paused is True
