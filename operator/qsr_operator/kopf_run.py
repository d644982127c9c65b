"""`kopf run -m qsr_operator`: the operator under Kopf's own command line.

Kopf's CLI imports the named module, then runs whatever handlers Kopf's default registry holds,
with its flags (`--namespace`, `--all-namespaces`, `--standalone`, `--liveness`, `--verbose`).
Our handlers live in a registry that `handlers.build_registry(settings, runtime)` builds, so
`qsr_operator/__init__.py` calls `register_if_kopf_run()` here when, and only when, Kopf's CLI is
the importer. The design, and why:

- The package `__init__` must stay free: the pure `qsr_operator.domain.*` modules (tests, bench)
  import it, and `qsr-operator` (`main.py`) hides the unused `kubernetes` clients from
  `sys.modules` *before* Kopf is imported (~80 MiB less), which an `__init__` that imported Kopf
  would break. So `__init__` only looks at `sys.modules` for `kopf.cli` (a dict lookup; the module
  is loaded by Kopf's CLI and its `KopfRunner`, not by `import kopf`) and imports this module only
  then; this module imports `click` (already loaded by then) and nothing heavy at the top.
- "Kopf's CLI is the importer" is then decided exactly from click's current context: the `run`
  command with `qsr_operator` among its `-m` modules. Anything else that happens to have loaded
  `kopf.cli` gets no handlers and reads no environment.
- Rather than a lazily built default registry (which would need Kopf imported at package import),
  the registry is built at import time with the `QSR_OPERATOR_*` settings, because Kopf reads the
  handlers (timer intervals, the delete timeout, the indices) before any startup handler runs.
  The clients that need a loop are made later: an `@kopf.on.startup` handler connects the API
  client (and starts the metrics endpoint), an `@kopf.on.cleanup` handler closes them all. Kopf
  runs startup handlers before its login handlers, so `login` finds the connected client.
- The registry replaces Kopf's default registry (`kopf.set_default_registry`): the same handlers,
  settings and runtime as `qsr-operator`, in one registry of our own.

What differs from `qsr-operator`: the scope and peering come from Kopf's flags, not from
`QSR_OPERATOR_NAMESPACES` and `QSR_OPERATOR_LIVENESS_ENDPOINT` (pass `--standalone`, one replica
and no peering objects, as `qsr-operator` does); Kopf has already imported the `kubernetes`
clients, so the process is bigger.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any, NoReturn, cast

if TYPE_CHECKING:
    import kopf

    from qsr_operator.settings import Settings

PACKAGE = "qsr_operator"


def imported_by_kopf_run() -> bool:
    """True while Kopf's `run` command is loading `-m qsr_operator`."""
    if "kopf.cli" not in sys.modules:
        return False
    import click  # loaded by kopf.cli already

    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.command.name != "run":
        return False
    return PACKAGE in (ctx.params.get("modules") or ())


def register_if_kopf_run() -> None:
    if not imported_by_kopf_run():
        return
    import click
    import kopf
    import pydantic

    from qsr_operator.settings import Settings

    try:
        settings = Settings()  # required fields come from the environment
    except pydantic.ValidationError as exc:
        raise click.UsageError(f"QSR_OPERATOR_* settings: {exc}") from exc
    kopf.set_default_registry(build_registry(settings))


class _NotConnected:
    """Stands for the API client until the startup handler has connected it."""

    def __getattr__(self, name: str) -> NoReturn:
        raise RuntimeError(f"the API client is not connected yet (wanted .{name})")

    async def close(self) -> None:
        """Nothing to close: the startup handler never connected."""


def build_registry(settings: Settings) -> kopf.OperatorRegistry:
    """`handlers.build_registry` plus the startup/cleanup handlers that own the clients."""
    import kopf

    from qsr_operator import handlers, kube
    from qsr_operator.publishing import StorePublisher
    from qsr_operator.runtime import Runtime
    from qsr_operator.topics import TopicAdmin

    rt = Runtime(
        settings=settings,
        kube=cast(kube.Kube, _NotConnected()),
        topics=TopicAdmin(settings.kafka_bootstrap),
        publisher=StorePublisher(settings.kafka_bootstrap),
    )
    registry = handlers.build_registry(settings, rt)
    served: list[Any] = []  # (server, thread) of the metrics endpoint

    @kopf.on.startup(id="connect", registry=registry)
    async def connect(**_: Any) -> None:
        rt.kube = await kube.Kube.connect(
            kubeconfig=settings.kubeconfig, qps=settings.api_qps, burst=settings.api_burst
        )
        if settings.metrics_port is not None:
            from prometheus_client import start_http_server

            served.append(start_http_server(settings.metrics_port, addr=settings.metrics_address))

    @kopf.on.cleanup(id="close", registry=registry)
    async def close(**_: Any) -> None:
        try:
            await rt.close()
        finally:
            for server, _thread in served:
                await asyncio.to_thread(server.shutdown)
                server.server_close()

    return registry
