"""A partition batch in one transaction (set-based accruals, in waves) leaves exactly the ledger,
outbox and inbox that the same events leave one by one, on SQLite and on real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from qsr_kit import bus, consuming, db
from qsr_kit.domain import events, payloads
from qsr_loyalty import accruals, bulk, consumers
from tests.qsr_loyalty import support

T0 = support.T0


def _events() -> list[events.Envelope]:
    """Orders of two members with a tier crossing and the daily cap inside one batch, the same
    order from the app and the POS, a redelivered event, an unknown member, a refund parked before
    its order and one after it, and a cancellation between orders."""
    at = [T0 + dt.timedelta(minutes=i) for i in range(20)]

    def order(n: int, member: str, minor: int, **kw: Any) -> events.Envelope:
        return support.completed(
            member_id=member, order_key=f"order:o{n}", order_id=f"o{n}", amount_minor=minor,
            at=at[n], event_id=kw.pop("event_id", f"e-o{n}"), **kw,
        )  # fmt: skip

    refund_early = support.refunded(
        member_id="m-b", order_key="order:o7", order_id="o7", refund_id="r7", amount_minor=500,
        at=at[1],
    )  # fmt: skip
    refund_late = support.refunded(
        member_id="m-a", order_key="order:o1", order_id="o1", refund_id="r1", amount_minor=7500,
        at=at[9],
    )  # fmt: skip
    return [
        order(1, "m-a", 15000),
        refund_early,
        order(2, "m-a", 15000),
        order(3, "m-b", 1299),
        order(2, "m-a", 15000, event_id="e-o2-pos"),  # the POS reports order 2 again
        order(4, "m-a", 15000),
        order(3, "m-b", 1299),  # redelivered: the same event id
        order(5, "ghost", 5000),  # not enrolled
        support.cancelled(order_id="o3", at=at[6]),
        order(6, "m-a", 15000),
        order(7, "m-b", 1000),
        refund_late,
        order(8, "m-b", 2000),
    ]


EVENTS = _events()
_ORDER = consumers.order_of(
    payloads.OrderCompleted.model_validate(EVENTS[0].data)
)  # built once: refunds and cancellations get random event ids


def _record(envelope: events.Envelope, topic: str, offset: int) -> bus.Record:
    return bus.Record(
        topic=topic, key=envelope.partitionkey.encode(), value=events.to_bytes(envelope),
        headers=tuple(events.headers_of(envelope)), partition=0, offset=offset,
    )  # fmt: skip


SNAPSHOT = {
    "members": "SELECT member_id, tier, debt, orders, birthday_bonus_year FROM loyalty_members",
    "lots": "SELECT id, member_id, source, points, remaining, reversed, earned_at, available_at,"
    " expires_at, business_date, order_key FROM loyalty_lots",
    "entries": "SELECT key, member_id, kind, points, at, reason, order_key, lot_id, hold_id, detail"
    " FROM loyalty_entries",
    "orders": "SELECT * FROM loyalty_orders",
    "refunds": "SELECT * FROM loyalty_refunds",
    "outbox": "SELECT event_id, event_type, topic, key, value FROM qsr_outbox",
    "inbox": 'SELECT event_id, event_type, topic, partition, "offset" FROM qsr_inbox',
}


async def _run(
    url: str, caplog: pytest.LogCaptureFixture, *, batched: bool
) -> tuple[list[consuming.Outcome], dict[str, Any]]:
    caplog.set_level(logging.INFO, logger="qsr_kit.consuming")  # a failed batch says so
    async with support.running(url, consume=False) as service:
        for member in ("m-a", "m-b"):
            assert (await service.enroll(member)).status_code == 201
        processor: consuming.Processor = service.app.state.loyalty_processor
        topic = service.app.state.loyalty_program.orders_topic
        records = [_record(e, topic, i) for i, e in enumerate(EVENTS)]
        if batched:
            outcomes = await processor.process_batch(records)
            assert not [r for r in caplog.records if "one by one" in r.getMessage()]
        else:
            outcomes = [await processor.process(r) for r in records]
        async with db.transaction(service.app.state.loyalty_sessions) as session:
            state = {
                name: sorted(
                    tuple(str(v) for v in row) for row in await session.execute(sa.text(q))
                )
                for name, q in SNAPSHOT.items()
            }
    return outcomes, state


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    def url(name: str) -> str:
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path}/{name}.db"
        pg = request.getfixturevalue("postgres")
        return str(pg.create_database(f"loyalty_{name}_{uuid.uuid4().hex[:8]}"))

    return url


async def test_batch_leaves_the_state_of_one_by_one(
    database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    single = await _run(database("single"), caplog, batched=False)
    batch = await _run(database("batch"), caplog, batched=True)  # one transaction, no fallback
    assert batch == single


async def test_batch_covers_tier_change_cap_refunds_and_duplicates(
    database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    outcomes, state = await _run(database("covers"), caplog, batched=True)
    kinds = sorted(row[1] for row in state["outbox"])
    facts = (
        outcomes.count(consuming.Outcome.DUPLICATE),
        len(state["orders"]),
        "io.qsr.loyalty.tier.changed.v1" in kinds,
        any("earning.caps.perDay" in row[9] for row in state["entries"]),
        sorted(row[0] for row in state["entries"] if row[2] == "reversal"),
    )
    assert facts == (1, 7, True, True, ["reversal:order:o1:1", "reversal:order:o7:1"])


def test_waves_keep_each_member_and_each_order_in_order() -> None:
    items = [
        accruals.Completed(member, _ORDER, key)
        for member, key in [("a", "k1"), ("b", "k2"), ("a", "k3"), ("c", "k2"), ("d", "k4")]
    ]
    assert accruals.waves(items) == [[0, 1, 4], [2, 3]]


async def test_a_wrong_event_in_a_batch_is_dead_lettered_alone(database: Any) -> None:
    good = [
        support.completed(member_id="m-a", order_key=f"order:g{i}", order_id=f"g{i}")
        for i in range(2)
    ]
    wrong = events.envelope_of(
        payloads.OrderCompleted.model_validate({**support.completed(
            member_id="m-a", order_key="order:eur", order_id="eur").data, "currency": "EUR"}),
        event_id=events.EventId("e-eur"), source="/qsr/test", time=T0,
    )  # fmt: skip
    async with support.running(database("wrong"), consume=False) as service:
        assert (await service.enroll("m-a")).status_code == 201
        topic = service.app.state.loyalty_program.orders_topic
        records = [_record(e, topic, i) for i, e in enumerate([good[0], wrong, good[1]])]
        outcomes = await service.app.state.loyalty_processor.process_batch(records)
        async with db.transaction(service.app.state.loyalty_sessions) as session:
            keys = await session.execute(sa.text("SELECT order_key FROM loyalty_orders"))
            earned = sorted(k for (k,) in keys)
    assert (outcomes, earned) == (
        [consuming.Outcome.PROCESSED, consuming.Outcome.DEAD, consuming.Outcome.PROCESSED],
        ["order:g0", "order:g1"],
    )


@pytest.mark.postgres
async def test_fused_postgres_statements_leave_the_state_of_the_portable_ones(
    postgres: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def url(name: str) -> str:
        return str(postgres.create_database(f"loyalty_{name}_{uuid.uuid4().hex[:8]}"))

    fused = await _run(url("fused"), caplog, batched=True)
    monkeypatch.setattr(bulk, "postgres", lambda session: False)  # accruals takes this path
    portable = await _run(url("portable"), caplog, batched=False)
    assert fused == portable
