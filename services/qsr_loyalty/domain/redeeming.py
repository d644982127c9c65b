"""Redemption as reserve → commit | cancel, with holds that release themselves after `holdSeconds`.

A hold is a claim on available points, not on particular lots; the lots are chosen at commit time,
soonest-expiring first, so a hold never pins points that are about to expire.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from qsr_kit.domain import specs
from qsr_loyalty.domain import errors, ledger
from qsr_loyalty.domain.lots import Entry, EntryKind, Hold, HoldState


def reward_named(program: specs.LoyaltyProgramSpec, reward_id: str) -> specs.Reward:
    for reward in program.rewards:
        if reward.id == reward_id:
            return reward
    raise errors.NotFound(f"no reward {reward_id!r} in the program", field="reward_id")


def reserve(
    account: ledger.Account,
    *,
    hold_id: str,
    reward: specs.Reward,
    program: specs.LoyaltyProgramSpec,
    now: dt.datetime,
    redeemed_before: int = 0,
    order_id: str | None = None,
) -> ledger.Change:
    """Hold the reward's cost out of free points until commit, cancel or `holdSeconds` pass."""
    if reward.per_member_limit is not None:
        active = sum(1 for h in account.holds if h.reward_id == reward.id and h.is_active(now))
        if redeemed_before + active >= reward.per_member_limit:
            raise errors.LimitReached(
                f"reward {reward.id!r} may be redeemed {reward.per_member_limit} time(s)",
                field="reward_id",
            )
    available = ledger.free(account, now=now)
    if reward.cost > available:
        raise errors.InsufficientPoints(
            f"reward {reward.id!r} costs {reward.cost} points, {available} available",
            field="reward_id",
        )
    hold = Hold(
        id=hold_id,
        member_id=account.member_id,
        reward_id=reward.id,
        points=reward.cost,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=program.redemption.hold_seconds),
        order_id=order_id,
    )
    return ledger.Change(account=account.with_holds([hold]), holds=(hold,))


def commit(account: ledger.Account, hold: Hold, *, now: dt.datetime) -> ledger.Change:
    """Spend a held redemption from available lots, soonest-expiring first. Twice is a no-op."""
    if hold.state == HoldState.COMMITTED:
        return ledger.Change(account=account)
    if hold.state != HoldState.HELD:
        raise errors.HoldNotActive(f"redemption {hold.id} is {hold.state}")
    if hold.expires_at <= now:
        raise errors.HoldNotActive(f"redemption {hold.id} expired at {hold.expires_at.isoformat()}")
    lots = sorted(
        (lot for lot in account.lots if lot.is_available(now)), key=ledger.consumption_order
    )
    changed, allocations, taken = ledger.take(lots, hold.points)
    if taken < hold.points:
        raise errors.InsufficientPoints(
            f"redemption {hold.id} needs {hold.points} points, {taken} available"
        )
    done = dataclasses.replace(hold, state=HoldState.COMMITTED)
    entry = Entry(
        key=f"redemption:{hold.id}",
        member_id=account.member_id,
        kind=EntryKind.REDEMPTION,
        points=-hold.points,
        at=now,
        reason=f"reward {hold.reward_id} redeemed",
        order_key=f"order:{hold.order_id}" if hold.order_id else None,
        hold_id=hold.id,
        allocations=allocations,
    )
    after = account.with_lots(changed).with_holds([done])
    return ledger.Change(account=after, entries=(entry,), lots=tuple(changed), holds=(done,))


def cancel(account: ledger.Account, hold: Hold) -> ledger.Change:
    """Release a hold on request. Twice is a no-op; a committed hold cannot be cancelled."""
    if hold.state in (HoldState.CANCELLED, HoldState.RELEASED):
        return ledger.Change(account=account)
    if hold.state == HoldState.COMMITTED:
        raise errors.HoldNotActive(f"redemption {hold.id} is already committed")
    done = dataclasses.replace(hold, state=HoldState.CANCELLED)
    return ledger.Change(account=account.with_holds([done]), holds=(done,))


def release_expired(account: ledger.Account, *, now: dt.datetime) -> ledger.Change:
    """Mark holds past their expiry as released; they stopped counting the moment they expired."""
    done = [
        dataclasses.replace(h, state=HoldState.RELEASED)
        for h in account.holds
        if h.state == HoldState.HELD and h.expires_at <= now
    ]
    return ledger.Change(account=account.with_holds(done), holds=tuple(done))
