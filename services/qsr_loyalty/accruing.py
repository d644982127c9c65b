"""Order events into the ledger: accrue on completion, reverse on refund, release holds on cancel.

The order's natural key (`loyalty_orders` primary key) is what makes the same purchase, reported by
the app and by the POS under two event ids, earn once; the consumer's inbox handles redelivery.
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from qsr_kit.domain import payloads
from qsr_loyalty import accounts, publishing, repository
from qsr_loyalty import tables as t
from qsr_loyalty.domain import ledger, lots, orders, redeeming, refunds, rules
from qsr_loyalty.program import Program

log = logging.getLogger(__name__)


def accrual_key(order_key: str) -> str:
    return f"accrual:{order_key}"


async def accrue(
    session: AsyncSession, program: Program, *, member_id: str, order: orders.Order, order_key: str
) -> rules.Accrual | None:
    """Credit a completed order once; None for an unknown member or an order that already earned."""
    who = await repository.lock_member(session, member_id)
    if who is None:
        log.info("order %s: member %s is not enrolled, nothing to accrue", order_key, member_id)
        return None
    zone = program.zone_of(order.store_id)
    day = orders.local_date(order, store_tz=zone)
    context = rules.MemberContext(
        tier=accounts.tier_named(program, who.tier),
        birthday=who.birthday,
        orders_before=who.orders,
        birthday_bonus_year=who.birthday_bonus_year,
        earned_today=await repository.earned_on(session, member_id, day),
    )
    accrual = rules.points_for(order, program.spec, member=context, store_tz=zone)
    seen = await session.execute(
        repository.insert_ignoring_conflict(session, t.orders).values(
            order_key=order_key, member_id=member_id, order_id=order.order_id,
            paid_minor=order.paid_minor, points=accrual.points, completed_at=order.placed_at,
        )
    )  # fmt: skip
    if not seen.rowcount:  # type: ignore[attr-defined]
        log.info("order %s: already accrued (another source or a replay)", order_key)
        return None
    key = accrual_key(order_key)
    account = await repository.account_of(session, who)
    change = ledger.accrue(
        account, key=key, points=accrual.points, at=order.placed_at, business_date=day,
        order_key=order_key, reason=f"order {order.order_id} at {order.store_id}",
        program=program.spec,
    )  # fmt: skip
    bonus_year = day.year if accrual.birthday_bonus else who.birthday_bonus_year
    await repository.write(
        session, change, detail={"rules": accrual.explanation()},
        member={"orders": who.orders + 1, "birthday_bonus_year": bonus_year},
    )  # fmt: skip
    lot = change.lots[0]
    payload = payloads.PointsAccrued(
        member_id=member_id, program=program.name, order_key=order_key, lot_id=lot.id,
        points=accrual.points, available_at=lot.available_at, expires_at=lot.expires_at,
        rules=tuple(s.rule for s in accrual.steps),
    )  # fmt: skip
    await publishing.emit(session, program, payload, key=key, at=order.placed_at)
    await _apply_refunds(session, program, order_key=order_key, now=order.placed_at)
    await accounts.retier(session, program, who, now=order.placed_at, cause=key)
    return accrual


async def refund(session: AsyncSession, program: Program, *, event: payloads.OrderRefunded) -> None:
    """Record a refund and reverse what it takes back. A refund seen before its order is parked
    and applied when the order's accrual arrives (retry topics may reorder an order's events)."""
    recorded = await session.execute(
        repository.insert_ignoring_conflict(session, t.refunds).values(
            order_key=event.order_key, refund_id=event.refund_id, amount_minor=event.amount_minor,
            full=event.full, refunded_at=event.refunded_at,
        )
    )  # fmt: skip
    if not recorded.rowcount:  # type: ignore[attr-defined]
        return
    await _apply_refunds(session, program, order_key=event.order_key, now=event.refunded_at)


async def _apply_refunds(
    session: AsyncSession, program: Program, *, order_key: str, now: dt.datetime
) -> None:
    rows = list(
        await session.execute(sa.select(t.refunds).where(t.refunds.c.order_key == order_key))
    )
    if not rows:
        return
    order = (
        await session.execute(sa.select(t.orders).where(t.orders.c.order_key == order_key))
    ).one_or_none()
    if order is None:
        return  # parked: applied when the order's accrual arrives
    who = await accounts.existing(session, order.member_id, lock=True)
    lot = await repository.lot(session, accrual_key(order_key))
    refunded = order.paid_minor if any(r.full for r in rows) else sum(r.amount_minor for r in rows)
    policy = program.spec.refunds
    if lot is not None:
        target = refunds.reversal_target(
            lot.points, paid_minor=order.paid_minor, refunded_minor=refunded, policy=policy
        )
        if target > lot.reversed:
            key = f"reversal:{order_key}:{len(rows)}"
            account = await repository.account_of(session, who)
            change = refunds.reverse(
                account, lot=lot, key=key, points=target - lot.reversed, policy=policy, now=now,
                reason=f"order {order.order_id} refunded ({refunded} of {order.paid_minor})",
            )  # fmt: skip
            await repository.write(session, change)
            payload = payloads.PointsReversed(
                member_id=who.member_id, program=program.name, order_key=order_key,
                refund_id=rows[-1].refund_id, points=-change.entries[0].points,
            )  # fmt: skip
            await publishing.emit(session, program, payload, key=key, at=now)
            who = await accounts.existing(session, who.member_id)
    if refunded >= order.paid_minor and policy.recredit_rewards:
        await _recredit(session, program, who, order_id=order.order_id, now=now)
    await accounts.retier(session, program, who, now=now, cause=f"refund:{order_key}:{len(rows)}")


async def _recredit(
    session: AsyncSession,
    program: Program,
    who: repository.Member,
    *,
    order_id: str,
    now: dt.datetime,
) -> None:
    spent = await repository.holds_where(
        session, (t.holds.c.order_id == order_id) & (t.holds.c.state == lots.HoldState.COMMITTED)
    )
    done = await repository.entry_keys(session, [f"recredit:{h.id}" for h in spent])
    for hold in spent:
        if f"recredit:{hold.id}" in done:
            continue
        fresh = await accounts.existing(session, who.member_id)
        account = await repository.account_of(session, fresh)
        await repository.write(
            session, refunds.recredit(account, hold=hold, program=program.spec, now=now)
        )


async def cancel(session: AsyncSession, program: Program, *, event: payloads.OrderCancelled) -> int:
    """Release every hold still held for a cancelled order; returns how many."""
    condition = t.holds.c.order_id == event.order_id
    if event.redemption_ids:
        condition = condition | t.holds.c.id.in_(event.redemption_ids)
    held = await repository.holds_where(
        session, condition & (t.holds.c.state == lots.HoldState.HELD)
    )
    for hold in held:
        who = await accounts.existing(session, hold.member_id, lock=True)
        current = await repository.hold(session, hold.id)
        if current is None or current.state != lots.HoldState.HELD:
            continue
        account = await repository.account_of(session, who)
        await repository.write(session, redeeming.cancel(account, current))
    return len(held)
