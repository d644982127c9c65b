"""The POS webhook has its own connections: with every main-pool connection held by other work,
a signed webhook is still kept and answered 202."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
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


async def test_a_webhook_is_kept_and_answered_while_the_main_pool_is_exhausted(
    postgres: Any,
) -> None:
    issuer = auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE)
    verifier = auth.Verifier.static(issuer.jwks(), issuer=ISSUER, audience=AUDIENCE)

    async def service_token() -> str:
        return issuer.issue(subject="svc", kind="service", scopes=["orders:read"], now=time.time())

    settings = HubSettings(
        database_url=postgres.create_database(f"hub_pool_{uuid.uuid4().hex[:8]}"),
        db_pool_size=1,  # 1 kept + 1 on demand
        config_dir=EXAMPLES,
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    app = hub_main.create_app(settings, verifier=verifier, service_token=service_token)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client,
    ):
        hub: Hub = app.state.hub
        main_engine: AsyncEngine = hub.sessions.kw["bind"]
        sender = PosSender(
            client,
            hub_url="http://hub",
            store_id="store-0001",
            pos_type=specs.PosType.TOAST,
            secret=b"dev-only-store-0001-webhook",
        )
        now = datetime.now(UTC)
        sale = Sale(
            event_id=str(uuid.uuid4()),
            check_number="4242",
            business_date=now.date().isoformat(),
            closed_at=now,
            items=(("1001", 1, 699),),
            member_id=None,
        )
        async with contextlib.AsyncExitStack() as held:
            for _ in range(2):
                await held.enter_async_context(main_engine.connect())
            assert main_engine.pool.checkedout() == 2  # type: ignore[attr-defined]
            # On the main pool this would wait out the pool timeout (30 s), then fail.
            [answer] = await asyncio.wait_for(sender.send(sale, now=now), timeout=10)
            assert answer.status_code == 202, answer.text
        kept = await pos_ingest.event_of(
            hub.sessions, store_id="store-0001", event_id=answer.json()["eventId"]
        )
        assert kept is not None
        assert kept["posType"] == "toast"
