"""In the embedded mode loyalty trusts the embedded identity service's tokens, and only those."""

from __future__ import annotations

from pathlib import Path

from qsr_cli import embedded_identity
from qsr_identity import seeding
from tests.qsr_cli.embedded import development_token, embedded

BALANCE = "/v1/members/m-1001/balance"


async def test_a_guest_signed_in_through_identity_reads_its_own_balance(tmp_path: Path) -> None:
    async with embedded(tmp_path) as platform:
        signed_in = await embedded_identity.sign_in(
            platform.trust, identifier=seeding.DEMO_GUEST, password=seeding.DEMO_PASSWORD
        )
        answer = await platform.loyalty.get(
            BALANCE, headers={"Authorization": f"Bearer {signed_in['access_token']}"}
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["member_id"] == "m-1001"


async def test_a_client_credentials_token_from_identity_reads_any_balance(tmp_path: Path) -> None:
    async with embedded(tmp_path) as platform:
        token = await embedded_identity.ServiceTokens(platform.trust)()
        answer = await platform.loyalty.get(
            "/v1/members/m-1002/balance", headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 200, answer.text


async def test_a_development_token_is_refused_by_embedded_loyalty(tmp_path: Path) -> None:
    async with embedded(tmp_path) as platform:
        token = development_token(platform.trust, "m-1001")
        answer = await platform.loyalty.get(BALANCE, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
