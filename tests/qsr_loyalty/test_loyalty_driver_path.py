"""The accrual path on the raw asyncpg connection (`consuming.Processor(driver_handler=...)`,
`qsr_kit.inbox`) leaves exactly the ledger, outbox and inbox of the SQLAlchemy session path,
one event per transaction (`process_each`) and per batch; events it does not handle itself (a
refund, a cancellation) fall back to the session path. Real PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from qsr_kit import consuming, db
from qsr_kit.domain import payloads
from tests.qsr_loyalty import support
from tests.qsr_loyalty.test_loyalty_batch import EVENTS, SNAPSHOT, _record

pytestmark = pytest.mark.postgres
ORDERS_ONLY = [e for e in EVENTS if e.type == payloads.OrderCompleted.event_type]


def _session_path(processor: consuming.Processor) -> consuming.Processor:
    """The service's processor without its driver handler."""
    return consuming.Processor(
        group=processor.group, sessions=processor.sessions, handler=processor.handler,
        batch_handler=processor.batch_handler, registry=processor.registry,
        publisher=processor.publisher,
    )  # fmt: skip


async def _run(postgres: Any, mode: str, events: Any) -> tuple[list[consuming.Outcome], Any]:
    url = str(postgres.create_database(f"loyalty_driver_{uuid.uuid4().hex[:8]}"))
    async with support.running(url, consume=False) as service:
        for member in ("m-a", "m-b"):
            assert (await service.enroll(member)).status_code == 201
        processor: consuming.Processor = service.app.state.loyalty_processor
        assert processor.direct is not None  # PostgreSQL: the service runs the driver path
        topic = service.app.state.loyalty_program.orders_topic
        records = [_record(e, topic, i) for i, e in enumerate(events)]
        if mode == "session-one-by-one":
            path = _session_path(processor)
            outcomes = [await path.process(r) for r in records]
        elif mode == "session-batch":
            outcomes = await _session_path(processor).process_batch(records)
        elif mode == "driver-each":
            outcomes = await processor.process_each(records)
        else:
            outcomes = await processor.process_batch(records)
        if mode.startswith("driver"):
            assert processor.direct.connection is not None  # the driver path ran
        async with db.transaction(service.app.state.loyalty_sessions) as session:
            state = {
                name: sorted(
                    tuple(str(v) for v in row) for row in await session.execute(sa.text(q))
                )
                for name, q in SNAPSHOT.items()
            }
    return outcomes, state


async def test_each_on_the_driver_leaves_the_state_of_the_session_path(postgres: Any) -> None:
    driver = await _run(postgres, "driver-each", ORDERS_ONLY)
    session = await _run(postgres, "session-one-by-one", ORDERS_ONLY)
    assert driver == session


async def test_a_batch_on_the_driver_leaves_the_state_of_the_session_path(postgres: Any) -> None:
    driver = await _run(postgres, "driver-batch", ORDERS_ONLY)
    session = await _run(postgres, "session-batch", ORDERS_ONLY)
    assert driver == session


async def test_the_driver_path_writes_tier_changes_and_caps(postgres: Any) -> None:
    outcomes, state = await _run(postgres, "driver-batch", ORDERS_ONLY)
    kinds = sorted(row[1] for row in state["outbox"])
    facts = (
        outcomes.count(consuming.Outcome.DUPLICATE),
        len(state["orders"]),
        "io.qsr.loyalty.tier.changed.v1" in kinds,
        any("earning.caps.perDay" in row[9] for row in state["entries"]),
    )
    assert facts == (1, 7, True, True)


async def test_refunds_and_cancellations_fall_back_to_the_session_path(postgres: Any) -> None:
    driver = await _run(postgres, "driver-each", EVENTS)
    session = await _run(postgres, "session-one-by-one", EVENTS)
    assert driver == session
