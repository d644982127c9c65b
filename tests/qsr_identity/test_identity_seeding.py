"""Embedded-mode demo accounts: a guest acting for a loyalty member and a staff member of a store,
signing in through the demo app client; idempotent across restarts; refused off SQLite."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pydantic
import pytest

from qsr_identity import seeding
from qsr_identity.domain import oauth
from qsr_identity.main import create_app
from qsr_identity.settings import IdentitySettings
from qsr_kit import auth
from tests.qsr_identity.conftest import ISSUER, Clock, identity_settings, running


async def sign_in(http: httpx.AsyncClient, identifier: str) -> str:
    verifier = secrets.token_urlsafe(48)
    form = {
        "response_type": "code",
        "client_id": seeding.DEMO_CLIENT,
        "redirect_uri": seeding.DEMO_REDIRECT,
        "code_challenge": oauth.pkce_challenge(verifier),
        "code_challenge_method": "S256",
        "identifier": identifier,
        "password": seeding.DEMO_PASSWORD,
    }
    redirect = await http.post("/oauth2/authorize", data=form)
    code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
    exchange = {
        "grant_type": "authorization_code",
        "client_id": seeding.DEMO_CLIENT,
        "code": code,
        "redirect_uri": seeding.DEMO_REDIRECT,
        "code_verifier": verifier,
    }
    return str((await http.post("/oauth2/token", data=exchange)).json()["access_token"])


async def demo_principals(settings: IdentitySettings, clock: Clock) -> list[auth.Principal]:
    app = create_app(settings, clock=clock)
    async with running(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            jwks = (await http.get("/.well-known/jwks.json")).json()
            verifier = auth.Verifier.static(
                jwks, issuer=ISSUER, audience="qsr-platform", clock=clock
            )
            return [
                await verifier.verify(await sign_in(http, identifier))
                for identifier in (seeding.DEMO_GUEST, seeding.DEMO_STAFF)
            ]


def demo_settings(tmp_path: Path) -> IdentitySettings:
    return identity_settings(
        tmp_path, seed_demo=True, demo_member_id="m-1001", demo_store_ids=("store-0001",)
    )


async def test_demo_guest_and_staff_sign_in(tmp_path: Path, clock: Clock) -> None:
    guest, staff = await demo_principals(demo_settings(tmp_path), clock)
    assert (guest.kind, guest.member_id) == ("guest", "m-1001")
    assert (staff.kind, staff.store_ids) == ("staff", frozenset({"store-0001"}))


async def test_demo_seeding_is_idempotent_across_restarts(tmp_path: Path, clock: Clock) -> None:
    first = await demo_principals(demo_settings(tmp_path), clock)
    again = await demo_principals(demo_settings(tmp_path), clock)
    assert [p.subject for p in first] == [p.subject for p in again]


def test_demo_seeding_is_refused_off_sqlite(tmp_path: Path) -> None:
    with pytest.raises(pydantic.ValidationError, match="seed_demo"):
        identity_settings(tmp_path, seed_demo=True, database_url="postgresql://db/identity")
