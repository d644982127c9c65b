"""Key rotation: a new key is published before it signs; old tokens stay valid until expiry."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from qsr_identity.domain import keys
from qsr_identity.main import create_app
from qsr_kit.domain import auth_tokens
from tests.qsr_identity.conftest import (
    ADMIN_SECRET,
    ISSUER,
    SERVICE_SECRET,
    Clock,
    Flows,
    bearer,
    identity_settings,
    running,
)


def test_schedule_publishes_new_key_ahead_and_keeps_old_for_grace() -> None:
    schedule = keys.rotated(
        [keys.KeyRecord("a", 0.0)], new_kid="b", now=100.0, publish_ahead_seconds=300
    )
    assert keys.signing_kid(schedule, now=399.0) == "a"
    assert keys.signing_kid(schedule, now=400.0) == "b"
    assert keys.published_kids(schedule, now=100.0, grace_seconds=630) == ["a", "b"]
    assert keys.published_kids(schedule, now=1029.0, grace_seconds=630) == ["a", "b"]
    assert keys.published_kids(schedule, now=1030.0, grace_seconds=630) == ["b"]


def test_no_active_key_is_an_error() -> None:
    with pytest.raises(LookupError):
        keys.signing_kid([keys.KeyRecord("a", 100.0)], now=0.0)


async def rotate(flows: Flows) -> str:
    admin = await flows.service_token("admin", ADMIN_SECRET)
    response = await flows.http.post("/v1/keys/rotate", headers=bearer(admin))
    assert response.status_code == 200
    return str(response.json()["kid"])


async def test_rotation_keeps_old_tokens_valid_until_they_expire(tmp_path: Path) -> None:
    clock = Clock()
    app = create_app(identity_settings(tmp_path, key_publish_ahead_seconds=300), clock=clock)
    async with running(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            flows = Flows(http, clock)
            old_token = await flows.service_token("hub", SERVICE_SECRET)
            new_kid = await rotate(flows)
            published = {
                k["kid"] for k in (await http.get("/.well-known/jwks.json")).json()["keys"]
            }
            assert new_kid in published  # published before it signs
            clock.now += 300
            new_token = await flows.service_token("hub", SERVICE_SECRET)
            verifier = await flows.verifier()
            for token in (old_token, new_token):
                assert (await verifier.verify(token)).subject == "hub"
            assert auth_tokens.unverified_header(new_token)["kid"] == new_kid
            clock.now += 600 + 30
            remaining = {
                k["kid"] for k in (await http.get("/.well-known/jwks.json")).json()["keys"]
            }
            assert remaining == {new_kid}


async def test_jwks_keys_are_es256_public_only(flows: Flows) -> None:
    jwks = (await flows.http.get("/.well-known/jwks.json")).json()
    assert all(k["alg"] == "ES256" and "d" not in k and k["kid"] for k in jwks["keys"])


async def test_discovery_names_the_endpoints(flows: Flows) -> None:
    doc = (await flows.http.get("/.well-known/openid-configuration")).json()
    assert doc["issuer"] == ISSUER
    assert doc["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert doc["code_challenge_methods_supported"] == ["S256"]
