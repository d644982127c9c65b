"""`kafka_clients.start` / `started` against the real broker: a start that fails or is cancelled
leaves no socket open and no client unstopped. The proofs: the process's own socket table
(/proc), and the garbage collector (an unclosed aiokafka client or connection warns when found)."""

from __future__ import annotations

import asyncio
import gc
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError

from qsr_devstack import processes
from qsr_devstack.testing import Kafka
from qsr_kit import kafka_clients
from tests.qsr_kit.stalling_broker import sockets_to, stalling_broker

pytestmark = pytest.mark.kafka
CLIENTS: dict[str, Callable[[str], Any]] = {
    "producer": lambda address: AIOKafkaProducer(bootstrap_servers=address),
    "consumer": lambda address: AIOKafkaConsumer(bootstrap_servers=address),
    "admin": lambda address: AIOKafkaAdminClient(bootstrap_servers=address),
}


@pytest.fixture(autouse=True)
def _earlier_garbage_collected() -> None:
    """Another test's leftovers are found now, through pytest's own report, not counted below."""
    gc.collect()


def resource_warnings_on_collect(*about: str) -> list[str]:
    """The ResourceWarnings a collection raises that name one of `about` (a client's repr, a
    connection's `port=N`)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    messages = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    return [m for m in messages if any(name in m for name in about)]


async def wait_until_no_socket_to(address: str, *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    # Polled: /proc changes with no event to wait on; a transport closes a loop turn or two later.
    while sockets_to(address) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert sockets_to(address) == 0, f"a socket to {address} is still open"


@pytest.mark.parametrize("kind", sorted(CLIENTS))
async def test_start_cancelled_during_bootstrap_leaves_no_socket_open(
    kafka: Kafka, kind: str
) -> None:
    async with stalling_broker(kafka.bootstrap, answers=1) as (address, broker):
        client = CLIENTS[kind](address)
        starting = asyncio.create_task(kafka_clients.start(client))
        await asyncio.wait_for(broker.held.wait(), timeout=30)
        assert sockets_to(address) == 1  # bootstrap's connection, its Metadata request unanswered
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
        await wait_until_no_socket_to(address)
        about = (repr(client), f"port={address.rsplit(':', 1)[1]}>")
        del client, starting
        assert resource_warnings_on_collect(*about) == []


async def test_plain_start_cancelled_during_bootstrap_leaks_its_socket_past_stop(
    kafka: Kafka,
) -> None:
    """Why `kafka_clients.start` exists: aiokafka alone keeps the socket open after `stop()`,
    until the garbage collector finds the connection (and warns)."""
    async with stalling_broker(kafka.bootstrap, answers=1) as (address, broker):
        producer = AIOKafkaProducer(bootstrap_servers=address)
        starting = asyncio.create_task(producer.start())
        await asyncio.wait_for(broker.held.wait(), timeout=30)
        starting.cancel()
        await asyncio.wait({starting})  # keeps the cancelled frames, as a caught exception would
        await producer.stop()
        await asyncio.sleep(0.2)  # room for a close to happen, were there one
        assert sockets_to(address) == 1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del producer, starting  # the frames go: the connection is found unclosed
            gc.collect()
        assert any("Unclosed AIOKafkaConnection" in str(w.message) for w in caught)
        await wait_until_no_socket_to(address)  # aiokafka's __del__ closed it, the loop being alive


@pytest.mark.parametrize("kind", ["consumer", "producer"])
async def test_start_against_an_unreachable_bootstrap_raises_and_stops_the_client(
    kind: str,
) -> None:
    client = CLIENTS[kind](f"127.0.0.1:{processes.free_port()}")  # nothing listens there
    with pytest.raises(KafkaConnectionError):
        await kafka_clients.start(client)
    about = repr(client)
    del client
    assert resource_warnings_on_collect(about) == []


async def test_started_stops_the_client_when_the_body_raises(kafka: Kafka) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    with pytest.raises(LookupError):
        async with kafka_clients.started(producer) as running:
            assert running.client.cluster.brokers()  # started: it knows the broker
            raise LookupError("the body failed")
    about = repr(producer)
    del producer, running
    assert resource_warnings_on_collect(about) == []
