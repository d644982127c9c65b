"""The loyalty HTTP API under /v1: routes only (parse → use case → answer).

Mutations run inside `Idempotency-Key` guards: the guard's transaction holds the ledger change, the
outbox events and the stored response together.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from sqlalchemy.ext.asyncio import AsyncSession

from qsr_kit import auth
from qsr_loyalty import accounts, redemptions, repository, schemas
from qsr_loyalty.deps import CurrentProgram, Idempotent, Now, Reader, Redeemer, Session
from qsr_loyalty.domain import errors, lots, orders, rules

router = APIRouter(prefix="/v1", tags=["loyalty"])
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"content": {"application/problem+json": {}}, "description": text}
    for code, text in [
        (400, "malformed JSON body, or no Idempotency-Key on a mutation"),
        (401, "no valid token"), (403, "scope or member not allowed"), (404, "not found"),
        (409, "conflict: insufficient points, limit, state or key in flight"),
        (422, "invalid body, or Idempotency-Key reused with another body"),
    ]
}  # fmt: skip


def _idempotency_key(
    key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=255)],
) -> None:
    """Declares the header required in the OpenAPI; the guard answers 400 when it is missing."""


KEYED = [Depends(_idempotency_key)]


def _member_out(member: repository.Member) -> schemas.MemberOut:
    return schemas.MemberOut(
        member_id=member.member_id, program=member.program, birthday=member.birthday,
        enrolled_at=member.enrolled_at, tier=member.tier,
    )  # fmt: skip


def _redemption_out(hold: lots.Hold) -> schemas.RedemptionOut:
    return schemas.RedemptionOut(
        redemption_id=hold.id, member_id=hold.member_id, reward_id=hold.reward_id,
        points=hold.points, state=hold.state.value, expires_at=hold.expires_at,
        order_id=hold.order_id,
    )  # fmt: skip


@router.post(
    "/members",
    status_code=201,
    response_model=schemas.MemberOut,
    responses=PROBLEMS,
    dependencies=KEYED,
)
async def enroll(
    body: schemas.MemberIn, who: Redeemer, idem: Idempotent, program: CurrentProgram, now: Now
) -> Any:
    """Enroll a member (a guest enrolls only themself)."""
    auth.ensure_can_act_for_member(who, body.member_id)

    async def run(session: AsyncSession) -> schemas.MemberOut:
        member = await accounts.enroll(
            session, program, member_id=body.member_id, birthday=body.birthday, now=now
        )
        return _member_out(member)

    return await idem.run(run, status_code=201)


@router.get("/members/{member_id}", response_model=schemas.MemberOut, responses=PROBLEMS)
async def read_member(member_id: str, who: Reader, session: Session) -> schemas.MemberOut:
    auth.ensure_can_act_for_member(who, member_id)
    return _member_out(await accounts.existing(session, member_id))


@router.get("/members/{member_id}/balance", response_model=schemas.BalanceOut, responses=PROBLEMS)
async def balance(
    member_id: str, who: Reader, session: Session, program: CurrentProgram, now: Now
) -> schemas.BalanceOut:
    """Points by state, what expires within 30 days, the tier and the way to the next one."""
    auth.ensure_can_act_for_member(who, member_id)
    view = await accounts.view_of(session, program, member_id, now=now)
    b, s = view.balance, view.standing
    return schemas.BalanceOut(
        member_id=member_id, pending=b.pending, available=b.available, held=b.held,
        negative=b.negative, spent=b.spent, expired=b.expired,
        expiring_within_30_days=b.expiring_soon, total=b.total, tier=view.member.tier,
        qualifying_points=s.qualifying,
        next_tier=s.next_tier.name if s.next_tier else None, points_to_next_tier=s.to_next,
    )  # fmt: skip


@router.get("/members/{member_id}/ledger", response_model=schemas.LedgerPage, responses=PROBLEMS)
async def ledger_page(
    member_id: str,
    who: Reader,
    session: Session,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> schemas.LedgerPage:
    """The member's entries, newest first, each with its reason."""
    auth.ensure_can_act_for_member(who, member_id)
    await accounts.existing(session, member_id)
    rows = await repository.entries_page(
        session, member_id, before=int(cursor) if cursor else None, limit=limit + 1
    )
    page = [
        schemas.EntryOut(
            seq=r.seq,
            kind=r.kind,
            points=r.points,
            at=r.at,
            reason=r.reason,
            order_key=r.order_key,
            lot_id=r.lot_id,
            redemption_id=r.hold_id,
            detail=_json(r.detail),
        )
        for r in rows[:limit]
    ]
    more = len(rows) > limit
    return schemas.LedgerPage(entries=page, next_cursor=str(page[-1].seq) if more else None)


def _json(text: str) -> dict[str, Any]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


@router.get("/rewards", response_model=list[schemas.RewardOut], responses=PROBLEMS)
async def rewards(who: Reader, program: CurrentProgram) -> list[schemas.RewardOut]:
    """The program's rewards catalog."""
    return [schemas.RewardOut.model_validate(r.model_dump()) for r in program.spec.rewards]


@router.post(
    "/members/{member_id}/redemptions",
    status_code=201,
    response_model=schemas.RedemptionOut,
    responses=PROBLEMS,
    dependencies=KEYED,
)
async def reserve(
    member_id: str,
    body: schemas.RedemptionIn,
    who: Redeemer,
    idem: Idempotent,
    program: CurrentProgram,
    now: Now,
) -> Any:
    """Hold the reward's points; the hold releases itself after the program's holdSeconds."""
    auth.ensure_can_act_for_member(who, member_id)

    async def run(session: AsyncSession) -> schemas.RedemptionOut:
        hold = await redemptions.reserve(
            session, program, member_id=member_id, reward_id=body.reward_id,
            hold_id=f"rd-{uuid.uuid4()}", order_id=body.order_id, now=now,
        )  # fmt: skip
        return _redemption_out(hold)

    return await idem.run(run, status_code=201)


@router.post(
    "/redemptions/{redemption_id}/commit",
    response_model=schemas.RedemptionOut,
    responses=PROBLEMS,
    dependencies=KEYED,
)
async def commit(
    redemption_id: str, who: Redeemer, idem: Idempotent, program: CurrentProgram, now: Now
) -> Any:
    """Spend the held points, soonest-expiring lots first."""

    async def run(session: AsyncSession) -> schemas.RedemptionOut:
        auth.ensure_can_act_for_member(who, await redemptions.member_of(session, redemption_id))
        hold = await redemptions.commit(session, program, hold_id=redemption_id, now=now)
        return _redemption_out(hold)

    return await idem.run(run)


@router.post(
    "/redemptions/{redemption_id}/cancel",
    response_model=schemas.RedemptionOut,
    responses=PROBLEMS,
    dependencies=KEYED,
)
async def cancel(
    redemption_id: str, who: Redeemer, idem: Idempotent, program: CurrentProgram, now: Now
) -> Any:
    """Release the held points."""

    async def run(session: AsyncSession) -> schemas.RedemptionOut:
        auth.ensure_can_act_for_member(who, await redemptions.member_of(session, redemption_id))
        hold = await redemptions.cancel(session, program, hold_id=redemption_id, now=now)
        return _redemption_out(hold)

    return await idem.run(run)


@router.post("/simulate", response_model=schemas.SimulateOut, responses=PROBLEMS)
async def simulate(
    body: schemas.SimulateIn, who: Reader, session: Session, program: CurrentProgram, now: Now
) -> schemas.SimulateOut:
    """The points an order would earn, rule by rule. Writes nothing."""
    zone = program.zone_of(body.order.store_id)
    member = rules.MemberContext(
        tier=accounts.tier_named(program, body.tier), orders_before=0 if body.first_order else 1
    )
    if body.member_id is not None:
        auth.ensure_can_act_for_member(who, body.member_id)
        found = await accounts.existing(session, body.member_id)
        day = orders.local_date(body.order, store_tz=zone)
        member = rules.MemberContext(
            tier=accounts.tier_named(program, body.tier or found.tier), birthday=found.birthday,
            orders_before=found.orders, birthday_bonus_year=found.birthday_bonus_year,
            earned_today=await repository.earned_on(session, found.member_id, day),
        )  # fmt: skip
    elif body.tier is not None and member.tier is None:
        raise errors.LoyaltyError(f"no tier {body.tier!r} in the program", field="tier")
    accrual = rules.points_for(body.order, program.spec, member=member, store_tz=zone)
    return schemas.SimulateOut(
        order_key=orders.natural_key(body.order, store_tz=zone),
        points=accrual.points,
        steps=[schemas.StepOut(**step) for step in accrual.explanation()],
    )
