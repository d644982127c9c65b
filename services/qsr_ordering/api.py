"""Ordering's routes: parse → domain → repository → answer. Mutations take an Idempotency-Key."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from qsr_kit import auth, db, http, idempotency
from qsr_ordering import placing, progressing, repository
from qsr_ordering.deps import Idem, Reader, Service, StoreWriter, Writer
from qsr_ordering.domain.lifecycle import Action
from qsr_ordering.schemas import OrderList, OrderOut, PlaceOrderIn, QuoteIn, QuoteOut, RefundIn

router = APIRouter(prefix="/v1")


def _context(service: Service, program: str) -> placing.Context:
    return placing.Context(
        menus=service.menus, topic=service.topic_of(program), now=service.clock()
    )


@router.post("/quotes")
async def quote(body: QuoteIn, who: Writer, service: Service) -> QuoteOut:
    store = service.stores.get(body.store_id)
    return QuoteOut.of(await placing.quote(body, store, _context(service, store.program_ref.name)))


@router.post("/orders", status_code=201)
async def place(body: PlaceOrderIn, who: Writer, idem: Idem, service: Service) -> Response:
    if who.kind == "guest":
        body = body.model_copy(update={"member_id": who.member_id})
    elif body.member_id is not None:
        auth.ensure_can_act_for_member(who, body.member_id)
    store = service.stores.get(body.store_id)
    ctx = _context(service, store.program_ref.name)

    async def handle(session: AsyncSession) -> OrderOut:
        return OrderOut.of(await placing.place(session, body, store, ctx))

    response = await idem.run(handle, status_code=201)
    service.notify()
    return response


@router.get("/orders/{order_id}")
async def get_order(order_id: str, who: Reader, service: Service) -> OrderOut:
    async with db.transaction(service.sessions) as session:
        row = await repository.order_by_id(session, order_id)
    if row is None:
        raise progressing.UnknownOrder(order_id)
    if who.kind == "guest":
        auth.ensure_can_act_for_member(who, row["member_id"] or "")
    return OrderOut.of(row)


@router.get("/orders")
async def list_orders(
    who: Reader,
    service: Service,
    member_id: str = Query(alias="memberId"),
    limit: int = Query(10, ge=1, le=100),
) -> OrderList:
    auth.ensure_can_act_for_member(who, member_id)
    async with db.transaction(service.sessions) as session:
        rows = await repository.orders_of_member(session, member_id, limit=limit)
    return OrderList(data=[OrderOut.of(r) for r in rows])


@router.post("/orders/{order_id}/actions/{action}")
async def act(
    order_id: str, action: Action, who: StoreWriter, idem: Idem, service: Service
) -> Response:
    if action is Action.REFUND:
        raise http.BadRequest("refunds go to POST /v1/orders/{id}/refunds", field="action")
    return await _transition(order_id, action, who=who, idem=idem, service=service, amount=None)


@router.post("/orders/{order_id}/refunds")
async def refund(
    order_id: str, body: RefundIn, who: StoreWriter, idem: Idem, service: Service
) -> Response:
    return await _transition(
        order_id, Action.REFUND, who=who, idem=idem, service=service, amount=body.amount_minor
    )


async def _transition(
    order_id: str,
    action: Action,
    *,
    who: auth.Principal,
    idem: idempotency.Guard,
    service: Service,
    amount: int | None,
) -> Response:
    async def handle(session: AsyncSession) -> OrderOut:
        row = await progressing.locked(session, order_id)
        auth.ensure_can_act_for_store(who, row["store_id"])
        now = service.clock()
        row = await progressing.act(
            session,
            row,
            action,
            topic=service.topic_of(row["program"]),
            now=now,
            amount_minor=amount,
        )
        return OrderOut.of(row)

    response = await idem.run(handle)
    service.notify()
    return response
