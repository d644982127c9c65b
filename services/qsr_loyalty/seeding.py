"""A few demo members for the embedded mode (`qsr run`), credited through the real consumer path.

Deterministic member ids, order keys and event ids: the inbox and the natural keys make a second
`qsr run` on the same database a no-op.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qsr_kit import bus, consuming, db
from qsr_kit.domain import events as event_model
from qsr_kit.domain import payloads, specs
from qsr_loyalty import accounts, repository
from qsr_loyalty.program import Program

MEMBERS: dict[str, tuple[dt.date | None, tuple[int, ...]]] = {
    "m-1001": (dt.date(1990, 11, 10), (1299, 2499, 850)),
    "m-1002": (None, (4599,)),
    "m-1003": (None, ()),
}


async def seed(
    sessions: async_sessionmaker[AsyncSession],
    program: Program,
    processor: consuming.Processor,
    *,
    now: dt.datetime,
) -> list[str]:
    """Enroll the demo members (if absent) and credit their orders, placed three days ago."""
    for member_id, (birthday, _) in MEMBERS.items():
        async with db.transaction(sessions) as session:
            if await repository.member(session, member_id) is None:
                await accounts.enroll(
                    session, program, member_id=member_id, birthday=birthday, now=now
                )
    store = next(iter(program.zones), "store-0001")
    placed = now - dt.timedelta(days=3)
    for member_id, (_, amounts) in MEMBERS.items():
        for n, amount in enumerate(amounts):
            payload = payloads.OrderCompleted(
                order_id=f"seed-{member_id}-{n}", store_id=store, member_id=member_id,
                program=program.name, origin=payloads.Origin.APP,
                order_key=f"order:seed-{member_id}-{n}", channel=specs.Channel.MOBILE_PICKUP,
                completed_at=placed, currency=program.spec.currency, subtotal_minor=amount,
            )  # fmt: skip
            envelope = event_model.envelope_of(
                payload, event_id=event_model.EventId(f"seed:{member_id}:{n}"),
                source="/qsr/seed", time=placed,
            )  # fmt: skip
            record = bus.Record(
                topic=program.orders_topic, key=store.encode(), value=event_model.to_bytes(envelope)
            )
            await processor.process(record)
    return list(MEMBERS)
