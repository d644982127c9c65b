"""Ledger value types: lots (what was earned, when it becomes spendable, when it expires), entries
(the append-only history) and holds (points reserved by a pending redemption).

An invariant ties them: Σ entry points = Σ lot remaining - debt, whatever operations ran.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from qsr_kit.domain import specs


class EntryKind(enum.StrEnum):
    ACCRUAL = "accrual"
    REDEMPTION = "redemption"
    EXPIRY = "expiry"
    REVERSAL = "reversal"
    RECREDIT = "recredit"


class LotSource(enum.StrEnum):
    ACCRUAL = "accrual"
    RECREDIT = "recredit"


class HoldState(enum.StrEnum):
    HELD = "held"
    COMMITTED = "committed"
    CANCELLED = "cancelled"
    RELEASED = "released"


@dataclasses.dataclass(frozen=True)
class Lot:
    id: str
    member_id: str
    source: LotSource
    points: int
    remaining: int
    earned_at: dt.datetime
    available_at: dt.datetime
    expires_at: dt.datetime | None
    business_date: dt.date
    order_key: str | None = None
    reversed: int = 0

    def is_available(self, now: dt.datetime) -> bool:
        return self.available_at <= now and not self.is_expired(now)

    def is_pending(self, now: dt.datetime) -> bool:
        return self.available_at > now and not self.is_expired(now)

    def is_expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclasses.dataclass(frozen=True)
class Entry:
    """One line of history. `key` is its business key, unique forever: it stops double credit."""

    key: str
    member_id: str
    kind: EntryKind
    points: int
    at: dt.datetime
    reason: str
    order_key: str | None = None
    lot_id: str | None = None
    hold_id: str | None = None
    allocations: tuple[tuple[str, int], ...] = ()


@dataclasses.dataclass(frozen=True)
class Hold:
    id: str
    member_id: str
    reward_id: str
    points: int
    created_at: dt.datetime
    expires_at: dt.datetime
    state: HoldState = HoldState.HELD
    order_id: str | None = None

    def is_active(self, now: dt.datetime) -> bool:
        return self.state == HoldState.HELD and self.expires_at > now


def _next_period_start(at: dt.datetime, period: str) -> dt.datetime:
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    first = (at.month - 1) // months * months + 1
    month_index = at.year * 12 + (first - 1) + months
    return dt.datetime(month_index // 12, month_index % 12 + 1, 1, tzinfo=dt.UTC)


def expires_at_for(earned_at: dt.datetime, expiration: specs.Expiration) -> dt.datetime | None:
    """When a lot earned at `earned_at` expires (exclusive), per the program's expiration policy."""
    if expiration.policy == specs.ExpirationPolicy.NEVER:
        return None
    if expiration.policy == specs.ExpirationPolicy.ROLLING_DAYS:
        return earned_at + dt.timedelta(days=expiration.days or 365)
    return _next_period_start(earned_at.astimezone(dt.UTC), expiration.period or "year")
