"""The hub's routes: checkout, the guest summary, menus, POS webhooks and their inspection."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse, Response

from qsr_hub import pos_ingest, summary
from qsr_hub.deps import Reader, Service, Shopper, StoreReader
from qsr_hub.domain import saga, signatures
from qsr_hub.domain.saga import Phase, Step
from qsr_hub.schemas import CheckoutIn
from qsr_kit import auth, http
from qsr_kit.domain.auth_principal import NotYourObject

router = APIRouter(prefix="/v1")
EVENT_ID_MAX = 2**63 - 1  # a POS event id is a signed 64-bit key (BIGINT / SQLite INTEGER)
_PROBLEM_TEXT = {
    400: "malformed request: no Idempotency-Key, or a POS payload that is not valid (kept)",
    401: "no valid token, or a POS webhook whose signature does not verify",
    402: "the card processor declined the payment",
    403: "scope, member or store not allowed; the summary is for guests only",
    404: "no such store, checkout, POS event or order",
    409: "conflict: reward not reservable, store closed or paused, slot full",
    422: "invalid body, cart or parameter, or an Idempotency-Key reused with another body",
    503: "a spoke (ordering, payments, loyalty, CMS) or a secret is unavailable",
}


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for these problem statuses (RFC 9457, application/problem+json)."""
    return {
        code: {"content": {"application/problem+json": {}}, "description": _PROBLEM_TEXT[code]}
        for code in codes
    }


# The checkout's own answers: GET answers what POST answered (placed, in progress or failed).
_CHECKOUT = {
    201: {"description": "placed"},
    202: {"description": "accepted: compensating or waiting on a spoke"},
} | _problems(401, 402, 403, 404, 409, 422, 503)


async def _idempotency_key(
    key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=255)],
) -> None:
    """Declares the header required in the OpenAPI; `_key_of` answers 400 when it is missing."""


async def _key_of(
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> str:
    if not key:
        raise http.BadRequest(
            "Idempotency-Key header is required on this mutation", field="Idempotency-Key"
        )
    return key


# Which problem a failed saga answers, by the step that failed (ordering's own status wins).
_FAILED_STATUS = {
    Step.PRICE: 422,
    Step.RESERVE_REWARD: 409,
    Step.AUTHORIZE_PAYMENT: 402,
    Step.PLACE_ORDER: 409,
}


@router.post(
    "/checkout",
    status_code=201,
    responses=_CHECKOUT | _problems(400),
    dependencies=[Depends(_idempotency_key)],
)
async def checkout(
    body: CheckoutIn,
    who: Shopper,
    service: Service,
    idempotency_key: Annotated[str, Depends(_key_of)],
) -> Response:
    member_id = who.member_id if who.kind == "guest" else body.member_id
    if member_id is not None:
        auth.ensure_can_act_for_member(who, member_id)
    service.config.store(body.store_id)
    fingerprint = hashlib.sha256(
        json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()
    state = saga.start(
        saga_id=uuid.uuid4().hex,
        order_id=uuid.uuid4().hex,
        store_id=body.store_id,
        request=body.saga_request(),
        member_id=member_id,
        reward_id=body.reward_id,
    )
    now = service.clock()
    if not await service.sagas.create(
        state, principal=who.subject, key=idempotency_key, fingerprint=fingerprint, now=now
    ):
        stored = await service.sagas.by_key(principal=who.subject, key=idempotency_key)
        assert stored is not None
        if stored.fingerprint != fingerprint:
            raise http.Unprocessable(
                f"Idempotency-Key {idempotency_key!r} was used with another request"
            )
        state = stored.saga
        if saga.next_step(state) is not None and not await service.sagas.claim(state.id, now=now):
            return answer_of(state)  # another runner holds it; its current state is the answer
    return answer_of(await service.runner.drive(state))


@router.get("/checkout/{checkout_id}", status_code=201, responses=_CHECKOUT)
async def checkout_status(checkout_id: str, who: Shopper, service: Service) -> Response:
    state = await service.sagas.by_id(checkout_id)
    if state is None or (who.kind == "guest" and state.member_id != who.member_id):
        raise http.NotFound(f"no checkout {checkout_id!r}")
    return answer_of(state)


def answer_of(state: saga.Saga) -> Response:
    """The same saga always answers the same way, so a replayed request gets the first answer."""
    body: dict[str, Any] = {
        "checkoutId": state.id,
        "orderId": state.order_id,
        "phase": state.phase.value,
        "totalMinor": state.values.get("totalMinor"),
        "currency": state.values.get("currency"),
        "reward": None
        if state.reward_id is None
        else {
            "id": state.reward_id,
            "applied": saga.wants_reward(state),
            "skippedBecause": state.reward_skipped,
        },
    }
    if saga.is_placed(state):
        return JSONResponse(body, status_code=201)
    if state.phase is Phase.FAILED and state.failed_step is not None:
        details = dict(state.failure_details)
        unavailable = bool(details.pop("unavailable", False))
        fallback = 503 if unavailable else _FAILED_STATUS.get(state.failed_step, 409)
        status = int(details.pop("status", fallback))
        errors = [
            {"field": f"cart.{e['field']}", "message": e["message"]}
            for e in details.get("errors", [])
        ]
        extra = {k: v for k, v in details.items() if k in ("code", "nextFreeSlots")}
        return http.problem(
            status,
            title="Checkout failed",
            detail=f"{state.failed_step.value}: {state.failure}",
            type_="https://qsr.io/problems/checkout-failed",
            **body,
            failedStep=state.failed_step.value,
            compensated=[s.value for s in state.compensated],
            errors=errors,
            **extra,
        )
    # Still compensating or waiting on a spoke: accepted, the resumer finishes it.
    return JSONResponse(body, status_code=202)


@router.get("/me/summary", responses=_problems(401, 403, 404, 503))
async def me_summary(who: Reader, service: Service) -> dict[str, Any]:
    if who.member_id is None:
        raise auth.AuthProblem(NotYourObject("the summary is for guests (a member) only"))
    program = next(iter(service.config.programs))
    return await summary.summary_of(
        who, who.member_id, loyalty=service.loyalty_for_program(program), ordering=service.ordering
    )


@router.get("/stores/{store_id}/menu", responses=_problems(404, 503))
async def menu(store_id: str, service: Service) -> dict[str, Any]:
    service.config.store(store_id)
    return await service.menus.menu_of(store_id)


@router.post(
    "/pos/{store_id}/events", status_code=202, responses=_problems(400, 401, 404, 422, 503)
)
async def pos_event(
    store_id: str,
    request: Request,
    service: Service,
    timestamp: str | None = Header(default=None, alias=signatures.TIMESTAMP_HEADER),
    signature: str | None = Header(default=None, alias=signatures.SIGNATURE_HEADER),
) -> dict[str, Any]:
    receipt = await pos_ingest.receive(
        service.pos_sessions,
        service.config,
        store_id=store_id,
        raw=await request.body(),
        timestamp=timestamp,
        signature=signature,
        now=service.clock(),
    )
    service.pos_wakeup.set()
    return {"eventId": receipt.id, "duplicate": receipt.duplicate}


@router.get("/pos/{store_id}/events/{event_id}", responses=_problems(401, 403, 404, 422))
async def pos_event_status(
    store_id: str,
    event_id: Annotated[int, Path(ge=1, le=EVENT_ID_MAX)],
    who: StoreReader,
    service: Service,
) -> dict[str, Any]:
    auth.ensure_can_act_for_store(who, store_id)
    found = await pos_ingest.event_of(service.sessions, store_id=store_id, event_id=event_id)
    if found is None:
        raise http.NotFound(f"no POS event {event_id} for store {store_id}")
    return found
