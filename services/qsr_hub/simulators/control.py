"""The `/_faults` and `/_state` control routes every simulator mounts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

from qsr_hub.simulators.faults import Faults, Rule


def control_router(faults: Faults, *, state: Callable[[], dict[str, Any]]) -> APIRouter:
    router = APIRouter(prefix="/_")

    @router.post("faults", status_code=204)
    async def arm(rule: Rule) -> None:
        faults.arm(rule)

    @router.delete("faults", status_code=204)
    async def clear() -> None:
        faults.clear()

    @router.get("state")
    async def dump() -> dict[str, Any]:
        return {**state(), "faultsFired": {k.value: n for k, n in faults.fired.items()}}

    return router
