"""What the pipeline tests and their crashing subprocess share: an effects table, a handler that
writes one row per processed event, and event builders. Effects have NO unique constraint on the
event id, so a double effect would be visible as two rows."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qsr_kit import consuming, db
from qsr_kit.domain import events, payloads, specs

from .test_kit_events import NOW, TRACEPARENT

test_metadata = sa.MetaData()
effects = sa.Table(
    "test_effects",
    test_metadata,
    sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(200), nullable=False),
    sa.Column("order_key", sa.String(200), nullable=False),
)


class Switch:
    """A handler that fails while `broken` is set (the bug a replay follows the fix of), or
    only for the event ids in `broken_ids`."""

    def __init__(self, *, broken: bool = False, broken_ids: frozenset[str] = frozenset()) -> None:
        self.broken = broken
        self.broken_ids = broken_ids

    async def handle(
        self, session: AsyncSession, envelope: events.Envelope, payload: events.Payload
    ) -> None:
        if self.broken or envelope.id in self.broken_ids:
            raise RuntimeError("ledger bug: cannot accrue")
        assert isinstance(payload, payloads.OrderCompleted)
        await session.execute(
            sa.insert(effects).values(event_id=envelope.id, order_key=payload.order_key)
        )


async def prepare(engine: AsyncEngine) -> None:
    await db.migrate(engine)
    async with engine.begin() as connection:
        await connection.run_sync(test_metadata.create_all)


async def effect_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.select(effects.c.event_id, sa.func.count()).group_by(effects.c.event_id)
        )
        return {event_id: count for event_id, count in rows}


def order_event(event_id: str, *, store: str = "store-1", seq: int = 0) -> events.Envelope:
    payload = payloads.OrderCompleted(
        order_id=f"ord-{event_id}",
        store_id=store,
        member_id="mem-1",
        program="rewards",
        origin=payloads.Origin.APP,
        order_key=f"{store}:{seq}",
        channel=specs.Channel.KIOSK,
        completed_at=NOW,
        currency="USD",
        subtotal_minor=1000 + seq,
    )
    return events.envelope_of(
        payload,
        event_id=events.EventId(event_id),
        source="/qsr/test",
        time=NOW,
        traceparent=TRACEPARENT,
    )


def processor(
    engine: AsyncEngine, publisher: object, switch: Switch, *, group: str = "loyalty"
) -> consuming.Processor:
    return consuming.Processor(
        group=group,
        sessions=db.sessionmaker_of(engine),
        handler=switch.handle,
        registry=payloads.REGISTRY,
        publisher=publisher,  # type: ignore[arg-type]
        policy=consuming.RetryPolicy(attempts=2, backoff_s=0.01, retry_rounds=1, retry_delay_s=0.2),
    )
