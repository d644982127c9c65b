"""RFC 8725 negative matrix through a real FastAPI route: every forged or bad token gets 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from qsr_kit import auth
from qsr_kit.domain import auth_tokens

ISS = "https://id.qsr.test"
AUD = "qsr-platform"
NOW = 1_800_000_000.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(claims).encode())
    return f"{head}.{body}.{b64(signature)}"


def hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    unsigned = compact(header, claims).rsplit(".", 1)[0]
    mac = hmac.new(secret, unsigned.encode(), hashlib.sha256).digest()
    return f"{unsigned}.{b64(mac)}"


class World:
    def __init__(self) -> None:
        self.issuer = auth.LocalIssuer(issuer=ISS, audience=AUD)
        self.rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}, private=True)
        rsa_public = {**self.rsa.as_dict(private=False), "kid": "rsa-1", "use": "sig"}
        self.jwks = {"keys": [*self.issuer.jwks()["keys"], rsa_public]}
        self.rsa_public_pem = self.rsa.as_pem(private=False)

    def claims(self, **changes: Any) -> dict[str, Any]:
        base = auth_tokens.access_token_claims(
            issuer=ISS,
            audience=AUD,
            subject="m-1",
            kind="guest",
            scopes=["loyalty:read"],
            now=NOW,
            lifetime_seconds=300,
            member_id="m-1",
        )
        base.update(changes)
        return {k: v for k, v in base.items() if v is not None}

    def es256(self, claims: dict[str, Any], **header: Any) -> str:
        head = {"alg": "ES256", "kid": self.issuer.current.kid, "typ": "at+jwt", **header}
        head = {k: v for k, v in head.items() if v is not None}
        return jwt.encode(
            head, claims, self.issuer.current.key, algorithms=["ES256"], default_type=None
        )

    def rs256(self, claims: dict[str, Any]) -> str:
        head = {"alg": "RS256", "kid": "rsa-1", "typ": "at+jwt"}
        return jwt.encode(head, claims, self.rsa, algorithms=["RS256"])


WORLD = World()


def build_app() -> FastAPI:
    app = FastAPI()
    auth.install(app, auth.Verifier.static(WORLD.jwks, issuer=ISS, audience=AUD, clock=lambda: NOW))

    @app.get("/v1/members/{member_id}/balance")
    async def balance(
        member_id: str, who: Annotated[auth.Principal, auth.requires("loyalty:read")]
    ) -> dict[str, str]:
        auth.ensure_can_act_for_member(who, member_id)
        return {"member_id": member_id, "subject": who.subject}

    return app


async def call(token: str | None, member_id: str = "m-1") -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=build_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://qsr.test") as client:
        return await client.get(f"/v1/members/{member_id}/balance", headers=headers)


def attacker_token() -> str:
    attacker = ECKey.generate_key("P-256", parameters={"kid": "evil"}, private=True)
    header = {"alg": "ES256", "kid": "evil", "typ": "at+jwt", "jku": "http://127.0.0.1:1/jwks"}
    return jwt.encode(header, WORLD.claims(), attacker, algorithms=["ES256"])


def tampered() -> str:
    head, _, sig = WORLD.es256(WORLD.claims()).split(".")
    forged = b64(json.dumps(WORLD.claims(scope="loyalty:read loyalty:admin")).encode())
    return f"{head}.{forged}.{sig}"


CURRENT_KID = WORLD.issuer.current.kid
BAD_TOKENS = [
    pytest.param(
        compact({"alg": "none", "kid": CURRENT_KID, "typ": "at+jwt"}, WORLD.claims()), id="alg-none"
    ),
    pytest.param(
        hs256(
            {"alg": "HS256", "kid": "rsa-1", "typ": "at+jwt"}, WORLD.claims(), WORLD.rsa_public_pem
        ),
        id="hs256-signed-with-rsa-public-key",
    ),
    pytest.param(
        hs256(
            {"alg": "HS256", "kid": CURRENT_KID, "typ": "at+jwt"},
            WORLD.claims(),
            json.dumps(WORLD.jwks["keys"][0]).encode(),
        ),
        id="hs256-signed-with-ec-public-jwk",
    ),
    pytest.param(WORLD.es256(WORLD.claims(exp=int(NOW) - 120)), id="expired"),
    pytest.param(WORLD.es256(WORLD.claims(nbf=int(NOW) + 120)), id="not-yet-valid"),
    pytest.param(WORLD.es256(WORLD.claims(iat=int(NOW) + 120)), id="issued-in-future"),
    pytest.param(WORLD.es256(WORLD.claims(aud="another-api")), id="wrong-audience"),
    pytest.param(WORLD.es256(WORLD.claims(iss="https://evil.test")), id="wrong-issuer"),
    pytest.param(WORLD.es256(WORLD.claims(), kid="no-such-kid"), id="unknown-kid"),
    pytest.param(attacker_token(), id="attacker-key-with-jku"),
    pytest.param(tampered(), id="tampered-payload"),
    pytest.param(WORLD.es256(WORLD.claims(), typ=None), id="missing-typ"),
    pytest.param(WORLD.es256(WORLD.claims(), typ="JWT"), id="wrong-typ"),
    pytest.param(WORLD.es256(WORLD.claims(exp=None)), id="missing-exp"),
    pytest.param(WORLD.es256(WORLD.claims(member_id=None)), id="guest-without-member"),
    pytest.param(WORLD.es256(WORLD.claims(kind="root")), id="unknown-kind"),
    pytest.param("not-a-jwt", id="garbage"),
]


@pytest.mark.parametrize("token", BAD_TOKENS)
async def test_bad_token_is_401_problem_with_challenge(token: str) -> None:
    response = await call(token)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith(
        'Bearer realm="qsr", error="invalid_token"'
    )
    assert response.json()["status"] == 401


async def test_missing_token_is_401_with_bare_challenge() -> None:
    response = await call(None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="qsr"'


async def test_valid_es256_token_is_accepted() -> None:
    response = await call(WORLD.es256(WORLD.claims()))
    assert response.status_code == 200
    assert response.json() == {"member_id": "m-1", "subject": "m-1"}


async def test_valid_rs256_token_is_accepted() -> None:
    response = await call(WORLD.rs256(WORLD.claims()))
    assert response.status_code == 200


async def test_small_clock_skew_is_tolerated() -> None:
    response = await call(WORLD.es256(WORLD.claims(exp=int(NOW) - 10, nbf=int(NOW) + 10)))
    assert response.status_code == 200


async def test_missing_scope_is_403_insufficient_scope() -> None:
    response = await call(WORLD.es256(WORLD.claims(scope="orders:read")))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert (
        'error="insufficient_scope", scope="loyalty:read"' in response.headers["www-authenticate"]
    )


async def test_guest_reaching_another_member_is_403() -> None:
    response = await call(WORLD.es256(WORLD.claims()), member_id="m-2")
    assert response.status_code == 403
    assert response.json()["type"] == "https://qsr.io/problems/forbidden"


async def test_service_reaches_any_member() -> None:
    token = WORLD.issuer.issue(subject="svc-hub", kind="service", scopes=["loyalty:read"], now=NOW)
    response = await call(token, member_id="m-2")
    assert response.status_code == 200
