"""Pure principal rules: claims → Principal, scopes, object-level checks per kind."""

from __future__ import annotations

import pytest

from qsr_kit.domain import auth_principal, auth_tokens
from qsr_kit.domain.auth_principal import NotYourObject, Principal, ScopeMissing

GUEST = Principal(subject="g", kind="guest", scopes=frozenset({"a"}), member_id="m-1")
STAFF = Principal(subject="s", kind="staff", scopes=frozenset({"a"}), store_ids=frozenset({"st-1"}))
SERVICE = Principal(subject="svc", kind="service", scopes=frozenset({"a", "b"}))


def test_staff_claims_keep_store_ids_and_drop_member() -> None:
    claims = auth_tokens.access_token_claims(
        issuer="i",
        audience="a",
        subject="s",
        kind="staff",
        scopes=["x", "y"],
        now=0,
        lifetime_seconds=60,
        member_id="m-9",
        store_ids=["st-2", "st-1"],
    )
    principal = auth_principal.principal_from_claims(claims)
    assert principal.store_ids == frozenset({"st-1", "st-2"})
    assert principal.member_id is None
    assert principal.scopes == frozenset({"x", "y"})


@pytest.mark.parametrize(
    ("principal", "allowed"),
    [
        pytest.param(GUEST, True, id="guest-self"),
        pytest.param(
            Principal(subject="g2", kind="guest", scopes=frozenset(), member_id="m-2"),
            False,
            id="other-guest",
        ),
        pytest.param(STAFF, False, id="staff"),
        pytest.param(SERVICE, True, id="service"),
    ],
)
def test_who_may_act_for_member_m1(principal: Principal, allowed: bool) -> None:
    if allowed:
        auth_principal.ensure_can_act_for_member(principal, "m-1")
    else:
        with pytest.raises(NotYourObject):
            auth_principal.ensure_can_act_for_member(principal, "m-1")


@pytest.mark.parametrize(
    ("principal", "store", "allowed"),
    [
        pytest.param(STAFF, "st-1", True, id="staff-own-store"),
        pytest.param(STAFF, "st-2", False, id="staff-other-store"),
        pytest.param(GUEST, "st-1", False, id="guest"),
        pytest.param(SERVICE, "st-2", True, id="service"),
    ],
)
def test_who_may_act_for_store(principal: Principal, store: str, allowed: bool) -> None:
    if allowed:
        auth_principal.ensure_can_act_for_store(principal, store)
    else:
        with pytest.raises(NotYourObject):
            auth_principal.ensure_can_act_for_store(principal, store)


def test_missing_scopes_are_named() -> None:
    with pytest.raises(ScopeMissing) as raised:
        auth_principal.ensure_scopes(SERVICE, ["a", "c", "d"])
    assert raised.value.missing == frozenset({"c", "d"})


def test_jwks_drops_symmetric_and_weak_keys() -> None:
    jwks = {
        "keys": [
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"},
            auth_tokens.SigningKey.generate("good").public_jwk(),
        ]
    }
    assert set(auth_tokens.pinned_keys(jwks)) == {"good"}


def test_jwks_key_with_conflicting_alg_is_dropped() -> None:
    jwk = {**auth_tokens.SigningKey.generate("k").public_jwk(), "alg": "HS256"}
    assert auth_tokens.pinned_keys({"keys": [jwk]}) == {}


def test_retiring_current_key_is_refused() -> None:
    issuer = auth_tokens.LocalIssuer(issuer="i", audience="a")
    with pytest.raises(ValueError, match="kid"):
        issuer.retire(issuer.current.kid)
