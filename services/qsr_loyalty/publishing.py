"""Loyalty events into the outbox, in the transaction of the ledger change they announce.

Event ids derive from the entry's business key: one effect can never queue two events.
"""

from __future__ import annotations

import datetime as dt

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
