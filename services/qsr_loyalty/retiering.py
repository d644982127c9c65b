"""Re-tiering every member when the program's tiers change ("recalculated when the program
changes"), set-based, in batches, idempotent and resumable.

A replica sees a new program when it starts: the operator rolls the loyalty Deployment when the
program changes (its pod template carries the config's checksum), and the embedded mode reads
`examples/` at start. `run()` (a task of the app's lifespan) then compares a fingerprint of the
program's tiering (window, tier names and thresholds) with the one in `loyalty_tiering`:

- the same, and that run finished: nothing to do, and nothing is written;
- another (or none yet): a new run (its number counts the changes seen) walks every member of the
  program in member-id order, one batch per transaction: lock the batch's member rows, sum their
  qualifying points in one query, compute the tiers (`domain.tiers.standing_for`), update only the
  members whose tier changed (one statement) and queue one `loyalty.tier.changed` event each (one
  insert into the outbox), and move the cursor, all in that transaction;
- the same but unfinished (a crash, a shutdown): the run resumes after the cursor.

A second run changes nothing: a member whose tier already matches is neither written nor
announced. Event ids are `loyalty:tier:<member>:program-<run>`, so a program that comes back later
announces again, and never twice for one run. Replicas that start together take turns batch by
batch on the state row's lock. A member below the lowest tier keeps the tier they had, as on the
accrual path (`accounts.settle_tier`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qsr_kit import db, schema
from qsr_kit.domain import payloads, specs
from qsr_loyalty import publishing
from qsr_loyalty import tables as t
from qsr_loyalty.domain import tiers
from qsr_loyalty.domain.lots import LotSource
from qsr_loyalty.program import Program

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
BATCH = 500
ATTEMPTS = 5  # a batch that fails (deadlock, lost connection) is retried from the cursor

metadata = sa.MetaData(naming_convention=schema.NAMING)
state = sa.Table(
    "loyalty_tiering",
    metadata,
    sa.Column("program", sa.String(63), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("run", sa.Integer(), nullable=False),
    sa.Column("after", sa.String(100), nullable=True),  # last member id of the last batch
    sa.Column("done", sa.Boolean(), nullable=False),
    sa.Column("updated_at", schema.UtcDateTime(), nullable=False),
)


@dataclasses.dataclass
class Report:
    run: int | None = None  # None: the program's tiers were already applied
    members: int = 0  # members looked at by this call
    changed: int = 0
    batches: int = 0
    done: bool = True


def fingerprint(tiering: specs.Tiering) -> str:
    """What decides a tier: the window and the ladder's names and thresholds (a multiplier
    changes what a tier earns, not who is in it)."""
    ladder = sorted((t.threshold, t.name) for t in tiering.tiers)
    canonical = json.dumps({"windowDays": tiering.window_days, "ladder": ladder})
    return hashlib.sha256(canonical.encode()).hexdigest()


async def begin(
    sessions: async_sessionmaker[AsyncSession], program: Program, *, now: dt.datetime
) -> int | None:
    """Record the program's tiering; the run to work on, or None when it is applied already."""
    wanted = fingerprint(program.spec.tiering)
    async with db.transaction(sessions) as session:  # the common case: no lock, no write
        seen = (await session.execute(_state(program))).first()
    if seen is not None and seen.fingerprint == wanted and seen.done:
        return None
    async with db.transaction(sessions) as session:
        row = (await session.execute(_state(program).with_for_update())).first()
        if row is not None and row.fingerprint == wanted:
            return None if row.done else int(row.run)
        run = 1 if row is None else int(row.run) + 1
        values = {
            "fingerprint": wanted,
            "run": run,
            "after": None,
            "done": False,
            "updated_at": now,
        }
        if row is None:
            await session.execute(sa.insert(state).values(program=program.name, **values))
        else:
            await session.execute(
                sa.update(state).where(state.c.program == program.name).values(**values)
            )
        log.info("program %s: tiers changed, re-tiering every member (run %s)", program.name, run)
        return run


async def step(
    sessions: async_sessionmaker[AsyncSession],
    program: Program,
    run: int,
    *,
    now: dt.datetime,
    batch: int = BATCH,
) -> Report:
    """One batch of `run` after the stored cursor, in one transaction."""
    report = Report(run=run, batches=1)
    async with db.transaction(sessions) as session:
        row = (await session.execute(_state(program).with_for_update())).one()
        if int(row.run) != run or row.done:  # finished by another replica, or superseded
            report.batches = 0
            return report
        page = sa.select(t.members.c.member_id, t.members.c.tier).where(
            t.members.c.program == program.name
        )
        if row.after is not None:
            page = page.where(t.members.c.member_id > row.after)
        found = (
            await session.execute(
                page.order_by(t.members.c.member_id).limit(batch).with_for_update()
            )
        ).all()
        report.members = len(found)
        report.done = len(found) < batch
        if found:
            report.changed = await _retier(session, program, run, dict(found), now=now)
        after = found[-1].member_id if found else row.after
        await session.execute(
            sa.update(state)
            .where(state.c.program == program.name)
            .values(after=after, done=report.done, updated_at=now)
        )
    return report


async def _retier(
    session: AsyncSession,
    program: Program,
    run: int,
    current: dict[str, str | None],
    *,
    now: dt.datetime,
) -> int:
    tiering = program.spec.tiering
    net = t.lots.c.points - t.lots.c.reversed
    sums = sa.select(t.lots.c.member_id, sa.func.sum(sa.case((net > 0, net), else_=0))).where(
        t.lots.c.member_id.in_(list(current)),
        t.lots.c.source == LotSource.ACCRUAL,
        t.lots.c.earned_at > now - dt.timedelta(days=tiering.window_days),
        t.lots.c.earned_at <= now,
    )
    qualifying = {
        m: int(p or 0) for m, p in (await session.execute(sums.group_by(t.lots.c.member_id))).all()
    }
    moves: list[tuple[str, str | None, str]] = []
    for member_id, tier in current.items():
        reached = tiers.standing_for(qualifying.get(member_id, 0), tiering).tier
        if reached is not None and reached.name != tier:
            moves.append((member_id, tier, reached.name))
    if not moves:
        return 0
    await session.execute(
        sa.update(t.members)
        .where(t.members.c.member_id == sa.bindparam("m"))
        .values(tier=sa.bindparam("to")),
        [{"m": m, "to": to} for m, _, to in moves],
    )
    events = [
        publishing.outbox_row(
            program,
            payloads.TierChanged(
                member_id=m, program=program.name, from_tier=frm, to_tier=to, changed_at=now
            ),
            key=f"tier:{m}:program-{run}",
            at=now,
        )
        for m, frm, to in moves
    ]
    await session.execute(sa.insert(schema.outbox), events)
    return len(moves)


def _state(program: Program) -> sa.Select[tuple[str, str, int, str | None, bool, dt.datetime]]:
    return sa.select(state).where(state.c.program == program.name)


async def retier_all(
    sessions: async_sessionmaker[AsyncSession],
    program: Program,
    *,
    clock: Clock,
    batch: int = BATCH,
    stop: asyncio.Event | None = None,
) -> Report:
    """Apply the program's tiers to every member (or finish an interrupted run)."""
    run = await begin(sessions, program, now=clock())
    total = Report(run=run, done=True)
    if run is None:
        return total
    while stop is None or not stop.is_set():
        done = await step(sessions, program, run, now=clock(), batch=batch)
        total.members += done.members
        total.changed += done.changed
        total.batches += done.batches
        if done.done:
            return total
    total.done = False
    return total


async def run(
    sessions: async_sessionmaker[AsyncSession],
    program: Program,
    *,
    clock: Clock,
    stop: asyncio.Event,
) -> Report | None:
    """The lifespan's task: `retier_all`, retried from its cursor a few times if a batch fails."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            report = await retier_all(sessions, program, clock=clock, stop=stop)
        except sa.exc.DBAPIError:
            log.warning("re-tiering failed (attempt %s of %s)", attempt, ATTEMPTS, exc_info=True)
            try:
                await asyncio.wait_for(stop.wait(), timeout=float(attempt))
            except TimeoutError:
                continue
            return None
        if report.run is not None:
            log.info(
                "program %s: re-tiered %s member(s), %s changed (run %s, %s)",
                program.name,
                report.members,
                report.changed,
                report.run,
                "done" if report.done else "stopped",
            )
        return report
    log.error("re-tiering gave up after %s attempts; the next start resumes it", ATTEMPTS)
    return None
