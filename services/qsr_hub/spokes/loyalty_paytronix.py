"""Loyalty spoke adapter for an external Paytronix-style provider (`provider.type: external`).

Accrual is check-based: a completed order is posted as a check, unique per store, business date and
check number, so reposting is harmless. Redemptions hold points until committed or reversed.
"""

from __future__ import annotations

from typing import Any

import httpx

from qsr_hub.spokes.guard import Guard
from qsr_hub.spokes.http_errors import checked
from qsr_hub.spokes.ports import Account, Reservation
from qsr_kit.domain import payloads


class PaytronixLoyalty:
    def __init__(self, client: httpx.AsyncClient, *, base_url: str, guard: Guard) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self.guard = guard

    async def _call(
        self, operation: str, method: str, path: str, *, idempotent: bool, **kwargs: Any
    ) -> dict[str, Any]:
        async def once() -> dict[str, Any]:
            response = await self._client.request(method, self._base + path, **kwargs)
            return checked(response, spoke=self.guard.name)

        return await self.guard.call(operation, once, idempotent=idempotent)

    async def account(self, member_id: str, *, token: str | None = None) -> Account:
        body = await self._call(
            "account", "GET", f"/v1/guests/{member_id}/account", idempotent=True
        )
        return Account(member_id=member_id, points=body["points"], rewards=tuple(body["rewards"]))

    async def reserve(
        self, *, member_id: str, reward_id: str, order_id: str, key: str
    ) -> Reservation:
        # The provider dedupes on `reference`, which makes a retried reserve safe.
        body = {"memberId": member_id, "rewardId": reward_id, "reference": key}
        found = await self._call("reserve", "POST", "/v1/redemptions", idempotent=True, json=body)
        reward = found["reward"]
        discount = {
            "rewardId": reward["id"],
            "kind": reward["kind"],
            "value": reward["value"],
            "sku": reward["sku"],
        }
        return Reservation(id=found["id"], reward_id=reward["id"], discount=discount)

    async def commit(self, reservation_id: str, *, key: str) -> None:
        await self._call(
            "commit", "POST", f"/v1/redemptions/{reservation_id}/commit", idempotent=True
        )

    async def release(self, *, reservation_id: str | None, reference: str, key: str) -> None:
        ids = [reservation_id] if reservation_id else await self._held_under(reference)
        for held in ids:
            await self._call("release", "POST", f"/v1/redemptions/{held}/reverse", idempotent=True)

    async def _held_under(self, reference: str) -> list[str]:
        found = await self._call(
            "find", "GET", "/v1/redemptions", idempotent=True, params={"reference": reference}
        )
        return [r["id"] for r in found["data"] if r["status"] == "pending"]

    async def accrue(self, event: payloads.OrderCompleted, *, key: str) -> None:
        if event.member_id is None:
            return
        body = {
            "storeCode": event.store_id,
            "businessDate": event.completed_at.date().isoformat(),
            "checkNumber": event.order_key,
            "memberId": event.member_id,
            "subtotalMinor": event.subtotal_minor,
        }
        await self._call("accrue", "POST", "/v1/checks", idempotent=True, json=body)
