"""Async SQLAlchemy engines, sessions and migrations for every service database.

PostgreSQL (asyncpg) in a cluster, SQLite (aiosqlite) embedded; the caller's boundary (request,
message, job) commits through `transaction`. Migrations: the kit's Alembic branch + the service's.

    engine = db.engine_from_url(settings.database_url)       # in the lifespan
    await db.migrate(engine, version_locations=[MIGRATIONS], target_metadata=[tables.metadata])
    async with db.transaction(db.sessionmaker_of(engine)) as session: ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from qsr_kit import schema

KIT_MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every replica of every service.
_MIGRATION_LOCK = 7_242_001


def url_of(url: str) -> URL:
    """Normalize a DSN to the async driver: postgresql:// → +asyncpg, sqlite:// → +aiosqlite."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            # Every pooled connection would see its own empty database.
            raise ValueError("database_url: SQLite needs a file path (sqlite:///path/to/file.db)")
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"database_url: unsupported backend {backend!r} (postgresql or sqlite)")


def engine_from_url(
    url: str, *, pool_size: int = 5, echo: bool = False, pre_ping: bool = True
) -> AsyncEngine:
    """An engine for a service database; call it in the lifespan and dispose it there.

    `pre_ping` (PostgreSQL) tests every connection at checkout, one round trip per transaction.
    A hot consumer may turn it off: a connection the server closed then fails on first use
    (`sqlalchemy.exc.InterfaceError`/`OperationalError`, invalidated and dropped from the pool),
    which `consuming.Processor` treats as "database unavailable": nothing is committed, the
    consumer restarts from its committed offsets."""
    parsed = url_of(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(parsed, echo=echo, connect_args={"timeout": 30})
        sa.event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
        return engine
    return create_async_engine(
        parsed, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=pre_ping
    )


def autocommit_engine(url: str, *, pool_size: int) -> AsyncEngine | None:
    """On PostgreSQL, a pool whose connections autocommit (`pool_size` kept, as many again on
    demand): a single statement is one round trip after the pre-ping, not BEGIN, statement,
    COMMIT, and is atomic on its own. None on SQLite, which needs its write-locking transactions."""
    parsed = url_of(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    return create_async_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        isolation_level="AUTOCOMMIT",
    )


def sessionmaker_of(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits when the block ends, rolls back if it raises."""
    async with sessions() as session, session.begin():
        yield session


async def ping(engine: AsyncEngine) -> None:
    """A readiness check: raises if the database does not answer."""
    async with engine.connect() as connection:
        await connection.execute(sa.text("SELECT 1"))


async def migrate(
    engine: AsyncEngine,
    *,
    version_locations: Sequence[Path] = (),
    target_metadata: Sequence[sa.MetaData] = (),
    revision: str = "heads",
) -> None:
    """Upgrade the kit's branch and the service's branches to `revision`; safe to run from every
    replica at startup (PostgreSQL: serialized by an advisory lock held for the transaction)."""
    config = _alembic_config(version_locations, target_metadata)
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
        await connection.run_sync(_upgrade, config, revision)
        await connection.commit()


def _alembic_config(locations: Sequence[Path], metadata: Sequence[sa.MetaData]) -> Config:
    config = Config()
    config.set_main_option("script_location", str(KIT_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    paths = [KIT_MIGRATIONS / "versions", *locations]
    config.set_main_option("version_locations", ":".join(str(p) for p in paths))
    config.attributes["target_metadata"] = [schema.metadata, *metadata]
    return config


def _upgrade(connection: sa.Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, open transactions, so _sqlite_on_begin can take the write
    # lock up front: a deferred transaction that later writes can fail with "database is locked".
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
