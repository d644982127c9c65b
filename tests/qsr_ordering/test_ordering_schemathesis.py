"""Schemathesis against the ordering OpenAPI, served by uvicorn on 127.0.0.1 on a SQLite file with
the CMS simulator: every phase including stateful, authenticated as a service with orders:read,
orders:write and store:write; zero failures of its checks.

`positive_data_acceptance` is excluded: a schema-valid request can still break a rule JSON Schema
cannot say (a SKU or store that is not configured, a closed store, a full kitchen slot, an
Idempotency-Key reused with another body) and the service answers 4xx naming the field.
docs/security.md lists this exception.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from qsr_kit import auth, bus
from qsr_ordering import main
from qsr_ordering.settings import OrderingSettings
from tests import openapi_fuzzing
from tests.qsr_ordering.service import AUDIENCE, ISSUER, config_dir

BUDGET_S = 60


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
    async for url in openapi_fuzzing.serving(app, name="ordering"):
        yield url


async def test_schemathesis_finds_no_failures(
    ordering_url: str, issuer: auth.LocalIssuer, tmp_path: Path
) -> None:
    token = issuer.issue(
        subject="svc-hub", kind="service", scopes=["orders:read", "orders:write", "store:write"],
        now=time.time(), lifetime_seconds=600,
    )  # fmt: skip
    report = await openapi_fuzzing.run_schemathesis(
        ordering_url, token=token, cwd=tmp_path, budget_s=BUDGET_S
    )
    assert report.returncode == 0, report.text[-6000:]
    assert report.operations_tested >= 5, report.text[-2000:]
