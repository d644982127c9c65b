"""`qsr demo` walks a guest through the whole purchase path in one process and prints each step."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from qsr_cli.main import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_demo_earns_then_reverses_points_for_an_order_with_a_reward() -> None:
    result = CliRunner().invoke(app, ["demo", "--examples", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines[-7:]] == ["1.", "2.", "3.", "4.", "5.", "6.", "7."]
    assert "reward applied True" in lines[-6]
    assert "payment captured" in lines[-4]
    assert "pending 0 →" in lines[-3] and lines[-1].split("pending ")[1].split(" → ")[1].startswith(
        "0"
    )
