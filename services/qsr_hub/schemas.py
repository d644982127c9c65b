"""The hub's HTTP bodies (camelCase JSON)."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from qsr_kit.domain import specs


class _In(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class CartLineIn(_In):
    sku: str = Field(min_length=1, max_length=100)
    quantity: int = Field(ge=1, le=100)
    modifiers: list[str] = []


class CartIn(_In):
    lines: list[CartLineIn] = Field(min_length=1, max_length=100)
    tip_minor: int = Field(default=0, ge=0, le=1_000_000)


class CheckoutIn(_In):
    store_id: str = Field(min_length=1, max_length=64)
    channel: specs.Channel
    pickup_at: AwareDatetime | None = None
    cart: CartIn
    reward_id: str | None = Field(default=None, min_length=1, max_length=63)
    payment_token: str = Field(min_length=1, max_length=200)
    member_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="services only"
    )

    def saga_request(self) -> dict[str, Any]:
        return self.model_dump(
            mode="json", by_alias=True, exclude={"reward_id", "member_id", "store_id"}
        )
