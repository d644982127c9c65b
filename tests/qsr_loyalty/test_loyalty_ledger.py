"""Lot ledger: states, expiry, FIFO-by-expiry consumption, holds, refunds and tiers (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from qsr_kit.domain import specs
from qsr_loyalty.domain import errors, ledger, lots, redeeming, refunds, tiers

T0 = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def earn(
    account: ledger.Account,
    program: specs.LoyaltyProgramSpec,
    key: str,
    points: int,
    at: dt.datetime,
):
    return ledger.accrue(
        account,
        key=key,
        points=points,
        at=at,
        business_date=at.date(),
        order_key=key,
        reason="test",
        program=program,
    )


def reward(cost: int, limit: int | None = None) -> specs.Reward:
    return specs.Reward(
        id="r", name="R", cost=cost, kind=specs.RewardKind.ITEM, per_member_limit=limit
    )


@pytest.mark.parametrize(
    ("expiration", "expected"),
    [
        pytest.param(specs.Expiration(), None, id="never"),
        pytest.param(
            specs.Expiration(policy=specs.ExpirationPolicy.ROLLING_DAYS, days=30),
            T0 + 30 * DAY,
            id="rolling-30",
        ),
        pytest.param(
            specs.Expiration(policy=specs.ExpirationPolicy.END_OF_PERIOD, period="month"),
            dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
            id="end-of-month",
        ),
        pytest.param(
            specs.Expiration(policy=specs.ExpirationPolicy.END_OF_PERIOD, period="quarter"),
            dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
            id="end-of-quarter",
        ),
        pytest.param(
            specs.Expiration(policy=specs.ExpirationPolicy.END_OF_PERIOD, period="year"),
            dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
            id="end-of-year",
        ),
    ],
)
def test_expiry_date_follows_the_policy(
    expiration: specs.Expiration, expected: dt.datetime | None
) -> None:
    assert lots.expires_at_for(T0, expiration) == expected


def test_end_of_quarter_in_december_rolls_into_next_year() -> None:
    policy = specs.Expiration(policy=specs.ExpirationPolicy.END_OF_PERIOD, period="quarter")
    assert lots.expires_at_for(dt.datetime(2026, 12, 31, tzinfo=dt.UTC), policy) == dt.datetime(
        2027, 1, 1, tzinfo=dt.UTC
    )


def test_points_are_pending_for_the_pending_period(program: specs.LoyaltyProgramSpec) -> None:
    account = earn(ledger.Account("m"), program, "a", 100, T0).account
    before = ledger.balance_of(account, now=T0 + DAY - dt.timedelta(seconds=1))
    after = ledger.balance_of(account, now=T0 + DAY)
    assert (before.pending, before.available, after.pending, after.available) == (100, 0, 0, 100)


def test_redemption_consumes_soonest_expiring_lot_first(program: specs.LoyaltyProgramSpec) -> None:
    account = earn(ledger.Account("m"), program, "late", 400, T0 + 10 * DAY).account
    account = earn(account, program, "early", 400, T0).account
    now = T0 + 20 * DAY
    held = redeeming.reserve(account, hold_id="h", reward=reward(500), program=program, now=now)
    change = redeeming.commit(held.account, held.holds[0], now=now)
    assert change.entries[0].allocations == (("early", 400), ("late", 100))


def test_lots_that_never_expire_are_consumed_last(program: specs.LoyaltyProgramSpec) -> None:
    never = program.model_copy(update={"expiration": specs.Expiration()})
    account = earn(ledger.Account("m"), never, "forever", 400, T0).account
    account = earn(account, program, "expiring", 400, T0 + DAY).account
    now = T0 + 5 * DAY
    held = redeeming.reserve(account, hold_id="h", reward=reward(300), program=program, now=now)
    assert redeeming.commit(held.account, held.holds[0], now=now).entries[0].allocations == (
        ("expiring", 300),
    )


def test_expiry_runs_once(program: specs.LoyaltyProgramSpec) -> None:
    account = earn(ledger.Account("m"), program, "a", 100, T0).account
    later = T0 + 366 * DAY
    first = ledger.expire(account, now=later)
    second = ledger.expire(first.account, now=later)
    assert ([e.points for e in first.entries], second.entries) == ([-100], ())


def test_hold_takes_points_out_of_available(program: specs.LoyaltyProgramSpec) -> None:
    account = earn(ledger.Account("m"), program, "a", 500, T0).account
    now = T0 + 2 * DAY
    held = redeeming.reserve(account, hold_id="h", reward=reward(300), program=program, now=now)
    balance = ledger.balance_of(held.account, now=now)
    assert (balance.available, balance.held) == (200, 300)


def test_hold_releases_itself_after_hold_seconds(program: specs.LoyaltyProgramSpec) -> None:
    account = earn(ledger.Account("m"), program, "a", 500, T0).account
    now = T0 + 2 * DAY
    held = redeeming.reserve(account, hold_id="h", reward=reward(300), program=program, now=now)
    expiry = now + dt.timedelta(seconds=program.redemption.hold_seconds)
    assert ledger.balance_of(held.account, now=expiry).available == 500


def test_reserve_beyond_free_points_is_refused(program: specs.LoyaltyProgramSpec) -> None:
    account = earn(ledger.Account("m"), program, "a", 500, T0).account
    now = T0 + 2 * DAY
    held = redeeming.reserve(account, hold_id="h1", reward=reward(300), program=program, now=now)
    with pytest.raises(errors.InsufficientPoints, match="200 available"):
        redeeming.reserve(held.account, hold_id="h2", reward=reward(300), program=program, now=now)


def test_per_member_limit_counts_past_and_held_redemptions(
    program: specs.LoyaltyProgramSpec,
) -> None:
    account = earn(ledger.Account("m"), program, "a", 5000, T0).account
    with pytest.raises(errors.LimitReached):
        redeeming.reserve(
            account,
            hold_id="h",
            reward=reward(100, limit=1),
            program=program,
            now=T0 + 2 * DAY,
            redeemed_before=1,
        )


def test_commit_after_hold_expiry_is_refused(program: specs.LoyaltyProgramSpec) -> None:
    account = earn(ledger.Account("m"), program, "a", 500, T0).account
    now = T0 + 2 * DAY
    held = redeeming.reserve(account, hold_id="h", reward=reward(300), program=program, now=now)
    with pytest.raises(errors.HoldNotActive, match="expired"):
        redeeming.commit(held.account, held.holds[0], now=now + dt.timedelta(hours=1))


def test_commit_twice_is_one_redemption(program: specs.LoyaltyProgramSpec) -> None:
    account = earn(ledger.Account("m"), program, "a", 500, T0).account
    now = T0 + 2 * DAY
    held = redeeming.reserve(account, hold_id="h", reward=reward(300), program=program, now=now)
    first = redeeming.commit(held.account, held.holds[0], now=now)
    assert redeeming.commit(first.account, first.holds[0], now=now).entries == ()


def test_cancel_of_a_committed_redemption_is_refused(program: specs.LoyaltyProgramSpec) -> None:
    account = earn(ledger.Account("m"), program, "a", 500, T0).account
    now = T0 + 2 * DAY
    held = redeeming.reserve(account, hold_id="h", reward=reward(300), program=program, now=now)
    done = redeeming.commit(held.account, held.holds[0], now=now)
    with pytest.raises(errors.HoldNotActive):
        redeeming.cancel(done.account, done.holds[0])


@pytest.mark.parametrize(
    ("refunded", "expected"),
    [
        pytest.param(0, 0, id="nothing"),
        pytest.param(333, 33, id="third-floor"),
        pytest.param(500, 50, id="half"),
        pytest.param(1000, 101, id="all"),
        pytest.param(5000, 101, id="more-than-paid"),
    ],
)
def test_proportional_reversal_target(refunded: int, expected: int) -> None:
    policy = specs.Refunds()
    assert (
        refunds.reversal_target(101, paid_minor=1000, refunded_minor=refunded, policy=policy)
        == expected
    )


def test_full_reversal_mode_reverses_everything_on_a_partial_refund() -> None:
    policy = specs.Refunds(reversal=specs.ReversalMode.FULL)
    assert refunds.reversal_target(101, paid_minor=1000, refunded_minor=1, policy=policy) == 101


def _spent_account(
    program: specs.LoyaltyProgramSpec,
) -> tuple[ledger.Account, lots.Lot, dt.datetime]:
    account = earn(ledger.Account("m"), program, "a", 500, T0).account
    now = T0 + 2 * DAY
    held = redeeming.reserve(account, hold_id="h", reward=reward(400), program=program, now=now)
    spent = redeeming.commit(held.account, held.holds[0], now=now).account
    lot = next(x for x in spent.lots if x.id == "a")
    return spent, lot, now


def test_reversal_of_spent_points_is_capped_at_balance(program: specs.LoyaltyProgramSpec) -> None:
    account, lot, now = _spent_account(program)
    change = refunds.reverse(
        account, lot=lot, key="rev", points=500, policy=program.refunds, now=now, reason="r"
    )
    assert (change.entries[0].points, change.account.debt) == (-100, 0)


def test_reversal_of_spent_points_goes_negative_when_allowed(
    program: specs.LoyaltyProgramSpec,
) -> None:
    account, lot, now = _spent_account(program)
    policy = specs.Refunds(when_spent=specs.WhenSpent.NEGATIVE_BALANCE)
    change = refunds.reverse(
        account, lot=lot, key="rev", points=500, policy=policy, now=now, reason="r"
    )
    assert (change.entries[0].points, ledger.balance_of(change.account, now=now).negative) == (
        -500,
        400,
    )


def test_new_points_pay_off_a_negative_balance_first(program: specs.LoyaltyProgramSpec) -> None:
    account = ledger.Account("m", debt=150)
    change = earn(account, program, "b", 100, T0)
    assert (change.lots[0].remaining, change.account.debt) == (0, 50)


def test_recredit_gives_back_an_available_lot(program: specs.LoyaltyProgramSpec) -> None:
    hold = lots.Hold("h", "m", "free-drink", 300, T0, T0, lots.HoldState.COMMITTED, order_id="o-1")
    change = refunds.recredit(ledger.Account("m"), hold=hold, program=program, now=T0)
    assert ledger.balance_of(change.account, now=T0).available == 300


@pytest.mark.parametrize(
    ("qualifying", "tier", "to_next"),
    [
        pytest.param(0, "member", 2500, id="member"),
        pytest.param(2499, "member", 1, id="just-below-gold"),
        pytest.param(2500, "gold", 7500, id="gold"),
        pytest.param(12000, "platinum", 0, id="top"),
    ],
)
def test_standing_from_qualifying_points(
    program: specs.LoyaltyProgramSpec, qualifying: int, tier: str, to_next: int
) -> None:
    standing = tiers.standing_for(qualifying, program.tiering)
    assert (standing.tier.name if standing.tier else None, standing.to_next) == (tier, to_next)


def test_qualifying_points_count_only_the_window_net_of_reversals(
    program: specs.LoyaltyProgramSpec,
) -> None:
    old = earn(ledger.Account("m"), program, "old", 1000, T0).lots[0]
    recent = earn(ledger.Account("m"), program, "new", 800, T0 + 300 * DAY).lots[0]
    recent = lots.Lot(**{**recent.__dict__, "reversed": 300})
    now = T0 + 400 * DAY
    assert tiers.qualifying_points([old, recent], tiering=program.tiering, now=now) == 500
