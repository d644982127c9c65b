"""Ordering, hub and loyalty on real PostgreSQL, wired by real Kafka: capture follows completion
through the orders topic, and with loyalty down at checkout the order still goes through and the
accrual arrives once loyalty is back."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from qsr_hub import main as hub_main
from qsr_hub.settings import HubSettings
from qsr_hub.simulators.serving import Server
from qsr_kit import auth, kafka
from qsr_kit.domain import topics
from qsr_loyalty import main as loyalty_main
from qsr_loyalty.settings import Settings as LoyaltySettings
from qsr_ordering import main as ordering_main
from qsr_ordering.settings import OrderingSettings
from tests.qsr_hub.platform import ORDERING, SERVICE_SCOPES, RunningClock, eventually
from tests.qsr_hub.sims import Simulator
from tests.qsr_ordering.menus import EXAMPLES
from tests.qsr_ordering.service import AUDIENCE, ISSUER

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
ORDERS = topics.topic_name(
    namespace="default", program="crispin-rewards", stream=topics.Stream.ORDERS
)


def loyalty_server(url: str, bootstrap: str, issuer: auth.LocalIssuer) -> Server:
    settings = LoyaltySettings(
        database_url=url,
        config_dir=EXAMPLES,
        kafka_bootstrap=bootstrap,
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    return Server(loyalty_main.create_app(settings, issuer=issuer), name="loyalty")


async def test_loyalty_down_at_checkout_then_accrual_after_it_returns(
    postgres: Any,
    kafka: Any,
    cms_sim: Simulator,
    card_processor: Simulator,
    http: httpx.AsyncClient,
) -> None:
    run = uuid.uuid4().hex[:8]
    dbs = {
        name: postgres.create_database(f"{name}_{run}") for name in ("ordering", "hub", "loyalty")
    }
    await kafka_topics(kafka.bootstrap)
    issuer = auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE)
    verifier = auth.Verifier.static(issuer.jwks(), issuer=ISSUER, audience=AUDIENCE)
    clock = RunningClock()
    member = f"m-{run}"

    def service_token_now() -> str:
        return issuer.issue(subject="svc", kind="service", scopes=SERVICE_SCOPES, now=time.time())

    async def service_token() -> str:
        return service_token_now()

    # loyalty up once to enroll the guest, then down
    with loyalty_server(dbs["loyalty"], kafka.bootstrap, issuer) as loyalty:
        headers = {"Authorization": f"Bearer {service_token_now()}", "Idempotency-Key": run}
        enrolled = await http.post(
            f"{loyalty.url}/v1/members", json={"member_id": member}, headers=headers
        )
        assert enrolled.status_code == 201, enrolled.text
        loyalty_url = loyalty.url

    ordering = ordering_main.create_app(
        OrderingSettings(
            database_url=dbs["ordering"], config_dir=EXAMPLES, menu_url=cms_sim.url,
            issuer=ISSUER, audience=AUDIENCE, kafka_bootstrap=kafka.bootstrap,
        ),
        verifier=verifier,
        clock=clock,
    )  # fmt: skip
    async with ordering.router.lifespan_context(ordering):
        mounts: dict[str, httpx.AsyncBaseTransport] = {ORDERING: httpx.ASGITransport(app=ordering)}
        hub = hub_main.create_app(
            HubSettings(
                database_url=dbs["hub"], config_dir=EXAMPLES, ordering_url=ORDERING,
                cms_url=cms_sim.url, payments_url=card_processor.url, loyalty_url=loyalty_url,
                issuer=ISSUER, audience=AUDIENCE, kafka_bootstrap=kafka.bootstrap,
                spoke_timeout_seconds=0.5, breaker_open_seconds=0.3,
            ),
            verifier=verifier, service_token=service_token, clock=clock, mounts=mounts,
        )  # fmt: skip
        async with (
            hub.router.lifespan_context(hub),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=hub), base_url="http://hub"
            ) as client,
        ):
            guest = issuer.issue(
                subject=member,
                kind="guest",
                scopes=["checkout", "loyalty:read", "orders:read"],
                now=time.time(),
            )
            body = {
                "storeId": "store-0001",
                "channel": "mobile-pickup",
                "cart": {
                    "lines": [
                        {"sku": "chicken-sandwich", "quantity": 1},
                        {"sku": "drink-medium", "quantity": 1, "modifiers": ["cola"]},
                    ]
                },
                "rewardId": "free-drink",
                "paymentToken": "tok_visa",
            }
            placed = await client.post(
                "/v1/checkout",
                json=body,
                headers={"Authorization": f"Bearer {guest}", "Idempotency-Key": run},
            )
            assert placed.status_code == 201, placed.text
            assert placed.json()["reward"]["applied"] is False
            summary = await client.get(
                "/v1/me/summary", headers={"Authorization": f"Bearer {guest}"}
            )
            assert (summary.status_code, summary.json()["partial"]) == (200, True)

            order_id = placed.json()["orderId"]
            for action in ("start_preparation", "mark_ready", "complete"):
                headers = {
                    "Authorization": f"Bearer {service_token_now()}",
                    "Idempotency-Key": f"{run}-{action}",
                }
                moved = await http_ordering(mounts, order_id, action, headers)
                assert moved.status_code == 200, moved.text

            [charge] = [
                a
                for a in card_processor.sim.authorizations.values()
                if a["reference"] == placed.json()["checkoutId"]
            ]
            await eventually(lambda: charge["status"] == "captured", within=30)

    # loyalty returns and reads the orders topic it missed
    with loyalty_server(dbs["loyalty"], kafka.bootstrap, issuer) as loyalty:
        balance: dict[str, Any] = {}

        async def accrued() -> bool:
            response = await http.get(
                f"{loyalty.url}/v1/members/{member}/balance",
                headers={"Authorization": f"Bearer {service_token_now()}"},
            )
            balance.update(response.json())
            return response.status_code == 200 and balance["pending"] + balance["available"] > 0

        await eventually(accrued, within=60)


async def http_ordering(
    mounts: dict[str, httpx.AsyncBaseTransport], order_id: str, action: str, headers: dict[str, str]
) -> httpx.Response:
    async with httpx.AsyncClient(transport=mounts[ORDERING], base_url=ORDERING) as ordering_client:
        return await ordering_client.post(
            f"/v1/orders/{order_id}/actions/{action}", headers=headers
        )


async def kafka_topics(bootstrap: str) -> None:
    loyalty = topics.topic_name(
        namespace="default", program="crispin-rewards", stream=topics.Stream.LOYALTY
    )
    names = [ORDERS, topics.retry_of(ORDERS), topics.dlq_of(ORDERS), loyalty]
    await kafka.create_topics(bootstrap, names)
