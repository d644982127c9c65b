"""Federation: ID tokens from a brand's configured OIDC providers, verified against their JWKS URLs.

Only issuers listed in settings are trusted; the JWKS URL comes from settings, never from the token.
Called by the token-exchange grant and the link route in `granting` / `api`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from qsr_identity.domain.oauth import OAuthError
from qsr_identity.settings import ExternalIssuer
from qsr_kit import auth

ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"


class FederationUnavailable(Exception):
    """A configured provider's JWKS cannot be fetched (→ 503; the token was not judged)."""


class Federation:
    def __init__(
        self,
        issuers: Iterable[ExternalIssuer],
        *,
        client: httpx.AsyncClient,
        clock: Callable[[], float],
    ) -> None:
        self._verifiers = {
            i.issuer: auth.Verifier(
                auth.HttpJwks(i.jwks_url, client=client, clock=clock),
                rules=auth.ClaimRules(issuer=i.issuer, audience=i.audience, required_typ=None),
                clock=clock,
            )
            for i in issuers
        }

    @property
    def issuers(self) -> list[str]:
        return sorted(self._verifiers)

    async def external_subject(self, id_token: str) -> tuple[str, str]:
        """(issuer, subject) of a valid ID token from a configured provider."""
        verifier = self._verifiers.get(_claimed_issuer(id_token))
        if verifier is None:
            raise OAuthError(
                "invalid_grant", "subject_token is not from a trusted identity provider"
            )
        try:
            claims = await verifier.verified_claims(id_token)
        except auth.JwksUnavailable as error:
            raise FederationUnavailable("the identity provider's keys are unavailable") from error
        except auth.AuthError as error:
            raise OAuthError("invalid_grant", f"subject_token rejected: {error}") from error
        return str(claims["iss"]), str(claims["sub"])


def _claimed_issuer(token: str) -> str:
    """The unverified `iss`, only to choose which configured verifier checks the token."""
    try:
        payload = token.split(".")[1]
        claims: Any = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return ""
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else ""
