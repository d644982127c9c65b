"""The ledger invariants hold in the database too: random sequences of orders (with duplicates),
refunds, redemptions, sweeps and time passing, run through the service's own use cases on SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from qsr_kit import db
from qsr_kit.domain import payloads, specs
from qsr_loyalty import (
    accounts,
    accruals,
    accruing,
    consumers,
    main,
    program,
    redemptions,
    repository,
    tables,
)
from qsr_loyalty.domain import errors, tiers
from tests.qsr_loyalty import support
from tests.qsr_loyalty.conftest import EXAMPLES

BASE = program.load(EXAMPLES)
VARIANTS = [
    BASE,
    dataclasses.replace(
        BASE,
        spec=BASE.spec.model_copy(
            update={
                "pending_days": 0,
                "expiration": specs.Expiration(policy=specs.ExpirationPolicy.ROLLING_DAYS, days=2),
                "refunds": specs.Refunds(when_spent=specs.WhenSpent.NEGATIVE_BALANCE),
            }
        ),
    ),
]
REWARDS = st.sampled_from(["free-drink", "five-off", "twenty-percent"])
operations = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 5), st.integers(0, 30000)),
    st.tuples(st.just("refund"), st.integers(0, 5), st.integers(0, 2), st.integers(1, 20000)),
    st.tuples(st.just("redeem"), REWARDS, st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 3)),
    st.tuples(st.just("sweep")),
    st.tuples(st.just("advance"), st.sampled_from([1, 25, 60])),
)


async def apply(
    session: AsyncSession,
    served: program.Program,
    op: tuple[Any, ...],
    now: dt.datetime,
    holds: list[str],
) -> None:
    if op[0] == "order":
        for _ in range(2):  # every order arrives twice: from the app and from the POS
            event = support.completed(
                member_id="m",
                order_key=f"order:{op[1]}",
                order_id=str(op[1]),
                amount_minor=op[2],
                at=now,
            )
            payload = payloads.OrderCompleted.model_validate(event.data)
            order = consumers.order_of(payload)
            await accruals.accrue(
                session, served, member_id="m", order=order, order_key=payload.order_key
            )
    elif op[0] == "refund":
        event = support.refunded(
            member_id="m", order_key=f"order:{op[1]}", order_id=str(op[1]), refund_id=f"r{op[2]}",
            amount_minor=op[3], at=now,
        )  # fmt: skip
        await accruing.refund(
            session, served, event=payloads.OrderRefunded.model_validate(event.data)
        )
    elif op[0] == "redeem":
        hold = await redemptions.reserve(
            session,
            served,
            member_id="m",
            reward_id=op[1],
            hold_id=f"h{len(holds)}",
            order_id="0",
            now=now,
        )
        holds.append(hold.id)
        if op[2]:
            await redemptions.commit(session, served, hold_id=hold.id, now=now)
    elif op[0] == "cancel" and holds:
        await redemptions.cancel(session, served, hold_id=holds[op[1] % len(holds)], now=now)


PER_ORDER = sa.text(
    "SELECT coalesce(max(n), 1) FROM (SELECT count(*) AS n FROM loyalty_entries"
    " WHERE kind = 'accrual' GROUP BY order_key) AS per_order"
)


async def facts_of(
    session: AsyncSession, served: program.Program, now: dt.datetime
) -> dict[str, Any]:
    async def one(sql: str) -> Any:
        return await session.scalar(sa.text(sql))

    return {
        "entries": await one("SELECT coalesce(sum(points), 0) FROM loyalty_entries"),
        "lots": await one("SELECT coalesce(sum(remaining), 0) FROM loyalty_lots"),
        "min_lot": await one("SELECT coalesce(min(remaining), 0) FROM loyalty_lots"),
        "debt": await one("SELECT debt FROM loyalty_members"),
        "accruals_per_order": await session.scalar(PER_ORDER),
        "view": await accounts.view_of(session, served, "m", now=now),
        "qualifying_pure": tiers.qualifying_points(
            [repository._lot(r) for r in await session.execute(sa.select(tables.lots))],
            tiering=served.spec.tiering,
            now=now,
        ),
    }


async def scenario(
    served: program.Program, ops: list[tuple[Any, ...]], folder: Path
) -> dict[str, Any]:
    engine = db.engine_from_url(f"sqlite:///{folder}/ledger.db")
    try:
        await db.migrate(
            engine, version_locations=[main.MIGRATIONS], target_metadata=[tables.metadata]
        )
        sessions = db.sessionmaker_of(engine)
        now = support.T0
        holds: list[str] = []
        async with db.transaction(sessions) as session:
            await accounts.enroll(session, served, member_id="m", birthday=None, now=now)
        for op in ops:
            with contextlib.suppress(errors.LoyaltyError):  # a refusal rolls back, writes nothing
                async with db.transaction(sessions) as session:
                    await apply(session, served, op, now, holds)
            if op[0] == "sweep":
                await redemptions.sweep(sessions, served, now=now)
            elif op[0] == "advance":
                now += dt.timedelta(hours=op[1])
        async with db.transaction(sessions) as session:
            return await facts_of(session, served, now)
    finally:
        await engine.dispose()


def run(served: program.Program, ops: list[tuple[Any, ...]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(scenario(served, ops, Path(folder)))


@settings(max_examples=25, deadline=None)
@given(served=st.sampled_from(VARIANTS), ops=st.lists(operations, min_size=10, max_size=30))
def test_database_ledger_keeps_its_invariants(
    served: program.Program, ops: list[tuple[Any, ...]]
) -> None:
    facts = run(served, ops)
    negative_allowed = served.spec.refunds.when_spent == specs.WhenSpent.NEGATIVE_BALANCE
    assert facts["entries"] == facts["lots"] - facts["debt"]
    assert facts["min_lot"] >= 0
    assert facts["debt"] == 0 or negative_allowed
    assert facts["accruals_per_order"] == 1
    assert facts["view"].balance.available >= 0
    assert facts["view"].standing.qualifying == facts["qualifying_pure"]
