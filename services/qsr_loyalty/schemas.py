"""Request and response bodies of the loyalty API (snake_case JSON), with OpenAPI examples."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from qsr_kit.domain import specs
from qsr_loyalty.domain import orders
from qsr_loyalty.domain.orders import IsoText, Plausible

MemberIdField = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemberIn(_In):
    member_id: str = MemberIdField
    birthday: Annotated[dt.date | None, IsoText, Plausible] = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"member_id": "m-1001", "birthday": "1990-11-10"}]},
    )


class MemberOut(BaseModel):
    member_id: str
    program: str
    birthday: dt.date | None
    enrolled_at: dt.datetime
    tier: str | None


class BalanceOut(BaseModel):
    member_id: str
    pending: int = Field(description="earned, not yet spendable (pending period)")
    available: int = Field(description="spendable now, holds taken out")
    held: int = Field(description="reserved by redemptions awaiting commit")
    negative: int = Field(description="owed after reversals of spent points")
    spent: int
    expired: int
    expiring_within_30_days: int
    total: int = Field(description="pending + available + held - negative")
    tier: str | None
    qualifying_points: int
    next_tier: str | None
    points_to_next_tier: int

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "member_id": "m-1001", "pending": 120, "available": 680, "held": 300,
                    "negative": 0, "spent": 800, "expired": 0, "expiring_within_30_days": 50,
                    "total": 1100,
                    "tier": "member", "qualifying_points": 1900, "next_tier": "gold",
                    "points_to_next_tier": 600,
                }
            ]
        }
    )  # fmt: skip


class EntryOut(BaseModel):
    seq: int
    kind: str
    points: int
    at: dt.datetime
    reason: str
    order_key: str | None
    lot_id: str | None
    redemption_id: str | None
    detail: dict[str, Any]


class LedgerPage(BaseModel):
    entries: list[EntryOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next (older) page")


class RewardOut(BaseModel):
    id: str
    name: str
    cost: int
    kind: specs.RewardKind
    value: int
    sku: str | None
    per_member_limit: int | None


class RedemptionIn(_In):
    reward_id: str = Field(min_length=1, max_length=63)
    order_id: str | None = Field(default=None, max_length=200)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reward_id": "free-drink", "order_id": "o-77"}]},
    )


class RedemptionOut(BaseModel):
    redemption_id: str
    member_id: str
    reward_id: str
    points: int
    state: str
    expires_at: dt.datetime
    order_id: str | None


class SimulateIn(_In):
    order: orders.Order
    member_id: str | None = Field(default=None, description="use this member's tier, bonuses, caps")
    tier: str | None = Field(default=None, description="or assume this tier")
    first_order: StrictBool = Field(
        default=False, description="without member_id: count as a first order"
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "order": {
                        "order_id": "o-1", "store_id": "store-0001", "channel": "mobile-pickup",
                        "placed_at": "2026-11-10T23:15:00-06:00",
                        "lines": [
                            {"sku": "combo-family", "quantity": 1, "unit_price_minor": 2499},
                            {"sku": "drink-medium", "category": "beverages", "quantity": 2,
                             "unit_price_minor": 249},
                        ],
                    },
                    "tier": "gold",
                }
            ]
        },
    )  # fmt: skip


class StepOut(BaseModel):
    rule: str
    detail: str
    points: str


class SimulateOut(BaseModel):
    order_key: str
    points: int
    steps: list[StepOut]
