"""Ordering's HTTP bodies (camelCase JSON): what clients send and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from qsr_kit.domain import calendar, specs
from qsr_ordering.domain import lifecycle, pricing


def _iso_text(value: object) -> object:
    """A time in JSON is an ISO 8601 string; a number is a type error, not a timestamp."""
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 string, not a number")
    return value


class _In(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True
    )


class QuoteIn(_In):
    store_id: str = Field(min_length=1, max_length=64)
    channel: specs.Channel
    pickup_at: Annotated[AwareDatetime | None, BeforeValidator(_iso_text), calendar.Plausible] = (
        None
    )
    cart: pricing.Cart


class Payment(_In):
    reference: str = Field(min_length=1, max_length=200)


class PlaceOrderIn(QuoteIn):
    # A caller-chosen id lets the hub's saga cancel an order whose answer it never got.
    order_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{8,64}$")
    member_id: str | None = Field(default=None, min_length=1, max_length=200)
    payment: Payment | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "storeId": "store-0001", "channel": "mobile-pickup", "memberId": "m-1",
                    "cart": {
                        "lines": [
                            {"sku": "chicken-sandwich", "quantity": 2, "modifiers": ["spicy-mayo"]},
                            {"sku": "drink-medium", "quantity": 1, "modifiers": ["cola"]},
                        ],
                        "tipMinor": 100,
                    },
                    "payment": {"reference": "auth-ref-1"},
                }
            ]
        }
    )  # fmt: skip


class RefundIn(_In):
    amount_minor: Annotated[int | None, pricing.Whole] = Field(default=None, ge=1)


class LineOut(_Out):
    sku: str
    name: str
    category: str
    quantity: int
    unit_minor: int
    modifiers: tuple[str, ...]


class QuoteOut(_Out):
    currency: str
    menu_version: str
    lines: list[LineOut]
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    tip_minor: int
    total_minor: int

    @classmethod
    def of(cls, quote: pricing.Quote) -> QuoteOut:
        return cls(
            currency=quote.currency,
            menu_version=quote.menu_version,
            lines=[LineOut.model_validate(line, from_attributes=True) for line in quote.lines],
            subtotal_minor=quote.subtotal_minor,
            discount_minor=quote.discount_minor,
            tax_minor=quote.tax_minor,
            tip_minor=quote.tip_minor,
            total_minor=quote.total_minor,
        )


class OrderOut(_Out):
    id: str
    store_id: str
    member_id: str | None
    channel: str
    status: lifecycle.Status
    currency: str
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    tip_minor: int
    total_minor: int
    refunded_minor: int
    reward_id: str | None
    payment_reference: str | None
    pickup_slot: datetime
    lines: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    allowed_actions: list[str]

    @classmethod
    def of(cls, row: dict[str, Any]) -> OrderOut:
        status = lifecycle.Status(row["status"])
        fields = {k: v for k, v in row.items() if k in cls.model_fields and k != "status"}
        return cls(
            **fields,
            status=status,
            allowed_actions=sorted(a.value for a in lifecycle.allowed_actions(status)),
        )


class OrderList(_Out):
    data: list[OrderOut]
