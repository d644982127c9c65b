"""A wave of accruals on PostgreSQL in two statements: one read, one write (see `accruals`).

Read: lock the wave's members (`FOR UPDATE`, member id order) and sum each one's points of the
order's business date. Write: one data-modifying statement inserts the orders by natural key
(`ON CONFLICT DO NOTHING RETURNING`) and, for the orders it inserted only, their entries, lots and
outbox rows, and updates the member rows; it returns, per inserted order, whether refunds were
parked before it and the member's qualifying points in the tier window as they were before the
statement (the caller adds the new lot). The read binds one array per column (`unnest`), the
write all its rows as ONE JSON parameter (`json_to_recordset`: the driver encodes one string
instead of ~30 arrays), so each statement's text, and its prepared statement, is the same
whatever the wave's size; each table gets one set-based statement (not one execution per row as
an executemany would).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import asyncpg
import pydantic_core
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from qsr_loyalty import repository

_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "varchar": sa.String(),
    "text": sa.Text(),
    "int": sa.Integer(),
    "bigint": sa.BigInteger(),
    "date": sa.Date(),
    "timestamptz": sa.DateTime(timezone=True),
}


def _arrays(sql: str, columns: dict[str, str]) -> sa.TextClause:
    """`sql` with one typed array bind parameter per column (`:name`, cast to `type[]`)."""
    params: list[sa.BindParameter[Any]] = [
        sa.bindparam(name, type_=postgresql.ARRAY(_TYPES[kind])) for name, kind in columns.items()
    ]
    return sa.text(sql).bindparams(*params)


def _unnest(columns: dict[str, str]) -> str:
    casts = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in columns.items())
    return f"unnest({casts}) WITH ORDINALITY AS u({', '.join(columns)}, n)"


_READ_COLUMNS = {"r_member": "varchar", "r_day": "date"}
_READ = _arrays(
    "WITH w AS (SELECT u.r_member, u.r_day FROM " + _unnest(_READ_COLUMNS) + "),"
    " m AS (SELECT * FROM loyalty_members WHERE member_id IN (SELECT r_member FROM w)"
    " ORDER BY member_id FOR UPDATE)"
    " SELECT m.*, w.r_day, coalesce((SELECT sum(l.points) FROM loyalty_lots AS l"
    " WHERE l.member_id = m.member_id AND l.business_date = w.r_day"
    " AND l.source = 'accrual'), 0) AS earned"
    " FROM m JOIN w ON w.r_member = m.member_id",
    _READ_COLUMNS,
)


async def lock_and_earned(
    session: AsyncSession | None, wanted: Sequence[tuple[str, dt.date]], *, driver: Any = None
) -> tuple[dict[str, repository.Member], dict[tuple[str, dt.date], int]]:
    """The enrolled members among `wanted` (member, business date) pairs of distinct members,
    locked, and each one's points earned on its date. `driver`: `driver_of(session)`."""
    members_, days = [m for m, _ in wanted], [d for _, d in wanted]
    if driver is not None:
        rows: list[Any] = await _run(driver.fetch, _READ_SQL, members_, days)
        members = {r["member_id"]: _member(r) for r in rows}
        return members, {(r["member_id"], r["r_day"]): int(r["earned"]) for r in rows}
    assert session is not None
    params = {"r_member": members_, "r_day": days}
    rows = list(await (await session.connection()).execute(_READ, params))
    members = {r.member_id: repository._member(r) for r in rows}
    return members, {(r.member_id, r.r_day): int(r.earned) for r in rows}


_WRITE_COLUMNS = {
    # the order (natural key) and the member row after it
    "o_key": "varchar", "o_member": "varchar", "o_id": "varchar", "o_paid": "bigint",
    "o_points": "int", "o_at": "timestamptz", "m_debt": "int", "m_orders": "int",
    "m_bonus_year": "int", "t_since": "timestamptz",
    # its entry
    "e_key": "varchar", "e_kind": "varchar", "e_points": "int", "e_reason": "varchar",
    "e_lot": "varchar", "e_detail": "text",
    # its lot
    "l_id": "varchar", "l_source": "varchar", "l_points": "int", "l_remaining": "int",
    "l_available": "timestamptz", "l_expires": "timestamptz", "l_day": "date",
    # its outbox event
    "x_id": "varchar", "x_type": "varchar", "x_topic": "varchar", "x_key": "varchar",
    "x_value": "text", "x_at": "timestamptz",
}  # fmt: skip
_WRITE = sa.text(
    "WITH u AS (SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS u(n int, "
    + ", ".join(f"{name} {kind}" for name, kind in _WRITE_COLUMNS.items())
    + ")),"
    " o AS (INSERT INTO loyalty_orders"
    " (order_key, member_id, order_id, paid_minor, points, completed_at)"
    " SELECT o_key, o_member, o_id, o_paid, o_points, o_at FROM u ORDER BY n"
    " ON CONFLICT DO NOTHING RETURNING order_key),"
    " f AS (SELECT u.* FROM u JOIN o ON o.order_key = u.o_key),"
    " e AS (INSERT INTO loyalty_entries"
    " (key, member_id, kind, points, at, reason, order_key, lot_id, hold_id, detail)"
    " SELECT e_key, o_member, e_kind, e_points, o_at, e_reason, o_key, e_lot, NULL, e_detail"
    " FROM f ORDER BY n),"
    " l AS (INSERT INTO loyalty_lots (id, member_id, source, points, remaining, reversed,"
    " earned_at, available_at, expires_at, business_date, order_key)"
    " SELECT l_id, o_member, l_source, l_points, l_remaining, 0, o_at, l_available, l_expires,"
    " l_day, o_key FROM f ORDER BY n),"
    " x AS (INSERT INTO qsr_outbox (event_id, event_type, topic, key, value, created_at)"
    " SELECT x_id, x_type, x_topic, x_key, x_value, x_at FROM f ORDER BY n),"
    " mu AS (UPDATE loyalty_members AS mb SET debt = f.m_debt, orders = f.m_orders,"
    " birthday_bonus_year = f.m_bonus_year FROM f WHERE mb.member_id = f.o_member)"
    " SELECT f.o_key,"
    " EXISTS (SELECT 1 FROM loyalty_refunds AS r WHERE r.order_key = f.o_key) AS parked,"
    " (SELECT coalesce(sum(CASE WHEN q.points - q.reversed > 0 THEN q.points - q.reversed"
    " ELSE 0 END), 0) FROM loyalty_lots AS q WHERE q.member_id = f.o_member"
    " AND q.source = 'accrual' AND q.earned_at > f.t_since AND q.earned_at <= f.o_at)"
    " AS qualifying"
    " FROM f ORDER BY f.n"
).bindparams(sa.bindparam("rows", type_=sa.Text()))


@dataclasses.dataclass(frozen=True)
class Written:
    """Per order this wave inserted: refunds parked before it, and the member's qualifying
    points in the tier window before this wave (without the order's own lot)."""

    parked: bool
    qualifying_before: int


async def write(
    session: AsyncSession | None, rows: Sequence[dict[str, Any]], *, driver: Any = None
) -> dict[str, Written]:
    """One statement for the wave: `rows` hold every `_WRITE_COLUMNS` key, one per order of
    distinct members (each gets its position as "n"); returns the orders it inserted (the ones
    that earn), by order key."""
    if not rows:
        return {}
    for n, row in enumerate(rows):
        row["n"] = n  # the statement keeps the given order (ORDER BY n)
    # pydantic-core writes the rows (datetimes as ISO 8601) ~4x faster than json.dumps with a
    # `default`; keys beyond _WRITE_COLUMNS would be ignored by json_to_recordset
    payload = pydantic_core.to_json(rows).decode()
    if driver is not None:
        result: Any = await _run(driver.fetch, _WRITE_SQL, payload)
    else:
        assert session is not None
        result = await (await session.connection()).execute(_WRITE, {"rows": payload})
    return {key: Written(bool(parked), int(total)) for key, parked, total in result}


# The same two statements in the driver's own form ($n), run on the session's asyncpg connection
# (its statement cache prepares each once per connection): no SQLAlchemy execution, result or
# greenlet machinery on the hot path. Only inside a transaction the session already began.
_READ_SQL = _READ.text.replace(":r_member", "$1").replace(":r_day", "$2")
_WRITE_SQL = _WRITE.text.replace(":rows", "$1")
_MEMBER_FIELDS = tuple(repository.Member.__dataclass_fields__)


def _member(row: Any) -> repository.Member:
    return repository.Member(**{f: row[f] for f in _MEMBER_FIELDS})


_SET_TIER_SQL = (
    "WITH x AS (INSERT INTO qsr_outbox (event_id, event_type, topic, key, value, created_at)"
    " VALUES ($3, $4, $5, $6, $7, $8))"
    " UPDATE loyalty_members SET tier = $2 WHERE member_id = $1"
)


async def set_tier(driver: Any, member_id: str, tier: str, event: dict[str, Any]) -> None:
    """A member's new tier and its outbox event (`publishing.outbox_row`), in one statement."""
    await _run(
        driver.execute, _SET_TIER_SQL, member_id, tier, event["event_id"], event["event_type"],
        event["topic"], event["key"], event["value"], event["created_at"],
    )  # fmt: skip


async def driver_of(session: AsyncSession) -> Any:
    """The asyncpg connection under the session when it is in the session's transaction (BEGIN
    already sent, as after the consumer's inbox row), else None: then the statements go through
    SQLAlchemy. Valid for the current transaction only (ask again after a commit)."""
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    if isinstance(driver, asyncpg.Connection) and driver.is_in_transaction():
        return driver
    return None


async def _run(call: Any, sql: str, *args: Any) -> Any:
    """`call(sql, *args)` with the driver's errors as SQLAlchemy's asyncpg dialect raises them
    (so the kit's "database unavailable" handling sees the same exceptions; OSError as is)."""
    try:
        return await call(sql, *args)
    except asyncpg.InterfaceError as exc:
        raise sa.exc.InterfaceError(sql, args, exc) from exc
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise sa.exc.IntegrityError(sql, args, exc) from exc
    except asyncpg.PostgresError as exc:
        raise sa.exc.DBAPIError(sql, args, exc) from exc
