"""The spec models of the qsr.io custom resources: the one source of truth.

The operator generates `crds/` from them (plus CEL rules), and the services read the same models
from the rendered config, so a field means the same thing everywhere. YAML uses camelCase.
"""

from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

API_GROUP = "qsr.io"
API_VERSION = "v1alpha1"

HHMM = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["07:30"])]
Name = Annotated[
    str, Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
]
Multiplier = Annotated[float, Field(ge=0, le=100)]


class Spec(BaseModel):
    """Base of every spec model: camelCase on the wire, unknown fields rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class Channel(enum.StrEnum):
    IN_STORE = "in-store"
    DRIVE_THRU = "drive-thru"
    MOBILE_PICKUP = "mobile-pickup"
    CURBSIDE = "curbside"
    DELIVERY = "delivery"
    KIOSK = "kiosk"


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class SecretRef(Spec):
    """A key of a Secret in the resource's own namespace; the value never enters a spec."""

    name: Name
    key: str = Field(min_length=1, max_length=253)


# --- LoyaltyProgram ---------------------------------------------------------------------------


class Rounding(enum.StrEnum):
    FLOOR = "floor"
    NEAREST = "nearest"
    CEIL = "ceil"


class ItemMultiplier(Spec):
    sku: str = Field(min_length=1)
    multiplier: Multiplier


class CategoryMultiplier(Spec):
    category: str = Field(min_length=1)
    multiplier: Multiplier


class ChannelMultiplier(Spec):
    channel: Channel
    multiplier: Multiplier


class Daypart(Spec):
    """A window of the store's local day; `end` before `start` wraps past midnight."""

    name: str = Field(min_length=1)
    start: HHMM
    end: HHMM
    multiplier: Multiplier


class BonusKind(enum.StrEnum):
    FIRST_ORDER = "firstOrder"
    BIRTHDAY = "birthday"
    MULTIPLIER_WINDOW = "multiplierWindow"


class Bonus(Spec):
    """A bonus event: fixed points (first order, birthday) or a multiplier over a time window."""

    name: str = Field(min_length=1)
    kind: BonusKind
    points: int = Field(default=0, ge=0)
    multiplier: Multiplier = 1.0
    starts_at: str | None = Field(default=None, description="RFC 3339; multiplierWindow only")
    ends_at: str | None = Field(default=None, description="RFC 3339; multiplierWindow only")


class Caps(Spec):
    per_order: int | None = Field(default=None, ge=1)
    per_day: int | None = Field(default=None, ge=1)


class Earning(Spec):
    base_points_per_unit: float = Field(
        ge=0, le=1000, description="points per whole currency unit spent"
    )
    item_multipliers: list[ItemMultiplier] = []
    category_multipliers: list[CategoryMultiplier] = []
    channel_multipliers: list[ChannelMultiplier] = []
    dayparts: list[Daypart] = []
    bonuses: list[Bonus] = []
    caps: Caps = Caps()
    rounding: Rounding = Rounding.FLOOR


class ExpirationPolicy(enum.StrEnum):
    NEVER = "never"
    ROLLING_DAYS = "rollingDays"
    END_OF_PERIOD = "endOfPeriod"


class Expiration(Spec):
    policy: ExpirationPolicy = ExpirationPolicy.NEVER
    days: int | None = Field(default=None, ge=1, description="rollingDays only")
    period: Literal["month", "quarter", "year"] | None = Field(
        default=None, description="endOfPeriod only"
    )


class Tier(Spec):
    name: str = Field(min_length=1)
    threshold: int = Field(ge=0, description="qualifying points within the window")
    multiplier: Multiplier = 1.0


class Tiering(Spec):
    window_days: int = Field(default=365, ge=1)
    tiers: list[Tier] = []


class RewardKind(enum.StrEnum):
    ITEM = "item"
    AMOUNT = "amount"
    PERCENT = "percent"


class Reward(Spec):
    id: Name
    name: str = Field(min_length=1)
    cost: int = Field(gt=0, description="points")
    kind: RewardKind
    value: int = Field(
        default=0, ge=0, description="minor units (amount) or percent (percent); 0 for item"
    )
    sku: str | None = Field(default=None, description="item rewards: the free item")
    per_member_limit: int | None = Field(default=None, ge=1)


class ReversalMode(enum.StrEnum):
    PROPORTIONAL = "proportional"
    FULL = "full"


class WhenSpent(enum.StrEnum):
    NEGATIVE_BALANCE = "negativeBalance"
    CAP_AT_BALANCE = "capAtBalance"


class Refunds(Spec):
    reversal: ReversalMode = ReversalMode.PROPORTIONAL
    rounding: Rounding = Rounding.FLOOR
    recredit_rewards: bool = True
    when_spent: WhenSpent = WhenSpent.CAP_AT_BALANCE


class Redemption(Spec):
    hold_seconds: int = Field(default=900, ge=10, le=86400)


class ResourceList(Spec):
    cpu: str | None = None
    memory: str | None = None


class Resources(Spec):
    requests: ResourceList = ResourceList(cpu="100m", memory="128Mi")
    limits: ResourceList = ResourceList(memory="256Mi")


class ServiceSettings(Spec):
    image: str = "qsr-platform:0.1.0"
    resources: Resources = Resources()
    min_replicas: int = Field(default=2, ge=1)
    max_replicas: int = Field(default=6, ge=1)
    target_cpu_utilization: int = Field(default=70, ge=1, le=100)


class DeletionPolicy(enum.StrEnum):
    RETAIN = "Retain"
    DELETE = "Delete"


class KafkaSettings(Spec):
    partitions: int = Field(default=6, ge=1, le=1000)
    replication_factor: int = Field(default=1, ge=1, le=10)
    retention_hours: int = Field(default=168, ge=1)
    deletion_policy: DeletionPolicy = DeletionPolicy.RETAIN


class ProviderType(enum.StrEnum):
    NATIVE = "native"
    EXTERNAL = "external"


class Provider(Spec):
    type: ProviderType = ProviderType.NATIVE
    endpoint: str | None = Field(default=None, description="external only: the provider's URL")
    secret_ref: SecretRef | None = None


class LoyaltyProgramSpec(Spec):
    brand: str = Field(min_length=1, max_length=100)
    display_name: str = Field(min_length=1, max_length=200)
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    earning: Earning
    pending_days: int = Field(default=0, ge=0, le=365)
    expiration: Expiration = Expiration()
    tiering: Tiering = Tiering()
    rewards: list[Reward] = []
    refunds: Refunds = Refunds()
    redemption: Redemption = Redemption()
    service: ServiceSettings = ServiceSettings()
    kafka: KafkaSettings = KafkaSettings()
    provider: Provider = Provider()


# --- StoreIntegration -------------------------------------------------------------------------


class OpeningHours(Spec):
    """One opening window; `close` before `open` runs past midnight into the next day."""

    day: Weekday
    open: HHMM
    close: HHMM


class Kitchen(Spec):
    orders_per_slot: int = Field(ge=1, le=10000, description="orders per 15-minute pickup slot")
    slot_minutes: Literal[15] = 15


class PosType(enum.StrEnum):
    TOAST = "toast"
    SQUARE = "square"
    NCR_ALOHA = "ncr-aloha"
    ORACLE_SIMPHONY = "oracle-simphony"
    GENERIC = "generic"


class ItemMapping(Spec):
    pos_item_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)


class Pos(Spec):
    type: PosType
    webhook_secret_ref: SecretRef
    item_mapping: list[ItemMapping] = []


class Payment(Spec):
    provider: str = Field(min_length=1, description="payment spoke name, e.g. cardsim")
    secret_ref: SecretRef


class Menu(Spec):
    source: str = Field(min_length=1, description="menu spoke name, e.g. cms")


class ProgramRef(Spec):
    name: Name


class StoreIntegrationSpec(Spec):
    store_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    program_ref: ProgramRef
    display_name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(min_length=1, description="IANA zone, e.g. America/Chicago")
    hours: list[OpeningHours] = []
    channels: list[Channel] = Field(min_length=1)
    kitchen: Kitchen
    tax_rate_percent: float = Field(default=0.0, ge=0, le=50)
    pos: Pos
    payment: Payment
    menu: Menu
    paused: bool = False
