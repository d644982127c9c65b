"""Concurrent use of one refresh token or one code, on SQLite and on the real PostgreSQL: exactly
one use wins, and the reuse revokes the family including the winner's new token."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from qsr_identity.main import create_app
from tests.qsr_identity.conftest import ISSUER, Clock, Flows, identity_settings, running

CONCURRENT = 6


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'identity.db'}"
    postgres = request.getfixturevalue("postgres")
    return str(postgres.create_database(f"identity_{uuid.uuid4().hex[:12]}"))


@pytest.fixture
async def backend(tmp_path: Path, database_url: str, clock: Clock) -> AsyncIterator[Flows]:
    app = create_app(identity_settings(tmp_path, database_url=database_url), clock=clock)
    async with running(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            yield Flows(http, clock)


async def test_concurrent_refreshes_of_one_token_let_one_win_then_revoke(backend: Flows) -> None:
    tokens = await backend.guest("race@example.com")
    answers = await asyncio.gather(
        *(backend.refresh(tokens["refresh_token"]) for _ in range(CONCURRENT))
    )
    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) == 1
    assert (await backend.refresh(winners[0].json()["refresh_token"])).status_code == 400


async def test_concurrent_exchanges_of_one_code_give_one_token_set(backend: Flows) -> None:
    await backend.sign_up("code-race@example.com")
    verifier = secrets.token_urlsafe(48)
    code = await backend.code_for("code-race@example.com", verifier=verifier)
    answers = await asyncio.gather(*(backend.exchange(code, verifier) for _ in range(CONCURRENT)))
    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) == 1
    assert (await backend.refresh(winners[0].json()["refresh_token"])).status_code == 400


async def test_full_sign_in_flow_works_on_the_backend(backend: Flows) -> None:
    tokens = await backend.guest("plain@example.com", scope="profile")
    principal = await (await backend.verifier()).verify(tokens["access_token"])
    assert principal.scopes == frozenset({"profile"})
