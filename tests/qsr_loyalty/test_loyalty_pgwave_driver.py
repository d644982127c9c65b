"""The wave's statements run on the session's own asyncpg connection only inside the session's
transaction (after its first statement), so they commit and roll back with it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from qsr_devstack import testing
from qsr_kit import db
from qsr_kit.domain import payloads
from qsr_loyalty import accruals, consumers, pgwave
from tests.qsr_loyalty import support

pytestmark = [pytest.mark.postgres]


@pytest.fixture
async def service(postgres: testing.Postgres) -> AsyncIterator[support.Service]:
    dsn = postgres.create_database(f"loyalty_wave_{uuid.uuid4().hex[:10]}")
    async with support.running(dsn, consume=False) as running:
        assert (await running.enroll("m-1")).status_code == 201
        yield running


async def test_driver_is_offered_only_once_the_transaction_has_begun(
    service: support.Service,
) -> None:
    async with db.transaction(service.app.state.loyalty_sessions) as session:
        before = await pgwave.driver_of(session)
        await session.execute(sa.text("SELECT 1"))
        during = await pgwave.driver_of(session)
        in_transaction = during is not None and during.is_in_transaction()
    assert (before, in_transaction) == (None, True)


async def test_an_accrual_on_the_driver_rolls_back_with_the_session(
    service: support.Service,
) -> None:
    sessions = service.app.state.loyalty_sessions
    served = service.app.state.loyalty_program
    event = support.completed(member_id="m-1", order_key="order:rolled-back")
    order = consumers.order_of(payloads.OrderCompleted.model_validate(event.data))
    accrued = None
    with pytest.raises(RuntimeError, match="abandon"):
        async with db.transaction(sessions) as session:
            await session.execute(sa.text("SELECT 1"))  # as the consumer's inbox row does
            assert await pgwave.driver_of(session) is not None
            accrued = await accruals.accrue(
                session, served, member_id="m-1", order=order, order_key="order:rolled-back"
            )
            raise RuntimeError("abandon the transaction")
    async with db.transaction(sessions) as session:
        kept = await session.scalar(sa.text("SELECT count(*) FROM loyalty_orders"))
    assert (accrued is not None, kept) == (True, 0)
