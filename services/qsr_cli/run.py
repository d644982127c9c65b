"""`qsr run`: the platform in its embedded default mode (SQLite, in-process events, examples/)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import typer
import yaml

from qsr_cli import embedded_edge
from qsr_kit.domain import specs

DEV_TOKEN_SECONDS = 12 * 3600


def run(
    examples: Path = typer.Option(Path("examples"), help="folder of program and store YAML"),
    data: Path = typer.Option(Path("var/embedded"), help="folder of the embedded SQLite files"),
    host: str = typer.Option("127.0.0.1", help="address to bind"),
    loyalty_port: int = typer.Option(8081, help="port of the loyalty service"),
    identity_port: int = typer.Option(8080, help="port of the identity service"),
    ordering_port: int = typer.Option(8083, help="port of the ordering service"),
    hub_port: int = typer.Option(8084, help="port of the hub (checkout, POS webhooks)"),
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
    data.mkdir(parents=True, exist_ok=True)
    servers = [
        _identity(examples, data, host=host, port=identity_port),
        _loyalty(examples, data, host=host, port=loyalty_port),
    ]
    servers += embedded_edge.servers_for_run(
        examples, data, loyalty_server=servers[1], host=host, loyalty_port=loyalty_port,
        ports=embedded_edge.Ports(ordering=ordering_port, hub=hub_port),
    )  # fmt: skip
    asyncio.run(_serve_all(servers))


def _loyalty(examples: Path, data: Path, *, host: str, port: int) -> Any:
    """The loyalty service on SQLite with seeded members; prints where it is and how to call it."""
    import uvicorn

    from qsr_loyalty import main as loyalty
    from qsr_loyalty import seeding
    from qsr_loyalty.settings import Settings

    settings = Settings(database_url=f"sqlite:///{data}/loyalty.db", config_dir=examples, seed=True)
    app = loyalty.create_app(settings)
    issuer = app.state.loyalty_dev_issuer
    scopes = ["loyalty:read", "loyalty:redeem"]
    now = time.time()
    service = issuer.issue(
        subject="dev-cli",
        kind="service",
        scopes=scopes,
        now=now,
        lifetime_seconds=DEV_TOKEN_SECONDS,
    )
    member_id = next(iter(seeding.MEMBERS))
    guest = issuer.issue(
        subject=member_id, kind="guest", scopes=scopes, now=now, member_id=member_id,
        lifetime_seconds=DEV_TOKEN_SECONDS,
    )  # fmt: skip
    url = f"http://{host}:{port}"
    program = app.state.loyalty_program
    typer.echo(f"loyalty: {url}  program {program.name} ({program.spec.display_name})")
    typer.echo("  serves /v1/members, /v1/members/{id}/balance|ledger|redemptions, /v1/rewards,")
    typer.echo(
        "  /v1/redemptions/{id}/commit|cancel, /v1/simulate, /docs, /healthz, /readyz, /metrics"
    )
    typer.echo(f"  seeded members: {', '.join(seeding.MEMBERS)}; database {data}/loyalty.db")
    typer.echo(f"  service token (12 h): {service}")
    typer.echo(f"  {member_id} token (12 h): {guest}")
    typer.echo(
        f'  try: curl -H "Authorization: Bearer $TOKEN" {url}/v1/members/{member_id}/balance'
    )
    config = uvicorn.Config(app, host=host, port=port, log_config=None)
    return uvicorn.Server(config)


def _identity(examples: Path, data: Path, *, host: str, port: int) -> Any:
    """The identity service on SQLite with a demo guest (first seeded member) and staff account."""
    import uvicorn

    from qsr_identity import main as identity
    from qsr_identity import seeding as demo
    from qsr_identity.settings import IdentitySettings
    from qsr_loyalty import seeding

    store_ids = [
        doc["spec"]["storeId"]
        for path in sorted(examples.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc.get("kind") == "StoreIntegration"
    ]
    url = f"http://{host}:{port}"
    settings = IdentitySettings(
        issuer=url,
        database_url=f"sqlite:///{data}/identity.db",
        seed_demo=True,
        demo_member_id=next(iter(seeding.MEMBERS)),
        demo_store_ids=tuple(store_ids),
    )
    typer.echo(f"identity: {url}  discovery {url}/.well-known/openid-configuration")
    typer.echo(f"  demo guest {demo.DEMO_GUEST} (member {settings.demo_member_id}), demo staff")
    typer.echo(f"  {demo.DEMO_STAFF} ({', '.join(store_ids)}); password {demo.DEMO_PASSWORD}")
    typer.echo(
        f"  app client {demo.DEMO_CLIENT} (PKCE, redirect {demo.DEMO_REDIRECT}); docs/identity.md"
    )
    config = uvicorn.Config(identity.create_app(settings), host=host, port=port, log_config=None)
    return uvicorn.Server(config)


async def _serve_all(servers: list[Any]) -> None:
    """Start the services one after the other: Alembic keeps its migration context in module
    globals, so two lifespans migrating at once in one process break each other."""
    tasks: list[asyncio.Task[None]] = []
    for server in servers:
        tasks.append(asyncio.create_task(server.serve()))
        for _ in range(1200):  # 60 s at most for one service to start
            if server.started or tasks[-1].done():
                break
            await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)
