"""Service tokens the hub presents to ordering and loyalty: OAuth 2 client credentials, cached.

Embedded mode and tests hand in a local issuer instead; either way callers just await `token()`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import httpx

TokenSource = Callable[[], Awaitable[str]]


class ClientCredentials:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._url = token_url
        self._form = {"grant_type": "client_credentials", "scope": scope}
        self._basic = (client_id, client_secret)
        self._clock = clock
        self._token: tuple[float, str] | None = None

    async def __call__(self) -> str:
        if self._token and self._clock() < self._token[0]:
            return self._token[1]
        response = await self._client.post(self._url, data=self._form, auth=self._basic)
        response.raise_for_status()
        body = response.json()
        # Renew a minute early so a token never expires in flight.
        self._token = (self._clock() + max(0, int(body["expires_in"]) - 60), body["access_token"])
        return self._token[1]
