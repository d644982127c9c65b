"""`GET /v1/me/summary`: profile, balance, rewards and recent orders in one call, partial when a
spoke is down: each section is fetched on its own, a failed one is null and listed in `missing`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from qsr_hub.spokes.ordering_http import OrderingClient
from qsr_hub.spokes.ports import LoyaltySpoke, SpokeError
from qsr_kit import auth


async def summary_of(
    who: auth.Principal, member_id: str, *, loyalty: LoyaltySpoke, ordering: OrderingClient
) -> dict[str, Any]:
    account, orders = await asyncio.gather(
        loyalty.account(member_id), ordering.orders_of(member_id, limit=5), return_exceptions=True
    )
    missing: list[dict[str, str]] = []
    loyalty_section: dict[str, Any] | None = None
    if isinstance(account, SpokeError):
        missing.append({"section": "loyalty", "reason": account.reason})
    elif isinstance(account, BaseException):
        raise account
    else:
        loyalty_section = {"points": account.points, "rewards": list(account.rewards)}
    orders_section: list[dict[str, Any]] | None = None
    if isinstance(orders, SpokeError):
        missing.append({"section": "orders", "reason": orders.reason})
    elif isinstance(orders, BaseException):
        raise orders
    else:
        orders_section = [
            {k: o[k] for k in ("id", "storeId", "status", "totalMinor", "createdAt")}
            for o in orders
        ]
    return {
        "profile": {"memberId": member_id, "subject": who.subject},
        "loyalty": loyalty_section,
        "orders": orders_section,
        "partial": bool(missing),
        "missing": missing,
    }
