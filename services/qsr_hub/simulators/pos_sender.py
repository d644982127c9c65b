"""A POS vendor's webhook sender: signs and posts check events to the hub, with delivery faults.

Vendors retry and duplicate (Toast retries until it sees a 2xx within 2 s), reorder, and sometimes
sign badly; `send` reproduces each on demand. Used by tests, the demo and the benchmark.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx

from qsr_hub.domain import signatures
from qsr_hub.simulators import pos_payloads
from qsr_kit.domain import specs


class PosSender:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        hub_url: str,
        store_id: str,
        pos_type: specs.PosType,
        secret: bytes,
    ) -> None:
        self._client = client
        self._url = f"{hub_url.rstrip('/')}/v1/pos/{store_id}/events"
        self.store_id = store_id
        self.pos_type = pos_type
        self._secret = secret

    def body_of(self, sale: pos_payloads.Sale) -> dict[str, Any]:
        return pos_payloads.body_of(self.pos_type, sale, store_id=self.store_id)

    async def send(
        self,
        sale: pos_payloads.Sale | None,
        *,
        now: datetime,
        copies: int = 1,
        raw: bytes | None = None,
        secret: bytes | None = None,
        timestamp: int | None = None,
    ) -> list[httpx.Response]:
        """Posts it `copies` times (or `raw` bytes), signed with `secret` at `timestamp`."""
        body = raw if raw is not None else json.dumps(self.body_of(_given(sale))).encode()
        sent_at = int(now.timestamp()) if timestamp is None else timestamp
        signature = signatures.signature_of(secret or self._secret, timestamp=sent_at, body=body)
        headers = {
            "content-type": "application/json",
            signatures.TIMESTAMP_HEADER: str(sent_at),
            signatures.SIGNATURE_HEADER: signature,
        }
        return [
            await self._client.post(self._url, content=body, headers=headers) for _ in range(copies)
        ]


def _given(sale: pos_payloads.Sale | None) -> pos_payloads.Sale:
    if sale is None:
        raise ValueError("a sale or raw bytes are needed")
    return sale
