"""Starting and stopping aiokafka clients: no connection outlives a failed or cancelled start.

aiokafka leaves a client's connections open when `start()` raises or is cancelled: the caller got
no started client to stop. Worse, bootstrap's own connection, cancelled during its Metadata request,
is held only by the cancelled frame, so even `stop()` misses it (aiokafka 0.14 `client.py`
`bootstrap` catches OSError, KafkaError and TimeoutError only). Every producer, consumer and admin
client of the services, the operator and the tools starts through `start` or `started`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import AIOKafkaConnection

log = logging.getLogger(__name__)
Client = TypeVar("Client", AIOKafkaProducer, AIOKafkaConsumer, AIOKafkaAdminClient)


async def start(client: Client) -> Client:
    """`client.start()`; if it raises or is cancelled, stop the client and close the connection a
    cancelled bootstrap dropped, then re-raise."""
    try:
        await client.start()
    except BaseException as failure:
        try:
            await stop(client)
        except Exception:
            log.warning("stopping a Kafka client whose start failed", exc_info=True)
        finally:
            _close_dropped(failure.__traceback__)
        raise
    return client


async def stop(client: AIOKafkaProducer | AIOKafkaConsumer | AIOKafkaAdminClient) -> None:
    """Stop a producer or consumer, close an admin client (idempotent for all three)."""
    if isinstance(client, AIOKafkaAdminClient):
        await client.close()
    else:
        await client.stop()


@contextlib.asynccontextmanager
async def started(client: Client) -> AsyncIterator[Client]:
    """`start` the client, yield it, stop it on the way out whatever happened."""
    await start(client)
    try:
        yield client
    finally:
        await stop(client)


def _close_dropped(trace: TracebackType | None) -> None:
    """Close every connection the frames of the failed start still hold. The client is stopped
    by now, so each is either closed already or the one aiokafka's bootstrap let go of."""
    while trace is not None:
        for value in trace.tb_frame.f_locals.values():
            if isinstance(value, AIOKafkaConnection):
                value.close()
        trace = trace.tb_next
