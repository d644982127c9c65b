"""OAuth 2.1 rules: grantable scopes per kind of account, PKCE (S256 only), opaque token hashing,
refresh-token rotation with reuse detection. Pure; `qsr_identity.granting` applies them to storage.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import re
import secrets
from typing import Literal

from qsr_kit.domain.auth_principal import Kind

# What each kind of principal may ever hold; a client narrows it further with its own allow-list.
GUEST_SCOPES = frozenset(
    {
        "openid",
        "profile",
        "loyalty:read",
        "loyalty:redeem",
        "orders:read",
        "orders:write",
        "checkout",
    }
)
STAFF_SCOPES = frozenset({"openid", "profile", "store:read", "store:write", "loyalty:adjust"})
SCOPES_BY_KIND: dict[Kind, frozenset[str]] = {"guest": GUEST_SCOPES, "staff": STAFF_SCOPES}

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 §4.1
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,64}$")  # RFC 6749 §3.3 scope-token

ErrorCode = Literal[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
]


class OAuthError(Exception):
    """An RFC 6749 §5.2 error; 401 for invalid_client, 400 otherwise."""

    def __init__(self, error: ErrorCode, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    @property
    def status(self) -> int:
        return 401 if self.error == "invalid_client" else 400


def granted_scopes(requested: str | None, *, allowed: frozenset[str]) -> frozenset[str]:
    """The requested scopes if all are allowed; none requested means all allowed (RFC 6749 §3.3)."""
    if requested is None or not requested.strip():
        return allowed
    asked = frozenset(requested.split())
    if not all(_SCOPE_TOKEN.match(s) for s in asked):
        raise OAuthError("invalid_scope", "scope contains invalid characters")
    refused = asked - allowed
    if refused:
        raise OAuthError("invalid_scope", f"scope not allowed: {' '.join(sorted(refused))}")
    return asked


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_pkce(verifier: str | None, *, challenge: str) -> None:
    """RFC 7636 S256; `plain` is never accepted (OAuth 2.1 §7.5.1)."""
    if verifier is None or not _VERIFIER.match(verifier):
        raise OAuthError("invalid_grant", "code_verifier missing or malformed")
    if not hmac.compare_digest(pkce_challenge(verifier), challenge):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")


def check_challenge(challenge: str | None, method: str | None) -> str:
    if method != "S256":
        raise OAuthError("invalid_request", "code_challenge_method must be S256")
    if challenge is None or not re.fullmatch(r"[A-Za-z0-9\-_]{43}", challenge):
        raise OAuthError("invalid_request", "code_challenge must be a base64url SHA-256 digest")
    return challenge


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Stored instead of the token: a database leak yields no usable refresh token or code."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def secret_matches(secret: str, *, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(secret), stored_hash)


@dataclasses.dataclass(frozen=True)
class RefreshRecord:
    family_id: str
    used_at: float | None
    revoked_at: float | None
    expires_at: float
    family_expires_at: float


RefreshVerdict = Literal["rotate", "reuse", "expired"]


def refresh_verdict(record: RefreshRecord, *, now: float) -> RefreshVerdict:
    """OAuth 2.1 §4.3.1 / RFC 9700 §4.14.2: a refresh token works once; presenting a used or revoked
    one means it leaked, so the whole family is revoked."""
    if record.used_at is not None or record.revoked_at is not None:
        return "reuse"
    if now >= record.expires_at or now >= record.family_expires_at:
        return "expired"
    return "rotate"
