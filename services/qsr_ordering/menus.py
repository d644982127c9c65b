"""Reads a store's menu from the menu/CMS HTTP API, kept a short while (menus change rarely).

Ordering prices every quote and order against it; an unreachable CMS with no cached copy is a 503.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from pydantic import ValidationError

from qsr_ordering.domain.menu import Menu


class MenuUnavailable(Exception):
    """The CMS cannot be reached or served something unreadable (→ 503)."""


class CmsMenus:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        ttl: float = 30.0,
        timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._ttl = ttl
        self._timeout = timeout
        self._clock = clock
        self._cache: dict[str, tuple[float, Menu]] = {}

    async def menu_of(self, store_id: str) -> Menu:
        cached = self._cache.get(store_id)
        if cached and self._clock() - cached[0] < self._ttl:
            return cached[1]
        try:
            response = await self._client.get(
                f"{self._base}/v1/stores/{store_id}/menu", timeout=self._timeout
            )
            response.raise_for_status()
            menu = Menu.model_validate(response.json())
        except (httpx.HTTPError, ValueError, ValidationError) as exc:
            if cached:
                return cached[1]  # stale beats nothing while the CMS recovers
            raise MenuUnavailable(f"menu of {store_id} unavailable: {type(exc).__name__}") from None
        self._cache[store_id] = (self._clock(), menu)
        return menu
