"""Schemathesis against the loyalty OpenAPI, served by uvicorn on 127.0.0.1 on a SQLite file:
every phase including stateful, authenticated as a service with loyalty:read and loyalty:redeem;
zero failures of its checks.

`positive_data_acceptance` is excluded: a schema-valid request can still break a rule JSON Schema
cannot say (a tier that is not in the configured program, an Idempotency-Key reused with another
body) and the service answers 400/422 naming the field. docs/security.md lists this exception.
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

from qsr_kit import auth
from qsr_loyalty import main
from qsr_loyalty.settings import Settings
from tests.qsr_loyalty.conftest import EXAMPLES

ISSUER, AUDIENCE = "https://identity.test", "qsr-loyalty"
STARTUP_DEADLINE_S = 20.0
BUDGET_S = 60


async def serving(app: FastAPI) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while not server.started:
        assert not task.done() and time.monotonic() < deadline, "loyalty did not start"
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
async def loyalty_url(tmp_path: Path, issuer: auth.LocalIssuer) -> AsyncIterator[str]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/loyalty.db", config_dir=EXAMPLES, issuer=ISSUER,
        audience=AUDIENCE, sweep_seconds=3600,
    )  # fmt: skip
    async for url in serving(main.create_app(settings, issuer=issuer)):
        yield url


async def test_schemathesis_finds_no_failures(
    loyalty_url: str, issuer: auth.LocalIssuer, tmp_path: Path
) -> None:
    token = issuer.issue(
        subject="svc-hub", kind="service", scopes=["loyalty:read", "loyalty:redeem"],
        now=time.time(), lifetime_seconds=600,
    )  # fmt: skip
    st = Path(sys.executable).with_name("st")
    process = await asyncio.create_subprocess_exec(
        str(st),
        "run",
        f"{loyalty_url}/openapi.json",
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
