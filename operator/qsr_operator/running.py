"""Running the operator: clients, registry and Kopf's loop, until the stop flag is set.

`main.py` calls `run()` for the `qsr-operator` process; in-process tests call it in a thread.
"""

from __future__ import annotations

import asyncio
import threading

import kopf

from qsr_operator import handlers, kube
from qsr_operator.publishing import StorePublisher
from qsr_operator.runtime import Runtime
from qsr_operator.settings import Settings
from qsr_operator.topics import TopicAdmin


async def run(
    settings: Settings,
    *,
    stop_flag: asyncio.Event | threading.Event | None = None,
    ready_flag: asyncio.Event | threading.Event | None = None,
) -> None:
    """Run until `stop_flag` is set (or a signal arrives when run from `main`)."""
    client = await kube.Kube.connect(
        kubeconfig=settings.kubeconfig, qps=settings.api_qps, burst=settings.api_burst
    )
    rt = Runtime(
        settings=settings,
        kube=client,
        topics=TopicAdmin(settings.kafka_bootstrap),
        publisher=StorePublisher(settings.kafka_bootstrap),
    )
    registry = handlers.build_registry(settings, rt)
    try:
        await kopf.operator(
            registry=registry,
            standalone=True,  # one replica, no peering objects (Kopf's deployment advice)
            clusterwide=not settings.namespaces,
            namespaces=settings.namespaces,
            liveness_endpoint=settings.liveness_endpoint,
            stop_flag=stop_flag,
            ready_flag=ready_flag,
        )
    finally:
        await rt.close()
