"""The lot ledger of one member: accrue, consume (soonest-expiring first), expire, read balances.

Every function takes the member's `Account` and returns a `Change`: the new account, the entries to
append and the lots/holds to write. Repositories persist a Change in one transaction; no I/O here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from qsr_kit.domain import specs
from qsr_loyalty.domain.lots import (
    Entry,
    EntryKind,
    Hold,
    HoldState,
    Lot,
    LotSource,
    expires_at_for,
)

EXPIRING_SOON = dt.timedelta(days=30)


@dataclasses.dataclass(frozen=True)
class Account:
    """What a decision needs: every lot with points left, every held hold, and any debt."""

    member_id: str
    lots: tuple[Lot, ...] = ()
    holds: tuple[Hold, ...] = ()
    debt: int = 0

    def with_lots(self, changed: list[Lot]) -> Account:
        by_id = {lot.id: lot for lot in self.lots}
        by_id.update({lot.id: lot for lot in changed})
        return dataclasses.replace(self, lots=tuple(by_id.values()))

    def with_holds(self, changed: list[Hold]) -> Account:
        by_id = {hold.id: hold for hold in self.holds}
        by_id.update({hold.id: hold for hold in changed})
        live = tuple(h for h in by_id.values() if h.state == HoldState.HELD)
        return dataclasses.replace(self, holds=live)


@dataclasses.dataclass(frozen=True)
class Change:
    account: Account
    entries: tuple[Entry, ...] = ()
    lots: tuple[Lot, ...] = ()
    holds: tuple[Hold, ...] = ()


@dataclasses.dataclass(frozen=True)
class Balance:
    pending: int
    available: int
    held: int
    negative: int
    expiring_soon: int
    spent: int = 0
    expired: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.available + self.held - self.negative


def ledger_total(account: Account) -> int:
    """What Σ entries must equal: points left in lots (expired or not yet swept) minus debt."""
    return sum(lot.remaining for lot in account.lots) - account.debt


def spendable(account: Account, *, now: dt.datetime) -> int:
    """Points in available lots, before holds are taken out."""
    return sum(lot.remaining for lot in account.lots if lot.is_available(now))


def held(account: Account, *, now: dt.datetime) -> int:
    return sum(h.points for h in account.holds if h.is_active(now))


def free(account: Account, *, now: dt.datetime) -> int:
    """Points a new hold, or a reversal of spendable points, may take."""
    return max(spendable(account, now=now) - held(account, now=now), 0)


def balance_of(account: Account, *, now: dt.datetime, spent: int = 0, expired: int = 0) -> Balance:
    """The member's balance by state at `now`; expired lots not yet swept count for nothing."""
    available = spendable(account, now=now)
    on_hold = min(held(account, now=now), available)
    soon = now + EXPIRING_SOON
    expiring = sum(
        lot.remaining
        for lot in account.lots
        if not lot.is_expired(now) and lot.expires_at is not None and lot.expires_at <= soon
    )
    return Balance(
        pending=sum(lot.remaining for lot in account.lots if lot.is_pending(now)),
        available=available - on_hold,
        held=on_hold,
        negative=account.debt,
        expiring_soon=expiring,
        spent=spent,
        expired=expired,
    )


def consumption_order(lot: Lot) -> tuple[bool, dt.datetime, dt.datetime, str]:
    """Soonest-expiring first; lots that never expire last; then oldest first."""
    never = lot.expires_at is None
    return (never, lot.expires_at or lot.earned_at, lot.earned_at, lot.id)


def take(lots: list[Lot], amount: int) -> tuple[list[Lot], tuple[tuple[str, int], ...], int]:
    """Take up to `amount` from lots in the given order: (changed lots, allocations, taken)."""
    changed: list[Lot] = []
    allocations: list[tuple[str, int]] = []
    left = amount
    for lot in lots:
        if left == 0:
            break
        part = min(lot.remaining, left)
        if part == 0:
            continue
        changed.append(dataclasses.replace(lot, remaining=lot.remaining - part))
        allocations.append((lot.id, part))
        left -= part
    return changed, tuple(allocations), amount - left


def new_lot(account: Account, lot: Lot, entry: Entry) -> Change:
    """Append a lot and its entry; a debt is paid off first from the new points."""
    settled = min(lot.remaining, account.debt)
    lot = dataclasses.replace(lot, remaining=lot.remaining - settled)
    after = dataclasses.replace(account.with_lots([lot]), debt=account.debt - settled)
    return Change(account=after, entries=(entry,), lots=(lot,))


def accrue(
    account: Account,
    *,
    key: str,
    points: int,
    at: dt.datetime,
    business_date: dt.date,
    order_key: str,
    reason: str,
    program: specs.LoyaltyProgramSpec,
) -> Change:
    """Credit an order's points as a new lot, pending for the program's pending period."""
    entry = Entry(key, account.member_id, EntryKind.ACCRUAL, points, at, reason, order_key, key)
    lot = Lot(
        id=key,
        member_id=account.member_id,
        source=LotSource.ACCRUAL,
        points=points,
        remaining=points,
        earned_at=at,
        available_at=at + dt.timedelta(days=program.pending_days),
        expires_at=expires_at_for(at, program.expiration),
        business_date=business_date,
        order_key=order_key,
    )
    return new_lot(account, lot, entry)


def expire(account: Account, *, now: dt.datetime) -> Change:
    """Expire what is left in every lot past its expiry. Running it twice changes nothing."""
    entries: list[Entry] = []
    changed: list[Lot] = []
    for lot in sorted(account.lots, key=consumption_order):
        if lot.is_expired(now) and lot.remaining > 0:
            assert lot.expires_at is not None
            key = f"expiry:{lot.id}"
            reason = f"lot earned {lot.earned_at.date()} expired {lot.expires_at.date()}"
            entries.append(
                Entry(
                    key,
                    account.member_id,
                    EntryKind.EXPIRY,
                    -lot.remaining,
                    now,
                    reason,
                    lot.order_key,
                    lot.id,
                    None,
                    ((lot.id, lot.remaining),),
                )
            )
            changed.append(dataclasses.replace(lot, remaining=0))
    return Change(account=account.with_lots(changed), entries=tuple(entries), lots=tuple(changed))
