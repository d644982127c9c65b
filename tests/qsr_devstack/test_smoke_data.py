"""PostgreSQL 15 through asyncpg and Redis 7 through redis-py are real servers on loopback."""

from __future__ import annotations

import asyncpg
import pytest
import redis.asyncio as aioredis

from qsr_devstack.testing import Postgres, Redis


@pytest.mark.postgres
async def test_postgres_answers_through_asyncpg(postgres: Postgres) -> None:
    dsn = postgres.create_database("smoke_pg")
    conn = await asyncpg.connect(dsn)
    try:
        version = await conn.fetchval("SHOW server_version_num")
        await conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        async with conn.transaction():
            await conn.execute("INSERT INTO t VALUES (1, 'one')")
        assert await conn.fetchval("SELECT v FROM t WHERE id = 1") == "one"
    finally:
        await conn.close()
    assert 150000 <= int(version) < 160000


@pytest.mark.redis
async def test_redis_answers_through_redis_py(redis: Redis) -> None:
    r = aioredis.from_url(redis.url)
    try:
        await r.set("smoke", "1")
        assert await r.incr("smoke") == 2
        info = await r.info("server")
    finally:
        await r.aclose()
    assert str(info["redis_version"]).startswith("7.")
