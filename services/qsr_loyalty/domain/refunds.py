"""Refunds: reverse an order's points per the program's policy and re-credit rewards redeemed on it.

Partial refunds are cumulative: the target reversal is recomputed from the total refunded so far and
only the difference is reversed, so rounding never drifts across several partial refunds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from qsr_kit.domain import specs
from qsr_loyalty.domain import ledger, rules
from qsr_loyalty.domain.lots import Entry, EntryKind, Hold, Lot, LotSource, expires_at_for


def reversal_target(
    earned: int, *, paid_minor: int, refunded_minor: int, policy: specs.Refunds
) -> int:
    """How many of an order's earned points stand reversed once `refunded_minor` is refunded."""
    if refunded_minor <= 0 or earned <= 0:
        return 0
    if (
        policy.reversal == specs.ReversalMode.FULL
        or paid_minor <= 0
        or refunded_minor >= paid_minor
    ):
        return earned
    share = Decimal(earned) * Decimal(refunded_minor) / Decimal(paid_minor)
    return min(rules.rounded(share, policy.rounding), earned)


def reverse(
    account: ledger.Account,
    *,
    lot: Lot,
    key: str,
    points: int,
    policy: specs.Refunds,
    now: dt.datetime,
    reason: str,
) -> ledger.Change:
    """Take `points` back for the order of `lot`: from that lot first, then pending lots, then
    free available points; the rest becomes debt (negativeBalance) or is forgiven (capAtBalance).
    """
    if points <= 0:
        return ledger.Change(account=account)
    own = next((x for x in account.lots if x.id == lot.id), lot)
    changed, allocations, taken = ledger.take([own], points)
    budget = ledger.free(account, now=now)
    if own.is_available(now):
        budget -= taken
    rest = [x for x in account.lots if x.id != own.id and not x.is_expired(now)]
    pending = sorted((x for x in rest if x.is_pending(now)), key=ledger.consumption_order)
    more, more_alloc, more_taken = ledger.take(pending, points - taken)
    changed, allocations, taken = changed + more, allocations + more_alloc, taken + more_taken
    available = sorted((x for x in rest if x.is_available(now)), key=ledger.consumption_order)
    more, more_alloc, more_taken = ledger.take(available, min(points - taken, max(budget, 0)))
    changed, allocations, taken = changed + more, allocations + more_alloc, taken + more_taken
    debt = points - taken if policy.when_spent == specs.WhenSpent.NEGATIVE_BALANCE else 0
    by_id = {x.id: x for x in changed}
    base = by_id.get(own.id, own)
    by_id[own.id] = dataclasses.replace(base, reversed=base.reversed + points)
    entry = Entry(
        key=key,
        member_id=account.member_id,
        kind=EntryKind.REVERSAL,
        points=-(taken + debt),
        at=now,
        reason=reason if taken + debt == points else f"{reason}; capped at balance, {points} due",
        order_key=lot.order_key,
        lot_id=lot.id,
        allocations=allocations,
    )
    lots = list(by_id.values())
    after = dataclasses.replace(account.with_lots(lots), debt=account.debt + debt)
    return ledger.Change(account=after, entries=(entry,), lots=tuple(lots))


def recredit(
    account: ledger.Account, *, hold: Hold, program: specs.LoyaltyProgramSpec, now: dt.datetime
) -> ledger.Change:
    """Give back the points of a reward redeemed on a refunded order, as a fresh available lot."""
    key = f"recredit:{hold.id}"
    reason = f"reward {hold.reward_id} re-credited: order {hold.order_id} refunded"
    entry = Entry(
        key,
        account.member_id,
        EntryKind.RECREDIT,
        hold.points,
        now,
        reason,
        f"order:{hold.order_id}" if hold.order_id else None,
        key,
        hold.id,
    )
    lot = Lot(
        id=key,
        member_id=account.member_id,
        source=LotSource.RECREDIT,
        points=hold.points,
        remaining=hold.points,
        earned_at=now,
        available_at=now,
        expires_at=expires_at_for(now, program.expiration),
        business_date=now.date(),
        order_key=entry.order_key,
    )
    return ledger.new_lot(account, lot, entry)
