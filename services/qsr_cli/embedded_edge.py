"""Ordering, hub and the outside-world simulators for the embedded mode (`qsr run`, `qsr demo`).

They join the loyalty service's in-process bus and trust the embedded identity service (its JWKS,
issuer and audience: `embedded_identity.Trust`), so one process runs the whole purchase path on
SQLite: checkout → order → events → loyalty, capture → card simulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qsr_cli import embedded_identity
from qsr_cli.embedded_identity import AUDIENCE, Trust


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
    trust: Trust,
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
    from qsr_ordering import main as ordering_main
    from qsr_ordering.settings import OrderingSettings

    bus = loyalty_app.state.loyalty_bus
    menu = Server(cms.create_app(), port=ports.cms, name="cms-simulator").start()
    cards = Server(cardsim.create_app(), port=ports.cards, name="card-simulator").start()
    extra: dict[str, Any] = {"clock": clock} if clock else {}
    ordering_url = ordering_url or f"http://{host}:{ports.ordering}"
    ordering = ordering_main.create_app(
        OrderingSettings(
            database_url=f"sqlite:///{data}/ordering.db",
            config_dir=examples,
            menu_url=menu.url,
            issuer=trust.issuer,
            audience=AUDIENCE,
            jwks_url=trust.jwks_url,
        ),
        verifier=trust.verifier(),
        publisher=bus,
        **extra,
    )

    hub = hub_main.create_app(
        HubSettings(
            database_url=f"sqlite:///{data}/hub.db",
            config_dir=examples,
            ordering_url=ordering_url,
            loyalty_url=loyalty_url,
            cms_url=menu.url,
            payments_url=cards.url,
            issuer=trust.issuer,
            audience=AUDIENCE,
            jwks_url=trust.jwks_url,
        ),
        verifier=trust.verifier(),
        service_token=embedded_identity.ServiceTokens(trust),
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


def servers_for_run(
    examples: Path, data: Path, *, loyalty_server: Any, trust: Trust, host: str,
    loyalty_port: int, ports: Ports,
) -> list[Any]:  # fmt: skip
    """`qsr run`: uvicorn servers for ordering and hub (simulators start in threads), printing
    where everything is and how to get tokens from identity."""
    import typer
    import uvicorn

    edge = build(
        examples, data, loyalty_app=loyalty_server.config.app, trust=trust,
        loyalty_url=f"http://{host}:{loyalty_port}", host=host, ports=ports,
    )  # fmt: skip
    typer.echo(f"ordering: {edge.urls['ordering']}  /v1/quotes, /v1/orders (docs/ordering.md)")
    typer.echo(f"hub: {edge.urls['hub']}  /v1/checkout, /v1/me/summary, /v1/pos/{{store}}/events")
    typer.echo(
        f"  simulators: CMS {edge.urls['cms']}, card processor {edge.urls['cards']} (/_faults)"
    )
    return [
        uvicorn.Server(
            uvicorn.Config(edge.ordering, host=host, port=ports.ordering, log_config=None)
        ),
        uvicorn.Server(uvicorn.Config(edge.hub, host=host, port=ports.hub, log_config=None)),
    ]
