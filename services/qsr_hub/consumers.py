"""The hub's consumer of the orders stream: capture on completion, void on cancellation, a card
refund owed on each refund of a checkout order, and check-based accrual for programs whose loyalty
provider is external (Paytronix-style).

Runs inside the kit's inbox transaction, so the saga row changes with the inbox row: a crash
after the commit leaves a saga the resumer finishes, never a lost capture.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from qsr_hub import refunding
from qsr_hub.checkout import Runner
from qsr_hub.config import Config
from qsr_hub.domain import saga
from qsr_hub.spokes.ports import LoyaltySpoke
from qsr_hub.tables import sagas
from qsr_kit import consuming
from qsr_kit.domain import events, payloads, specs


def handler(
    runner: Runner, config: Config, loyalty_for_program: Callable[[str], LoyaltySpoke]
) -> consuming.Handler:
    async def handle(
        session: AsyncSession, envelope: events.Envelope, payload: events.Payload
    ) -> None:
        if isinstance(payload, payloads.OrderCompleted):
            program = config.programs.get(payload.program)
            if program and program.provider.type is specs.ProviderType.EXTERNAL:
                await loyalty_for_program(payload.program).accrue(payload, key=envelope.id)
            if payload.origin is payloads.Origin.APP:
                await _signal(session, runner, payload.order_id, completed=True)
        elif isinstance(payload, payloads.OrderCancelled):
            await _signal(session, runner, payload.order_id, completed=False)
        elif isinstance(payload, payloads.OrderRefunded) and await refunding.owe(
            session, payload, now=runner.clock()
        ):
            runner.kick()  # recorded with the inbox row; the resumer's next pass refunds the card

    return handle


async def _signal(session: AsyncSession, runner: Runner, order_id: str, *, completed: bool) -> None:
    row = (
        await session.execute(sa.select(sagas).where(sagas.c.order_id == order_id))
    ).one_or_none()
    if row is None:
        return
    state = saga.Saga.model_validate_json(row.state)
    if runner.signal_if_driving(state.id, completed=completed):
        return
    after = saga.order_completed(state) if completed else saga.order_cancelled(state)
    if after == state:
        return
    # Lease lapsed at once: the resumer (kicked after the commit) drives the capture or void.
    await session.execute(
        sa.update(sagas)
        .where(sagas.c.id == state.id)
        .values(phase=after.phase.value, state=after.model_dump_json(), lease_until=runner.clock())
    )
    runner.kick()
