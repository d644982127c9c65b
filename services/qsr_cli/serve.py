"""`qsr serve <service>`: runs one service's ASGI app under uvicorn (the container entry point)."""

from __future__ import annotations

import enum
import importlib

import typer


class Service(enum.StrEnum):
    LOYALTY = "loyalty"
    IDENTITY = "identity"
    ORDERING = "ordering"
    HUB = "hub"
    HUB_INGEST = "hub-ingest"  # the POS webhook route alone (qsr_hub.ingest_main)


# service -> "module:factory"; each factory builds its FastAPI app from settings read at startup.
APPS: dict[Service, str] = {
    Service.IDENTITY: "qsr_identity.main:create_app",
    Service.LOYALTY: "qsr_loyalty.main:create_app",
    Service.ORDERING: "qsr_ordering.main:create_app",
    Service.HUB: "qsr_hub.main:create_app",
    Service.HUB_INGEST: "qsr_hub.ingest_main:create_app",
}


def serve(
    service: Service,
    host: str = typer.Option("127.0.0.1", help="address to bind"),
    port: int = typer.Option(8080, help="port to bind"),
) -> None:
    """Serve one platform service."""
    target = APPS.get(service)
    if target is None:
        raise typer.BadParameter(f"{service.value!r} is not built yet", param_hint="SERVICE")
    import uvicorn

    from qsr_kit import telemetry

    # OTEL_* and QSR_LOG_FORMAT come from the environment (the chart sets them).
    telemetry.configure_logging()
    provider = telemetry.configure_tracing(f"qsr-{service.value}")
    module, factory = target.split(":")
    app = getattr(importlib.import_module(module), factory)()
    telemetry.instrument_app(app, provider)
    uvicorn.run(app, host=host, port=port, log_config=None)
