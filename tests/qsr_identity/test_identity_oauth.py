"""OAuth 2.1 flows end to end through the identity app: code + PKCE, refresh rotation, services."""

from __future__ import annotations

import secrets

from qsr_identity.domain import oauth
from tests.qsr_identity.conftest import (
    ADMIN_SECRET,
    APP_REDIRECT,
    PASSWORD,
    SERVICE_SECRET,
    Flows,
    bearer,
)


async def test_code_with_pkce_gives_a_verifiable_guest_token(flows: Flows) -> None:
    tokens = await flows.guest("Ann@Example.com", scope="profile loyalty:read")
    principal = await (await flows.verifier()).verify(tokens["access_token"])
    assert principal.kind == "guest"
    assert principal.scopes == frozenset({"profile", "loyalty:read"})
    assert principal.member_id is not None
    assert tokens["token_type"] == "Bearer"


async def test_access_token_has_every_required_claim(flows: Flows) -> None:
    tokens = await flows.guest("+1 (415) 555-0100")
    claims = await (await flows.verifier()).verified_claims(tokens["access_token"])
    assert {"iss", "aud", "exp", "nbf", "iat", "jti", "sub", "scope", "client_id"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 600


async def test_wrong_code_verifier_is_invalid_grant(flows: Flows) -> None:
    await flows.sign_up("bo@example.com")
    code = await flows.code_for("bo@example.com", verifier=secrets.token_urlsafe(48))
    response = await flows.exchange(code, secrets.token_urlsafe(48))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_plain_pkce_is_refused(flows: Flows) -> None:
    await flows.sign_up("cy@example.com")
    verifier = secrets.token_urlsafe(48)
    form = {
        "response_type": "code",
        "client_id": "app",
        "redirect_uri": APP_REDIRECT,
        "code_challenge": verifier[:43],
        "code_challenge_method": "plain",
        "identifier": "cy@example.com",
        "password": "correct horse battery",
    }
    response = await flows.http.post("/oauth2/authorize", data=form)
    assert response.status_code == 400
    assert "S256" in response.json()["detail"]


async def test_unregistered_redirect_uri_is_refused_without_redirect(flows: Flows) -> None:
    await flows.sign_up("di@example.com")
    verifier = secrets.token_urlsafe(48)
    form = {
        "response_type": "code",
        "client_id": "app",
        "redirect_uri": "https://evil.test/cb",
        "code_challenge": oauth.pkce_challenge(verifier),
        "code_challenge_method": "S256",
        "identifier": "di@example.com",
        "password": "correct horse battery",
    }
    response = await flows.http.post("/oauth2/authorize", data=form)
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_code_used_twice_revokes_the_first_tokens(flows: Flows) -> None:
    await flows.sign_up("ed@example.com")
    verifier = secrets.token_urlsafe(48)
    code = await flows.code_for("ed@example.com", verifier=verifier)
    first = (await flows.exchange(code, verifier)).json()
    second = await flows.exchange(code, verifier)
    assert second.status_code == 400
    assert (await flows.refresh(first["refresh_token"])).status_code == 400


async def test_refresh_rotates_the_refresh_token(flows: Flows) -> None:
    tokens = await flows.guest("fay@example.com")
    response = await flows.refresh(tokens["refresh_token"])
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert (await flows.refresh(rotated["refresh_token"])).status_code == 200


async def test_refresh_reuse_revokes_the_whole_family(flows: Flows) -> None:
    tokens = await flows.guest("gus@example.com")
    rotated = (await flows.refresh(tokens["refresh_token"])).json()
    reuse = await flows.refresh(tokens["refresh_token"])
    assert reuse.status_code == 400
    assert "revoked" in reuse.json()["detail"]
    assert (await flows.refresh(rotated["refresh_token"])).status_code == 400


async def test_refresh_after_its_lifetime_is_refused(flows: Flows) -> None:
    tokens = await flows.guest("hal@example.com")
    flows.clock.now += 14 * 86400 + 1
    response = await flows.refresh(tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["detail"] == "refresh token expired"


async def test_revoke_signs_out_the_family(flows: Flows) -> None:
    tokens = await flows.guest("ida@example.com")
    response = await flows.http.post(
        "/oauth2/revoke", data={"token": tokens["refresh_token"], "client_id": "app"}
    )
    assert response.status_code == 200
    assert (await flows.refresh(tokens["refresh_token"])).status_code == 400


async def test_client_credentials_gives_a_service_token(flows: Flows) -> None:
    token = await flows.service_token("hub", SERVICE_SECRET, scope="loyalty:read")
    principal = await (await flows.verifier()).verify(token)
    assert principal.kind == "service"
    assert principal.subject == "hub"
    assert principal.scopes == frozenset({"loyalty:read"})


async def test_client_credentials_with_wrong_secret_is_401(flows: Flows) -> None:
    response = await flows.token({"grant_type": "client_credentials"}, basic=("hub", ADMIN_SECRET))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_public_client_cannot_use_client_credentials(flows: Flows) -> None:
    response = await flows.token({"grant_type": "client_credentials", "client_id": "app"})
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


async def test_scope_beyond_the_client_allow_list_is_invalid_scope(flows: Flows) -> None:
    response = await flows.token(
        {"grant_type": "client_credentials", "scope": "identity:admin"},
        basic=("hub", SERVICE_SECRET),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_unknown_grant_type_is_unsupported(flows: Flows) -> None:
    response = await flows.token({"grant_type": "password", "client_id": "app"})
    assert response.json()["error"] == "unsupported_grant_type"


async def test_token_responses_are_not_cached(flows: Flows) -> None:
    response = await flows.token(
        {"grant_type": "client_credentials"}, basic=("hub", SERVICE_SECRET)
    )
    assert response.headers["cache-control"] == "no-store"


async def test_staff_token_carries_store_ids(flows: Flows) -> None:
    admin = await flows.service_token("admin", ADMIN_SECRET)
    body = {
        "identifier": "jo@store.test",
        "password": PASSWORD,
        "store_ids": ["st-2", "st-1"],
    }
    created = await flows.http.post("/v1/staff", json=body, headers=bearer(admin))
    assert created.status_code == 201
    tokens = await flows.sign_in("jo@store.test", scope="store:read")
    principal = await (await flows.verifier()).verify(tokens["access_token"])
    assert principal.kind == "staff"
    assert principal.store_ids == frozenset({"st-1", "st-2"})
