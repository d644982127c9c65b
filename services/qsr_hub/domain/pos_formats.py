"""The wire shapes of POS webhooks the hub accepts: Toast-like, Square-like and our generic one.

Vendors send far more than we read, so unknown fields are ignored; what we do read is validated, and
a validation error's location becomes the field named in the 400 problem+json.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from qsr_kit.domain import specs


class _Vendor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class _Camel(_Vendor):
    model_config = ConfigDict(alias_generator=to_camel)


# --- Toast-like: order_updated carries the whole order on every change -------------------------


class ToastItemRef(_Camel):
    guid: str = Field(min_length=1)


class ToastSelection(_Camel):
    item: ToastItemRef
    quantity: Annotated[Decimal, Field(gt=0, le=1000)]
    price: Annotated[Decimal, Field(ge=0)]  # the line total, in currency units
    voided: bool = False


class ToastLoyalty(_Camel):
    loyalty_identifier: str = Field(min_length=1)


class ToastCheck(_Camel):
    guid: str = Field(min_length=1)
    display_number: str = Field(min_length=1)
    closed_date: AwareDatetime | None = None
    voided: bool = False
    amount: Annotated[Decimal, Field(ge=0)]
    applied_loyalty_info: ToastLoyalty | None = None
    selections: tuple[ToastSelection, ...] = ()


class ToastDiningOption(_Camel):
    behavior: str = "DINE_IN"


class ToastOrder(_Camel):
    guid: str = Field(min_length=1)
    external_id: str | None = None
    business_date: int = Field(ge=19700101, le=99991231)
    dining_option: ToastDiningOption = ToastDiningOption()
    checks: tuple[ToastCheck, ...] = Field(min_length=1)


class ToastDetails(_Camel):
    order: ToastOrder


class ToastWebhook(_Camel):
    guid: str = Field(min_length=1)
    event_type: str = Field(min_length=1)
    timestamp: AwareDatetime
    details: ToastDetails


# --- Square-like: order.updated with money in minor units, quantities as strings ---------------


class SquareMoney(_Vendor):
    amount: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class SquareLineItem(_Vendor):
    catalog_object_id: str = Field(min_length=1)
    quantity: Annotated[Decimal, Field(gt=0, le=1000)]
    base_price_money: SquareMoney


class SquareFulfillment(_Vendor):
    type: str = "PICKUP"


class SquareOrder(_Vendor):
    id: str = Field(min_length=1)
    location_id: str = Field(min_length=1)
    reference_id: str | None = None
    customer_id: str | None = None
    state: str = Field(min_length=1)
    closed_at: AwareDatetime | None = None
    line_items: tuple[SquareLineItem, ...] = ()
    fulfillments: tuple[SquareFulfillment, ...] = ()


class SquareObject(_Vendor):
    order: SquareOrder


class SquareData(_Vendor):
    id: str = Field(min_length=1)
    object: SquareObject


class SquareWebhook(_Vendor):
    event_id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    created_at: AwareDatetime
    data: SquareData


# --- generic: one closed check per call ---------------------------------------------------------


class GenericItem(_Camel):
    model_config = ConfigDict(extra="forbid")

    pos_item_id: str = Field(min_length=1)
    quantity: int = Field(ge=1, le=1000)
    unit_price_minor: int = Field(ge=0)


class GenericCheck(_Camel):
    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=200)
    type: str = Field(pattern=r"^check\.(closed|updated)$")
    store_id: str = Field(min_length=1)
    business_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    check_number: str = Field(min_length=1, max_length=64)
    closed_at: AwareDatetime | None = None
    order_id: str | None = None
    member_id: str | None = None
    channel: specs.Channel = specs.Channel.IN_STORE
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    items: tuple[GenericItem, ...] = Field(min_length=1)
