"""Guest accounts: normalized identifiers, password policy, no enumeration, strict bodies."""

from __future__ import annotations

import pytest

from qsr_identity.domain import accounts
from qsr_identity.domain.passwords import Argon2Params, Passwords
from tests.qsr_identity.conftest import PASSWORD, Flows, bearer


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        pytest.param(" Ann@Example.COM ", "ann@example.com", id="email-case-and-space"),
        pytest.param("+1 (415) 555-0100", "+14155550100", id="phone-punctuation"),
        pytest.param("0044 20 7946 0958", "+442079460958", id="phone-00-prefix"),
        pytest.param("\uff41nn@example.com", "ann@example.com", id="email-fullwidth-nfkc"),
    ],
)
def test_identifiers_are_normalized(raw: str, normalized: str) -> None:
    assert accounts.normalized_identifier(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("not-an-email@", id="email-no-domain"),
        pytest.param("4155550100", id="phone-without-country"),
        pytest.param("+1234", id="phone-too-short"),
    ],
)
def test_malformed_identifier_names_the_field(raw: str) -> None:
    with pytest.raises(accounts.InvalidField) as raised:
        accounts.normalized_identifier(raw)
    assert raised.value.field == "identifier"


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("short", id="too-short"),
        pytest.param("a" * 12, id="one-repeated-char"),
        pytest.param("ann@example.com", id="same-as-identifier"),
        pytest.param("x" * 129 + "y", id="too-long"),
    ],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(accounts.InvalidField, match="password"):
        accounts.check_password(password, identifier="ann@example.com")


def test_unknown_account_verifies_against_dummy_hash_and_fails() -> None:
    passwords = Passwords(Argon2Params(time_cost=1, memory_kib=1024))
    assert passwords.verify(None, "qsr-dummy-password-for-timing") is False
    assert passwords.verify(passwords.hash(PASSWORD), PASSWORD) is True


def test_hashes_are_argon2id() -> None:
    passwords = Passwords(Argon2Params(time_cost=1, memory_kib=1024))
    assert passwords.hash(PASSWORD).startswith("$argon2id$")


async def test_sign_up_answers_the_same_for_a_known_identifier(flows: Flows) -> None:
    first = await flows.sign_up("kim@example.com")
    again = await flows.sign_up("KIM@example.com", password="another password 2")
    assert (first.status_code, first.json()) == (again.status_code, again.json())


async def test_sign_up_of_a_known_identifier_keeps_the_original_password(flows: Flows) -> None:
    await flows.sign_up("lee@example.com")
    await flows.sign_up("lee@example.com", password="attacker password 9")
    assert (await flows.sign_in("lee@example.com"))["access_token"]


async def test_wrong_password_and_unknown_account_get_the_same_answer(flows: Flows) -> None:
    await flows.sign_up("max@example.com")
    wrong = await flows.authorize("max@example.com", "wrong password 1", verifier="v" * 43)
    unknown = await flows.authorize("nobody@example.com", "wrong password 1", verifier="v" * 43)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_sign_up_with_weak_password_is_422_naming_password(flows: Flows) -> None:
    response = await flows.sign_up("ned@example.com", password="short")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"].endswith("password")


@pytest.mark.parametrize("field", ["is_admin", "member_id", "points_balance", "tier"])
async def test_sign_up_refuses_extra_fields(flows: Flows, field: str) -> None:
    body = {"identifier": "oz@example.com", "password": PASSWORD, field: "x"}
    response = await flows.http.post("/v1/guests", json=body)
    assert response.status_code == 422
    assert field in response.json()["detail"]


async def test_me_shows_own_identifier(flows: Flows) -> None:
    tokens = await flows.guest("pia@example.com", scope="profile")
    response = await flows.http.get("/v1/accounts/me", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json()["identifier"] == "pia@example.com"
