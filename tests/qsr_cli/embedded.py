"""The embedded identity and loyalty apps, wired as `qsr run` and `qsr demo` wire them."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from qsr_cli import embedded_identity

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
IDENTITY = "http://identity.embedded"


@dataclass
class Embedded:
    trust: embedded_identity.Trust
    loyalty: httpx.AsyncClient


@asynccontextmanager
async def embedded(data: Path, *, member_id: str = "m-1001") -> AsyncIterator[Embedded]:
    secret = secrets.token_urlsafe(32)
    identity = embedded_identity.identity_app(
        EXAMPLES, data, issuer=IDENTITY, service_secret=secret, member_id=member_id
    )
    to_identity = httpx.AsyncClient(transport=httpx.ASGITransport(app=identity))
    trust = embedded_identity.Trust(IDENTITY, to_identity, secret)
    loyalty = embedded_identity.loyalty_app(EXAMPLES, data, trust)
    to_loyalty = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=loyalty), base_url="http://loyalty.embedded"
    )
    identity_up = identity.router.lifespan_context(identity)
    loyalty_up = loyalty.router.lifespan_context(loyalty)
    async with to_identity, identity_up, to_loyalty, loyalty_up:
        yield Embedded(trust, to_loyalty)


def development_token(trust: embedded_identity.Trust, member_id: str) -> str:
    """A well-formed token with identity's issuer and audience, signed by another key."""
    from qsr_kit import auth

    issuer = auth.LocalIssuer(issuer=trust.issuer, audience=embedded_identity.AUDIENCE)
    return issuer.issue(
        subject=member_id,
        kind="guest",
        scopes=embedded_identity.GUEST_SCOPES.split(),
        now=time.time(),
        member_id=member_id,
    )
