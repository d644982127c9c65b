"""POS ingest: verify → keep the raw webhook → answer fast; a worker transforms it later.

`receive` runs on the request path (signature, JSON, vendor schema, one insert on the route's own
small pool, never the main one) so the vendor gets its 2xx well inside its budget (Toast: 2 s).
`process_pending` turns kept webhooks into canonical order.completed events in the outbox; a
check's natural key is claimed once, so duplicate and re-sent webhooks never announce a purchase
twice. Bad bodies are kept with the field at fault.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from qsr_hub.config import Config
from qsr_hub.domain import pos, signatures
from qsr_hub.tables import pos_completions, pos_events
from qsr_kit import db, outbox
from qsr_kit.domain import events, specs, topics

SOURCE = "/qsr/hub/pos"


@dataclass(frozen=True)
class Receipt:
    id: int | None
    duplicate: bool


class Rejected(Exception):
    """A webhook body we cannot read; it was kept (`event_id`) with the field at fault."""

    def __init__(self, error: pos.PayloadError, event_id: int | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.event_id = event_id


def engine_of(url: str, *, pool_size: int) -> AsyncEngine:
    """The webhook route's own small pool (`pool_size` kept, as many again on demand). On
    PostgreSQL it autocommits: keeping a webhook is one INSERT round trip after the pool's
    pre-ping, not BEGIN, INSERT, COMMIT; each statement is atomic on its own."""
    engine = db.autocommit_engine(url, pool_size=pool_size)
    return engine if engine is not None else db.engine_from_url(url, pool_size=pool_size)


def _insert(session: AsyncSession, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    return (
        postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    ).on_conflict_do_nothing()


async def receive(
    sessions: async_sessionmaker[AsyncSession],
    config: Config,
    *,
    store_id: str,
    raw: bytes,
    timestamp: str | None,
    signature: str | None,
    now: datetime,
) -> Receipt:
    store = config.store(store_id)
    secret = config.secret(store.pos.webhook_secret_ref).encode()
    signatures.verify(secret, timestamp=timestamp, signature=signature, body=raw, now=now)
    digest = hashlib.sha256(raw).hexdigest()
    row = {
        "store_id": store_id,
        "pos_type": store.pos.type.value,
        "digest": digest,
        "body": raw.decode("utf-8", errors="replace"),
        "received_at": now,
    }
    try:
        _checks(store, raw)
    except pos.PayloadError as error:
        kept = await _keep(
            sessions,
            {**row, "status": "rejected", "error_field": error.field, "error": error.reason},
        )
        raise Rejected(error, kept.id) from None
    return await _keep(sessions, {**row, "status": "received"})


def _checks(store: specs.StoreIntegrationSpec, raw: bytes) -> tuple[pos.Check, ...]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise pos.PayloadError("$", f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise pos.PayloadError("$", "expected a JSON object")
    return pos.checks_of(store.pos.type, body, store=store)


async def _keep(sessions: async_sessionmaker[AsyncSession], row: dict[str, Any]) -> Receipt:
    async with db.transaction(sessions) as session:
        inserted = await session.execute(
            _insert(session, pos_events).values(**row).returning(pos_events.c.id)
        )
        new_id = inserted.scalar_one_or_none()
        if new_id is not None:
            return Receipt(id=int(new_id), duplicate=False)
        where = (pos_events.c.store_id == row["store_id"]) & (pos_events.c.digest == row["digest"])
        return Receipt(
            id=await session.scalar(sa.select(pos_events.c.id).where(where)), duplicate=True
        )


async def process_pending(
    sessions: async_sessionmaker[AsyncSession],
    config: Config,
    *,
    namespace: str,
    now: datetime,
    limit: int = 100,
) -> int:
    """Transforms up to `limit` received webhooks, one transaction each; returns how many."""
    async with db.transaction(sessions) as session:
        ids = list(
            await session.scalars(
                sa.select(pos_events.c.id)
                .where(pos_events.c.status == "received")
                .order_by(pos_events.c.id)
                .limit(limit)
            )
        )
    for event_id in ids:
        async with db.transaction(sessions) as session:
            await _process(session, config, event_id, namespace=namespace, now=now)
        await asyncio.sleep(0)  # let waiting requests (webhooks, checkouts) run between records
    return len(ids)


async def _process(
    session: AsyncSession, config: Config, event_id: int, *, namespace: str, now: datetime
) -> None:
    row = (await session.execute(sa.select(pos_events).where(pos_events.c.id == event_id))).one()
    if row.status != "received":
        return
    store = config.store(row.store_id)
    program = store.program_ref.name
    topic = topics.topic_name(namespace=namespace, program=program, stream=topics.Stream.ORDERS)
    report: dict[str, Any] = {"announced": [], "alreadyAnnounced": [], "open": [], "unmapped": []}
    for check in _checks(store, row.body.encode()):
        if not check.is_completed:
            report["open"].append(check.order_key)
            continue
        done = pos.completed_of(check, store=store, program=program)
        report["unmapped"] += [
            {"posItemId": u.pos_item_id, "field": u.field} for u in done.unmapped
        ]
        claimed = await session.execute(
            _insert(session, pos_completions).values(
                order_key=check.order_key,
                event_id=done.event_id,
                pos_event_id=event_id,
                created_at=now,
            )
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            report["alreadyAnnounced"].append(check.order_key)
            continue
        envelope = events.envelope_of(
            done.event, event_id=events.EventId(done.event_id), source=SOURCE, time=now
        )
        await outbox.add(session, envelope, topic=topic)
        report["announced"].append(check.order_key)
    status = "processed" if report["announced"] or report["alreadyAnnounced"] else "ignored"
    await session.execute(
        sa.update(pos_events)
        .where(pos_events.c.id == event_id)
        .values(status=status, report=report, processed_at=now)
    )


async def event_of(
    sessions: async_sessionmaker[AsyncSession], *, store_id: str, event_id: int
) -> dict[str, Any] | None:
    """A kept webhook for inspection: status, the field at fault, the processing report."""
    async with db.transaction(sessions) as session:
        row = (
            await session.execute(
                sa.select(pos_events).where(
                    (pos_events.c.id == event_id) & (pos_events.c.store_id == store_id)
                )
            )
        ).one_or_none()
    if row is None:
        return None
    return {
        "id": row.id,
        "storeId": row.store_id,
        "posType": row.pos_type,
        "status": row.status,
        "errorField": row.error_field,
        "error": row.error,
        "report": row.report,
        "receivedAt": row.received_at.isoformat(),
        "body": row.body,
    }
