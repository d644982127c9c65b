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

from qsr_kit.domain import payloads
from qsr_loyalty import accounts, accruing, bulk, publishing, repository
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
    session: AsyncSession, program: Program, items: Sequence[Completed]
) -> list[rules.Accrual | None]:
    """Credit each completed order once, as if one by one in the given order; per item the
    accrual, or None (unknown member, or an order that already earned)."""
    results: list[rules.Accrual | None] = [None] * len(items)
    for wave in waves(items):
        done = await _wave(session, program, [items[i] for i in wave])
        for i, accrual in zip(wave, done, strict=True):
            results[i] = accrual
    return results


async def _wave(
    session: AsyncSession, program: Program, items: Sequence[Completed]
) -> list[rules.Accrual | None]:
    members = await bulk.lock_members(session, (i.member_id for i in items))
    known = [i for i in items if i.member_id in members]
    for item in items:
        if item.member_id not in members:
            log.info("order %s: member %s is not enrolled, nothing to accrue",
                     item.order_key, item.member_id)  # fmt: skip
    days = {
        i.order_key: orders.local_date(i.order, store_tz=program.zone_of(i.order.store_id))
        for i in known
    }
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
    fresh = await bulk.insert_orders(session, [_order_row(i, accruals[i.order_key]) for i in known])
    new = [i for i in known if i.order_key in fresh]
    for item in known:
        if item.order_key not in fresh:
            log.info("order %s: already accrued (another source or a replay)", item.order_key)
    changes, events = [], []
    for item in new:
        who, accrual = members[item.member_id], accruals[item.order_key]
        change, event = _change(program, who, item, accrual, days[item.order_key])
        bonus_year = (
            days[item.order_key].year if accrual.birthday_bonus else who.birthday_bonus_year
        )
        member = {"orders": who.orders + 1, "birthday_bonus_year": bonus_year}
        changes.append((change, {"rules": accrual.explanation()}, member))
        events.append(event)
    await bulk.write_accruals(session, changes)
    await bulk.add_outbox(session, events)
    await _after(session, program, new, members)
    return [accruals[i.order_key] if i.order_key in fresh else None for i in items]


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


async def _after(
    session: AsyncSession,
    program: Program,
    new: Sequence[Completed],
    members: dict[str, repository.Member],
) -> None:
    """Parked refunds (rare: one by one), then the tier of every member that earned."""
    parked = await bulk.refunded_orders(session, [i.order_key for i in new])
    windows: dict[str, tuple[dt.datetime, dt.datetime]] = {}
    window = dt.timedelta(days=program.spec.tiering.window_days)
    for item in new:
        at, who = item.order.placed_at, members[item.member_id]
        if item.order_key in parked:
            await accruing.apply_refunds(session, program, order_key=item.order_key, now=at)
            cause = accruing.accrual_key(item.order_key)
            await accounts.retier(session, program, who, now=at, cause=cause)
        else:
            windows[item.member_id] = (at - window, at)
    qualifying = await bulk.qualifying_sums(session, windows)
    for item in new:
        if item.order_key in parked:
            continue
        standing = tiers.standing_for(qualifying[item.member_id], program.spec.tiering)
        await accounts.settle_tier(
            session, program, members[item.member_id], standing,
            now=item.order.placed_at, cause=accruing.accrual_key(item.order_key),
        )  # fmt: skip
