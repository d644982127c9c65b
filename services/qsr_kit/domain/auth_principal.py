"""Who is calling and what they may do: the `Principal` every service reasons about.

Pure rules over already-decoded claims and headers (RFC 9068 access tokens, RFC 8725 checks);
time arrives as an argument. `qsr_kit.auth` verifies signatures and calls these; routes call the
`ensure_*` object-level checks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Literal, get_args

Kind = Literal["guest", "staff", "service"]
KINDS: frozenset[str] = frozenset(get_args(Kind))

# RFC 9068 §2.1: access tokens carry typ "at+jwt" (the "application/" prefix is optional).
ACCESS_TOKEN_TYP = "at+jwt"
DEFAULT_LEEWAY_SECONDS = 30


class AuthError(Exception):
    """Base of every authentication or authorization refusal."""


class TokenRejected(AuthError):
    """The token is missing, malformed, unsigned by a trusted key, or fails a claim (401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownKey(TokenRejected):
    """The token names a `kid` absent from the key set (the caller may refetch the JWKS once)."""


class ScopeMissing(AuthError):
    """The principal is authenticated but lacks a scope the route requires (→ 403)."""

    def __init__(self, missing: frozenset[str]) -> None:
        super().__init__(f"missing scope: {' '.join(sorted(missing))}")
        self.missing = missing


class NotYourObject(AuthError):
    """The principal may not act on this member or store (→ 403, OWASP API1)."""


@dataclasses.dataclass(frozen=True)
class Principal:
    """The verified caller: a guest (acts for one member), staff (some stores) or a service."""

    subject: str
    kind: Kind
    scopes: frozenset[str]
    member_id: str | None = None
    store_ids: frozenset[str] = frozenset()
    client_id: str | None = None
    token_id: str | None = None

    def has_scopes(self, *scopes: str) -> bool:
        return set(scopes) <= self.scopes


@dataclasses.dataclass(frozen=True)
class ClaimRules:
    """What a verifier accepts: one issuer, one audience, a small clock skew, an explicit `typ`."""

    issuer: str
    audience: str
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS
    # None accepts any typ (a federated IdP's ID tokens); our access tokens always need at+jwt.
    required_typ: str | None = ACCESS_TOKEN_TYP


def check_header(header: Mapping[str, object], *, rules: ClaimRules) -> None:
    """RFC 8725 §3.11 explicit typing; `jku`/`x5u`/`jwk` are never followed (§3.10, OWASP API7)."""
    if rules.required_typ is None:
        return
    typ = header.get("typ")
    if not isinstance(typ, str):
        raise TokenRejected("token has no typ header")
    normalized = typ.lower().removeprefix("application/")
    if normalized != rules.required_typ:
        raise TokenRejected(f"token typ {typ!r} is not {rules.required_typ!r}")


def check_claims(claims: Mapping[str, object], *, rules: ClaimRules, now: float) -> None:
    """Issuer, audience, expiry, not-before and issued-at, each with `leeway_seconds` of skew."""
    if claims.get("iss") != rules.issuer:
        raise TokenRejected("token issuer is not trusted")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if rules.audience not in audiences:
        raise TokenRejected("token audience does not include this service")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenRejected("token has no subject")
    leeway = rules.leeway_seconds
    exp = _numeric(claims, "exp", required=True)
    if exp is not None and now > exp + leeway:
        raise TokenRejected("token expired")
    nbf = _numeric(claims, "nbf", required=False)
    if nbf is not None and now < nbf - leeway:
        raise TokenRejected("token not yet valid")
    iat = _numeric(claims, "iat", required=True)
    if iat is not None and now < iat - leeway:
        raise TokenRejected("token issued in the future")


def _numeric(claims: Mapping[str, object], name: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise TokenRejected(f"token has no {name}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(f"token {name} is not a number")
    return float(value)


def principal_from_claims(claims: Mapping[str, object]) -> Principal:
    """The principal of checked claims; a token missing its kind-specific claims is rejected."""
    kind = claims.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise TokenRejected("token has no valid kind")
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise TokenRejected("token scope is not a string")
    member_id = claims.get("member_id")
    if kind == "guest" and (not isinstance(member_id, str) or not member_id):
        raise TokenRejected("guest token has no member_id")
    raw_stores = claims.get("store_ids", [])
    if not isinstance(raw_stores, list) or not all(isinstance(s, str) for s in raw_stores):
        raise TokenRejected("token store_ids is not a list of strings")
    client_id = claims.get("client_id")
    jti = claims.get("jti")
    return Principal(
        subject=str(claims["sub"]),
        kind=kind,  # type: ignore[arg-type]  # checked against KINDS above
        scopes=frozenset(scope.split()),
        member_id=member_id if kind == "guest" and isinstance(member_id, str) else None,
        store_ids=frozenset(raw_stores) if kind == "staff" else frozenset(),
        client_id=client_id if isinstance(client_id, str) else None,
        token_id=jti if isinstance(jti, str) else None,
    )


def ensure_scopes(principal: Principal, scopes: Iterable[str]) -> None:
    missing = frozenset(scopes) - principal.scopes
    if missing:
        raise ScopeMissing(missing)


def ensure_can_act_for_member(principal: Principal, member_id: str) -> None:
    """Guests reach only their own member; services any; staff none (staff act through stores)."""
    if principal.kind == "service":
        return
    if principal.kind == "guest" and principal.member_id == member_id:
        return
    raise NotYourObject("this principal may not act for that member")


def ensure_can_act_for_store(principal: Principal, store_id: str) -> None:
    """Staff reach only the stores they are assigned to; services any; guests none."""
    if principal.kind == "service":
        return
    if principal.kind == "staff" and store_id in principal.store_ids:
        return
    raise NotYourObject("this principal may not act for that store")
