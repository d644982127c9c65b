"""Databases for the kit tests: a migrated engine per backend (SQLite file, PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from qsr_kit import db


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kit.db'}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kit.db'}"
    postgres = request.getfixturevalue("postgres")
    return str(postgres.create_database(f"kit_{uuid.uuid4().hex[:12]}"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.engine_from_url(database_url)
    await db.migrate(engine)
    yield engine
    await engine.dispose()
