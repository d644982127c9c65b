"""Handles on the simulators for tests: fault arming and a hand-driven clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Simulator:
    url: str
    sim: Any

    async def arm(self, client: httpx.AsyncClient, **rule: Any) -> None:
        response = await client.post(f"{self.url}/_faults", json=rule)
        assert response.status_code == 204, response.text

    async def clear(self, client: httpx.AsyncClient) -> None:
        assert (await client.delete(f"{self.url}/_faults")).status_code == 204


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
