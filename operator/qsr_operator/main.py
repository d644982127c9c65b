"""`qsr-operator`: runs the Kopf operator standalone, scoped to the configured namespaces.

Settings come from `QSR_OPERATOR_*` variables. Kopf imports the `kubernetes` and
`kubernetes_asyncio` generated clients when they are installed, only for isinstance checks; the
operator uses neither, so this process hides them (~80 MiB less) before Kopf is imported.
"""

from __future__ import annotations

import asyncio
import logging
import sys

UNUSED_CLIENTS = ("kubernetes", "kubernetes_asyncio", "pykube")


def main() -> None:
    for name in UNUSED_CLIENTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # import -> ImportError
    from prometheus_client import start_http_server

    from qsr_operator import running
    from qsr_operator.settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()  # required fields come from the environment
    if settings.metrics_port is not None:
        start_http_server(settings.metrics_port, addr=settings.metrics_address)
    asyncio.run(running.run(settings))


if __name__ == "__main__":
    main()
