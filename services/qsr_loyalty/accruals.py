"""Completed orders into the ledger, many at a time, with a fixed number of statements per wave.

The consumer hands over every fresh `order.completed` of a transaction (one event, or a Kafka
partition batch). They are split into waves in which no member and no order key appears twice,
keeping their order: the k-th order of a member goes in a later wave than its (k-1)-th, so each
wave reads what the previous one wrote (same transaction) and the result is the one of applying the
orders one by one. A wave is: lock its members (one SELECT … FOR UPDATE, member id order), sum
today's points per (member, day), run the rule engine (pure, `domain.rules`), insert the orders
by natural key (ON CONFLICT DO NOTHING RETURNING: an order earns once), then one INSERT each for
entries, lots and outbox events, one UPDATE for the member rows, one lookup of parked refunds and
one tier query. Orders with parked refunds take the one-by-one path for the refund part.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from qsr_kit import consuming
from qsr_kit.domain import payloads
from qsr_loyalty import accounts, accruing, bulk, pgwave, publishing, repository
from qsr_loyalty.domain import ledger, orders, rules, tiers
from qsr_loyalty.program import Program

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Completed:
    """A completed order of an enrolled (or not) member, keyed by its natural key."""

    member_id: str
    order: orders.Order
    order_key: str


async def accrue(
    session: AsyncSession, program: Program, *, member_id: str, order: orders.Order, order_key: str
) -> rules.Accrual | None:
    """Credit a completed order once; None for an unknown member or an order that already earned."""
    [accrual] = await accrue_many(session, program, [Completed(member_id, order, order_key)])
    return accrual


def waves(items: Sequence[Completed]) -> list[list[int]]:
    """Indexes of `items` by wave: an item goes one wave after the last one sharing its member or
    its order key, so items of one member (or one order) are applied in their given order."""
    last: dict[str, int] = {}
    out: list[list[int]] = []
    for i, item in enumerate(items):
        keys = (f"m:{item.member_id}", f"o:{item.order_key}")
        wave = max(last.get(k, -1) for k in keys) + 1
        for k in keys:
            last[k] = wave
        if wave == len(out):
            out.append([])
        out[wave].append(i)
    return out


async def accrue_many(
    session: AsyncSession | None,
    program: Program,
    items: Sequence[Completed],
    *,
    driver: Any = None,
) -> list[rules.Accrual | None]:
    """Credit each completed order once, as if one by one in the given order; per item the
    accrual, or None (unknown member, or an order that already earned). With `driver` (an
    asyncpg connection in its transaction) and no session: the statements run on it alone, and
    a parked refund raises `consuming.NeedsSession` (the refund path is the session's)."""
    results: list[rules.Accrual | None] = [None] * len(items)
    for wave in waves(items):
        done = await _wave(session, program, [items[i] for i in wave], driver)
        for i, accrual in zip(wave, done, strict=True):
            results[i] = accrual
    return results


async def _wave(
    session: AsyncSession | None, program: Program, items: Sequence[Completed], driver: Any
) -> list[rules.Accrual | None]:
    days = {
        i.order_key: orders.local_date(i.order, store_tz=program.zone_of(i.order.store_id))
        for i in items
    }
    if session is None:
        fast = True
    else:
        fast = bulk.postgres(session)
        driver = await pgwave.driver_of(session) if fast else None
    if fast:  # one statement: lock the members and sum their points of the day
        pairs = [(i.member_id, days[i.order_key]) for i in items]
        members, earned = await pgwave.lock_and_earned(session, pairs, driver=driver)
    else:
        assert session is not None
        members = await bulk.lock_members(session, (i.member_id for i in items))
    known = [i for i in items if i.member_id in members]
    for item in items:
        if item.member_id not in members:
            log.info("order %s: member %s is not enrolled, nothing to accrue",
                     item.order_key, item.member_id)  # fmt: skip
    if session is not None and not fast:
        earned = await bulk.earned_on(session, ((i.member_id, days[i.order_key]) for i in known))
    accruals: dict[str, rules.Accrual] = {}
    for item in known:
        who = members[item.member_id]
        context = rules.MemberContext(
            tier=accounts.tier_named(program, who.tier), birthday=who.birthday,
            orders_before=who.orders, birthday_bonus_year=who.birthday_bonus_year,
            earned_today=earned[(item.member_id, days[item.order_key])],
        )  # fmt: skip
        zone = program.zone_of(item.order.store_id)
        accruals[item.order_key] = rules.points_for(
            item.order, program.spec, member=context, store_tz=zone
        )
    if fast:
        fresh = await _write_fused(program, known, members, accruals, days, session, driver)
    else:
        assert session is not None
        fresh = await _write_portable(session, program, known, members, accruals, days)
    for item in known:
        if item.order_key not in fresh:
            log.info("order %s: already accrued (another source or a replay)", item.order_key)
    new = [i for i in known if i.order_key in fresh]
    if session is None:
        await _settle_on_driver(driver, program, new, members, fresh)
    else:
        await _settle(session, program, new, members, fresh)
    return [accruals[i.order_key] if i.order_key in fresh else None for i in items]


def _member_after(who: repository.Member, accrual: rules.Accrual, day: dt.date) -> dict[str, Any]:
    bonus_year = day.year if accrual.birthday_bonus else who.birthday_bonus_year
    return {"orders": who.orders + 1, "birthday_bonus_year": bonus_year}


async def _write_fused(
    program: Program,
    known: Sequence[Completed],
    members: dict[str, repository.Member],
    accruals: dict[str, rules.Accrual],
    days: dict[str, dt.date],
    session: AsyncSession | None,
    driver: Any,
) -> dict[str, Qualifying]:
    """PostgreSQL: every write of the wave in one statement (pgwave.write); the rows are built
    for every known order and kept by the statement for the ones it inserted only."""
    window = dt.timedelta(days=program.spec.tiering.window_days)
    rows = []
    for item in known:
        who, accrual, day = members[item.member_id], accruals[item.order_key], days[item.order_key]
        change, event = _change(program, who, item, accrual, day)
        [entry], [lot] = change.entries, change.lots
        member = _member_after(who, accrual, day)
        at = item.order.placed_at
        rows.append({
            "o_key": item.order_key, "o_member": item.member_id, "o_id": item.order.order_id,
            "o_paid": item.order.paid_minor, "o_points": accrual.points, "o_at": at,
            "m_debt": change.account.debt, "m_orders": member["orders"],
            "m_bonus_year": member["birthday_bonus_year"], "t_since": at - window,
            "e_key": entry.key, "e_kind": entry.kind.value, "e_points": entry.points,
            "e_reason": entry.reason, "e_lot": entry.lot_id,
            "e_detail": bulk.entry_detail(entry, {"rules": accrual.explanation()}),
            "l_id": lot.id, "l_source": lot.source.value, "l_points": lot.points,
            "l_remaining": lot.remaining, "l_available": lot.available_at,
            "l_expires": lot.expires_at, "l_day": lot.business_date,
            "x_id": event["event_id"], "x_type": event["event_type"], "x_topic": event["topic"],
            "x_key": event["key"], "x_value": event["value"], "x_at": event["created_at"],
        })  # fmt: skip
    written = await pgwave.write(session, rows, driver=driver)
    own = {r["o_key"]: max(r["l_points"], 0) for r in rows}
    return {key: Qualifying(w.parked, w.qualifying_before + own[key]) for key, w in written.items()}


async def _write_portable(
    session: AsyncSession,
    program: Program,
    known: Sequence[Completed],
    members: dict[str, repository.Member],
    accruals: dict[str, rules.Accrual],
    days: dict[str, dt.date],
) -> dict[str, Qualifying]:
    """SQLite (embedded): the same writes as portable statements, then the parked refunds and
    the tier sums."""
    fresh = await bulk.insert_orders(session, [_order_row(i, accruals[i.order_key]) for i in known])
    new = [i for i in known if i.order_key in fresh]
    changes, events = [], []
    for item in new:
        who, accrual, day = members[item.member_id], accruals[item.order_key], days[item.order_key]
        change, event = _change(program, who, item, accrual, day)
        member = _member_after(who, accrual, day)
        changes.append((change, {"rules": accrual.explanation()}, member))
        events.append(event)
    await bulk.write_accruals(session, changes)
    await bulk.add_outbox(session, events)
    parked = await bulk.refunded_orders(session, [i.order_key for i in new])
    window = dt.timedelta(days=program.spec.tiering.window_days)
    windows = {
        i.member_id: (i.order.placed_at - window, i.order.placed_at)
        for i in new
        if i.order_key not in parked
    }
    sums = await bulk.qualifying_sums(session, windows)
    return {i.order_key: Qualifying(i.order_key in parked, sums.get(i.member_id, 0)) for i in new}


@dataclasses.dataclass(frozen=True)
class Qualifying:
    """An order this wave credited: refunds were parked before it; the member's qualifying
    points in the tier window after it (unused when parked: the refund path re-tiers)."""

    parked: bool
    points: int


def _order_row(item: Completed, accrual: rules.Accrual) -> dict[str, Any]:
    order = item.order
    return {
        "order_key": item.order_key, "member_id": item.member_id, "order_id": order.order_id,
        "paid_minor": order.paid_minor, "points": accrual.points, "completed_at": order.placed_at,
    }  # fmt: skip


def _change(
    program: Program,
    who: repository.Member,
    item: Completed,
    accrual: rules.Accrual,
    day: dt.date,
) -> tuple[ledger.Change, dict[str, Any]]:
    """The new lot and entry (domain), and its `points.accrued` outbox row. A new lot needs only
    the member's debt from the account (paid off first); open lots and holds are not read."""
    key = accruing.accrual_key(item.order_key)
    account = ledger.Account(member_id=who.member_id, debt=who.debt)
    order = item.order
    change = ledger.accrue(
        account, key=key, points=accrual.points, at=order.placed_at, business_date=day,
        order_key=item.order_key, reason=f"order {order.order_id} at {order.store_id}",
        program=program.spec,
    )  # fmt: skip
    lot = change.lots[0]
    payload = payloads.PointsAccrued(
        member_id=who.member_id, program=program.name, order_key=item.order_key, lot_id=lot.id,
        points=accrual.points, available_at=lot.available_at, expires_at=lot.expires_at,
        rules=tuple(s.rule for s in accrual.steps),
    )  # fmt: skip
    return change, publishing.outbox_row(program, payload, key=key, at=order.placed_at)


async def _settle(
    session: AsyncSession,
    program: Program,
    new: Sequence[Completed],
    members: dict[str, repository.Member],
    fresh: dict[str, Qualifying],
) -> None:
    """Parked refunds (rare: one by one, then re-tier), then the tier of every other member
    that earned (a tier change is one more statement and an outbox event)."""
    for item in new:
        if fresh[item.order_key].parked:
            at, who = item.order.placed_at, members[item.member_id]
            await accruing.apply_refunds(session, program, order_key=item.order_key, now=at)
            cause = accruing.accrual_key(item.order_key)
            await accounts.retier(session, program, who, now=at, cause=cause)
    for item in new:
        if fresh[item.order_key].parked:
            continue
        qualifying = fresh[item.order_key].points
        standing = tiers.standing_for(qualifying, program.spec.tiering)
        await accounts.settle_tier(
            session, program, members[item.member_id], standing,
            now=item.order.placed_at, cause=accruing.accrual_key(item.order_key),
        )  # fmt: skip


async def _settle_on_driver(
    driver: Any,
    program: Program,
    new: Sequence[Completed],
    members: dict[str, repository.Member],
    fresh: dict[str, Qualifying],
) -> None:
    """`_settle` on the driver alone: a tier change is one statement (member row + its event,
    as `accounts.settle_tier` writes them); a parked refund needs the session path."""
    if any(fresh[i.order_key].parked for i in new):
        raise consuming.NeedsSession("a refund was parked before this order")
    for item in new:
        standing = tiers.standing_for(fresh[item.order_key].points, program.spec.tiering)
        who, at = members[item.member_id], item.order.placed_at
        change = accounts.tier_change(program, who, standing, now=at,
                                      cause=accruing.accrual_key(item.order_key))  # fmt: skip
        if change is not None:
            tier, payload, key = change
            event = publishing.outbox_row(program, payload, key=key, at=at)
            await pgwave.set_tier(driver, who.member_id, tier, event)
            log.info("member %s: tier %s -> %s", who.member_id, who.tier, tier)
