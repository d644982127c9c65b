"""The event payloads services exchange (orders → loyalty, loyalty → anyone), shared here
because services never import each other. Money is integer minor units; people are ids only.

    payload = payloads.OrderCompleted(order_id=..., store_id=..., member_id=..., ...)
    env = events.envelope_of(payload, event_id=..., source="/qsr/ordering", time=now)
    payloads.REGISTRY.payload_of(env)  # -> OrderCompleted
The stream owners may add optional fields; a breaking change is a new `.vN` class.
"""

from __future__ import annotations

import enum
from typing import Annotated, ClassVar

from pydantic import AwareDatetime, Field

from qsr_kit.domain import events, specs

Id = Annotated[str, Field(min_length=1, max_length=200)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Minor = Annotated[int, Field(ge=0)]


class Origin(enum.StrEnum):
    APP = "app"
    POS = "pos"


class OrderLine(events.Payload):
    sku: Id
    category: str | None = None
    quantity: int = Field(ge=1, le=1000)
    unit_price_minor: Minor


class _OrderEvent(events.Payload):
    """Orders are keyed by store: every event of one order lands on one partition, in order."""

    order_id: Id
    store_id: Id
    member_id: Id | None = None

    def partition_key(self) -> str:
        return self.store_id

    def subject(self) -> str | None:
        return self.order_id


class _OrderStep(_OrderEvent):
    """A lifecycle step before completion (ordering's outbox writes one per transition)."""

    program: Id
    order_key: Id
    at: AwareDatetime


class OrderPlaced(_OrderStep):
    event_type: ClassVar[str] = "io.qsr.order.placed.v1"

    channel: specs.Channel
    currency: Currency
    total_minor: Minor
    pickup_slot: AwareDatetime | None = None


class OrderPaid(_OrderStep):
    event_type: ClassVar[str] = "io.qsr.order.paid.v1"


class OrderPreparing(_OrderStep):
    event_type: ClassVar[str] = "io.qsr.order.preparing.v1"


class OrderReady(_OrderStep):
    event_type: ClassVar[str] = "io.qsr.order.ready.v1"


class OrderCompleted(_OrderEvent):
    event_type: ClassVar[str] = "io.qsr.order.completed.v1"

    program: Id
    origin: Origin
    # Natural key of the purchase: the app and the POS report the same order under one key.
    order_key: Id
    channel: specs.Channel
    completed_at: AwareDatetime
    currency: Currency
    subtotal_minor: Minor
    lines: tuple[OrderLine, ...] = ()


class OrderRefunded(_OrderEvent):
    event_type: ClassVar[str] = "io.qsr.order.refunded.v1"

    program: Id
    order_key: Id
    refund_id: Id
    refunded_at: AwareDatetime
    currency: Currency
    # Loyalty's basis of this refund (pre-tax, after discount, prorated from the money refunded).
    amount_minor: Minor
    # True when the order is now refunded in full.
    full: bool
    # The money given back to the guest by this refund, in `currency` minor units (tax and tip
    # included): what the card is refunded. None from producers older than the field.
    money_minor: Minor | None = None


class OrderCancelled(_OrderEvent):
    event_type: ClassVar[str] = "io.qsr.order.cancelled.v1"

    program: Id
    order_key: Id
    cancelled_at: AwareDatetime
    redemption_ids: tuple[Id, ...] = ()


class _MemberEvent(events.Payload):
    """Loyalty events are keyed by member: a member's history is read in order."""

    member_id: Id
    program: Id

    def partition_key(self) -> str:
        return self.member_id

    def subject(self) -> str | None:
        return self.member_id


class PointsAccrued(_MemberEvent):
    event_type: ClassVar[str] = "io.qsr.loyalty.points.accrued.v1"

    order_key: Id
    lot_id: Id
    points: int = Field(ge=0)
    available_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    rules: tuple[str, ...] = ()


class PointsReversed(_MemberEvent):
    event_type: ClassVar[str] = "io.qsr.loyalty.points.reversed.v1"

    order_key: Id
    refund_id: Id
    points: int = Field(ge=0)


class PointsExpired(_MemberEvent):
    event_type: ClassVar[str] = "io.qsr.loyalty.points.expired.v1"

    lot_id: Id
    points: int = Field(ge=0)
    expired_at: AwareDatetime


class RewardRedeemed(_MemberEvent):
    event_type: ClassVar[str] = "io.qsr.loyalty.reward.redeemed.v1"

    redemption_id: Id
    reward_id: Id
    points: int = Field(gt=0)
    order_id: Id | None = None


class TierChanged(_MemberEvent):
    event_type: ClassVar[str] = "io.qsr.loyalty.tier.changed.v1"

    from_tier: str | None = None
    to_tier: str
    changed_at: AwareDatetime


REGISTRY = events.Registry(
    [
        OrderPlaced,
        OrderPaid,
        OrderPreparing,
        OrderReady,
        OrderCompleted,
        OrderRefunded,
        OrderCancelled,
        PointsAccrued,
        PointsReversed,
        PointsExpired,
        RewardRedeemed,
        TierChanged,
    ]
)
