"""Set-based loyalty queries: one statement for many members or rows, whatever the batch size.

The consumer's accrual path issues a fixed number of statements per wave of events (see
`accruals.accrue_many`) instead of a dozen per event. On PostgreSQL a list of keys is bound as ONE
array parameter (`= ANY($1)`), so the statement text, and its prepared statement, is the same for
every batch size; SQLite (embedded mode) gets an IN list.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from qsr_kit import schema
from qsr_loyalty import repository
from qsr_loyalty import tables as t
from qsr_loyalty.domain import ledger, lots


async def _core(session: AsyncSession, statement: Any, params: Any = None) -> Any:
    """Execute on the session's connection (SQLAlchemy Core): no ORM execution layer per
    statement; same transaction, same statement cache."""
    connection = await session.connection()
    return await connection.execute(statement, params)


def postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def among(session: AsyncSession, column: sa.Column[Any], values: Sequence[Any]) -> Any:
    """`column = ANY(:array)` on PostgreSQL, `column IN (...)` elsewhere."""
    if postgres(session):
        array = postgresql.ARRAY(column.type)
        return column == sa.any_(sa.bindparam(f"{column.name}_all", list(values), type_=array))
    return column.in_(list(values))


async def lock_members(
    session: AsyncSession, member_ids: Iterable[str]
) -> dict[str, repository.Member]:
    """SELECT … FOR UPDATE of many members, in member id order (no deadlock between batches)."""
    ids = sorted(set(member_ids))
    query = (
        sa.select(t.members)
        .where(among(session, t.members.c.member_id, ids))
        .order_by(t.members.c.member_id)
        .with_for_update()
    )
    return {r.member_id: repository._member(r) for r in await _core(session, query)}


async def earned_on(
    session: AsyncSession, pairs: Iterable[tuple[str, dt.date]]
) -> dict[tuple[str, dt.date], int]:
    """repository.earned_on for many (member, business date) pairs in one query."""
    wanted = set(pairs)
    members = sorted({m for m, _ in wanted})
    days = sorted({d for _, d in wanted})
    c = t.lots.c
    query = (
        sa.select(c.member_id, c.business_date, sa.func.sum(c.points))
        .where(
            among(session, c.member_id, members)
            & among(session, c.business_date, days)
            & (c.source == lots.LotSource.ACCRUAL)
        )
        .group_by(c.member_id, c.business_date)
    )
    found = {(m, d): int(total) for m, d, total in await _core(session, query)}
    return {pair: found.get(pair, 0) for pair in wanted}


async def insert_orders(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Orders not seen before, by natural key: the ones this call inserted ("earn once")."""
    if not rows:
        return set()
    insert = repository.insert_ignoring_conflict(session, t.orders)
    result = await _core(session, insert.returning(t.orders.c.order_key), list(rows))
    return set(result.scalars())


def entry_detail(entry: lots.Entry, detail: dict[str, Any] | None = None) -> str:
    """The `detail` column of an entry: its allocations and the caller's explanation."""
    return json.dumps({"allocations": [list(a) for a in entry.allocations], **(detail or {})})


def entry_row(entry: lots.Entry, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    values = dataclasses.asdict(entry)
    values.update(kind=entry.kind.value, detail=entry_detail(entry, detail))
    values.pop("allocations")
    return values


def lot_row(lot: lots.Lot) -> dict[str, Any]:
    return {**dataclasses.asdict(lot), "source": lot.source.value}


_UPDATE_MEMBER = (
    sa.update(t.members)
    .where(t.members.c.member_id == sa.bindparam("b_member_id"))
    .values(
        debt=sa.bindparam("b_debt"),
        orders=sa.bindparam("b_orders"),
        birthday_bonus_year=sa.bindparam("b_birthday_bonus_year"),
    )
)


async def write_accruals(
    session: AsyncSession,
    changes: Sequence[tuple[ledger.Change, dict[str, Any], dict[str, Any]]],
) -> None:
    """Persist new-lot Changes (each with its entry detail and its member columns: orders,
    birthday_bonus_year) of distinct members: one INSERT each for entries and lots (new ids: the
    lot id is the accrual key of a first-seen order), one UPDATE for the member rows."""
    if not changes:
        return
    entries = [entry_row(e, detail) for change, detail, _ in changes for e in change.entries]
    new_lots = [lot_row(lot) for change, _, _ in changes for lot in change.lots]
    members = [
        {
            "b_member_id": change.account.member_id,
            "b_debt": change.account.debt,
            "b_orders": member["orders"],
            "b_birthday_bonus_year": member["birthday_bonus_year"],
        }
        for change, _, member in changes
    ]
    await _core(session, sa.insert(t.entries), entries)
    await _core(session, sa.insert(t.lots), new_lots)
    await _core(session, _UPDATE_MEMBER, members)


async def refunded_orders(session: AsyncSession, order_keys: Sequence[str]) -> set[str]:
    """Which of these orders have refunds recorded (parked before their accrual arrived)."""
    if not order_keys:
        return set()
    c = t.refunds.c
    query = sa.select(c.order_key).where(among(session, c.order_key, order_keys)).distinct()
    return set((await _core(session, query)).scalars())


_QUALIFYING = sa.text(
    "SELECT w.member_id, coalesce(sum(CASE WHEN l.points - l.reversed > 0"
    " THEN l.points - l.reversed ELSE 0 END), 0)"
    " FROM unnest(CAST(:members AS varchar[]), CAST(:since AS timestamptz[]),"
    " CAST(:until AS timestamptz[])) AS w(member_id, since, until)"
    " LEFT JOIN loyalty_lots AS l ON l.member_id = w.member_id AND l.source = 'accrual'"
    " AND l.earned_at > w.since AND l.earned_at <= w.until"
    " GROUP BY w.member_id"
).bindparams(
    sa.bindparam("members", type_=postgresql.ARRAY(sa.String())),
    sa.bindparam("since", type_=postgresql.ARRAY(sa.DateTime(timezone=True))),
    sa.bindparam("until", type_=postgresql.ARRAY(sa.DateTime(timezone=True))),
)


async def qualifying_sums(
    session: AsyncSession, windows: dict[str, tuple[dt.datetime, dt.datetime]]
) -> dict[str, int]:
    """repository.qualifying_sum for many members, each with its own (since, until] window."""
    if not windows:
        return {}
    if not postgres(session):
        return {
            m: await repository.qualifying_sum(session, m, since=since, until=until)
            for m, (since, until) in windows.items()
        }
    ids = list(windows)
    params = {
        "members": ids,
        "since": [windows[m][0] for m in ids],
        "until": [windows[m][1] for m in ids],
    }
    return {m: int(total) for m, total in await _core(session, _QUALIFYING, params)}


async def add_outbox(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """outbox.add for many events in one INSERT (rows of qsr_outbox columns)."""
    if rows:
        await _core(session, sa.insert(schema.outbox), list(rows))
