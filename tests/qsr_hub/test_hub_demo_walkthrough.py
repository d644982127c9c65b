"""`qsr demo` walks a guest through the whole purchase path in one process and prints each step."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from qsr_cli.main import app
from tests.qsr_cli.embedded import development_token, embedded

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_demo_earns_then_reverses_points_for_an_order_with_a_reward() -> None:
    result = CliRunner().invoke(app, ["demo", "--examples", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines[-8:]] == [f"{n}." for n in range(1, 9)]
    assert "sign in" in lines[-8] and "authorization code + PKCE" in lines[-8]
    assert "reward applied True" in lines[-6]
    assert "payment captured" in lines[-4]
    assert "pending 0 →" in lines[-3] and lines[-1].split("pending ")[1].split(" → ")[1].startswith(
        "0"
    )


async def test_embedded_loyalty_refuses_a_token_not_issued_by_identity(tmp_path: Path) -> None:
    async with embedded(tmp_path) as platform:
        token = development_token(platform.trust, "m-1001")
        answer = await platform.loyalty.get(
            "/v1/members/m-1001/balance", headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 401
