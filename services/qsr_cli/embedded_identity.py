"""The embedded identity service and how loyalty, ordering and the hub trust it (qsr run, demo).

Every embedded service verifies tokens against identity's JWKS (`jwks_uri`), with identity's issuer
and audience, exactly as in the cluster; only the transport differs: loopback HTTP for `qsr run`,
`httpx.ASGITransport` into the identity app for `qsr demo`. Guests sign in with the
authorization-code flow + PKCE through the public `demo-app` client; services get
client-credentials tokens from the `qsr-embedded-services` client, whose secret is made per run.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import yaml

AUDIENCE = "qsr-platform"  # what identity puts in every access token (IdentitySettings.audience)
JWKS_PATH = "/.well-known/jwks.json"
SERVICE_CLIENT = "qsr-embedded-services"
SERVICE_SCOPES = ("orders:read", "orders:write", "store:write", "loyalty:read", "loyalty:redeem")
GUEST_SCOPES = "checkout orders:read orders:write loyalty:read loyalty:redeem"


class SignInFailed(Exception):
    """Identity refused the demo sign-in (its problem+json detail is the message)."""


@dataclass
class Trust:
    """Where identity is and how to reach it; shared by every embedded service's verifier."""

    issuer: str
    client: httpx.AsyncClient  # reaches identity: loopback HTTP or ASGITransport
    service_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}{JWKS_PATH}"

    def verifier(self) -> Any:
        from qsr_kit import auth

        return auth.Verifier.remote(
            self.jwks_url, client=self.client, issuer=self.issuer, audience=AUDIENCE
        )


def store_ids(examples: Path) -> list[str]:
    return [
        doc["spec"]["storeId"]
        for path in sorted(examples.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc.get("kind") == "StoreIntegration"
    ]


def identity_app(
    examples: Path, data: Path, *, issuer: str, service_secret: str, member_id: str
) -> Any:
    """Identity on SQLite: demo guest (acting for `member_id`), demo staff, `demo-app` (PKCE) and
    the service client."""
    from pydantic import SecretStr

    from qsr_identity import main as identity
    from qsr_identity.settings import IdentitySettings, SeedClient

    service = SeedClient(
        client_id=SERVICE_CLIENT,
        secret=SecretStr(service_secret),
        scopes=SERVICE_SCOPES,
    )
    settings = IdentitySettings(
        issuer=issuer,
        audience=AUDIENCE,
        database_url=f"sqlite:///{data}/identity.db",
        seed_demo=True,
        demo_member_id=member_id,
        demo_store_ids=tuple(store_ids(examples)),
        clients=(service,),
    )
    return identity.create_app(settings)


def loyalty_app(examples: Path, data: Path, trust: Trust, *, clock: Any = None) -> Any:
    """Loyalty on SQLite with seeded members, trusting identity's JWKS (docs/identity.md)."""
    from qsr_kit import auth
    from qsr_loyalty import main as loyalty
    from qsr_loyalty.settings import Settings

    settings = Settings(
        database_url=f"sqlite:///{data}/loyalty.db",
        config_dir=examples,
        seed=True,
        jwks_url=trust.jwks_url,
        issuer=trust.issuer,
        audience=AUDIENCE,
    )
    app = loyalty.create_app(settings, **({"clock": clock} if clock else {}))
    auth.install(app, trust.verifier())  # same JWKS, fetched through the shared transport
    return app


class ServiceTokens:
    """Client-credentials tokens from identity, reused until a minute before they expire."""

    def __init__(self, trust: Trust, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._trust = trust
        self._clock = clock
        self._token = ""
        self._renew_at = float("-inf")

    async def __call__(self) -> str:
        if self._clock() >= self._renew_at:
            answer = await self._trust.client.post(
                f"{self._trust.issuer}/oauth2/token",
                data={"grant_type": "client_credentials", "scope": " ".join(SERVICE_SCOPES)},
                auth=(SERVICE_CLIENT, self._trust.service_secret),
            )
            body = _ok(answer)
            self._token = str(body["access_token"])
            self._renew_at = self._clock() + max(0, int(body["expires_in"]) - 60)
        return self._token


async def sign_in(trust: Trust, *, identifier: str, password: str) -> dict[str, Any]:
    """OAuth 2.1 authorization code + PKCE (S256) through `demo-app`; returns the token response."""
    from qsr_identity import seeding

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    authorized = await trust.client.post(
        f"{trust.issuer}/oauth2/authorize",
        data={
            "response_type": "code",
            "client_id": seeding.DEMO_CLIENT,
            "redirect_uri": seeding.DEMO_REDIRECT,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            "scope": GUEST_SCOPES,
            "state": state,
            "identifier": identifier,
            "password": password,
        },
    )
    if authorized.status_code != 303:
        _ok(authorized)
    query = parse_qs(urlsplit(authorized.headers["location"]).query)
    if query.get("state") != [state] or query.get("iss") != [trust.issuer]:
        raise SignInFailed("the redirect carries another state or issuer")
    token = await trust.client.post(
        f"{trust.issuer}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": seeding.DEMO_CLIENT,
            "code": query["code"][0],
            "redirect_uri": seeding.DEMO_REDIRECT,
            "code_verifier": verifier,
        },
    )
    return _ok(token)


def _ok(answer: httpx.Response) -> dict[str, Any]:
    if answer.status_code != 200:
        detail = answer.json().get("detail", answer.text) if answer.content else ""
        raise SignInFailed(f"identity answered HTTP {answer.status_code}: {detail}")
    body: dict[str, Any] = answer.json()
    return body
