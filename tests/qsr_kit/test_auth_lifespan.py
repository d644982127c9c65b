"""Refusals keep their status and challenge even when `auth.install` runs inside the lifespan
(after Starlette fixed its exception handlers), as long as the app renders HTTP errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
from fastapi import FastAPI

from qsr_kit import auth, http

ISS, AUD, NOW = "https://id.qsr.test", "qsr-platform", 1_800_000_000.0
ISSUER = auth.LocalIssuer(issuer=ISS, audience=AUD)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    auth.install(
        app, auth.Verifier.static(ISSUER.jwks(), issuer=ISS, audience=AUD, clock=lambda: NOW)
    )
    yield


def build_app() -> FastAPI:
    app = http.service_app(title="late-install", lifespan=lifespan)

    @app.get("/v1/members/{member_id}")
    async def member(
        member_id: str, who: Annotated[auth.Principal, auth.requires("loyalty:read")]
    ) -> dict[str, str]:
        auth.ensure_can_act_for_member(who, member_id)
        return {"member_id": member_id}

    return app


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Drive the lifespan through ASGI, as uvicorn does, then call the app."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "state": {}}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as client:
            yield client
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        with contextlib.suppress(Exception):
            await task


def token(**changes: Any) -> dict[str, str]:
    fields: dict[str, Any] = {"subject": "m-1", "kind": "guest", "scopes": ["loyalty:read"]}
    fields.update(changes)
    return {"Authorization": f"Bearer {ISSUER.issue(now=NOW, **fields)}"}


async def test_missing_token_is_401_with_challenge() -> None:
    async with served(build_app()) as client:
        response = await client.get("/v1/members/m-1")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="qsr"'
    assert response.headers["content-type"] == "application/problem+json"


async def test_missing_scope_is_403_with_challenge() -> None:
    async with served(build_app()) as client:
        response = await client.get("/v1/members/m-1", headers=token(scopes=["orders:read"]))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_other_member_is_403() -> None:
    async with served(build_app()) as client:
        response = await client.get("/v1/members/m-2", headers=token())
    assert response.status_code == 403


async def test_own_member_is_200() -> None:
    async with served(build_app()) as client:
        response = await client.get("/v1/members/m-1", headers=token())
    assert response.status_code == 200
