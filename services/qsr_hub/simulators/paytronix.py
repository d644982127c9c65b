"""A Paytronix-style external loyalty provider: check-based accrual, a reward wallet, reverse/void.

A check is unique per store, business date and check number (Paytronix `check/post`); posting it
again returns the first answer. Redemptions hold points until committed or reversed.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from qsr_hub.simulators.control import control_router
from qsr_hub.simulators.faults import ASGIApp, Faults

REWARDS: dict[str, dict[str, Any]] = {
    "free-drink": {
        "id": "free-drink",
        "name": "Free medium drink",
        "cost": 300,
        "kind": "item",
        "value": 0,
        "sku": "drink-medium",
    },
    "five-off": {
        "id": "five-off",
        "name": "$5 off",
        "cost": 800,
        "kind": "amount",
        "value": 500,
        "sku": None,
    },
}
POINTS_PER_UNIT = 10


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class CheckBody(_Body):
    store_code: str = Field(min_length=1)
    business_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    check_number: str = Field(min_length=1)
    member_id: str = Field(min_length=1)
    subtotal_minor: int = Field(ge=0)


class RedeemBody(_Body):
    member_id: str = Field(min_length=1)
    reward_id: str = Field(min_length=1)
    reference: str = Field(min_length=1)


class Provider:
    def __init__(self) -> None:
        self.points: dict[str, int] = {}
        self.checks: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.redemptions: dict[str, dict[str, Any]] = {}
        self.faults = Faults()

    def state(self) -> dict[str, Any]:
        return {
            "points": dict(self.points),
            "checks": list(self.checks.values()),
            "redemptions": list(self.redemptions.values()),
        }

    def post_check(self, body: CheckBody) -> tuple[int, dict[str, Any]]:
        key = (body.store_code, body.business_date, body.check_number)
        if key in self.checks:
            return 200, {**self.checks[key], "duplicate": True}
        points = body.subtotal_minor * POINTS_PER_UNIT // 100
        self.points[body.member_id] = self.points.get(body.member_id, 0) + points
        check = {
            "transactionId": f"tx_{uuid.uuid4().hex[:12]}",
            "pointsAccrued": points,
            "memberId": body.member_id,
        }
        self.checks[key] = check
        return 201, check

    def redeem(self, body: RedeemBody) -> tuple[int, dict[str, Any]]:
        for existing in self.redemptions.values():
            if existing["reference"] == body.reference:
                return 200, existing
        reward = REWARDS.get(body.reward_id)
        if reward is None:
            return 404, {"error": "unknown_reward", "field": "rewardId"}
        if self.points.get(body.member_id, 0) < reward["cost"]:
            return 409, {"error": "insufficient_points", "field": "rewardId"}
        self.points[body.member_id] -= reward["cost"]
        redemption: dict[str, Any] = {
            "id": f"rd_{uuid.uuid4().hex[:12]}",
            "memberId": body.member_id,
            "reference": body.reference,
            "reward": reward,
            "status": "pending",
        }
        self.redemptions[redemption["id"]] = redemption
        return 201, redemption

    def finish(self, redemption_id: str, *, commit: bool) -> tuple[int, dict[str, Any]]:
        found = self.redemptions.get(redemption_id)
        if found is None:
            return 404, {"error": "unknown_redemption"}
        target = "committed" if commit else "reversed"
        if found["status"] == target:
            return 200, found
        if found["status"] != "pending":
            return 409, {"error": f"redemption is {found['status']}"}
        if not commit:
            self.points[found["memberId"]] += found["reward"]["cost"]
        found["status"] = target
        return 200, found


def create_app(provider: Provider | None = None) -> ASGIApp:
    sim = provider or Provider()
    app = FastAPI(title="Paytronix-style loyalty provider simulator")
    app.state.sim = sim
    app.include_router(control_router(sim.faults, state=sim.state))

    @app.get("/v1/guests/{member_id}/account")
    async def account(member_id: str) -> JSONResponse:
        return JSONResponse(
            {
                "memberId": member_id,
                "points": sim.points.get(member_id, 0),
                "rewards": list(REWARDS.values()),
            }
        )

    @app.post("/v1/checks")
    async def post_check(body: CheckBody) -> JSONResponse:
        status, answer = sim.post_check(body)
        return JSONResponse(answer, status_code=status)

    @app.post("/v1/redemptions")
    async def redeem(body: RedeemBody) -> JSONResponse:
        status, answer = sim.redeem(body)
        return JSONResponse(answer, status_code=status)

    @app.get("/v1/redemptions")
    async def by_reference(reference: str) -> JSONResponse:
        return JSONResponse(
            {"data": [r for r in sim.redemptions.values() if r["reference"] == reference]}
        )

    @app.post("/v1/redemptions/{redemption_id}/commit")
    async def commit(redemption_id: str) -> JSONResponse:
        status, answer = sim.finish(redemption_id, commit=True)
        return JSONResponse(answer, status_code=status)

    @app.post("/v1/redemptions/{redemption_id}/reverse")
    async def reverse(redemption_id: str) -> JSONResponse:
        status, answer = sim.finish(redemption_id, commit=False)
        return JSONResponse(answer, status_code=status)

    return sim.faults.middleware(app)
