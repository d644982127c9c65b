"""What the loyalty domain knows of an order: lines, channel, store-local time, and its natural key.

Built by the API (`/v1/simulate`) and by the consumers from `order.completed`; read by the rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, NewType

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from qsr_kit.domain import calendar, specs

MemberId = NewType("MemberId", str)
OrderKey = NewType("OrderKey", str)

# ISO 4217 exponents that are not 2; enough for the brands we serve, documented in docs/loyalty.md.
_MINOR_EXPONENT = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3}


def minor_exponent(currency: str) -> int:
    """How many decimal places a currency's minor unit has (USD 2, JPY 0)."""
    return _MINOR_EXPONENT.get(currency, 2)


def _iso_text(value: object) -> object:
    """A date or time in JSON is an ISO 8601 string; a number is a type error, not a timestamp."""
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 string, not a number")
    return value


def _whole(value: object) -> object:
    """An integer is a JSON number: `true` and `"5"` are type errors, not coerced."""
    if isinstance(value, bool | str):
        raise ValueError("expected an integer")
    return value


IsoText = BeforeValidator(_iso_text)
Whole = BeforeValidator(_whole)
Plausible = calendar.Plausible


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OrderLine(_Model):
    sku: str = Field(min_length=1, max_length=200)
    category: str | None = Field(default=None, max_length=100)
    quantity: Annotated[int, Whole] = Field(ge=1, le=1000)
    unit_price_minor: Annotated[int, Whole] = Field(
        ge=0, le=10_000_000, description="price of one unit, minor units"
    )

    @property
    def amount_minor(self) -> int:
        return self.quantity * self.unit_price_minor


class Order(_Model):
    """A completed order as loyalty sees it; amounts in minor units of the program's currency."""

    order_id: str = Field(min_length=1, max_length=200)
    store_id: str = Field(min_length=1, max_length=200)
    channel: specs.Channel
    placed_at: Annotated[AwareDatetime, IsoText, Plausible]
    lines: tuple[OrderLine, ...] = Field(min_length=1, max_length=500)
    discount_minor: Annotated[int, Whole] = Field(
        default=0, ge=0, description="order-level discount, minor units"
    )
    check_number: str | None = Field(
        default=None, max_length=64, description="POS check number, unique per store and day"
    )
    business_date: Annotated[dt.date | None, IsoText, Plausible] = Field(
        default=None, description="store business date; defaults to the store-local date"
    )

    @property
    def subtotal_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)

    @property
    def paid_minor(self) -> int:
        return max(self.subtotal_minor - self.discount_minor, 0)


def local_date(order: Order, *, store_tz: dt.tzinfo) -> dt.date:
    """The store business date of an order: the declared one, else the store-local calendar date."""
    if order.business_date is not None:
        return order.business_date
    return order.placed_at.astimezone(store_tz).date()


def natural_key(order: Order, *, store_tz: dt.tzinfo) -> OrderKey:
    """One key per real-world order, whichever source reported it (app or POS).

    A POS check is unique per store and business day (Paytronix, Toast), so when a check number is
    known it wins; otherwise the order id is the key.
    """
    if order.check_number:
        day = local_date(order, store_tz=store_tz).isoformat()
        return OrderKey(f"check:{order.store_id}:{day}:{order.check_number}")
    return OrderKey(f"order:{order.order_id}")
