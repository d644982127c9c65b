"""`qsr run`: the platform in its embedded default mode (SQLite, in-process events, examples/)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer
import yaml

from qsr_cli import embedded_edge, embedded_identity
from qsr_kit.domain import specs


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
    import httpx

    # Every service verifies identity's tokens, its JWKS fetched over loopback HTTP (jwks_uri).
    trust = embedded_identity.Trust(f"http://{host}:{identity_port}", httpx.AsyncClient(timeout=5))
    servers = [
        _identity(examples, data, trust, host=host, port=identity_port),
        _loyalty(examples, data, trust, host=host, port=loyalty_port),
    ]
    servers += embedded_edge.servers_for_run(
        examples, data, loyalty_server=servers[1], trust=trust, host=host,
        loyalty_port=loyalty_port, ports=embedded_edge.Ports(ordering=ordering_port, hub=hub_port),
    )  # fmt: skip
    _how_to_get_tokens(trust, loyalty_url=f"http://{host}:{loyalty_port}")
    asyncio.run(_serve_all(servers))


def _loyalty(
    examples: Path, data: Path, trust: embedded_identity.Trust, *, host: str, port: int
) -> Any:
    """The loyalty service on SQLite with seeded members, trusting identity's tokens."""
    import uvicorn

    from qsr_loyalty import seeding

    app = embedded_identity.loyalty_app(examples, data, trust)
    url = f"http://{host}:{port}"
    program = app.state.loyalty_program
    typer.echo(f"loyalty: {url}  program {program.name} ({program.spec.display_name})")
    typer.echo("  serves /v1/members, /v1/members/{id}/balance|ledger|redemptions, /v1/rewards,")
    typer.echo(
        "  /v1/redemptions/{id}/commit|cancel, /v1/simulate, /docs, /healthz, /readyz, /metrics"
    )
    typer.echo(f"  seeded members: {', '.join(seeding.MEMBERS)}; database {data}/loyalty.db")
    config = uvicorn.Config(app, host=host, port=port, log_config=None)
    return uvicorn.Server(config)


def _identity(
    examples: Path, data: Path, trust: embedded_identity.Trust, *, host: str, port: int
) -> Any:
    """The identity service on SQLite with a demo guest (first seeded member) and staff account."""
    import uvicorn

    from qsr_identity import seeding as demo
    from qsr_loyalty import seeding

    member_id = next(iter(seeding.MEMBERS))
    app = embedded_identity.identity_app(
        examples, data, issuer=trust.issuer, service_secret=trust.service_secret,
        member_id=member_id,
    )  # fmt: skip
    store_ids = ", ".join(embedded_identity.store_ids(examples))
    url = trust.issuer
    typer.echo(f"identity: {url}  discovery {url}/.well-known/openid-configuration")
    typer.echo(f"  demo guest {demo.DEMO_GUEST} (member {member_id}), demo staff")
    typer.echo(f"  {demo.DEMO_STAFF} ({store_ids}); password {demo.DEMO_PASSWORD}")
    typer.echo(
        f"  app client {demo.DEMO_CLIENT} (PKCE, redirect {demo.DEMO_REDIRECT}); docs/identity.md"
    )
    config = uvicorn.Config(app, host=host, port=port, log_config=None)
    return uvicorn.Server(config)


def _how_to_get_tokens(trust: embedded_identity.Trust, *, loyalty_url: str) -> None:
    """Every service accepts only identity's tokens: no development tokens in this mode."""
    from qsr_loyalty import seeding

    member_id = next(iter(seeding.MEMBERS))
    token = f"{trust.issuer}/oauth2/token"
    scopes = " ".join(embedded_identity.SERVICE_SCOPES)
    typer.echo("tokens: only identity's are accepted (no development tokens in this mode)")
    typer.echo(f"  service client {embedded_identity.SERVICE_CLIENT}; its secret, new each run:")
    typer.echo(f"  SECRET={trust.service_secret}")
    typer.echo(
        f"  TOKEN=$(curl -s -u {embedded_identity.SERVICE_CLIENT}:$SECRET"
        f" -d grant_type=client_credentials -d 'scope={scopes}' {token} | jq -r .access_token)"
    )
    typer.echo(
        f'  curl -H "Authorization: Bearer $TOKEN" {loyalty_url}/v1/members/{member_id}/balance'
    )
    typer.echo("  guest sign-in (authorization code + PKCE, two curls): docs/identity.md")


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
