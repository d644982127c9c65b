"""Prices a cart against a store's menu: modifiers, combos, a reward discount, tax and a tip.

Money is integer minor units. Tax is charged on the discounted subtotal, rounded half-up; tips are
never taxed. Every refusal names the request field (`lines[1].modifiers[0]`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from qsr_ordering.domain import errors
from qsr_ordering.domain.menu import Combo, Menu, MenuItem, ModifierGroup


def _whole(value: object) -> object:
    """An integer is a JSON number: `true` and `"5"` are type errors, not coerced."""
    if isinstance(value, bool | str):
        raise ValueError("expected an integer")
    return value


Whole = BeforeValidator(_whole)


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class CartLine(_Model):
    sku: str = Field(min_length=1)
    quantity: Annotated[int, Whole] = Field(ge=1, le=100)
    modifiers: tuple[str, ...] = ()


class DiscountKind(enum.StrEnum):
    ITEM = "item"
    AMOUNT = "amount"
    PERCENT = "percent"


class Discount(_Model):
    """A reward applied to the order: a free item (its base price), an amount, or a percentage."""

    reward_id: str = Field(min_length=1)
    kind: DiscountKind
    value: Annotated[int, Whole] = Field(default=0, ge=0)
    sku: str | None = None


class Cart(_Model):
    lines: tuple[CartLine, ...] = Field(min_length=1, max_length=100)
    tip_minor: Annotated[int, Whole] = Field(default=0, ge=0, le=1_000_000)
    discount: Discount | None = None


@dataclass(frozen=True)
class PricedLine:
    sku: str
    name: str
    category: str
    quantity: int
    unit_minor: int
    modifiers: tuple[str, ...]

    @property
    def total_minor(self) -> int:
        return self.unit_minor * self.quantity


@dataclass(frozen=True)
class Quote:
    currency: str
    menu_version: str
    lines: tuple[PricedLine, ...]
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    tip_minor: int

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor + self.tax_minor + self.tip_minor


def quote_of(cart: Cart, menu: Menu, *, tax_rate_percent: float, local_time: time) -> Quote:
    """The price of `cart` at the store's `local_time` (dayparts decide what is on sale)."""
    lines = tuple(
        _priced_line(line, menu, local_time=local_time, field=f"lines[{i}]")
        for i, line in enumerate(cart.lines)
    )
    subtotal = sum(line.total_minor for line in lines)
    discount = discount_of(cart.discount, lines, subtotal=subtotal) if cart.discount else 0
    return Quote(
        currency=menu.currency,
        menu_version=menu.version,
        lines=lines,
        subtotal_minor=subtotal,
        discount_minor=discount,
        tax_minor=tax_of(subtotal - discount, rate_percent=tax_rate_percent),
        tip_minor=cart.tip_minor,
    )


def tax_of(taxable_minor: int, *, rate_percent: float) -> int:
    """Tax on an amount, half-up to the minor unit (`str` keeps 8.25 exactly 8.25)."""
    exact = Decimal(taxable_minor) * Decimal(str(rate_percent)) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def discount_of(discount: Discount, lines: tuple[PricedLine, ...], *, subtotal: int) -> int:
    """What a reward takes off the subtotal; never more than the subtotal."""
    match discount.kind:
        case DiscountKind.AMOUNT:
            amount = discount.value
        case DiscountKind.PERCENT:
            amount = subtotal * min(discount.value, 100) // 100
        case DiscountKind.ITEM:
            matching = [line for line in lines if line.sku == discount.sku]
            if not matching:
                raise errors.InvalidCart(
                    f"reward {discount.reward_id!r} needs {discount.sku!r} in the cart",
                    field="discount.sku",
                )
            amount = min(line.unit_minor for line in matching)
    return min(amount, subtotal)


def _priced_line(line: CartLine, menu: Menu, *, local_time: time, field: str) -> PricedLine:
    entry = menu.entry(line.sku)
    if entry is None:
        raise errors.InvalidCart(f"unknown sku {line.sku!r}", field=f"{field}.sku")
    if entry.dayparts and not any(menu.daypart(d).contains(local_time) for d in entry.dayparts):
        raise errors.InvalidCart(
            f"{line.sku!r} is sold only during {', '.join(entry.dayparts)}", field=f"{field}.sku"
        )
    extra = _modifiers_price(entry, line.modifiers, field=field)
    return PricedLine(
        sku=entry.sku,
        name=entry.name,
        category=entry.category,
        quantity=line.quantity,
        unit_minor=entry.price_minor + extra,
        modifiers=line.modifiers,
    )


def _modifiers_price(entry: MenuItem | Combo, chosen: tuple[str, ...], *, field: str) -> int:
    groups: dict[str, ModifierGroup] = {}
    prices: dict[str, int] = {}
    for group in entry.modifier_groups:
        for option in group.options:
            groups[option.id] = group
            prices[option.id] = option.price_minor
    counts: dict[str, int] = {}
    for i, modifier in enumerate(chosen):
        if modifier not in groups:
            raise errors.InvalidCart(
                f"{modifier!r} is not a modifier of {entry.sku!r}", field=f"{field}.modifiers[{i}]"
            )
        counts[groups[modifier].id] = counts.get(groups[modifier].id, 0) + 1
    for group in entry.modifier_groups:
        n = counts.get(group.id, 0)
        if not group.min_choices <= n <= group.max_choices:
            raise errors.InvalidCart(
                f"{group.name!r} takes {group.min_choices}..{group.max_choices} choices, got {n}",
                field=f"{field}.modifiers",
            )
    return sum(prices[m] for m in chosen)
