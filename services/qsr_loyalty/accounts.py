"""Member accounts: enroll, read the balance view, and keep the tier current (with its event).

Called by the API, the consumers and the jobs; each caller owns the transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from qsr_kit.domain import payloads, specs
from qsr_loyalty import publishing, repository
from qsr_loyalty.domain import errors, ledger, tiers
from qsr_loyalty.domain.lots import EntryKind
from qsr_loyalty.program import Program

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class View:
    member: repository.Member
    balance: ledger.Balance
    standing: tiers.Standing


async def enroll(
    session: AsyncSession,
    program: Program,
    *,
    member_id: str,
    birthday: dt.date | None,
    now: dt.datetime,
) -> repository.Member:
    """Enroll a member; enrolling an existing id is refused (409)."""
    standing = tiers.standing_for(0, program.spec.tiering)
    row = repository.Member(
        member_id=member_id,
        program=program.name,
        birthday=birthday,
        enrolled_at=now,
        tier=standing.tier.name if standing.tier else None,
        debt=0,
        orders=0,
        birthday_bonus_year=None,
    )
    if not await repository.add_member(session, row):
        raise errors.Conflict(f"member {member_id!r} is already enrolled", field="member_id")
    return row


async def existing(
    session: AsyncSession, member_id: str, *, lock: bool = False
) -> repository.Member:
    found = await repository.member(session, member_id, lock=lock)
    if found is None:
        raise errors.NotFound(f"no member {member_id!r}", field="member_id")
    return found


async def view_of(
    session: AsyncSession, program: Program, member_id: str, *, now: dt.datetime
) -> View:
    who = await existing(session, member_id)
    account = await repository.account_of(session, who)
    totals = await repository.totals_by_kind(session, member_id)
    balance = ledger.balance_of(
        account,
        now=now,
        spent=-totals.get(EntryKind.REDEMPTION, 0),
        expired=-totals.get(EntryKind.EXPIRY, 0),
    )
    return View(
        member=who,
        balance=balance,
        standing=await standing_of(session, program, member_id, now=now),
    )


async def standing_of(
    session: AsyncSession, program: Program, member_id: str, *, now: dt.datetime
) -> tiers.Standing:
    tiering = program.spec.tiering
    since = now - dt.timedelta(days=tiering.window_days)
    qualifying = await repository.qualifying_sum(session, member_id, since=since, until=now)
    return tiers.standing_for(qualifying, tiering)


def tier_named(program: Program, name: str | None) -> specs.Tier | None:
    return next((t for t in program.spec.tiering.tiers if t.name == name), None)


async def retier(
    session: AsyncSession, program: Program, who: repository.Member, *, now: dt.datetime, cause: str
) -> None:
    """Recompute the tier after points changed; a change is stored and announced."""
    standing = await standing_of(session, program, who.member_id, now=now)
    await settle_tier(session, program, who, standing, now=now, cause=cause)


async def settle_tier(
    session: AsyncSession,
    program: Program,
    who: repository.Member,
    standing: tiers.Standing,
    *,
    now: dt.datetime,
    cause: str,
) -> None:
    """Store and announce the tier of `standing` when it differs from the member's."""
    change = tier_change(program, who, standing, now=now, cause=cause)
    if change is None:
        return
    new, payload, key = change
    await repository.update_member(session, who.member_id, tier=new)
    await publishing.emit(session, program, payload, key=key, at=now)
    log.info("member %s: tier %s -> %s", who.member_id, who.tier, new)


def tier_change(
    program: Program,
    who: repository.Member,
    standing: tiers.Standing,
    *,
    now: dt.datetime,
    cause: str,
) -> tuple[str, payloads.TierChanged, str] | None:
    """The new tier, its event and the event's key when `standing` changes the member's tier."""
    new = standing.tier.name if standing.tier else None
    if new == who.tier or new is None:
        return None
    payload = payloads.TierChanged(
        member_id=who.member_id, program=program.name, from_tier=who.tier, to_tier=new,
        changed_at=now,
    )  # fmt: skip
    return new, payload, f"tier:{who.member_id}:{cause}"
