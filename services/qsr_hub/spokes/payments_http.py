"""Payment spoke adapter for a card-processor style HTTP API (the `cardsim` simulator speaks it)."""

from __future__ import annotations

from typing import Any

import httpx

from qsr_hub.spokes.guard import Guard
from qsr_hub.spokes.http_errors import checked
from qsr_hub.spokes.ports import Authorization


class CardProcessor:
    """Every mutation carries an Idempotency-Key, so the guard may retry all of them."""

    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str, api_key: str, guard: Guard
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._auth = {"Authorization": f"Bearer {api_key}"}
        self.guard = guard

    async def _post(
        self, operation: str, path: str, body: dict[str, Any], *, key: str
    ) -> dict[str, Any]:
        async def once() -> dict[str, Any]:
            response = await self._client.post(
                self._base + path, json=body, headers={**self._auth, "Idempotency-Key": key}
            )
            return checked(response, spoke=self.guard.name)

        return await self.guard.call(operation, once, idempotent=True)

    async def authorize(
        self, *, amount_minor: int, currency: str, token: str, reference: str, key: str
    ) -> Authorization:
        body = {
            "amountMinor": amount_minor,
            "currency": currency,
            "token": token,
            "reference": reference,
        }
        return _authorization(await self._post("authorize", "/v1/authorizations", body, key=key))

    async def capture(self, authorization_id: str, *, amount_minor: int | None, key: str) -> None:
        body = {"amountMinor": amount_minor} if amount_minor else {}
        await self._post("capture", f"/v1/authorizations/{authorization_id}/capture", body, key=key)

    async def void(self, authorization_id: str, *, key: str) -> None:
        await self._post("void", f"/v1/authorizations/{authorization_id}/void", {}, key=key)

    async def refund(self, authorization_id: str, *, amount_minor: int, key: str) -> None:
        body = {"amountMinor": amount_minor}
        await self._post("refund", f"/v1/authorizations/{authorization_id}/refunds", body, key=key)

    async def find(self, reference: str) -> tuple[Authorization, ...]:
        async def once() -> dict[str, Any]:
            response = await self._client.get(
                self._base + "/v1/authorizations",
                params={"reference": reference},
                headers=self._auth,
            )
            return checked(response, spoke=self.guard.name)

        found = await self.guard.call("find", once, idempotent=True)
        return tuple(_authorization(a) for a in found["data"])


def _authorization(body: dict[str, Any]) -> Authorization:
    return Authorization(
        id=body["id"],
        status=body["status"],
        amount_minor=body["amountMinor"],
        reference=body["reference"],
    )
