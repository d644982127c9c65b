"""Loyalty events into the outbox, in the transaction of the ledger change they announce.

Event ids derive from the entry's business key: one effect can never queue two events.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from qsr_kit import outbox
from qsr_kit.domain import events
from qsr_loyalty.program import Program


async def emit(
    session: AsyncSession,
    program: Program,
    payload: events.Payload,
    *,
    key: str,
    at: dt.datetime,
    source: str = "/qsr/loyalty",
) -> None:
    envelope = events.envelope_of(
        payload, event_id=events.EventId(f"loyalty:{key}"), source=source, time=at
    )
    await outbox.add(session, envelope, topic=program.loyalty_topic)


def outbox_row(
    program: Program,
    payload: events.Payload,
    *,
    key: str,
    at: dt.datetime,
    source: str = "/qsr/loyalty",
) -> dict[str, Any]:
    """What `emit` writes, as a qsr_outbox row, for a set-based insert of many events."""
    envelope = events.envelope_of(
        payload, event_id=events.EventId(f"loyalty:{key}"), source=source, time=at
    )
    return {
        "event_id": envelope.id,
        "event_type": envelope.type,
        "topic": program.loyalty_topic,
        "key": envelope.partitionkey,
        "value": events.to_bytes(envelope).decode(),
        "created_at": envelope.time,
    }
