"""HttpJwks: TTL cache, bounded refetch on unknown kid, stale keys kept when the JWKS host fails."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from qsr_kit import auth

ISS = "https://id.qsr.test"
AUD = "qsr-platform"
NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class JwksHost:
    """A JWKS endpoint backed by a LocalIssuer, with a switch to fail."""

    def __init__(self, issuer: auth.LocalIssuer) -> None:
        self.issuer = issuer
        self.failing = False
        self.app = FastAPI()

        @self.app.get("/jwks")
        async def jwks() -> Any:
            if self.failing:
                return JSONResponse({"error": "down"}, status_code=503)
            return self.issuer.jwks()

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://id.test"
        )


@pytest.fixture
def issuer() -> auth.LocalIssuer:
    return auth.LocalIssuer(issuer=ISS, audience=AUD)


def token_of(issuer: auth.LocalIssuer) -> str:
    return issuer.issue(subject="m-1", kind="guest", scopes=["a"], now=NOW)


def verifier_for(source: auth.HttpJwks) -> auth.Verifier:
    return auth.Verifier(source, rules=auth.ClaimRules(issuer=ISS, audience=AUD), clock=lambda: NOW)


async def test_keys_are_cached_within_ttl(issuer: auth.LocalIssuer) -> None:
    clock, host = Clock(), JwksHost(issuer)
    async with host.client() as client:
        source = auth.HttpJwks("http://id.test/jwks", client=client, ttl_seconds=60, clock=clock)
        verifier = verifier_for(source)
        for _ in range(5):
            await verifier.verify(token_of(issuer))
        assert source.fetch_count == 1


async def test_keys_are_refetched_after_ttl(issuer: auth.LocalIssuer) -> None:
    clock, host = Clock(), JwksHost(issuer)
    async with host.client() as client:
        source = auth.HttpJwks("http://id.test/jwks", client=client, ttl_seconds=60, clock=clock)
        await source.keys()
        clock.now = 61
        await source.keys()
        assert source.fetch_count == 2


async def test_rotated_key_is_picked_up_by_unknown_kid_refetch(issuer: auth.LocalIssuer) -> None:
    clock, host = Clock(), JwksHost(issuer)
    async with host.client() as client:
        source = auth.HttpJwks(
            "http://id.test/jwks", client=client, min_refetch_seconds=10, clock=clock
        )
        verifier = verifier_for(source)
        old_token = token_of(issuer)
        await verifier.verify(old_token)
        issuer.rotate()
        clock.now = 11
        principal = await verifier.verify(token_of(issuer))
        assert principal.subject == "m-1"
        assert (
            await verifier.verify(old_token)
        ).subject == "m-1"  # overlap: old key still published


async def test_unknown_kid_flood_refetches_at_most_once_per_interval(
    issuer: auth.LocalIssuer,
) -> None:
    clock, host = Clock(), JwksHost(issuer)
    stranger = auth.LocalIssuer(issuer=ISS, audience=AUD)
    async with host.client() as client:
        source = auth.HttpJwks(
            "http://id.test/jwks", client=client, min_refetch_seconds=10, clock=clock
        )
        verifier = verifier_for(source)
        await source.keys()
        clock.now = 11

        async def attempt() -> bool:
            try:
                await verifier.verify(token_of(stranger))
            except auth.TokenRejected:
                return False
            return True

        results = await asyncio.gather(*(attempt() for _ in range(50)))
        assert not any(results)
        assert source.fetch_count == 2


async def test_failed_refresh_keeps_cached_keys(issuer: auth.LocalIssuer) -> None:
    clock, host = Clock(), JwksHost(issuer)
    async with host.client() as client:
        source = auth.HttpJwks("http://id.test/jwks", client=client, ttl_seconds=60, clock=clock)
        verifier = verifier_for(source)
        await verifier.verify(token_of(issuer))
        host.failing = True
        clock.now = 120
        assert (await verifier.verify(token_of(issuer))).subject == "m-1"


async def test_unreachable_jwks_without_cache_is_503(issuer: auth.LocalIssuer) -> None:
    host = JwksHost(issuer)
    host.failing = True
    app = FastAPI()
    async with host.client() as jwks_client:
        auth.install(app, verifier_for(auth.HttpJwks("http://id.test/jwks", client=jwks_client)))

        @app.get("/v1/me")
        async def me(who: auth.CurrentPrincipal) -> dict[str, str]:
            return {"sub": who.subject}

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as client:
            response = await client.get(
                "/v1/me", headers={"Authorization": f"Bearer {token_of(issuer)}"}
            )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
