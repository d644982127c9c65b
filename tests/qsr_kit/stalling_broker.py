"""A proxy in front of the real Kafka broker that answers only the first N requests of each
connection and then holds every response back, so a client's `start()` can be caught (and
cancelled) in the middle of bootstrap's Metadata request; and a count of this process's sockets."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

FRAME_LENGTH = 4  # Kafka framing: a 4-byte big-endian size, then the response


class StallingBroker:
    def __init__(self, upstream: str, *, answers: int) -> None:
        self.upstream = upstream
        self.answers = answers
        self.held = asyncio.Event()  # a response was held back: a request is in flight for good
        self.tasks: set[asyncio.Task[None]] = set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = self.upstream.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        answer = asyncio.create_task(self._answer(up_reader, writer))
        try:
            while data := await reader.read(65536):
                up_writer.write(data)
        finally:
            answer.cancel()
            up_writer.close()
            writer.close()

    async def _answer(self, up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for sent in range(1_000_000):  # bounded: far more responses than a client start needs
            head = await up_reader.readexactly(FRAME_LENGTH)
            body = await up_reader.readexactly(int.from_bytes(head, "big"))
            if sent < self.answers:
                writer.write(head + body)
            else:
                self.held.set()

    def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(self._serve(reader, writer))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


@contextlib.asynccontextmanager
async def stalling_broker(
    upstream: str, *, answers: int
) -> AsyncIterator[tuple[str, StallingBroker]]:
    """Yield ("127.0.0.1:PORT", proxy); everything is closed on exit."""
    broker = StallingBroker(upstream, answers=answers)
    server = await asyncio.start_server(broker._track, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}", broker
    finally:
        server.close()
        for task in list(broker.tasks):
            task.cancel()
        await asyncio.gather(*broker.tasks, return_exceptions=True)
        await server.wait_closed()


def sockets_to(address: str) -> int:
    """This process's open TCP sockets whose peer is `address` ("127.0.0.1:PORT"), from /proc."""
    port = int(address.rsplit(":", 1)[1])
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/self/fd/{fd}")
            if link.startswith("socket:["):
                ours.add(link[len("socket:[") : -1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == port and fields[9] in ours:
                    count += 1
    return count
