"""Closing a shared Kafka client only once no call is using it.

The operator's admin client and producer are shared by concurrent reconciles. When one call fails,
the client is replaced; closing the old one at once, under a call of another reconcile that is
still connecting, leaves that call's new connection open (aiokafka adds it to the closed client,
and the garbage collector finds it later). So a retired client is closed by its last call instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

Client = TypeVar("Client")


class InFlight(Generic[Client]):
    def __init__(self, close: Callable[[Client], Awaitable[None]]) -> None:
        self._close = close
        self._calls: dict[int, int] = {}  # id(client) -> calls using it now
        self._retired: dict[int, Client] = {}

    def calls(self, client: Client) -> int:
        return self._calls.get(id(client), 0)

    @contextlib.asynccontextmanager
    async def using(self, client: Client) -> AsyncIterator[Client]:
        """One call on `client`; if it was retired meanwhile, the last call out closes it."""
        key = id(client)
        self._calls[key] = self._calls.get(key, 0) + 1
        try:
            yield client
        finally:
            self._calls[key] -= 1
            if not self._calls[key]:
                del self._calls[key]
                retired = self._retired.pop(key, None)
                if retired is not None:
                    await self._close(retired)

    async def retire(self, client: Client) -> None:
        """Close `client` now if no call uses it, else when its last call ends."""
        if self.calls(client):
            self._retired[id(client)] = client
        else:
            await self._close(client)
