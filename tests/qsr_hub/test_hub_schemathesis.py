"""Schemathesis against the hub OpenAPI, served by uvicorn on 127.0.0.1 (SQLite, the real ordering
app, simulators of the card processor, CMS and external loyalty on real HTTP): every phase
including stateful, authenticated as a service with every scope; zero failures of its checks.

`positive_data_acceptance` is excluded for the reason docs/security.md gives for every service:
schema-valid requests can break configuration or state rules (unknown store or SKU, a closed store)
and are answered with a 4xx problem naming the field.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests import openapi_fuzzing
from tests.qsr_hub.platform import (
    SERVICE_SCOPES,
    Platform,
    eventually,
    on_sqlite,
    ordering_outbox_drained,
)
from tests.qsr_hub.sims import Simulator

BUDGET_S = 60


@pytest.fixture
async def served(
    tmp_path: Path,
    cms_sim: Simulator,
    card_processor: Simulator,
    paytronix_sim: Simulator,
    http: httpx.AsyncClient,
) -> AsyncIterator[tuple[Platform, str]]:
    async with on_sqlite(
        tmp_path,
        cms=cms_sim,
        cards=card_processor,
        loyalty=paytronix_sim,
        http=http,
        start_hub=False,
    ) as platform:
        async for url in openapi_fuzzing.serving(platform.hub_app(), name="hub"):
            yield platform, url
            await eventually(lambda: ordering_outbox_drained(platform))


async def test_schemathesis_finds_no_failures(served: tuple[Platform, str], tmp_path: Path) -> None:
    platform, url = served
    token = platform.issuer.issue(
        subject="svc-hub", kind="service", scopes=SERVICE_SCOPES, now=time.time(),
        lifetime_seconds=600,
    )  # fmt: skip
    report = await openapi_fuzzing.run_schemathesis(
        url, token=token, cwd=tmp_path, budget_s=BUDGET_S
    )
    assert report.returncode == 0, report.text[-8000:]
    assert report.operations_tested >= 3, report.text[-2000:]


# What the run made the hub say differently; each answer is now declared in the OpenAPI.


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": ""}], ids=["missing", "empty"])
async def test_a_checkout_without_an_idempotency_key_is_400_naming_the_header(
    platform: Platform, headers: dict[str, str]
) -> None:
    response = await platform.client.post(
        "/v1/checkout",
        json={"storeId": "store-0001"},  # the missing key is answered before the body
        headers={"Authorization": f"Bearer {platform.token()}", **headers},
    )
    assert (response.status_code, response.json()["field"]) == (400, "Idempotency-Key")


async def test_the_summary_refuses_a_service_with_403(platform: Platform) -> None:
    response = await platform.client.get(
        "/v1/me/summary", headers={"Authorization": f"Bearer {platform.token()}"}
    )
    assert (response.status_code, response.headers["content-type"]) == (
        403,
        "application/problem+json",
    )


async def test_a_pos_event_id_beyond_64_bits_is_422_naming_it(platform: Platform) -> None:
    response = await platform.client.get(
        f"/v1/pos/store-0001/events/{2**63}",
        headers={"Authorization": f"Bearer {platform.token()}"},
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (
        422,
        "path.event_id",
    )
