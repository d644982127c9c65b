"""The POS webhook has its own connections (autocommitting on PostgreSQL): with every main-pool
connection held by other work, a signed webhook is still kept and answered 202; duplicates and
bad bodies are kept as on any other path."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from qsr_hub import main as hub_main
from qsr_hub import pos_ingest
from qsr_hub.deps import Hub
from qsr_hub.settings import HubSettings
from qsr_hub.simulators.pos_payloads import Sale
from qsr_hub.simulators.pos_sender import PosSender
from qsr_kit import auth
from qsr_kit.domain import specs
from tests.qsr_ordering.menus import EXAMPLES
from tests.qsr_ordering.service import AUDIENCE, ISSUER

pytestmark = [pytest.mark.postgres]


@dataclass
class RunningHub:
    hub: Hub
    sender: PosSender


@pytest.fixture
async def running_hub(postgres: Any) -> AsyncIterator[RunningHub]:
    """A hub on PostgreSQL with a main pool of 1 kept + 1 on demand."""
    issuer = auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE)
    verifier = auth.Verifier.static(issuer.jwks(), issuer=ISSUER, audience=AUDIENCE)

    async def service_token() -> str:
        return issuer.issue(subject="svc", kind="service", scopes=["orders:read"], now=time.time())

    settings = HubSettings(
        database_url=postgres.create_database(f"hub_pool_{uuid.uuid4().hex[:8]}"),
        db_pool_size=1,
        config_dir=EXAMPLES,
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    app = hub_main.create_app(settings, verifier=verifier, service_token=service_token)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client,
    ):
        sender = PosSender(
            client,
            hub_url="http://hub",
            store_id="store-0001",
            pos_type=specs.PosType.TOAST,
            secret=b"dev-only-store-0001-webhook",
        )
        yield RunningHub(hub=app.state.hub, sender=sender)


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


async def test_a_webhook_is_kept_and_answered_while_the_main_pool_is_exhausted(
    running_hub: RunningHub,
) -> None:
    main_engine: AsyncEngine = running_hub.hub.sessions.kw["bind"]
    async with contextlib.AsyncExitStack() as held:
        for _ in range(2):
            await held.enter_async_context(main_engine.connect())
        assert main_engine.pool.checkedout() == 2  # type: ignore[attr-defined]
        # On the main pool this would wait out the pool timeout (30 s), then fail.
        [answer] = await asyncio.wait_for(
            running_hub.sender.send(a_sale(), now=datetime.now(UTC)), timeout=10
        )
        assert answer.status_code == 202, answer.text
    kept = await pos_ingest.event_of(
        running_hub.hub.sessions, store_id="store-0001", event_id=answer.json()["eventId"]
    )
    assert kept is not None
    assert kept["posType"] == "toast"


async def test_a_webhook_sent_twice_is_kept_once_on_postgresql(running_hub: RunningHub) -> None:
    answers = await running_hub.sender.send(a_sale(), now=datetime.now(UTC), copies=2)
    assert [a.status_code for a in answers] == [202, 202]
    assert [a.json()["duplicate"] for a in answers] == [False, True]
    assert answers[0].json()["eventId"] == answers[1].json()["eventId"]


async def test_a_malformed_body_is_kept_as_rejected_on_postgresql(
    running_hub: RunningHub,
) -> None:
    body = running_hub.sender.body_of(a_sale())
    del body["details"]["order"]["businessDate"]
    [answer] = await running_hub.sender.send(
        None, now=datetime.now(UTC), raw=json.dumps(body).encode()
    )
    assert answer.status_code == 400
    kept = await pos_ingest.event_of(
        running_hub.hub.sessions, store_id="store-0001", event_id=answer.json()["keptAs"]
    )
    assert kept is not None
    assert (kept["status"], kept["errorField"]) == ("rejected", "details.order.businessDate")
