"""Schemathesis against the loyalty OpenAPI, served by uvicorn on 127.0.0.1 on a SQLite file:
every phase including stateful, authenticated as a service with loyalty:read and loyalty:redeem;
zero failures of its checks.

`positive_data_acceptance` is excluded: a schema-valid request can still break a rule JSON Schema
cannot say (a tier that is not in the configured program, an Idempotency-Key reused with another
body) and the service answers 400/422 naming the field. docs/security.md lists this exception.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from qsr_kit import auth
from qsr_loyalty import main
from qsr_loyalty.settings import Settings
from tests import openapi_fuzzing
from tests.qsr_loyalty.conftest import EXAMPLES

ISSUER, AUDIENCE = "https://identity.test", "qsr-loyalty"
BUDGET_S = 60


@pytest.fixture
def issuer() -> auth.LocalIssuer:
    return auth.LocalIssuer(issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
async def loyalty_url(tmp_path: Path, issuer: auth.LocalIssuer) -> AsyncIterator[str]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/loyalty.db", config_dir=EXAMPLES, issuer=ISSUER,
        audience=AUDIENCE, sweep_seconds=3600,
    )  # fmt: skip
    async for url in openapi_fuzzing.serving(
        main.create_app(settings, issuer=issuer), name="loyalty"
    ):
        yield url


async def test_schemathesis_finds_no_failures(
    loyalty_url: str, issuer: auth.LocalIssuer, tmp_path: Path
) -> None:
    token = issuer.issue(
        subject="svc-hub", kind="service", scopes=["loyalty:read", "loyalty:redeem"],
        now=time.time(), lifetime_seconds=600,
    )  # fmt: skip
    report = await openapi_fuzzing.run_schemathesis(
        loyalty_url, token=token, cwd=tmp_path, budget_s=BUDGET_S
    )
    assert report.returncode == 0, report.text[-6000:]
    assert report.operations_tested >= 5, report.text[-2000:]
