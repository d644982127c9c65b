"""The order state machine: which action moves an order from which state, and which event it emits.

placed → paid → in_preparation → ready → completed; cancelled before the food is ready;
refunds, partial or full, once completed (the payment is captured on completion). Anything else
is an `IllegalTransition` naming both the state and the action.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from qsr_ordering.domain import errors


class Status(enum.StrEnum):
    PLACED = "placed"
    PAID = "paid"
    IN_PREPARATION = "in_preparation"
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class Action(enum.StrEnum):
    PAY = "pay"
    START_PREPARATION = "start_preparation"
    MARK_READY = "mark_ready"
    COMPLETE = "complete"
    CANCEL = "cancel"
    REFUND = "refund"


# Event type per resulting state: every transition writes exactly one event to the outbox.
EVENT_TYPES: dict[Status, str] = {
    Status.PLACED: "io.qsr.order.placed.v1",
    Status.PAID: "io.qsr.order.paid.v1",
    Status.IN_PREPARATION: "io.qsr.order.preparing.v1",
    Status.READY: "io.qsr.order.ready.v1",
    Status.COMPLETED: "io.qsr.order.completed.v1",
    Status.CANCELLED: "io.qsr.order.cancelled.v1",
    Status.PARTIALLY_REFUNDED: "io.qsr.order.refunded.v1",
    Status.REFUNDED: "io.qsr.order.refunded.v1",
}

_MOVES: dict[tuple[Status, Action], Status] = {
    (Status.PLACED, Action.PAY): Status.PAID,
    (Status.PAID, Action.START_PREPARATION): Status.IN_PREPARATION,
    (Status.IN_PREPARATION, Action.MARK_READY): Status.READY,
    (Status.READY, Action.COMPLETE): Status.COMPLETED,
    (Status.PLACED, Action.CANCEL): Status.CANCELLED,
    (Status.PAID, Action.CANCEL): Status.CANCELLED,
    (Status.IN_PREPARATION, Action.CANCEL): Status.CANCELLED,
}
_REFUNDABLE = frozenset({Status.COMPLETED, Status.PARTIALLY_REFUNDED})


@dataclass(frozen=True)
class OrderState:
    status: Status
    total_minor: int
    refunded_minor: int = 0

    @property
    def refundable_minor(self) -> int:
        return self.total_minor - self.refunded_minor


def allowed_actions(status: Status) -> frozenset[Action]:
    moves = {action for (state, action) in _MOVES if state == status}
    if status in _REFUNDABLE:
        moves.add(Action.REFUND)
    return frozenset(moves)


def transition(order: OrderState, action: Action, *, amount_minor: int | None = None) -> OrderState:
    """The order after `action`; refunds take `amount_minor` (None means whatever is left)."""
    if action is Action.REFUND:
        return _refund(order, amount_minor)
    target = _MOVES.get((order.status, action))
    if target is None:
        allowed = ", ".join(sorted(allowed_actions(order.status))) or "none"
        raise errors.IllegalTransition(
            f"cannot {action.value} an order that is {order.status.value} (allowed: {allowed})",
            field="action",
        )
    return replace(order, status=target)


def _refund(order: OrderState, amount_minor: int | None) -> OrderState:
    if order.status not in _REFUNDABLE:
        raise errors.IllegalTransition(
            f"cannot refund an order that is {order.status.value}", field="action"
        )
    amount = order.refundable_minor if amount_minor is None else amount_minor
    if amount <= 0 or amount > order.refundable_minor:
        raise errors.InvalidRefund(
            f"refund must be 1..{order.refundable_minor}, got {amount}", field="amountMinor"
        )
    refunded = order.refunded_minor + amount
    status = Status.REFUNDED if refunded == order.total_minor else Status.PARTIALLY_REFUNDED
    return replace(order, status=status, refunded_minor=refunded)
