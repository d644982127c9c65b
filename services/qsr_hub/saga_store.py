"""Persists checkout sagas: a row per (caller, Idempotency-Key), state as JSON, a runner lease.

A runner holds a saga while its lease runs; a crashed runner's lease lapses and the resumer claims
the saga with one conditional UPDATE, so two processes never drive the same saga at once. Every
access is one statement, atomic on its own: on PostgreSQL it runs on an autocommitting pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from qsr_hub.domain import saga
from qsr_hub.tables import sagas
from qsr_kit import db

ACTIVE = (saga.Phase.RUNNING, saga.Phase.CAPTURING, saga.Phase.COMPENSATING)


@dataclass(frozen=True)
class Stored:
    saga: saga.Saga
    fingerprint: str
    lease_until: datetime


def engine_of(url: str, *, pool_size: int) -> AsyncEngine | None:
    """The saga store's own pool on PostgreSQL (`pool_size` kept, as many again on demand), which
    autocommits: a saga write is its statement after a one-statement pre-ping, 2 round trips,
    where a transaction takes 6 (pre-ping BEGIN, SELECT, ROLLBACK; then BEGIN, statement, COMMIT).
    None on SQLite: the store shares the service's engine and its write-locking transactions."""
    return db.autocommit_engine(url, pool_size=pool_size)


class SagaStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        lease: timedelta,
        statements: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        """`sessions`: the service's transactional sessions (refunds use them too); `statements`:
        where the store's own single statements run (`engine_of`), by default `sessions`."""
        self.sessions = sessions
        self.statements = statements or sessions
        self.lease = lease

    async def create(
        self, state: saga.Saga, *, principal: str, key: str, fingerprint: str, now: datetime
    ) -> bool:
        """Inserts a new saga leased to the caller; False when the key already has one."""
        async with db.transaction(self.statements) as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert(sagas) if dialect == "postgresql" else sqlite.insert(sagas)
            result = await session.execute(
                insert.values(
                    id=state.id,
                    principal=principal,
                    idempotency_key=key,
                    fingerprint=fingerprint,
                    order_id=state.order_id,
                    phase=state.phase.value,
                    state=state.model_dump_json(),
                    lease_until=now + self.lease,
                    created_at=now,
                    updated_at=now,
                ).on_conflict_do_nothing()
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def by_key(self, *, principal: str, key: str) -> Stored | None:
        where = (sagas.c.principal == principal) & (sagas.c.idempotency_key == key)
        return await self._one(where)

    async def by_order(self, order_id: str) -> Stored | None:
        return await self._one(sagas.c.order_id == order_id)

    async def _one(self, where: sa.ColumnElement[bool]) -> Stored | None:
        async with db.transaction(self.statements) as session:
            row = (await session.execute(sa.select(sagas).where(where))).one_or_none()
        if row is None:
            return None
        return Stored(saga.Saga.model_validate_json(row.state), row.fingerprint, row.lease_until)

    async def save(self, state: saga.Saga, *, now: datetime, hold: timedelta | None = None) -> None:
        """Writes the saga after a step; `hold` is how long until another runner may take it."""
        async with db.transaction(self.statements) as session:
            await session.execute(
                sa.update(sagas)
                .where(sagas.c.id == state.id)
                .values(
                    phase=state.phase.value,
                    state=state.model_dump_json(),
                    lease_until=now + (self.lease if hold is None else hold),
                    updated_at=now,
                )
            )

    async def claim(self, saga_id: str, *, now: datetime) -> bool:
        """Takes a saga whose lease lapsed; True when this runner now holds it."""
        async with db.transaction(self.statements) as session:
            result = await session.execute(
                sa.update(sagas)
                .where((sagas.c.id == saga_id) & (sagas.c.lease_until <= now))
                .values(lease_until=now + self.lease)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due(self, *, now: datetime, limit: int = 50) -> list[str]:
        """Sagas with work left whose lease lapsed (a crashed runner, a step to retry)."""
        async with db.transaction(self.statements) as session:
            rows = await session.execute(
                sa.select(sagas.c.id)
                .where(sagas.c.phase.in_([p.value for p in ACTIVE]) & (sagas.c.lease_until <= now))
                .order_by(sagas.c.updated_at)
                .limit(limit)
            )
        return [r.id for r in rows]

    async def by_id(self, saga_id: str) -> saga.Saga | None:
        stored = await self._one(sagas.c.id == saga_id)
        return stored.saga if stored else None
