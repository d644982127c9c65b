"""A store's menu as the menu/CMS spoke serves it: items, modifier groups, combos and dayparts.

Ordering prices carts against it (`pricing.py`); the wire format is camelCase like the specs.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from qsr_kit.domain import specs

Minor = Annotated[int, Field(ge=0, le=10_000_000)]


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class Modifier(_Model):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    price_minor: Minor = 0


class ModifierGroup(_Model):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    min_choices: int = Field(default=0, ge=0)
    max_choices: int = Field(default=1, ge=1)
    options: tuple[Modifier, ...] = Field(min_length=1)


class MenuItem(_Model):
    sku: str = Field(min_length=1)
    name: str = Field(min_length=1)
    category: str = Field(min_length=1)
    price_minor: Minor
    modifier_groups: tuple[ModifierGroup, ...] = ()
    # Names of the dayparts the item is sold in; empty means all day.
    dayparts: tuple[str, ...] = ()


class Combo(_Model):
    """A bundle sold at its own price; components are skus of the menu, modifiers priced on top."""

    sku: str = Field(min_length=1)
    name: str = Field(min_length=1)
    category: str = "combos"
    price_minor: Minor
    components: tuple[str, ...] = Field(min_length=1)
    modifier_groups: tuple[ModifierGroup, ...] = ()
    dayparts: tuple[str, ...] = ()


class Daypart(_Model):
    """A window of the store's local day; `end` before `start` wraps past midnight."""

    name: str = Field(min_length=1)
    start: specs.HHMM
    end: specs.HHMM

    def contains(self, at: time) -> bool:
        start, end = time.fromisoformat(self.start), time.fromisoformat(self.end)
        if start <= end:
            return start <= at < end
        return at >= start or at < end


class Menu(_Model):
    store_id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    items: tuple[MenuItem, ...] = ()
    combos: tuple[Combo, ...] = ()
    dayparts: tuple[Daypart, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Menu:
        skus = [i.sku for i in self.items] + [c.sku for c in self.combos]
        if len(skus) != len(set(skus)):
            raise ValueError("items/combos: duplicate sku")
        known_parts = {d.name for d in self.dayparts}
        item_skus = {i.sku for i in self.items}
        for entry in self.entries():
            missing = set(entry.dayparts) - known_parts
            if missing:
                raise ValueError(f"{entry.sku}: unknown daypart {sorted(missing)[0]!r}")
        for combo in self.combos:
            for component in combo.components:
                if component not in item_skus:
                    raise ValueError(f"combos.{combo.sku}: unknown component {component!r}")
        return self

    def entries(self) -> tuple[MenuItem | Combo, ...]:
        return (*self.items, *self.combos)

    def entry(self, sku: str) -> MenuItem | Combo | None:
        for entry in self.entries():
            if entry.sku == sku:
                return entry
        return None

    def daypart(self, name: str) -> Daypart:
        return next(d for d in self.dayparts if d.name == name)
