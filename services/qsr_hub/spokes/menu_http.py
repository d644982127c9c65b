"""Menu spoke adapter for a CMS HTTP API, with a short-TTL cache and stale-if-error.

Menus change a few times a day and are read on every browse, so each store's menu is kept `ttl`
seconds; when the CMS is down a copy up to `max_stale` seconds old is served instead of an error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from qsr_hub.spokes.guard import Guard
from qsr_hub.spokes.http_errors import checked
from qsr_hub.spokes.ports import SpokeUnavailable


class CmsMenus:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        guard: Guard,
        ttl: float = 30.0,
        max_stale: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self.guard = guard
        self._ttl = ttl
        self._max_stale = max_stale
        self._clock = clock
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    async def menu_of(self, store_id: str) -> dict[str, Any]:
        now = self._clock()
        cached = self._cache.get(store_id)
        if cached and now - cached[0] < self._ttl:
            return cached[1]

        async def once() -> dict[str, Any]:
            response = await self._client.get(f"{self._base}/v1/stores/{store_id}/menu")
            return checked(response, spoke=self.guard.name)

        try:
            menu = await self.guard.call("menu", once, idempotent=True)
        except SpokeUnavailable:
            if cached and now - cached[0] < self._max_stale:
                return cached[1]
            raise
        self._cache[store_id] = (self._clock(), menu)
        return menu
