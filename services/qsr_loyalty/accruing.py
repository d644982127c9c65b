"""Order events into the ledger: reverse on refund, release holds on cancel (accrual on completion
is `accruals`, set-based).

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
from qsr_loyalty.domain import lots, redeeming, refunds
from qsr_loyalty.program import Program

log = logging.getLogger(__name__)


def accrual_key(order_key: str) -> str:
    return f"accrual:{order_key}"


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
    await apply_refunds(session, program, order_key=event.order_key, now=event.refunded_at)


async def apply_refunds(
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
