"""`qsr run`: the platform in its embedded default mode (SQLite, in-process events, examples/)."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml

from qsr_kit.domain import specs


def run(
    examples: Path = typer.Option(Path("examples"), help="folder of program and store YAML"),
) -> None:
    """Run the platform embedded: every service in one process, config from examples/."""
    programs, stores = 0, 0
    for path in sorted(examples.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") not in ("LoyaltyProgram", "StoreIntegration"):
                continue
            if doc["kind"] == "LoyaltyProgram":
                specs.LoyaltyProgramSpec.model_validate(doc["spec"])
                programs += 1
            else:
                specs.StoreIntegrationSpec.model_validate(doc["spec"])
                stores += 1
    typer.echo(f"embedded mode: {programs} program(s) and {stores} store(s) valid in {examples}/")
    typer.echo("no service is built yet; nothing else to start")
