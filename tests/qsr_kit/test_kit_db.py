"""Engines, the unit-of-work boundary and migrations of `qsr_kit.db`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from qsr_kit import db, schema


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
    return set(names)


async def test_migrate_creates_the_kit_tables(engine: AsyncEngine) -> None:
    assert {"qsr_outbox", "qsr_inbox", "qsr_idempotency_keys"} <= await table_names(engine)


async def test_migrate_twice_changes_nothing(engine: AsyncEngine) -> None:
    before = await table_names(engine)
    await db.migrate(engine)
    assert await table_names(engine) == before


async def test_transaction_commits_at_the_end_of_the_block(engine: AsyncEngine) -> None:
    sessions = db.sessionmaker_of(engine)
    async with db.transaction(sessions) as session:
        await session.execute(sa.insert(schema.inbox).values(**inbox_row("e-1")))
    async with db.transaction(sessions) as session:
        count = await session.scalar(sa.select(sa.func.count()).select_from(schema.inbox))
    assert count == 1


async def test_transaction_rolls_back_when_the_block_raises(engine: AsyncEngine) -> None:
    sessions = db.sessionmaker_of(engine)
    with pytest.raises(RuntimeError):
        async with db.transaction(sessions) as session:
            await session.execute(sa.insert(schema.inbox).values(**inbox_row("e-1")))
            raise RuntimeError("effect failed")
    async with db.transaction(sessions) as session:
        count = await session.scalar(sa.select(sa.func.count()).select_from(schema.inbox))
    assert count == 0


async def test_datetimes_come_back_aware_in_utc(engine: AsyncEngine) -> None:
    sessions = db.sessionmaker_of(engine)
    at = datetime(2026, 11, 25, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    async with db.transaction(sessions) as session:
        await session.execute(
            sa.insert(schema.inbox).values(**{**inbox_row("e-1"), "processed_at": at})
        )
    async with db.transaction(sessions) as session:
        stored = await session.scalar(sa.select(schema.inbox.c.processed_at))
    assert stored == at
    assert stored is not None and stored.tzinfo is not None


async def test_ping_succeeds_on_a_live_database(engine: AsyncEngine) -> None:
    await db.ping(engine)
    assert await table_names(engine)


def test_url_of_picks_the_async_driver() -> None:
    assert db.url_of("postgresql://u@h/d").drivername == "postgresql+asyncpg"
    assert db.url_of("sqlite:///x.db").drivername == "sqlite+aiosqlite"


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("mysql://u@h/d", id="mysql"),
        pytest.param("sqlite://", id="sqlite-memory-implicit"),
        pytest.param("sqlite:///:memory:", id="sqlite-memory"),
    ],
)
def test_url_of_rejects_what_cannot_hold_service_state(url: str) -> None:
    with pytest.raises(ValueError, match="database_url"):
        db.url_of(url)


def inbox_row(event_id: str) -> dict[str, object]:
    return {
        "consumer_group": "g",
        "event_id": event_id,
        "event_type": "io.qsr.order.completed.v1",
        "topic": "t",
        "partition": 0,
        "offset": 0,
        "processed_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
