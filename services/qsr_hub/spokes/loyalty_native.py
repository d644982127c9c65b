"""Loyalty spoke adapter for the platform's own loyalty service (program `provider.type: native`).

Accrual needs no call: loyalty consumes order.completed from the orders stream. A hold whose id
was lost to a timeout is found again by replaying the reserve under its Idempotency-Key, which
answers the first reservation (or makes one, released at once): `release` without an id does that
for the reserves this adapter sent (the saga, after a restart, replays the reserve itself). The
reservation's discount comes from the program's rewards catalog (`GET /v1/rewards`, read once and
again when a reward is not in it).
"""

from __future__ import annotations

from typing import Any

import httpx

from qsr_hub.spokes.guard import Guard
from qsr_hub.spokes.http_errors import checked
from qsr_hub.spokes.ports import Account, Reservation, SpokeRefused
from qsr_hub.spokes.tokens import TokenSource
from qsr_kit.domain import payloads

# Reserves remembered for `release` by reference; a hold outlives its checkout step by seconds.
REMEMBERED_RESERVES = 10_000


class NativeLoyalty:
    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str, token: TokenSource, guard: Guard
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._token = token
        self.guard = guard
        # Reserve key → (member, reward, order): what replaying a reserve under its key needs.
        self._reserved: dict[str, tuple[str, str, str]] = {}
        self._catalog: dict[str, dict[str, Any]] = {}

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
        self._reserved[key] = (member_id, reward_id, order_id)
        if len(self._reserved) > REMEMBERED_RESERVES:
            del self._reserved[next(iter(self._reserved))]  # the oldest
        body = {"reward_id": reward_id, "order_id": order_id}
        found = await self._call(
            "reserve", "POST", f"/v1/members/{member_id}/redemptions", key=key, json=body
        )
        reward = await self._reward(found["reward_id"])
        discount = {
            "rewardId": reward["id"],
            "kind": reward["kind"],
            "value": reward["value"],
            "sku": reward["sku"],
        }
        return Reservation(id=found["redemption_id"], reward_id=reward_id, discount=discount)

    async def _reward(self, reward_id: str) -> dict[str, Any]:
        if reward_id not in self._catalog:
            rewards = await self._call("rewards", "GET", "/v1/rewards")
            self._catalog = {r["id"]: r for r in rewards["data"]}
        if reward_id not in self._catalog:
            raise SpokeRefused(f"native loyalty: reward {reward_id!r} is not in the catalog")
        return self._catalog[reward_id]

    async def commit(self, reservation_id: str, *, key: str) -> None:
        await self._call("commit", "POST", f"/v1/redemptions/{reservation_id}/commit", key=key)

    async def release(self, *, reservation_id: str | None, reference: str, key: str) -> None:
        if reservation_id is None:
            reservation_id = await self._replayed(reference)
        await self._call("release", "POST", f"/v1/redemptions/{reservation_id}/cancel", key=key)

    async def _replayed(self, reference: str) -> str:
        """The hold made under the reserve key `reference`, named by replaying that reserve."""
        if reference not in self._reserved:
            raise SpokeRefused("native loyalty: release needs the reservation (replay the reserve)")
        member_id, reward_id, order_id = self._reserved[reference]
        body = {"reward_id": reward_id, "order_id": order_id}
        found = await self._call(
            "reserve", "POST", f"/v1/members/{member_id}/redemptions", key=reference, json=body
        )
        return str(found["redemption_id"])

    async def accrue(self, event: payloads.OrderCompleted, *, key: str) -> None:
        return None
