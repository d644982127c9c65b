"""Schemathesis against the ordering OpenAPI, served by uvicorn on 127.0.0.1 on a SQLite file with
the CMS simulator: every phase including stateful, authenticated as a service with orders:read,
orders:write and store:write; zero failures of its checks.

`positive_data_acceptance` is excluded: a schema-valid request can still break a rule JSON Schema
cannot say (a SKU or store that is not configured, a closed store, a full kitchen slot, an
Idempotency-Key reused with another body) and the service answers 4xx naming the field.
docs/security.md lists this exception.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from qsr_kit import auth, bus
from qsr_ordering import main
from qsr_ordering.settings import OrderingSettings
from tests.qsr_ordering.service import AUDIENCE, ISSUER, config_dir

STARTUP_DEADLINE_S = 20.0
BUDGET_S = 60


async def serving(app: FastAPI) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while not server.started:
        assert not task.done() and time.monotonic() < deadline, "ordering did not start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def issuer() -> auth.LocalIssuer:
    return auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
async def ordering_url(
    tmp_path: Path, cms_url: str, issuer: auth.LocalIssuer
) -> AsyncIterator[str]:
    settings = OrderingSettings(
        database_url=f"sqlite:///{tmp_path}/ordering.db", config_dir=config_dir(tmp_path),
        menu_url=cms_url, issuer=ISSUER, audience=AUDIENCE,
    )  # fmt: skip
    verifier = auth.Verifier.static(issuer.jwks(), issuer=ISSUER, audience=AUDIENCE)
    app = main.create_app(settings, verifier=verifier, publisher=bus.InProcessBus())
    async for url in serving(app):
        yield url


async def test_schemathesis_finds_no_failures(
    ordering_url: str, issuer: auth.LocalIssuer, tmp_path: Path
) -> None:
    token = issuer.issue(
        subject="svc-hub", kind="service", scopes=["orders:read", "orders:write", "store:write"],
        now=time.time(), lifetime_seconds=600,
    )  # fmt: skip
    st = Path(sys.executable).with_name("st")
    process = await asyncio.create_subprocess_exec(
        str(st),
        "run",
        f"{ordering_url}/openapi.json",
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
    assert process.returncode == 0, report[-6000:]
    tested = re.search(r"Tested: (\d+)", report)
    assert tested is not None and int(tested.group(1)) >= 5, report[-2000:]
