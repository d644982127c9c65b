"""The consumer's engine has no pre-ping (one round trip less per transaction): a pooled
PostgreSQL connection killed by the server is still survived, through real Kafka."""

from __future__ import annotations

import logging

import asyncpg
import pytest

from tests.qsr_loyalty import support
from tests.qsr_loyalty.test_loyalty_kafka import (  # noqa: F401 (fixtures)
    Setup,
    accrual_count,
    outcomes,
    publish,
    setup,
    until_consumed,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def _terminate_backends(dsn: str) -> int:
    """pg_terminate_backend every other connection to the database; how many were killed."""
    connection = await asyncpg.connect(dsn)
    try:
        killed = await connection.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return int(killed)


def _driver_pid(service: support.Service) -> int | None:
    """The backend of the consumer's raw-driver connection (qsr_kit.inbox); None if it has none."""
    direct = service.app.state.loyalty_processor.direct
    assert direct is not None  # the accrual path runs on the driver on PostgreSQL
    connection = direct.connection
    return None if connection is None or connection.is_closed() else connection.get_server_pid()


async def test_consumer_survives_its_connection_killed_by_the_server(
    setup: Setup,  # noqa: F811
    publish: object,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="qsr_kit.kafka")
    send = publish
    assert callable(send)
    async with setup.running() as service:
        assert (await service.enroll("m-1")).status_code == 201
        await send(support.completed(member_id="m-1", order_key="order:before"))
        await until_consumed(service, processed=1)
        before = _driver_pid(service)
        killed = await _terminate_backends(setup.dsn)
        await send(support.completed(member_id="m-1", order_key="order:after"))
        await until_consumed(service, processed=2)
        restarted = any("restarting" in r.getMessage() for r in caplog.records)
        facts = (
            killed > 0,
            # the kill was hit: the consumer restarted from its offsets, or its driver
            # connection saw the close and the next transaction ran on a new backend
            restarted or _driver_pid(service) != before,
            await accrual_count(service),
            outcomes(service, "qsr-loyalty", "retry") + outcomes(service, "qsr-loyalty", "dead"),
        )
    assert facts == (True, True, 2, 0)
