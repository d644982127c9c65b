"""Runs one saga step against the spokes and turns the answer into a saga Outcome.

Called by `checkout.Runner`; every call carries `saga.idempotency_key(state, step)`, so a step
re-run after a crash replays instead of acting twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from qsr_hub.config import Config
from qsr_hub.domain import saga
from qsr_hub.domain.saga import Refused, Step, Succeeded, Unavailable
from qsr_hub.spokes.ordering_http import OrderingClient, OrderRefused
from qsr_hub.spokes.ports import LoyaltySpoke, PaymentSpoke, SpokeRefused, SpokeUnavailable
from qsr_kit.domain import specs


@dataclass
class Spokes:
    config: Config
    ordering: OrderingClient
    payments_for: Callable[[specs.StoreIntegrationSpec], PaymentSpoke]
    loyalty_for: Callable[[specs.StoreIntegrationSpec], LoyaltySpoke]


class Executor:
    def __init__(self, spokes: Spokes) -> None:
        self.spokes = spokes
        self._steps: dict[Step, Callable[[saga.Saga, str], Awaitable[dict[str, Any]]]] = {
            Step.PRICE: self._price,
            Step.RESERVE_REWARD: self._reserve,
            Step.AUTHORIZE_PAYMENT: self._authorize,
            Step.PLACE_ORDER: self._place,
            Step.COMMIT_REWARD: self._commit,
            Step.CAPTURE_PAYMENT: self._capture,
            Step.CANCEL_ORDER: self._cancel,
            Step.VOID_PAYMENT: self._void,
            Step.RELEASE_REWARD: self._release,
        }

    async def execute(self, state: saga.Saga, step: Step) -> saga.Outcome:
        key = saga.idempotency_key(state, step)
        try:
            return Succeeded(await self._steps[step](state, key))
        except OrderRefused as refused:
            return Refused(refused.reason, details={"status": refused.status, **refused.problem})
        except SpokeRefused as refused:
            return Refused(refused.reason)
        except SpokeUnavailable as down:
            return Unavailable(down.reason, uncertain=down.uncertain)

    def _store(self, state: saga.Saga) -> specs.StoreIntegrationSpec:
        return self.spokes.config.store(state.store_id)

    def _order_body(self, state: saga.Saga) -> dict[str, Any]:
        request = state.request
        cart = dict(request["cart"])
        reward = self.spokes.config.reward(self._store(state), state.reward_id or "")
        if saga.wants_reward(state) and reward is not None:
            cart["discount"] = {
                "rewardId": reward.id,
                "kind": reward.kind.value,
                "value": reward.value,
                "sku": reward.sku,
            }
        body = {"storeId": state.store_id, "channel": request["channel"], "cart": cart}
        if request.get("pickupAt"):
            body["pickupAt"] = request["pickupAt"]
        return body

    async def _price(self, state: saga.Saga, key: str) -> dict[str, Any]:
        quote = await self.spokes.ordering.quote(self._order_body(state))
        return {"totalMinor": quote["totalMinor"], "currency": quote["currency"]}

    async def _reserve(self, state: saga.Saga, key: str) -> dict[str, Any]:
        if self.spokes.config.reward(self._store(state), state.reward_id or "") is None:
            raise SpokeRefused(f"reward {state.reward_id!r} is not in the program")
        held = await self.spokes.loyalty_for(self._store(state)).reserve(
            member_id=state.member_id or "",
            reward_id=state.reward_id or "",
            order_id=state.order_id,
            key=key,
        )
        return {"reservationId": held.id}

    async def _authorize(self, state: saga.Saga, key: str) -> dict[str, Any]:
        auth = await self.spokes.payments_for(self._store(state)).authorize(
            amount_minor=state.values["totalMinor"],
            currency=state.values["currency"],
            token=state.request["paymentToken"],
            reference=state.id,
            key=key,
        )
        return {"authorizationId": auth.id}

    async def _place(self, state: saga.Saga, key: str) -> dict[str, Any]:
        body = {
            **self._order_body(state),
            "orderId": state.order_id,
            "memberId": state.member_id,
            "payment": {"reference": state.values["authorizationId"]},
        }
        order = await self.spokes.ordering.place(body, key=key)
        if order["totalMinor"] != state.values["totalMinor"]:
            # The menu changed between quote and order: undo the order rather than charge wrong.
            raise SpokeUnavailable("order total differs from the authorized amount", uncertain=True)
        return {"orderStatus": order["status"], "pickupSlot": order["pickupSlot"]}

    async def _commit(self, state: saga.Saga, key: str) -> dict[str, Any]:
        await self.spokes.loyalty_for(self._store(state)).commit(
            state.values["reservationId"], key=key
        )
        return {}

    async def _capture(self, state: saga.Saga, key: str) -> dict[str, Any]:
        payments = self.spokes.payments_for(self._store(state))
        await payments.capture(state.values["authorizationId"], amount_minor=None, key=key)
        return {"captured": True}

    async def _cancel(self, state: saga.Saga, key: str) -> dict[str, Any]:
        await self.spokes.ordering.cancel(state.order_id, key=key)
        return {}

    async def _void(self, state: saga.Saga, key: str) -> dict[str, Any]:
        payments = self.spokes.payments_for(self._store(state))
        known = state.values.get("authorizationId")
        ids = (
            [known]
            if known
            else [a.id for a in await payments.find(state.id) if a.status == "authorized"]
        )
        for auth_id in ids:
            await payments.void(auth_id, key=f"{key}-{auth_id}")
        return {"voided": ids}

    async def _release(self, state: saga.Saga, key: str) -> dict[str, Any]:
        loyalty = self.spokes.loyalty_for(self._store(state))
        held = state.values.get("reservationId")
        if held is None:
            # The reserve's answer was lost: replaying it under its key names the hold.
            held = (
                await loyalty.reserve(
                    member_id=state.member_id or "",
                    reward_id=state.reward_id or "",
                    order_id=state.order_id,
                    key=saga.idempotency_key(state, Step.RESERVE_REWARD),
                )
            ).id
        await loyalty.release(
            reservation_id=held, reference=saga.idempotency_key(state, Step.RESERVE_REWARD), key=key
        )
        return {}
