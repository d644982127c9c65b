"""A card processor (Stripe/Adyen style): authorize, capture, void, refund under idempotency keys.

Same key + same body replays the first answer; same key + another body is 422. `tok_declined` is
declined with 402. `/_state` shows every authorization: tests prove nothing was charged twice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qsr_hub.simulators.control import control_router
from qsr_hub.simulators.faults import ASGIApp, Faults


class AuthorizeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    token: str = Field(min_length=1)
    reference: str = Field(min_length=1)


class AmountBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: int | None = Field(default=None, gt=0)


class CardProcessor:
    def __init__(self) -> None:
        self.authorizations: dict[str, dict[str, Any]] = {}
        self._replies: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self.faults = Faults()

    def state(self) -> dict[str, Any]:
        return {"authorizations": list(self.authorizations.values())}

    def _once(self, key: str | None, fingerprint: dict[str, Any], act: Any) -> JSONResponse:
        if not key:
            return _problem(400, "Idempotency-Key header is required")
        digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()
        seen = self._replies.get(key)
        if seen is not None:
            if seen[0] != digest:
                return _problem(422, "Idempotency-Key reused with another request")
            return JSONResponse(
                seen[2], status_code=seen[1], headers={"Idempotent-Replayed": "true"}
            )
        status, body = act()
        self._replies[key] = (digest, status, body)
        return JSONResponse(body, status_code=status)

    def authorize(self, body: AuthorizeBody) -> tuple[int, dict[str, Any]]:
        if body.token == "tok_declined":
            return 402, {"error": "card_declined", "reference": body.reference}
        auth_id = f"auth_{uuid.uuid4().hex[:16]}"
        auth: dict[str, Any] = {
            "id": auth_id,
            "status": "authorized",
            "amountMinor": body.amount_minor,
            "currency": body.currency,
            "reference": body.reference,
            "capturedMinor": 0,
            "refundedMinor": 0,
        }
        self.authorizations[auth_id] = auth
        return 201, auth

    def move(self, auth_id: str, op: str, amount: int | None) -> tuple[int, dict[str, Any]]:
        auth = self.authorizations.get(auth_id)
        if auth is None:
            return 404, {"error": "no_such_authorization"}
        status = auth["status"]
        if op == "void":
            if status == "captured" or status == "refunded":
                return 409, {"error": f"cannot void a {status} authorization"}
            auth["status"] = "voided"
        elif op == "capture":
            if status != "authorized":
                return 409, {"error": f"cannot capture a {status} authorization"}
            take = amount or auth["amountMinor"]
            if take > auth["amountMinor"]:
                return 422, {"error": "capture exceeds the authorized amount"}
            auth.update(status="captured", capturedMinor=take)
        else:
            if status not in ("captured", "refunded"):
                return 409, {"error": f"cannot refund a {status} authorization"}
            take = amount or auth["capturedMinor"] - auth["refundedMinor"]
            if take > auth["capturedMinor"] - auth["refundedMinor"]:
                return 422, {"error": "refund exceeds the captured amount"}
            auth["refundedMinor"] += take
            auth["status"] = "refunded"
        return 200, auth


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": detail, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def create_app(processor: CardProcessor | None = None) -> ASGIApp:
    sim = processor or CardProcessor()
    app = FastAPI(title="card processor simulator")
    app.state.sim = sim
    app.include_router(control_router(sim.faults, state=sim.state))

    @app.post("/v1/authorizations")
    async def authorize(
        request: Request, idempotency_key: str | None = Header(default=None)
    ) -> JSONResponse:
        raw = await request.json()
        try:
            body = AuthorizeBody.model_validate(_snake(raw))
        except ValidationError as exc:
            return _problem(400, str(exc.errors(include_url=False)[0]["loc"]))
        return sim._once(idempotency_key, {"op": "authorize", **raw}, lambda: sim.authorize(body))

    @app.get("/v1/authorizations")
    async def by_reference(reference: str) -> JSONResponse:
        found = [a for a in sim.authorizations.values() if a["reference"] == reference]
        return JSONResponse({"data": found})

    @app.post("/v1/authorizations/{auth_id}/{op}")
    async def move(
        auth_id: str, op: str, request: Request, idempotency_key: str | None = Header(default=None)
    ) -> JSONResponse:
        if op not in ("capture", "void", "refunds"):
            return _problem(404, f"unknown operation {op!r}")
        raw = await request.json() if await request.body() else {}
        try:
            body = AmountBody.model_validate(_snake(raw))
        except ValidationError as exc:
            return _problem(400, str(exc.errors(include_url=False)[0]["loc"]))
        name = "refund" if op == "refunds" else op
        return sim._once(
            idempotency_key,
            {"op": name, "auth": auth_id, **raw},
            lambda: sim.move(auth_id, name, body.amount_minor),
        )

    return sim.faults.middleware(app)


def _snake(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "".join(f"_{c.lower()}" if c.isupper() else c for c in key): value
        for key, value in raw.items()
    }
