"""Loyalty spoke adapter for the platform's own loyalty service (program `provider.type: native`).

Accrual needs no call: loyalty consumes order.completed from the orders stream. A hold whose id
was lost to a timeout is found again by replaying the reserve under its Idempotency-Key, which
answers the first reservation (or makes one, released at once).
"""

from __future__ import annotations

from typing import Any

import httpx

from qsr_hub.spokes.guard import Guard
from qsr_hub.spokes.http_errors import checked
from qsr_hub.spokes.ports import Account, Reservation, SpokeRefused
from qsr_hub.spokes.tokens import TokenSource
from qsr_kit.domain import payloads


class NativeLoyalty:
    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str, token: TokenSource, guard: Guard
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._token = token
        self.guard = guard
        self._reserved: dict[str, tuple[str, str, str]] = {}

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
            return checked(response, spoke=self.guard.name)

        return await self.guard.call(operation, once, idempotent=True)

    async def account(self, member_id: str, *, token: str | None = None) -> Account:
        balance = await self._call("balance", "GET", f"/v1/members/{member_id}/balance")
        rewards = await self._call("rewards", "GET", "/v1/rewards")
        return Account(
            member_id=member_id, points=int(balance["available"]), rewards=tuple(rewards["data"])
        )

    async def reserve(
        self, *, member_id: str, reward_id: str, order_id: str, key: str
    ) -> Reservation:
        body = {"reward_id": reward_id, "order_id": order_id}
        found = await self._call(
            "reserve", "POST", f"/v1/members/{member_id}/redemptions", key=key, json=body
        )
        return Reservation(id=found["redemption_id"], reward_id=reward_id, discount={})

    async def commit(self, reservation_id: str, *, key: str) -> None:
        await self._call("commit", "POST", f"/v1/redemptions/{reservation_id}/commit", key=key)

    async def release(self, *, reservation_id: str | None, reference: str, key: str) -> None:
        if reservation_id is None:
            raise SpokeRefused("native loyalty: release needs the reservation (replay the reserve)")
        await self._call("release", "POST", f"/v1/redemptions/{reservation_id}/cancel", key=key)

    async def accrue(self, event: payloads.OrderCompleted, *, key: str) -> None:
        return None
