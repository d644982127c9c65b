"""Schemathesis against the hub OpenAPI, served by uvicorn on 127.0.0.1 (SQLite, the real ordering
app, simulators of the card processor, CMS and external loyalty on real HTTP): every phase
including stateful, authenticated as a service with every scope; zero failures of its checks.

`positive_data_acceptance` is excluded for the reason docs/security.md gives for every service:
schema-valid requests can break configuration or state rules (unknown store or SKU, a closed store)
and are answered with a 4xx problem naming the field.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tests.qsr_hub.platform import (
    SERVICE_SCOPES,
    Platform,
    eventually,
    external_loyalty_config,
    ordering_outbox_drained,
    running,
)
from tests.qsr_hub.sims import Simulator

STARTUP_DEADLINE_S = 20.0
BUDGET_S = 60


async def serving(app: FastAPI) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while not server.started:
        assert not task.done() and time.monotonic() < deadline, "hub did not start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def served(
    tmp_path: Path,
    cms_sim: Simulator,
    card_processor: Simulator,
    paytronix_sim: Simulator,
    http: httpx.AsyncClient,
) -> AsyncIterator[tuple[Platform, str]]:
    for sim in (card_processor, paytronix_sim, cms_sim):
        await sim.clear(http)
    async with running(
        config=external_loyalty_config(tmp_path, loyalty_url=paytronix_sim.url),
        ordering_db=f"sqlite:///{tmp_path / 'ordering.db'}",
        hub_db=f"sqlite:///{tmp_path / 'hub.db'}",
        cms_url=cms_sim.url,
        cards=card_processor,
        loyalty=paytronix_sim,
        start_hub=False,
    ) as platform:
        async for url in serving(platform.hub_app()):
            yield platform, url
            await eventually(lambda: ordering_outbox_drained(platform))
    for sim in (card_processor, paytronix_sim, cms_sim):
        await sim.clear(http)


async def test_schemathesis_finds_no_failures(served: tuple[Platform, str], tmp_path: Path) -> None:
    platform, url = served
    token = platform.issuer.issue(
        subject="svc-hub", kind="service", scopes=SERVICE_SCOPES, now=time.time(),
        lifetime_seconds=600,
    )  # fmt: skip
    st = Path(sys.executable).with_name("st")
    process = await asyncio.create_subprocess_exec(
        str(st),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-time",
        str(BUDGET_S),
        "--workers",
        "1",
        cwd=tmp_path,  # its example database and reports stay out of the checkout
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-8000:]
    tested = re.search(r"Tested: (\d+)", report)
    assert tested is not None and int(tested.group(1)) >= 3, report[-2000:]


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
