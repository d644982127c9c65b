"""The loyalty queries: load a member's account under a row lock, write a domain Change, read pages.

Every mutation starts with `lock_member`: SELECT … FOR UPDATE on PostgreSQL; on SQLite the kit
opens every transaction with BEGIN IMMEDIATE, which already serializes writers. Callers commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from qsr_loyalty import tables as t
from qsr_loyalty.domain import ledger, lots


@dataclasses.dataclass(frozen=True)
class Member:
    member_id: str
    program: str
    birthday: dt.date | None
    enrolled_at: dt.datetime
    tier: str | None
    debt: int
    orders: int
    birthday_bonus_year: int | None


def _member(row: Any) -> Member:
    return Member(**{f: getattr(row, f) for f in Member.__dataclass_fields__})


def _lot(row: Any) -> lots.Lot:
    values = {f: getattr(row, f) for f in lots.Lot.__dataclass_fields__}
    return lots.Lot(**{**values, "source": lots.LotSource(row.source)})


def _hold(row: Any) -> lots.Hold:
    values = {f: getattr(row, f) for f in lots.Hold.__dataclass_fields__}
    return lots.Hold(**{**values, "state": lots.HoldState(row.state)})


async def _core(session: AsyncSession, statement: Any) -> Any:
    """Run a read on the session's connection (SQLAlchemy Core, same transaction): the hot reads
    (member, account, totals, tier sum) skip the ORM execution layer."""
    connection = await session.connection()
    return await connection.execute(statement)


def insert_ignoring_conflict(session: AsyncSession, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_nothing()


async def add_member(session: AsyncSession, member: Member) -> bool:
    """Enroll; False when the member id already exists."""
    result = await session.execute(
        insert_ignoring_conflict(session, t.members).values(**dataclasses.asdict(member))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def member(session: AsyncSession, member_id: str, *, lock: bool = False) -> Member | None:
    query = sa.select(t.members).where(t.members.c.member_id == member_id)
    row = (await _core(session, query.with_for_update() if lock else query)).one_or_none()
    return _member(row) if row else None


async def lock_member(session: AsyncSession, member_id: str) -> Member | None:
    return await member(session, member_id, lock=True)


async def update_member(session: AsyncSession, member_id: str, **values: Any) -> None:
    await session.execute(
        sa.update(t.members).where(t.members.c.member_id == member_id).values(**values)
    )


async def account_of(session: AsyncSession, who: Member) -> ledger.Account:
    """Lots with points left and holds still held: everything a decision may touch."""
    lot_rows = await _core(
        session,
        sa.select(t.lots).where((t.lots.c.member_id == who.member_id) & (t.lots.c.remaining > 0)),
    )
    hold_rows = await _core(
        session,
        sa.select(t.holds).where(
            (t.holds.c.member_id == who.member_id) & (t.holds.c.state == lots.HoldState.HELD)
        ),
    )
    return ledger.Account(
        member_id=who.member_id,
        lots=tuple(_lot(r) for r in lot_rows),
        holds=tuple(_hold(r) for r in hold_rows),
        debt=who.debt,
    )


async def lot(session: AsyncSession, lot_id: str) -> lots.Lot | None:
    row = (await session.execute(sa.select(t.lots).where(t.lots.c.id == lot_id))).one_or_none()
    return _lot(row) if row else None


async def hold(session: AsyncSession, hold_id: str) -> lots.Hold | None:
    row = (await session.execute(sa.select(t.holds).where(t.holds.c.id == hold_id))).one_or_none()
    return _hold(row) if row else None


async def holds_where(session: AsyncSession, condition: sa.ColumnElement[bool]) -> list[lots.Hold]:
    return [_hold(r) for r in await session.execute(sa.select(t.holds).where(condition))]


async def write(
    session: AsyncSession,
    change: ledger.Change,
    *,
    detail: dict[str, Any] | None = None,
    member: dict[str, Any] | None = None,
) -> None:
    """Persist a Change: append its entries, upsert its lots and holds, store the new debt (and
    any other `member` columns, in the same statement)."""
    for entry in change.entries:
        body = {"allocations": [list(a) for a in entry.allocations], **(detail or {})}
        values = dataclasses.asdict(entry)
        values.update(kind=entry.kind.value, detail=json.dumps(body))
        values.pop("allocations")
        await session.execute(sa.insert(t.entries).values(**values))
    for item in change.lots:
        await _upsert(session, t.lots, t.lots.c.id, dataclasses.asdict(item))
    for held in change.holds:
        await _upsert(session, t.holds, t.holds.c.id, dataclasses.asdict(held))
    await update_member(
        session, change.account.member_id, debt=change.account.debt, **(member or {})
    )


async def _upsert(
    session: AsyncSession, table: sa.Table, pk: sa.Column[Any], values: dict[str, Any]
) -> None:
    """One INSERT … ON CONFLICT (pk) DO UPDATE: a new row or the new state of an existing one."""
    values = {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    changed = {k: v for k, v in values.items() if k != pk.name}
    await session.execute(
        insert.values(**values).on_conflict_do_update(index_elements=[pk], set_=changed)
    )


async def earned_on(session: AsyncSession, member_id: str, day: dt.date) -> int:
    """Points accrued on one business date, for the per-day cap."""
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(t.lots.c.points), 0)).where(
            (t.lots.c.member_id == member_id)
            & (t.lots.c.business_date == day)
            & (t.lots.c.source == lots.LotSource.ACCRUAL)
        )
    )
    return int(total or 0)


async def qualifying_sum(
    session: AsyncSession, member_id: str, *, since: dt.datetime, until: dt.datetime
) -> int:
    """tiers.qualifying_points in SQL: accrued points net of reversals earned in (since, until]."""
    net = t.lots.c.points - t.lots.c.reversed
    total = (
        await _core(
            session,
            sa.select(sa.func.coalesce(sa.func.sum(sa.case((net > 0, net), else_=0)), 0)).where(
                (t.lots.c.member_id == member_id)
                & (t.lots.c.source == lots.LotSource.ACCRUAL)
                & (t.lots.c.earned_at > since)
                & (t.lots.c.earned_at <= until)
            ),
        )
    ).scalar()
    return int(total or 0)


async def totals_by_kind(session: AsyncSession, member_id: str) -> dict[str, int]:
    rows = await _core(
        session,
        sa.select(t.entries.c.kind, sa.func.sum(t.entries.c.points))
        .where(t.entries.c.member_id == member_id)
        .group_by(t.entries.c.kind),
    )
    return {kind: int(total) for kind, total in rows}


async def entry_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    rows = await session.execute(sa.select(t.entries.c.key).where(t.entries.c.key.in_(keys)))
    return {r[0] for r in rows}


async def entries_page(
    session: AsyncSession, member_id: str, *, before: int | None, limit: int
) -> list[Any]:
    """Newest first; `before` is the cursor (an entry's seq)."""
    query = sa.select(t.entries).where(t.entries.c.member_id == member_id)
    if before is not None:
        query = query.where(t.entries.c.seq < before)
    return list(await session.execute(query.order_by(t.entries.c.seq.desc()).limit(limit)))


async def committed_count(session: AsyncSession, member_id: str, reward_id: str) -> int:
    total = await session.scalar(
        sa.select(sa.func.count()).where(
            (t.holds.c.member_id == member_id)
            & (t.holds.c.reward_id == reward_id)
            & (t.holds.c.state == lots.HoldState.COMMITTED)
        )
    )
    return int(total or 0)


async def members_with_due_lots(session: AsyncSession, now: dt.datetime, limit: int) -> list[str]:
    rows = await session.execute(
        sa.select(t.lots.c.member_id)
        .where((t.lots.c.remaining > 0) & (t.lots.c.expires_at <= now))
        .distinct()
        .limit(limit)
    )
    return [r[0] for r in rows]


async def members_with_stale_holds(
    session: AsyncSession, now: dt.datetime, limit: int
) -> list[str]:
    rows = await session.execute(
        sa.select(t.holds.c.member_id)
        .where((t.holds.c.state == lots.HoldState.HELD) & (t.holds.c.expires_at <= now))
        .distinct()
        .limit(limit)
    )
    return [r[0] for r in rows]
