"""The hub's client of the ordering service: quotes, orders, cancellations (over HTTP, guarded)."""

from __future__ import annotations

from typing import Any

import httpx

from qsr_hub.spokes.guard import Guard
from qsr_hub.spokes.ports import SpokeRefused, SpokeUnavailable
from qsr_hub.spokes.tokens import TokenSource


class OrderRefused(SpokeRefused):
    """Ordering said no; `problem` is its problem+json (field, code, next free slots ...)."""

    def __init__(self, reason: str, problem: dict[str, Any], status: int) -> None:
        super().__init__(reason)
        self.problem = problem
        self.status = status


class OrderingClient:
    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str, token: TokenSource, guard: Guard
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._token = token
        self.guard = guard

    async def _call(
        self, operation: str, method: str, path: str, *, key: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        async def once() -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {await self._token()}"}
            if key:
                headers["Idempotency-Key"] = key
            response = await self._client.request(
                method, self._base + path, headers=headers, **kwargs
            )
            if response.is_success:
                body: dict[str, Any] = response.json()
                return body
            if response.status_code >= 500:
                raise SpokeUnavailable(f"ordering: {response.status_code}", uncertain=True)
            problem = _json(response)
            raise OrderRefused(
                str(problem.get("detail") or response.status_code), problem, response.status_code
            )

        # Every ordering mutation carries an Idempotency-Key, so all calls may be retried.
        return await self.guard.call(operation, once, idempotent=True)

    async def quote(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("quote", "POST", "/v1/quotes", json=body)

    async def place(self, body: dict[str, Any], *, key: str) -> dict[str, Any]:
        return await self._call("place", "POST", "/v1/orders", key=key, json=body)

    async def cancel(self, order_id: str, *, key: str) -> dict[str, Any]:
        return await self._call("cancel", "POST", f"/v1/orders/{order_id}/actions/cancel", key=key)

    async def orders_of(self, member_id: str, *, limit: int = 5) -> list[dict[str, Any]]:
        body = await self._call(
            "list", "GET", "/v1/orders", params={"memberId": member_id, "limit": limit}
        )
        return list(body["data"])


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:200]}
    return body if isinstance(body, dict) else {"detail": str(body)[:200]}
