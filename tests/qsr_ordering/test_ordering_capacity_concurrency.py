"""Kitchen capacity under concurrency on real PostgreSQL: a slot never takes more than N."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from qsr_kit import db
from qsr_ordering.tables import orders
from tests.qsr_ordering.service import config_dir, order_body, running

pytestmark = pytest.mark.postgres


async def test_concurrent_orders_for_one_slot_never_exceed_its_capacity(
    postgres: object, cms_url: str, tmp_path: Path
) -> None:
    url = postgres.create_database(f"ordering_cap_{uuid.uuid4().hex[:10]}")  # type: ignore[attr-defined]
    async with running(
        url, cms_url=cms_url, config=config_dir(tmp_path, orders_per_slot=5)
    ) as ordering:
        answers = await asyncio.gather(*(ordering.place(order_body()) for _ in range(20)))
        async with db.transaction(ordering.app.state.ordering.sessions) as session:
            placed = await session.scalar(sa.select(sa.func.count()).select_from(orders))

    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 5 + [409] * 15
    assert placed == 5
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"slot-full"}
