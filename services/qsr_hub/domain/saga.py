"""The checkout saga as a pure state machine: price → reserve reward → authorize → place → commit.

The hub persists a `Saga` after every step and asks `next_step` what to do; a crashed hub reloads it
and carries on, because every step is idempotent under `idempotency_key(saga, step)`. A failure runs
the compensations in reverse (cancel, void, release) so a failed order never keeps a reward or a
charge (Punchh/Olo: rewards consumed by timed-out orders). Capture waits for the order to complete.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict


class Step(enum.StrEnum):
    PRICE = "price"
    RESERVE_REWARD = "reserve_reward"
    AUTHORIZE_PAYMENT = "authorize_payment"
    PLACE_ORDER = "place_order"
    COMMIT_REWARD = "commit_reward"
    CAPTURE_PAYMENT = "capture_payment"
    CANCEL_ORDER = "cancel_order"
    VOID_PAYMENT = "void_payment"
    RELEASE_REWARD = "release_reward"


class Phase(enum.StrEnum):
    RUNNING = "running"
    AWAITING_COMPLETION = "awaiting_completion"
    CAPTURING = "capturing"
    CAPTURED = "captured"
    COMPENSATING = "compensating"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL = frozenset({Phase.CAPTURED, Phase.FAILED, Phase.CANCELLED})
FORWARD = (
    Step.PRICE,
    Step.RESERVE_REWARD,
    Step.AUTHORIZE_PAYMENT,
    Step.PLACE_ORDER,
    Step.COMMIT_REWARD,
)
# Compensation for each forward step whose effect may exist, run in reverse order.
_UNDO = {
    Step.PLACE_ORDER: Step.CANCEL_ORDER,
    Step.AUTHORIZE_PAYMENT: Step.VOID_PAYMENT,
    Step.RESERVE_REWARD: Step.RELEASE_REWARD,
}


@dataclass(frozen=True)
class Succeeded:
    values: dict[str, Any]


@dataclass(frozen=True)
class Refused:
    """A definitive no (card declined, slot full, not enough points): the effect did not happen."""

    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Unavailable:
    """The spoke failed after its retries; `uncertain` means the effect may have happened anyway."""

    reason: str
    uncertain: bool = True


Outcome = Succeeded | Refused | Unavailable


class Saga(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    order_id: str
    store_id: str
    member_id: str | None = None
    reward_id: str | None = None
    request: dict[str, Any]
    phase: Phase = Phase.RUNNING
    # Forward steps whose effect exists (or may exist: `touched` also holds uncertain ones).
    done: tuple[Step, ...] = ()
    touched: tuple[Step, ...] = ()
    compensated: tuple[Step, ...] = ()
    values: dict[str, Any] = {}
    reward_skipped: str | None = None
    failure: str | None = None
    failed_step: Step | None = None
    failure_details: dict[str, Any] = {}
    completion_seen: bool = False


def start(
    *,
    saga_id: str,
    order_id: str,
    store_id: str,
    request: dict[str, Any],
    member_id: str | None = None,
    reward_id: str | None = None,
) -> Saga:
    return Saga(
        id=saga_id,
        order_id=order_id,
        store_id=store_id,
        member_id=member_id,
        reward_id=reward_id,
        request=request,
    )


def idempotency_key(saga: Saga, step: Step) -> str:
    """One key per saga and step: a resumed step replays instead of acting twice."""
    return f"checkout-{saga.id}-{step.value}"


def is_placed(saga: Saga) -> bool:
    """The guest's order exists and stands (later steps may still be catching up)."""
    return Step.PLACE_ORDER in saga.done and saga.phase not in (Phase.COMPENSATING, Phase.FAILED)


def wants_reward(saga: Saga) -> bool:
    return saga.reward_id is not None and saga.member_id is not None and not saga.reward_skipped


def next_step(saga: Saga) -> Step | None:
    """What to run next; None when the saga is terminal or waits for the order to complete."""
    if saga.phase is Phase.RUNNING:
        for step in FORWARD:
            if step in saga.done:
                continue
            if step in (Step.RESERVE_REWARD, Step.COMMIT_REWARD) and not wants_reward(saga):
                continue
            return step
        # A reservation that may exist although loyalty timed out: released once the order is in.
        if (
            Step.RESERVE_REWARD in saga.touched
            and saga.reward_skipped
            and Step.RELEASE_REWARD not in saga.compensated
        ):
            return Step.RELEASE_REWARD
        return None
    if saga.phase is Phase.CAPTURING:
        return Step.CAPTURE_PAYMENT
    if saga.phase is Phase.COMPENSATING:
        return _next_compensation(saga)
    return None


def _next_compensation(saga: Saga) -> Step | None:
    for step in reversed(FORWARD):
        undo = _UNDO.get(step)
        if undo and step in saga.touched and undo not in saga.compensated:
            return undo
    return None


def advance(saga: Saga, step: Step, outcome: Outcome) -> Saga:
    """The saga after `step` ended with `outcome`."""
    if step in FORWARD:
        saga = _forward(saga, step, outcome)
    elif step is Step.CAPTURE_PAYMENT:
        if not isinstance(outcome, Unavailable):
            saga = saga.model_copy(
                update={"phase": Phase.CAPTURED, "values": _merged(saga, outcome)}
            )
    elif not isinstance(outcome, Unavailable):
        # A refused compensation means there is nothing to undo (never authorized, already void).
        saga = saga.model_copy(update={"compensated": (*saga.compensated, step)})
    return _settled(saga)


def _forward(saga: Saga, step: Step, outcome: Outcome) -> Saga:
    if isinstance(outcome, Succeeded):
        return saga.model_copy(
            update={
                "done": (*saga.done, step),
                "touched": _with(saga.touched, step),
                "values": _merged(saga, outcome),
            }
        )
    if step is Step.RESERVE_REWARD and isinstance(outcome, Unavailable):
        # Loyalty down: checkout proceeds without the reward, priced again without its discount;
        # a reservation that may exist is released on the way.
        touched = _with(saga.touched, step) if outcome.uncertain else saga.touched
        done = tuple(s for s in saga.done if s is not Step.PRICE)
        return saga.model_copy(
            update={"reward_skipped": outcome.reason, "done": done, "touched": touched}
        )
    if step is Step.COMMIT_REWARD:
        if isinstance(outcome, Refused):
            # The order is placed and paid; a lapsed hold is reported, the food still goes out.
            return saga.model_copy(
                update={
                    "done": (*saga.done, step),
                    "values": {**saga.values, "commit": outcome.reason},
                }
            )
        return saga  # retried until loyalty answers; never undo a placed, paid order for it
    touched = (
        _with(saga.touched, step)
        if isinstance(outcome, Unavailable) and outcome.uncertain
        else saga.touched
    )
    return saga.model_copy(
        update={
            "phase": Phase.COMPENSATING,
            "touched": touched,
            "failure": outcome.reason,
            "failed_step": step,
            "failure_details": outcome.details
            if isinstance(outcome, Refused)
            else {"unavailable": True},
        }
    )


def _settled(saga: Saga) -> Saga:
    if saga.phase is Phase.RUNNING and next_step(saga) is None:
        phase = Phase.CAPTURING if saga.completion_seen else Phase.AWAITING_COMPLETION
        return saga.model_copy(update={"phase": phase})
    if saga.phase is Phase.COMPENSATING and _next_compensation(saga) is None:
        final = Phase.CANCELLED if saga.failed_step is None else Phase.FAILED
        return saga.model_copy(update={"phase": final})
    return saga


def order_completed(saga: Saga) -> Saga:
    """The order was handed over: capture the authorization (once the forward steps are through)."""
    if saga.phase is Phase.AWAITING_COMPLETION:
        return saga.model_copy(update={"phase": Phase.CAPTURING, "completion_seen": True})
    if saga.phase is Phase.RUNNING:
        return saga.model_copy(update={"completion_seen": True})
    return saga


def order_cancelled(saga: Saga) -> Saga:
    """The store cancelled a placed order: void the payment (loyalty re-credits on the event)."""
    if saga.phase not in (Phase.AWAITING_COMPLETION, Phase.RUNNING):
        return saga
    compensated = _with(saga.compensated, Step.CANCEL_ORDER)
    if Step.COMMIT_REWARD in saga.done:
        compensated = _with(compensated, Step.RELEASE_REWARD)
    return _settled(
        saga.model_copy(update={"phase": Phase.COMPENSATING, "compensated": compensated})
    )


def _merged(saga: Saga, outcome: Outcome) -> dict[str, Any]:
    return {**saga.values, **outcome.values} if isinstance(outcome, Succeeded) else saga.values


def _with(steps: tuple[Step, ...], step: Step) -> tuple[Step, ...]:
    return steps if step in steps else (*steps, step)
