"""An identity app per test (SQLite file, cheap argon2, settable clock) and the client flows."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from qsr_identity.domain import oauth
from qsr_identity.main import create_app
from qsr_identity.settings import IdentitySettings, SeedClient
from qsr_kit import auth

ISSUER = "http://id.qsr.test"
APP_REDIRECT = "https://app.qsr.test/callback"
SERVICE_SECRET = "service-secret-" + "x" * 32
ADMIN_SECRET = "admin-secret-" + "y" * 32
PASSWORD = "correct horse battery"


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Start and stop the app through the ASGI lifespan protocol, exactly as uvicorn does."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        with contextlib.suppress(Exception):
            await task  # the app re-raises its startup error; it is reported below
        raise AssertionError(started)
    try:
        yield app
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        stopped = await outbox.get()
        await task
        assert stopped["type"] == "lifespan.shutdown.complete", stopped


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def identity_settings(tmp_path: Path, **changes: Any) -> IdentitySettings:
    base: dict[str, Any] = {
        "issuer": ISSUER,
        "database_url": f"sqlite:///{tmp_path / 'identity.db'}",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "key_publish_ahead_seconds": 0,
        "clients": (
            SeedClient(
                client_id="app",
                redirect_uris=(APP_REDIRECT,),
                scopes=tuple(oauth.GUEST_SCOPES | oauth.STAFF_SCOPES),
            ),
            SeedClient(client_id="hub", secret=SERVICE_SECRET, scopes=("loyalty:read", "profile")),
            SeedClient(
                client_id="admin", secret=ADMIN_SECRET, scopes=("identity:admin", "profile")
            ),
        ),
    }
    return IdentitySettings(**(base | changes))


class Flows:
    """The client side of the OAuth flows, as an app or a service would run them."""

    def __init__(self, http: httpx.AsyncClient, clock: Clock) -> None:
        self.http = http
        self.clock = clock

    async def sign_up(self, identifier: str, password: str = PASSWORD) -> httpx.Response:
        return await self.http.post(
            "/v1/guests", json={"identifier": identifier, "password": password}
        )

    async def authorize(
        self, identifier: str, password: str = PASSWORD, *, verifier: str, scope: str | None = None
    ) -> httpx.Response:
        form = {
            "response_type": "code",
            "client_id": "app",
            "redirect_uri": APP_REDIRECT,
            "code_challenge": oauth.pkce_challenge(verifier),
            "code_challenge_method": "S256",
            "state": "s-1",
            "identifier": identifier,
            "password": password,
        }
        if scope is not None:
            form["scope"] = scope
        return await self.http.post("/oauth2/authorize", data=form)

    async def code_for(self, identifier: str, *, verifier: str, scope: str | None = None) -> str:
        response = await self.authorize(identifier, verifier=verifier, scope=scope)
        assert response.status_code == 303, response.text
        return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]

    async def token(
        self, form: dict[str, str], *, basic: tuple[str, str] | None = None
    ) -> httpx.Response:
        headers = {}
        if basic is not None:
            raw = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {raw}"
        return await self.http.post("/oauth2/token", data=form, headers=headers)

    async def exchange(self, code: str, verifier: str) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "client_id": "app",
            "code": code,
            "redirect_uri": APP_REDIRECT,
            "code_verifier": verifier,
        }
        return await self.token(form)

    async def sign_in(self, identifier: str, *, scope: str | None = None) -> dict[str, Any]:
        verifier = secrets.token_urlsafe(48)
        response = await self.exchange(
            await self.code_for(identifier, verifier=verifier, scope=scope), verifier
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def guest(self, identifier: str, *, scope: str | None = None) -> dict[str, Any]:
        assert (await self.sign_up(identifier)).status_code == 202
        return await self.sign_in(identifier, scope=scope)

    async def refresh(self, refresh_token: str) -> httpx.Response:
        return await self.token(
            {"grant_type": "refresh_token", "client_id": "app", "refresh_token": refresh_token}
        )

    async def service_token(self, client_id: str, secret: str, scope: str | None = None) -> str:
        form = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
        response = await self.token(form, basic=(client_id, secret))
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def verifier(self) -> auth.Verifier:
        jwks = (await self.http.get("/.well-known/jwks.json")).json()
        return auth.Verifier.static(jwks, issuer=ISSUER, audience="qsr-platform", clock=self.clock)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> IdentitySettings:
    return identity_settings(tmp_path)


@pytest.fixture
async def app(settings: IdentitySettings, clock: Clock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock)
    async with running(application):
        yield application


@pytest.fixture
async def flows(app: FastAPI, clock: Clock) -> AsyncIterator[Flows]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        yield Flows(http, clock)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
