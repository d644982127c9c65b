"""Signing and signature checks for access tokens: JWKS → keys with pinned algorithms; an issuer.

Pure (no I/O; time passed in). The algorithm comes from the key, never from the token header
(RFC 8725 §3.1), so `alg: none` and HS256-with-the-public-key are refused by construction. Used by
`qsr_kit.auth` (verifying) and by `qsr_identity` and tests (signing with `LocalIssuer`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from qsr_kit.domain.auth_principal import ACCESS_TOKEN_TYP, Kind, TokenRejected, UnknownKey

ALLOWED_ALGORITHMS: frozenset[str] = frozenset({"ES256", "RS256"})
MIN_RSA_BITS = 2048
MAX_TOKEN_BYTES = 8192

JwksDict = dict[str, list[dict[str, Any]]]


@dataclasses.dataclass(frozen=True)
class PinnedKey:
    """A public verification key and the one algorithm it may be used with."""

    kid: str
    alg: str
    key: ECKey | RSAKey


def pinned_keys(jwks: Mapping[str, Any]) -> dict[str, PinnedKey]:
    """Usable signature keys of a JWKS by kid; symmetric, weak or odd ones dropped."""
    found: dict[str, PinnedKey] = {}
    raw_keys = jwks.get("keys")
    if not isinstance(raw_keys, list):
        return found
    for jwk in raw_keys:
        pinned = _pinned_key(jwk) if isinstance(jwk, dict) else None
        if pinned is not None and pinned.kid not in found:
            found[pinned.kid] = pinned
    return found


def _pinned_key(jwk: dict[str, Any]) -> PinnedKey | None:
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid or jwk.get("use", "sig") != "sig":
        return None
    public = {k: v for k, v in jwk.items() if k not in {"d", "p", "q", "dp", "dq", "qi", "oth"}}
    key: ECKey | RSAKey
    try:
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            alg, key = "ES256", ECKey.import_key(public)
        elif jwk.get("kty") == "RSA":
            rsa = RSAKey.import_key(public)
            if rsa.raw_value.key_size < MIN_RSA_BITS:
                return None
            alg, key = "RS256", rsa
        else:
            return None
    except (JoseError, ValueError, TypeError):
        return None
    if jwk.get("alg", alg) != alg:
        return None
    return PinnedKey(kid=kid, alg=alg, key=key)


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, only to find the kid; nothing in it is trusted."""
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenRejected("token too large")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejected("token is not a compact JWS")
    try:
        header = json.loads(_canonical_b64url(parts[0]))
        for part in parts[1:]:
            _canonical_b64url(part)
    except (ValueError, binascii.Error) as error:
        raise TokenRejected("token is not canonical base64url JSON") from error
    if not isinstance(header, dict):
        raise TokenRejected("token header is not a JSON object")
    return header


def _canonical_b64url(part: str) -> bytes:
    """Unpadded base64url whose unused trailing bits are zero (RFC 7515 §2), so a token has exactly
    one spelling: otherwise flipping those bits gives a different string with the same signature."""
    decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    if base64.urlsafe_b64encode(decoded).rstrip(b"=").decode("ascii") != part:
        raise ValueError("non-canonical base64url")
    return decoded


def verified_token(
    token: str, keys: Mapping[str, PinnedKey]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a token whose signature checks with its kid's key, under its alg."""
    header = unverified_header(token)
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise TokenRejected("token has no kid")
    pinned = keys.get(kid)
    if pinned is None:
        raise UnknownKey("token kid is not in the trusted key set")
    if header.get("alg") != pinned.alg:
        raise TokenRejected("token alg does not match its key")
    try:
        decoded = jwt.decode(token, pinned.key, algorithms=[pinned.alg])
    except JoseError as error:
        raise TokenRejected("token signature is invalid") from error
    return dict(decoded.header), dict(decoded.claims)


@dataclasses.dataclass(frozen=True)
class SigningKey:
    """A private ES256 key with its kid; its public half goes into the JWKS."""

    kid: str
    key: ECKey

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        kid = kid or uuid.uuid4().hex
        key = ECKey.generate_key("P-256", parameters={"kid": kid}, private=True)
        return cls(kid=kid, key=key)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> SigningKey:
        key = ECKey.import_key(dict(jwk))
        return cls(kid=str(jwk["kid"]), key=key)

    def public_jwk(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False)
        return {**public, "kid": self.kid, "alg": "ES256", "use": "sig"}

    def private_jwk(self) -> dict[str, Any]:
        return {**self.key.as_dict(private=True), "kid": self.kid}


def sign(claims: Mapping[str, Any], key: SigningKey, *, typ: str = ACCESS_TOKEN_TYP) -> str:
    header = {"alg": "ES256", "kid": key.kid, "typ": typ}
    return jwt.encode(header, dict(claims), key.key, algorithms=["ES256"])


def access_token_claims(
    *,
    issuer: str,
    audience: str,
    subject: str,
    kind: Kind,
    scopes: Iterable[str],
    now: float,
    lifetime_seconds: int,
    member_id: str | None = None,
    store_ids: Iterable[str] = (),
    client_id: str | None = None,
    token_id: str | None = None,
) -> dict[str, Any]:
    """RFC 9068 claims plus ours (`kind`, `member_id`, `store_ids`)."""
    issued = int(now)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "kind": kind,
        "scope": " ".join(sorted(set(scopes))),
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime_seconds,
        "jti": token_id or uuid.uuid4().hex,
    }
    if member_id is not None:
        claims["member_id"] = member_id
    if kind == "staff":
        claims["store_ids"] = sorted(set(store_ids))
    if client_id is not None:
        claims["client_id"] = client_id
    return claims


class LocalIssuer:
    """An in-process token issuer: one or more ES256 keys, the newest signs, all are published.

    Tests and the embedded mode use it directly; `rotate()` adds a key and keeps the old one
    published (overlap) until `retire()`.
    """

    def __init__(self, *, issuer: str, audience: str, lifetime_seconds: int = 300) -> None:
        self.issuer = issuer
        self.audience = audience
        self.lifetime_seconds = lifetime_seconds
        self._keys: list[SigningKey] = [SigningKey.generate()]

    @property
    def current(self) -> SigningKey:
        return self._keys[-1]

    def rotate(self) -> SigningKey:
        self._keys.append(SigningKey.generate())
        return self.current

    def retire(self, kid: str) -> None:
        if kid == self.current.kid:
            raise ValueError("kid: the current signing key cannot be retired")
        self._keys = [k for k in self._keys if k.kid != kid]

    def jwks(self) -> JwksDict:
        return {"keys": [k.public_jwk() for k in self._keys]}

    def issue(
        self,
        *,
        subject: str,
        kind: Kind,
        scopes: Iterable[str],
        now: float,
        member_id: str | None = None,
        store_ids: Iterable[str] = (),
        client_id: str | None = None,
        lifetime_seconds: int | None = None,
    ) -> str:
        claims = access_token_claims(
            issuer=self.issuer,
            audience=self.audience,
            subject=subject,
            kind=kind,
            scopes=scopes,
            now=now,
            lifetime_seconds=lifetime_seconds or self.lifetime_seconds,
            member_id=member_id
            if member_id is not None
            else (subject if kind == "guest" else None),
            store_ids=store_ids,
            client_id=client_id,
        )
        return sign(claims, self.current)
