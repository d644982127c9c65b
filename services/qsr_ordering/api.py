"""Ordering's routes: parse → domain → repository → answer. Mutations take an Idempotency-Key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Receive, Scope, Send

from qsr_kit import auth, db, http, idempotency
from qsr_ordering import placing, progressing, repository
from qsr_ordering.deps import Idem, Reader, Service, StoreWriter, Writer
from qsr_ordering.domain.lifecycle import Action
from qsr_ordering.schemas import OrderList, OrderOut, PlaceOrderIn, QuoteIn, QuoteOut, RefundIn


class _Route(APIRoute):
    """A 405 lists every method of the path in `Allow` (Starlette names only the first route's)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            routes = [r for r in scope["router"].routes if isinstance(r, APIRoute)]
            allowed = sorted({m for r in routes if r.path == self.path for m in r.methods or ()})
            raise HTTPException(405, headers={"Allow": ", ".join(allowed)})
        await super().handle(scope, receive, send)


router = APIRouter(prefix="/v1", route_class=_Route)
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"content": {"application/problem+json": {}}, "description": text}
    for code, text in [
        (400, "malformed JSON body, or no Idempotency-Key on a mutation"),
        (401, "no valid token"), (403, "scope, member or store not allowed"),
        (404, "no such store or order"),
        (409, "conflict: store closed or paused, slot full, order exists, illegal transition"),
        (422, "invalid body or cart, or Idempotency-Key reused with another body"),
        (503, "the menu (CMS) is unavailable"),
    ]
}  # fmt: skip


async def _idempotency_key(
    key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=255)],
) -> None:
    """Declares the header required in the OpenAPI; the guard answers 400 when it is missing."""


KEYED = [Depends(_idempotency_key)]


def _context(service: Service, program: str) -> placing.Context:
    return placing.Context(
        menus=service.menus, topic=service.topic_of(program), now=service.clock()
    )


@router.post("/quotes", responses=PROBLEMS)
async def quote(body: QuoteIn, who: Writer, service: Service) -> QuoteOut:
    store = service.stores.get(body.store_id)
    return QuoteOut.of(await placing.quote(body, store, _context(service, store.program_ref.name)))


@router.post(
    "/orders", status_code=201, response_model=OrderOut, responses=PROBLEMS, dependencies=KEYED
)
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


@router.get("/orders/{order_id}", responses=PROBLEMS)
async def get_order(order_id: str, who: Reader, service: Service) -> OrderOut:
    async with db.transaction(service.sessions) as session:
        row = await repository.order_by_id(session, order_id)
    if row is None:
        raise progressing.UnknownOrder(order_id)
    if who.kind == "guest":
        auth.ensure_can_act_for_member(who, row["member_id"] or "")
    return OrderOut.of(row)


@router.get("/orders", responses=PROBLEMS)
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


@router.post(
    "/orders/{order_id}/actions/{action}",
    response_model=OrderOut,
    responses=PROBLEMS,
    dependencies=KEYED,
)
async def act(
    order_id: str, action: Action, who: StoreWriter, idem: Idem, service: Service
) -> Response:
    if action is Action.REFUND:
        raise http.BadRequest("refunds go to POST /v1/orders/{id}/refunds", field="action")
    return await _transition(order_id, action, who=who, idem=idem, service=service, amount=None)


@router.post(
    "/orders/{order_id}/refunds", response_model=OrderOut, responses=PROBLEMS, dependencies=KEYED
)
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
