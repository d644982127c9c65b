"""The order state machine: the happy path, refusals that name state and action, refunds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qsr_ordering.domain import errors, lifecycle
from qsr_ordering.domain.lifecycle import Action, OrderState, Status

HAPPY = [Action.PAY, Action.START_PREPARATION, Action.MARK_READY, Action.COMPLETE]


def test_the_happy_path_ends_completed() -> None:
    order = OrderState(status=Status.PLACED, total_minor=1000)
    seen = []
    for action in HAPPY:
        order = lifecycle.transition(order, action)
        seen.append(order.status)
    assert seen == [Status.PAID, Status.IN_PREPARATION, Status.READY, Status.COMPLETED]


@pytest.mark.parametrize(
    ("status", "action"),
    [
        pytest.param(Status.PLACED, Action.COMPLETE, id="complete-unpaid"),
        pytest.param(Status.READY, Action.CANCEL, id="cancel-ready"),
        pytest.param(Status.COMPLETED, Action.CANCEL, id="cancel-completed"),
        pytest.param(Status.CANCELLED, Action.PAY, id="pay-cancelled"),
        pytest.param(Status.PAID, Action.PAY, id="pay-twice"),
        pytest.param(Status.PLACED, Action.REFUND, id="refund-unpaid"),
        pytest.param(Status.REFUNDED, Action.REFUND, id="refund-refunded"),
    ],
)
def test_an_illegal_transition_is_refused_naming_state_and_action(
    status: Status, action: Action
) -> None:
    with pytest.raises(errors.IllegalTransition) as refused:
        lifecycle.transition(OrderState(status=status, total_minor=1000), action)
    assert status.value in refused.value.detail
    assert action.value in refused.value.detail


def test_partial_refunds_add_up_to_a_full_refund() -> None:
    order = OrderState(status=Status.COMPLETED, total_minor=1000)
    order = lifecycle.transition(order, Action.REFUND, amount_minor=300)
    assert (order.status, order.refunded_minor) == (Status.PARTIALLY_REFUNDED, 300)
    order = lifecycle.transition(order, Action.REFUND)
    assert (order.status, order.refunded_minor) == (Status.REFUNDED, 1000)


@pytest.mark.parametrize("amount", [0, -5, 1001])
def test_a_refund_outside_the_refundable_amount_names_the_field(amount: int) -> None:
    with pytest.raises(errors.InvalidRefund) as refused:
        lifecycle.transition(
            OrderState(status=Status.COMPLETED, total_minor=1000),
            Action.REFUND,
            amount_minor=amount,
        )
    assert refused.value.field == "amountMinor"


def test_every_state_has_an_event_type() -> None:
    assert set(lifecycle.EVENT_TYPES) == set(Status)


@given(
    steps=st.lists(st.tuples(st.sampled_from(list(Action)), st.integers(1, 1500)), max_size=12),
)
def test_any_action_sequence_keeps_refunds_within_the_total(
    steps: list[tuple[Action, int]],
) -> None:
    order = OrderState(status=Status.PLACED, total_minor=1000)
    for action, amount in steps:
        try:
            order = lifecycle.transition(order, action, amount_minor=amount)
        except errors.OrderingError:
            continue
        assert 0 <= order.refunded_minor <= order.total_minor
        assert (order.status is Status.REFUNDED) == (order.refunded_minor == order.total_minor)
