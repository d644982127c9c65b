"""Ordering, hub and the outside-world simulators for the embedded mode (`qsr run`, `qsr demo`).

They join the loyalty service's in-process bus and trust its dev issuer, so one process runs the
whole purchase path on SQLite: checkout → order → events → loyalty, capture → card simulator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVICE_SCOPES = ["orders:read", "orders:write", "store:write", "loyalty:read", "loyalty:redeem"]
GUEST_SCOPES = ["checkout", "orders:read", "orders:write", "loyalty:read", "loyalty:redeem"]


@dataclass
class Ports:
    ordering: int = 8083
    hub: int = 8084
    cms: int = 8091
    cards: int = 8092


@dataclass
class Edge:
    ordering: Any  # FastAPI apps
    hub: Any
    simulators: list[Any]  # simulators.serving.Server, already started (threads)
    urls: dict[str, str]


def build(
    examples: Path,
    data: Path,
    *,
    loyalty_app: Any,
    loyalty_url: str,
    host: str,
    ports: Ports,
    clock: Any = None,
    mounts: dict[str, Any] | None = None,
    ordering_url: str | None = None,
) -> Edge:
    """Starts the simulators and builds the ordering and hub apps (served by the caller)."""
    from qsr_hub import main as hub_main
    from qsr_hub.settings import HubSettings
    from qsr_hub.simulators import cardsim, cms
    from qsr_hub.simulators.serving import Server
    from qsr_kit import auth
    from qsr_ordering import main as ordering_main
    from qsr_ordering.settings import OrderingSettings

    issuer: auth.LocalIssuer = loyalty_app.state.loyalty_dev_issuer
    bus = loyalty_app.state.loyalty_bus
    verifier = auth.Verifier.static(issuer.jwks(), issuer=issuer.issuer, audience=issuer.audience)
    menu = Server(cms.create_app(), port=ports.cms, name="cms-simulator").start()
    cards = Server(cardsim.create_app(), port=ports.cards, name="card-simulator").start()
    extra: dict[str, Any] = {"clock": clock} if clock else {}
    ordering_url = ordering_url or f"http://{host}:{ports.ordering}"
    ordering = ordering_main.create_app(
        OrderingSettings(
            database_url=f"sqlite:///{data}/ordering.db",
            config_dir=examples,
            menu_url=menu.url,
            issuer=issuer.issuer,
            audience=issuer.audience,
        ),
        verifier=verifier,
        publisher=bus,
        **extra,
    )

    async def service_token() -> str:
        return issuer.issue(
            subject="qsr-hub", kind="service", scopes=SERVICE_SCOPES, now=time.time()
        )

    hub = hub_main.create_app(
        HubSettings(
            database_url=f"sqlite:///{data}/hub.db",
            config_dir=examples,
            ordering_url=ordering_url,
            loyalty_url=loyalty_url,
            cms_url=menu.url,
            payments_url=cards.url,
            issuer=issuer.issuer,
            audience=issuer.audience,
        ),
        verifier=verifier,
        service_token=service_token,
        publisher=bus,
        mounts=mounts,
        **extra,
    )
    urls = {
        "ordering": ordering_url,
        "hub": f"http://{host}:{ports.hub}",
        "cms": menu.url,
        "cards": cards.url,
    }
    return Edge(ordering=ordering, hub=hub, simulators=[menu, cards], urls=urls)


def guest_token(loyalty_app: Any, member_id: str, *, lifetime_seconds: int = 12 * 3600) -> str:
    return str(
        loyalty_app.state.loyalty_dev_issuer.issue(
            subject=member_id,
            kind="guest",
            scopes=GUEST_SCOPES,
            now=time.time(),
            member_id=member_id,
            lifetime_seconds=lifetime_seconds,
        )
    )


def service_token(loyalty_app: Any, *, lifetime_seconds: int = 12 * 3600) -> str:
    return str(
        loyalty_app.state.loyalty_dev_issuer.issue(
            subject="dev-cli", kind="service", scopes=SERVICE_SCOPES, now=time.time(),
            lifetime_seconds=lifetime_seconds,
        )
    )  # fmt: skip


def servers_for_run(
    examples: Path, data: Path, *, loyalty_server: Any, host: str, loyalty_port: int, ports: Ports
) -> list[Any]:
    """`qsr run`: uvicorn servers for ordering and hub (simulators start in threads), printing
    where everything is and a dev guest token for the first seeded member."""
    import typer
    import uvicorn

    from qsr_loyalty import seeding

    loyalty_app = loyalty_server.config.app
    edge = build(
        examples, data, loyalty_app=loyalty_app, loyalty_url=f"http://{host}:{loyalty_port}",
        host=host, ports=ports,
    )  # fmt: skip
    member_id = next(iter(seeding.MEMBERS))
    typer.echo(f"ordering: {edge.urls['ordering']}  /v1/quotes, /v1/orders (docs/ordering.md)")
    typer.echo(f"hub: {edge.urls['hub']}  /v1/checkout, /v1/me/summary, /v1/pos/{{store}}/events")
    typer.echo(
        f"  simulators: CMS {edge.urls['cms']}, card processor {edge.urls['cards']} (/_faults)"
    )
    typer.echo(f"  {member_id} checkout token (12 h): {guest_token(loyalty_app, member_id)}")
    typer.echo(f"  staff/service token (12 h): {service_token(loyalty_app)}")
    return [
        uvicorn.Server(
            uvicorn.Config(edge.ordering, host=host, port=ports.ordering, log_config=None)
        ),
        uvicorn.Server(uvicorn.Config(edge.hub, host=host, port=ports.hub, log_config=None)),
    ]
