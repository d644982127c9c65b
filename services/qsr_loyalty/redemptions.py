"""Redemption use cases (reserve → commit | cancel) and the sweep that expires lots and releases
holds past their time. Every one locks the member row first, so concurrent calls never overspend.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qsr_kit import db
from qsr_kit.domain import payloads
from qsr_loyalty import accounts, publishing, repository
from qsr_loyalty.domain import errors, ledger, lots, redeeming
from qsr_loyalty.program import Program


async def reserve(
    session: AsyncSession,
    program: Program,
    *,
    member_id: str,
    reward_id: str,
    hold_id: str,
    order_id: str | None,
    now: dt.datetime,
) -> lots.Hold:
    reward = redeeming.reward_named(program.spec, reward_id)
    who = await accounts.existing(session, member_id, lock=True)
    account = await repository.account_of(session, who)
    before = await repository.committed_count(session, member_id, reward_id)
    change = redeeming.reserve(
        account, hold_id=hold_id, reward=reward, program=program.spec, now=now,
        redeemed_before=before, order_id=order_id,
    )  # fmt: skip
    await repository.write(session, change)
    return change.holds[0]


async def _locked_hold(session: AsyncSession, hold_id: str) -> tuple[repository.Member, lots.Hold]:
    found = await repository.hold(session, hold_id)
    if found is None:
        raise errors.NotFound(f"no redemption {hold_id!r}", field="redemption_id")
    who = await accounts.existing(session, found.member_id, lock=True)
    current = await repository.hold(session, hold_id)
    assert current is not None
    return who, current


async def member_of(session: AsyncSession, hold_id: str) -> str:
    found = await repository.hold(session, hold_id)
    if found is None:
        raise errors.NotFound(f"no redemption {hold_id!r}", field="redemption_id")
    return found.member_id


async def commit(
    session: AsyncSession, program: Program, *, hold_id: str, now: dt.datetime
) -> lots.Hold:
    who, hold = await _locked_hold(session, hold_id)
    account = await repository.account_of(session, who)
    change = redeeming.commit(account, hold, now=now)
    if not change.entries:
        return hold
    await repository.write(session, change)
    payload = payloads.RewardRedeemed(
        member_id=who.member_id, program=program.name, redemption_id=hold.id,
        reward_id=hold.reward_id, points=hold.points, order_id=hold.order_id,
    )  # fmt: skip
    await publishing.emit(session, program, payload, key=change.entries[0].key, at=now)
    return change.holds[0]


async def cancel(
    session: AsyncSession, program: Program, *, hold_id: str, now: dt.datetime
) -> lots.Hold:
    who, hold = await _locked_hold(session, hold_id)
    account = await repository.account_of(session, who)
    change = redeeming.cancel(account, hold)
    await repository.write(session, change)
    return change.holds[0] if change.holds else hold


async def sweep_member(
    session: AsyncSession, program: Program, member_id: str, *, now: dt.datetime
) -> int:
    """Expire due lots and release stale holds of one member; returns the points expired."""
    who = await accounts.existing(session, member_id, lock=True)
    account = await repository.account_of(session, who)
    released = redeeming.release_expired(account, now=now)
    expired = ledger.expire(released.account, now=now)
    await repository.write(
        session, ledger.Change(expired.account, expired.entries, expired.lots, released.holds)
    )
    for entry in expired.entries:
        assert entry.lot_id is not None
        payload = payloads.PointsExpired(
            member_id=member_id, program=program.name, lot_id=entry.lot_id,
            points=-entry.points, expired_at=now,
        )  # fmt: skip
        await publishing.emit(session, program, payload, key=entry.key, at=now)
    return -sum(e.points for e in expired.entries)


async def sweep(
    sessions: async_sessionmaker[AsyncSession],
    program: Program,
    *,
    now: dt.datetime,
    batch: int = 500,
) -> int:
    """The daily (or periodic) job: one transaction per member, so one failure stops nobody else.
    Running it twice at the same `now` changes nothing the second time."""
    async with db.transaction(sessions) as session:
        due = set(await repository.members_with_due_lots(session, now, batch))
        due |= set(await repository.members_with_stale_holds(session, now, batch))
    total = 0
    for member_id in sorted(due):
        async with db.transaction(sessions) as session:
            total += await sweep_member(session, program, member_id, now=now)
    return total
