"""`qsr serve hub-ingest`: the POS webhook route alone, in its own app on the hub's database. It
verifies and keeps, answers 202; the hub's POS worker (another app) transforms what it kept."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from qsr_hub import ingest_main
from qsr_hub.settings import HubSettings
from qsr_hub.simulators.pos_sender import PosSender
from qsr_kit.domain import specs
from tests.qsr_hub.platform import Platform
from tests.qsr_hub.test_hub_pos_ingest import sale, settled, status_of


@pytest.fixture
async def ingest(platform: Platform, tmp_path: Path) -> AsyncIterator[PosSender]:
    settings = HubSettings(
        database_url=f"sqlite:///{tmp_path / 'hub.db'}", config_dir=tmp_path / "config"
    )
    app = ingest_main.create_app(settings, clock=platform.clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as c,
    ):
        yield PosSender(
            c,
            hub_url="http://ingest",
            store_id="store-0001",
            pos_type=specs.PosType.TOAST,
            secret=b"dev-only-store-0001-webhook",
        )


async def test_a_webhook_kept_by_the_ingest_app_is_transformed_by_the_hub(
    platform: Platform, ingest: PosSender
) -> None:
    [answer] = await ingest.send(sale(platform, None), now=platform.clock.now)
    assert answer.status_code == 202, answer.text
    report = (await settled(platform, answer.json()["eventId"]))["report"]
    assert len(report["announced"]) == 1


async def test_the_ingest_app_refuses_a_bad_signature_naming_the_header(
    platform: Platform, ingest: PosSender
) -> None:
    [answer] = await ingest.send(sale(platform, None), now=platform.clock.now, secret=b"not-it")
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["field"] == "X-QSR-Signature"


async def test_the_ingest_app_keeps_a_malformed_body_and_names_the_field(
    platform: Platform, ingest: PosSender
) -> None:
    body = ingest.body_of(sale(platform, None))
    del body["details"]["order"]["businessDate"]
    [answer] = await ingest.send(None, now=platform.clock.now, raw=json.dumps(body).encode())
    assert answer.status_code == 400
    kept = await status_of(platform, answer.json()["keptAs"])
    assert (kept["status"], kept["errorField"]) == ("rejected", "details.order.businessDate")
