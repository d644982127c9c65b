"""The hub and hub-ingest follow the operator's store topic: a store published while they run
accepts its POS webhooks without a restart, signed with the secret the files still provide (the
topic carries secret references only, by design)."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from qsr_hub import ingest_main
from qsr_hub import main as hub_main
from qsr_hub.config import Config
from qsr_hub.settings import HubSettings
from qsr_hub.simulators.pos_payloads import Sale
from qsr_hub.simulators.pos_sender import PosSender
from qsr_kit import auth, bus
from qsr_kit.domain import specs
from tests.qsr_kit.storefeed_topics import StoreTopic, store_topic, until
from tests.qsr_ordering.menus import EXAMPLES, example_store
from tests.qsr_ordering.service import AUDIENCE, ISSUER

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def config_without_store_0001(tmp_path: Path) -> Path:
    """The examples (program, secrets incl. store-0001's webhook key) but store-0001's spec."""
    folder = tmp_path / "config"
    folder.mkdir()
    for name in ("program.yaml", "secrets.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    docs = [
        doc
        for doc in yaml.safe_load_all((EXAMPLES / "stores.yaml").read_text())
        if doc and doc["spec"]["storeId"] != "store-0001"
    ]
    (folder / "stores.yaml").write_text(yaml.safe_dump_all(docs))
    return folder


def settings(postgres: Any, kafka: Any, tmp_path: Path, topic: str) -> HubSettings:
    return HubSettings(
        database_url=postgres.create_database(f"hub_feed_{uuid.uuid4().hex[:10]}"),
        config_dir=config_without_store_0001(tmp_path),
        issuer=ISSUER,
        audience=AUDIENCE,
        kafka_bootstrap=kafka.bootstrap,
        store_topics=topic,
    )


def a_sale() -> Sale:
    now = datetime.now(UTC)
    return Sale(
        event_id=str(uuid.uuid4()),
        check_number=str(uuid.uuid4().int % 100000),
        business_date=now.date().isoformat(),
        closed_at=now,
        items=(("1001", 1, 699),),
        member_id=None,
    )


async def ready(client: httpx.AsyncClient, *, within_s: float = 20.0) -> None:
    deadline = time.monotonic() + within_s
    while (answer := await client.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, f"/readyz still {answer.status_code}: {answer.text}"
        await asyncio.sleep(0.02)


async def webhook_accepted_after_publish(
    app: FastAPI, config_of: Callable[[], Config], topic: StoreTopic, base_url: str
) -> None:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client,
    ):
        await ready(client)
        sender = PosSender(
            client,
            hub_url=base_url,
            store_id="store-0001",
            pos_type=specs.PosType.TOAST,
            secret=b"dev-only-store-0001-webhook",
        )
        [before] = await sender.send(a_sale(), now=datetime.now(UTC))
        assert before.status_code == 404, before.text
        await topic.publish(example_store("store-0001"))
        await until(lambda: "store-0001" in config_of().stores, what="store-0001 reached the app")
        [after] = await sender.send(a_sale(), now=datetime.now(UTC))
        assert after.status_code == 202, after.text


@pytest.fixture
async def topic(kafka: Any) -> AsyncIterator[StoreTopic]:
    async with store_topic(kafka.bootstrap) as made:
        yield made


async def test_the_hub_accepts_a_published_stores_webhook_without_a_restart(
    postgres: Any, kafka: Any, tmp_path: Path, topic: StoreTopic
) -> None:
    issuer = auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE)
    verifier = auth.Verifier.static(issuer.jwks(), issuer=ISSUER, audience=AUDIENCE)

    async def service_token() -> str:
        return issuer.issue(subject="svc", kind="service", scopes=["orders:read"], now=time.time())

    app = hub_main.create_app(
        settings(postgres, kafka, tmp_path, topic.name),
        verifier=verifier,
        service_token=service_token,
        publisher=bus.InProcessBus(),
    )

    await webhook_accepted_after_publish(app, lambda: app.state.hub.config, topic, "http://hub")


async def test_hub_ingest_accepts_a_published_stores_webhook_without_a_restart(
    postgres: Any, kafka: Any, tmp_path: Path, topic: StoreTopic
) -> None:
    app = ingest_main.create_app(settings(postgres, kafka, tmp_path, topic.name))

    await webhook_accepted_after_publish(app, lambda: app.state.config, topic, "http://hub-ingest")


async def test_a_new_stores_secret_added_to_the_folder_after_start_verifies_its_webhook(
    postgres: Any, kafka: Any, tmp_path: Path, topic: StoreTopic
) -> None:
    hub_settings = settings(postgres, kafka, tmp_path, topic.name)
    app = ingest_main.create_app(hub_settings)
    base = example_store("store-0001")
    pos = base.pos.model_copy(
        update={"webhook_secret_ref": specs.SecretRef(name="store-0042-pos", key="hook")}
    )
    new_store = base.model_copy(update={"store_id": "store-0042", "pos": pos})
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://i") as client,
    ):
        await ready(client)
        await topic.publish(new_store)
        await until(lambda: "store-0042" in app.state.config.stores, what="store-0042 arrived")
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "store-0042-pos"},
            "stringData": {"hook": "dev-only-store-0042-webhook"},
        }
        (hub_settings.config_dir / "store-0042-secret.yaml").write_text(yaml.safe_dump(secret))
        sender = PosSender(
            client,
            hub_url="http://i",
            store_id="store-0042",
            pos_type=specs.PosType.TOAST,
            secret=b"dev-only-store-0042-webhook",
        )
        [answer] = await sender.send(a_sale(), now=datetime.now(UTC))
        assert answer.status_code == 202, answer.text
