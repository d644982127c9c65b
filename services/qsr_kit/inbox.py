"""The consumer's inbox rows: in the session's transaction (`record`, any backend), or a whole
consumer transaction on a raw asyncpg connection (`Inbox`, PostgreSQL only): BEGIN, the inbox rows,
the handler's statements, COMMIT — no SQLAlchemy session, execution or greenlet layer on the hot
path. Used by `consuming.Processor(driver_handler=...)`; the session path stays for everything else.

One connection per Processor, opened on first use and held (one transaction at a time, like
the consumer loop). One the server closed between transactions is replaced before the next; one
lost during a transaction is dropped and the error raised as SQLAlchemy's
(`sa.exc.OperationalError`), so the Processor reports "database unavailable" exactly as on the
session path: nothing committed, the consumer restarts from its committed offsets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qsr_kit import schema

T = TypeVar("T")

_INBOX_COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "event_id": sa.String(),
    "event_type": sa.String(),
    "topic": sa.String(),
    "partition": sa.Integer(),
    "offset": sa.BigInteger(),
}
# PostgreSQL: the whole batch as one array per column, one statement text for every batch size
# (an executemany would execute once per row; a multi-row VALUES list has a text per size).
_INBOX_UNNEST = sa.text(
    'INSERT INTO qsr_inbox (consumer_group, event_id, event_type, topic, partition, "offset",'
    " processed_at) SELECT :group, u.*, :processed_at FROM unnest(CAST(:event_id AS varchar[]),"
    " CAST(:event_type AS varchar[]), CAST(:topic AS varchar[]), CAST(:partition AS integer[]),"
    " CAST(:offset AS bigint[])) AS u ON CONFLICT DO NOTHING RETURNING event_id"
).bindparams(
    sa.bindparam("group", type_=sa.String()),
    sa.bindparam("processed_at", type_=schema.UtcDateTime()),
    *(sa.bindparam(name, type_=postgresql.ARRAY(kind)) for name, kind in _INBOX_COLUMNS.items()),
)


async def record(session: AsyncSession, rows: Sequence[dict[str, object]]) -> set[str]:
    """Insert the inbox rows of a transaction, skipping ids already there; the ids inserted."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        params: dict[str, object] = {name: [row[name] for row in rows] for name in _INBOX_COLUMNS}
        params.update(group=rows[0]["consumer_group"], processed_at=rows[0]["processed_at"])
        result = await connection.execute(_INBOX_UNNEST, params)
    else:
        insert = sqlite.insert(schema.inbox).on_conflict_do_nothing()
        result = await connection.execute(insert.returning(schema.inbox.c.event_id), list(rows))
    return {str(event_id) for event_id in result.scalars()}


# The same statement as `_INBOX_UNNEST`, in the driver's own form.
INBOX_SQL = (
    'INSERT INTO qsr_inbox (consumer_group, event_id, event_type, topic, partition, "offset",'
    " processed_at) SELECT CAST($1 AS varchar), u.*, CAST($2 AS timestamptz) FROM unnest("
    "CAST($3 AS varchar[]),"
    " CAST($4 AS varchar[]), CAST($5 AS varchar[]), CAST($6 AS integer[]),"
    " CAST($7 AS bigint[])) AS u ON CONFLICT DO NOTHING RETURNING event_id"
)
# The connection is gone or unusable: "database unavailable", never the event's fault.
_LOST: tuple[type[BaseException], ...] = (
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, pg_terminate_backend
    OSError,
    TimeoutError,
)


def dsn_of(engine: AsyncEngine) -> str | None:
    """A plain asyncpg DSN for the engine's database; None when it is not PostgreSQL."""
    if engine.dialect.name != "postgresql":
        return None
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class Inbox:
    """Transactions of one consumer group on one held asyncpg connection."""

    def __init__(self, dsn: str, *, group: str) -> None:
        self._dsn, self.group = dsn, group
        self.connection: asyncpg.Connection | None = None  # the bench hooks its query logger
        self._lock = asyncio.Lock()

    async def run(
        self,
        inbox: tuple[list[str], list[str], list[str], list[int], list[int]],
        now: datetime,
        body: Callable[[asyncpg.Connection, set[str]], Awaitable[T]],
    ) -> T:
        """In one transaction: insert the inbox rows (ids, types, topics, partitions, offsets),
        then `body(connection, fresh ids)`; commit. Raises what `body` raises (rolled back)."""
        async with self._lock:
            try:
                connection = await self._connection()
                transaction = connection.transaction()
                await transaction.start()
                try:
                    rows = await connection.fetch(INBOX_SQL, self.group, now, *inbox)
                    result = await body(connection, {row[0] for row in rows})
                except BaseException:
                    if not connection.is_closed():
                        await transaction.rollback()
                    raise
                await transaction.commit()
                return result
            except _LOST as exc:
                await self._drop()
                raise sa.exc.OperationalError("asyncpg", (), exc) from exc
            except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError):
                await self._drop()  # the handler's statements lost the connection
                raise
            except asyncpg.PostgresError as exc:
                raise sa.exc.DBAPIError("asyncpg", (), exc) from exc
            except asyncio.CancelledError:
                await self._drop()  # mid-statement: the connection's state is unknown
                raise

    async def _connection(self) -> asyncpg.Connection:
        if self.connection is None or self.connection.is_closed():
            self.connection = await asyncpg.connect(self._dsn)
        return self.connection

    async def _drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.terminate()

    async def aclose(self) -> None:
        """Close the held connection (the service's lifespan, at shutdown)."""
        async with self._lock:
            connection, self.connection = self.connection, None
            if connection is not None:
                await connection.close()
