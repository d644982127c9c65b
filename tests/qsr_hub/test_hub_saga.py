"""The checkout saga: each step failing in turn, timeouts after the effect, degradation, resume."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qsr_hub.domain import saga
from qsr_hub.domain.saga import Phase, Refused, Step, Succeeded, Unavailable

OK = Succeeded({})


def new(*, reward: bool = True) -> saga.Saga:
    return saga.start(
        saga_id="s1",
        order_id="o1",
        store_id="store-0001",
        request={"lines": []},
        member_id="m1" if reward else None,
        reward_id="free-drink" if reward else None,
    )


def drive(
    state: saga.Saga, outcome_of: Callable[[Step, int], saga.Outcome], limit: int = 50
) -> tuple[saga.Saga, list[Step]]:
    """Runs steps until the saga waits or ends; `outcome_of(step, attempt)` plays the spokes."""
    ran: list[Step] = []
    for _ in range(limit):
        step = saga.next_step(state)
        if step is None:
            return state, ran
        state = saga.advance(state, step, outcome_of(step, ran.count(step)))
        ran.append(step)
    raise AssertionError(f"saga did not settle: {ran}")


def scripted(script: Mapping[Step, saga.Outcome]) -> Callable[[Step, int], saga.Outcome]:
    return lambda step, attempt: script.get(step, OK) if attempt == 0 else OK


def test_the_happy_path_waits_for_completion_then_captures() -> None:
    state, ran = drive(new(), scripted({}))
    assert ran == [
        Step.PRICE,
        Step.RESERVE_REWARD,
        Step.AUTHORIZE_PAYMENT,
        Step.PLACE_ORDER,
        Step.COMMIT_REWARD,
    ]
    assert state.phase is Phase.AWAITING_COMPLETION and saga.is_placed(state)

    state, ran = drive(saga.order_completed(state), scripted({}))
    assert (ran, state.phase) == ([Step.CAPTURE_PAYMENT], Phase.CAPTURED)


@pytest.mark.parametrize(
    ("failing", "outcome", "compensations"),
    [
        pytest.param(Step.PRICE, Refused("unknown sku"), [], id="price-refused"),
        pytest.param(Step.RESERVE_REWARD, Refused("not enough points"), [], id="reserve-refused"),
        pytest.param(
            Step.AUTHORIZE_PAYMENT, Refused("declined"), [Step.RELEASE_REWARD], id="declined"
        ),
        pytest.param(
            Step.AUTHORIZE_PAYMENT,
            Unavailable("timeout", uncertain=True),
            [Step.VOID_PAYMENT, Step.RELEASE_REWARD],
            id="payment-timeout-after-authorizing",
        ),
        pytest.param(
            Step.PLACE_ORDER,
            Refused("slot full"),
            [Step.VOID_PAYMENT, Step.RELEASE_REWARD],
            id="slot-full",
        ),
        pytest.param(
            Step.PLACE_ORDER,
            Unavailable("timeout"),
            [Step.CANCEL_ORDER, Step.VOID_PAYMENT, Step.RELEASE_REWARD],
            id="place-timeout",
        ),
    ],
)
def test_a_failing_step_runs_the_compensations_in_reverse(
    failing: Step, outcome: Refused | Unavailable, compensations: list[Step]
) -> None:
    state, ran = drive(new(), scripted({failing: outcome}))
    assert ran[ran.index(failing) + 1 :] == compensations
    assert state.phase is Phase.FAILED
    assert (state.failed_step, state.failure) == (failing, outcome.reason)
    assert not saga.is_placed(state)


def test_loyalty_down_at_reserve_skips_the_reward_and_prices_again() -> None:
    state, ran = drive(
        new(), scripted({Step.RESERVE_REWARD: Unavailable("loyalty down", uncertain=False)})
    )
    assert ran == [
        Step.PRICE,
        Step.RESERVE_REWARD,
        Step.PRICE,
        Step.AUTHORIZE_PAYMENT,
        Step.PLACE_ORDER,
    ]
    assert state.reward_skipped == "loyalty down"
    assert state.phase is Phase.AWAITING_COMPLETION


def test_an_uncertain_reservation_is_released_after_the_order_is_placed() -> None:
    state, ran = drive(
        new(), scripted({Step.RESERVE_REWARD: Unavailable("timeout", uncertain=True)})
    )
    assert ran[-2:] == [Step.PLACE_ORDER, Step.RELEASE_REWARD]
    assert state.phase is Phase.AWAITING_COMPLETION


def test_a_commit_that_cannot_reach_loyalty_keeps_the_order_and_retries() -> None:
    state = new()
    for step in (Step.PRICE, Step.RESERVE_REWARD, Step.AUTHORIZE_PAYMENT, Step.PLACE_ORDER):
        state = saga.advance(state, step, OK)
    state = saga.advance(state, Step.COMMIT_REWARD, Unavailable("loyalty down"))
    assert saga.is_placed(state) and state.phase is Phase.RUNNING
    assert saga.next_step(state) is Step.COMMIT_REWARD


def test_completion_seen_before_the_commit_captures_after_it() -> None:
    state = new()
    for step in (Step.PRICE, Step.RESERVE_REWARD, Step.AUTHORIZE_PAYMENT, Step.PLACE_ORDER):
        state = saga.advance(state, step, OK)
    state = saga.advance(saga.order_completed(state), Step.COMMIT_REWARD, OK)
    assert saga.next_step(state) is Step.CAPTURE_PAYMENT


def test_a_store_cancellation_voids_and_releases_an_uncommitted_reward() -> None:
    state = new()
    for step in (Step.PRICE, Step.RESERVE_REWARD, Step.AUTHORIZE_PAYMENT, Step.PLACE_ORDER):
        state = saga.advance(state, step, OK)
    state, ran = drive(saga.order_cancelled(state), scripted({}))
    assert ran == [Step.VOID_PAYMENT, Step.RELEASE_REWARD]
    assert state.phase is Phase.CANCELLED


def test_a_persisted_saga_resumes_where_it_stopped() -> None:
    state = saga.advance(
        saga.advance(new(), Step.PRICE, Succeeded({"totalMinor": 750})), Step.RESERVE_REWARD, OK
    )
    reloaded = saga.Saga.model_validate_json(state.model_dump_json())
    assert reloaded == state
    assert saga.next_step(reloaded) is Step.AUTHORIZE_PAYMENT


def test_each_step_has_its_own_stable_idempotency_key() -> None:
    keys = {saga.idempotency_key(new(), step) for step in Step}
    assert len(keys) == len(Step)
    assert saga.idempotency_key(new(), Step.PRICE) == saga.idempotency_key(new(), Step.PRICE)


_outcomes = st.sampled_from(
    [
        OK,
        OK,
        OK,
        Refused("no"),
        Unavailable("down", uncertain=False),
        Unavailable("timeout", uncertain=True),
    ]
)


@given(script=st.dictionaries(st.sampled_from(list(Step)), _outcomes), reward=st.booleans())
def test_every_saga_ends_placed_or_with_nothing_left_behind(
    script: dict[Step, saga.Outcome], reward: bool
) -> None:
    state, ran = drive(new(reward=reward), scripted(script))
    if state.phase is Phase.FAILED:
        # Every effect that may exist was undone: no charge, no reward kept, no order.
        assert (Step.AUTHORIZE_PAYMENT not in state.touched) or Step.VOID_PAYMENT in ran
        assert (Step.RESERVE_REWARD not in state.touched) or Step.RELEASE_REWARD in ran
        assert (Step.PLACE_ORDER not in state.touched) or Step.CANCEL_ORDER in ran
    else:
        assert state.phase is Phase.AWAITING_COMPLETION
        assert Step.PLACE_ORDER in state.done and Step.AUTHORIZE_PAYMENT in state.done
        assert not {Step.VOID_PAYMENT, Step.CANCEL_ORDER} & set(ran)
