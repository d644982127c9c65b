"""Property tests over random sequences of orders, refunds, redemptions, expiries, time passing
and duplicate deliveries: Σ ledger = balance, no negative unless allowed, no double credit, FIFO.

`Book` stands where the repository stands in the service: it keeps every entry under its business
key and skips an event whose key it already holds, as the service does with its unique keys.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from qsr_kit.domain import specs
from qsr_loyalty.domain import errors, ledger, lots, orders, redeeming, refunds, rules
from tests.qsr_loyalty.conftest import example_program

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
BASE = example_program()
PROGRAMS = [
    BASE,
    BASE.model_copy(
        update={
            "pending_days": 0,
            "expiration": specs.Expiration(policy=specs.ExpirationPolicy.ROLLING_DAYS, days=3),
            "refunds": specs.Refunds(
                when_spent=specs.WhenSpent.NEGATIVE_BALANCE, recredit_rewards=False
            ),
        }
    ),
    BASE.model_copy(
        update={
            "expiration": specs.Expiration(
                policy=specs.ExpirationPolicy.END_OF_PERIOD, period="month"
            ),
            "refunds": specs.Refunds(
                reversal=specs.ReversalMode.FULL, rounding=specs.Rounding.CEIL
            ),
        }
    ),
]


@dataclasses.dataclass
class Book:
    program: specs.LoyaltyProgramSpec
    account: ledger.Account = dataclasses.field(default_factory=lambda: ledger.Account("m"))
    entries: dict[str, lots.Entry] = dataclasses.field(default_factory=dict)
    holds: dict[str, lots.Hold] = dataclasses.field(default_factory=dict)
    all_lots: dict[str, lots.Lot] = dataclasses.field(default_factory=dict)
    paid: dict[str, int] = dataclasses.field(default_factory=dict)
    refunded: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    now: dt.datetime = T0
    fifo_violations: list[str] = dataclasses.field(default_factory=list)

    def write(self, change: ledger.Change) -> None:
        for entry in change.entries:
            assert entry.key not in self.entries, f"double write of {entry.key}"
            self.entries[entry.key] = entry
        self.all_lots.update({lot.id: lot for lot in change.lots})
        self.holds.update({hold.id: hold for hold in change.holds})
        self.account = change.account

    def order(self, n: int, amount: int) -> None:
        key = f"order:{n}"
        if key in self.entries:  # the natural key: second source or redelivery earns nothing
            return
        line = orders.OrderLine(sku="chicken-sandwich", quantity=1, unit_price_minor=amount)
        order = orders.Order(
            order_id=str(n),
            store_id="s",
            channel=specs.Channel.IN_STORE,
            placed_at=self.now,
            lines=(line,),
        )
        accrual = rules.points_for(
            order, self.program, member=rules.MemberContext(), store_tz=dt.UTC
        )
        self.paid[key] = amount
        self.write(
            ledger.accrue(
                self.account,
                key=key,
                points=accrual.points,
                at=self.now,
                business_date=self.now.date(),
                order_key=key,
                reason="order",
                program=self.program,
            )
        )

    def refund(self, n: int, refund_id: int, amount: int) -> None:
        key = f"order:{n}"
        lot = self.all_lots.get(key)
        if lot is None:
            return
        lot = next((x for x in self.account.lots if x.id == key), lot)
        seen = self.refunded.setdefault(key, {})
        if str(refund_id) in seen:
            return
        seen[str(refund_id)] = amount
        target = refunds.reversal_target(
            lot.points,
            paid_minor=self.paid[key],
            refunded_minor=sum(seen.values()),
            policy=self.program.refunds,
        )
        self.write(
            refunds.reverse(
                self.account,
                lot=lot,
                key=f"reversal:{key}:{refund_id}",
                points=target - lot.reversed,
                policy=self.program.refunds,
                now=self.now,
                reason="refund",
            )
        )

    def reserve(self, cost: int) -> None:
        reward = specs.Reward(id=f"r{cost}", name="r", cost=cost, kind=specs.RewardKind.ITEM)
        try:
            hold_id = f"h{len(self.holds)}"
            self.write(
                redeeming.reserve(
                    self.account, hold_id=hold_id, reward=reward, program=self.program, now=self.now
                )
            )
        except errors.InsufficientPoints:
            pass

    def commit(self, index: int) -> None:
        if not self.holds:
            return
        hold = list(reversed(self.holds.values()))[index % len(self.holds)]
        never = dt.datetime.max.replace(tzinfo=dt.UTC)
        before = sorted(
            (x for x in self.account.lots if x.is_available(self.now)),
            key=lambda x: (x.expires_at or never, x.earned_at, x.id),
        )
        try:
            change = redeeming.commit(self.account, hold, now=self.now)
        except (errors.HoldNotActive, errors.InsufficientPoints):
            return
        for entry in change.entries:
            used = [lot_id for lot_id, _ in entry.allocations]
            expected = [x.id for x in before if x.remaining > 0][: len(used)]
            if used != expected:
                self.fifo_violations.append(f"{used} != {expected}")
        self.write(change)

    def redeem(self, cost: int) -> None:
        self.reserve(cost)
        self.commit(0)

    def cancel(self, index: int) -> None:
        if self.holds:
            hold = list(self.holds.values())[index % len(self.holds)]
            with contextlib.suppress(errors.HoldNotActive):
                self.write(redeeming.cancel(self.account, hold))

    def sweep(self) -> None:
        self.write(ledger.expire(self.account, now=self.now))
        self.write(redeeming.release_expired(self.account, now=self.now))

    def advance(self, hours: int) -> None:
        self.now += dt.timedelta(hours=hours)


COSTS = st.sampled_from([50, 300, 800, 1500])
operations = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 7), st.integers(0, 30000)),
    st.tuples(st.just("refund"), st.integers(0, 7), st.integers(0, 3), st.integers(1, 20000)),
    st.tuples(st.just("reserve"), COSTS),
    st.tuples(st.just("redeem"), COSTS),
    st.tuples(st.just("commit"), st.integers(0, 2)),
    st.tuples(st.just("cancel"), st.integers(0, 2)),
    st.tuples(st.just("sweep")),
    st.tuples(st.just("advance"), st.sampled_from([1, 12, 25, 80])),
)
SEQUENCES = st.lists(operations, min_size=20, max_size=60)


def run(book: Book, ops: list[tuple[Any, ...]]) -> Book:
    for op in ops:
        getattr(book, op[0])(*op[1:])
        getattr(book, op[0])(*op[1:]) if op[0] in (
            "order",
            "refund",
        ) else None  # duplicate delivery
        check(book)
    return book


def check(book: Book) -> None:
    negative_allowed = book.program.refunds.when_spent == specs.WhenSpent.NEGATIVE_BALANCE
    assert sum(e.points for e in book.entries.values()) == ledger.ledger_total(book.account)
    assert all(lot.remaining >= 0 for lot in book.account.lots)
    assert book.account.debt == 0 or negative_allowed
    balance = ledger.balance_of(book.account, now=book.now)
    assert balance.available >= 0
    assert balance.held >= 0


@settings(max_examples=150, deadline=None)
@given(program=st.sampled_from(PROGRAMS), ops=SEQUENCES)
def test_sum_of_entries_is_the_balance(
    program: specs.LoyaltyProgramSpec, ops: list[tuple[Any, ...]]
) -> None:
    book = run(Book(program), ops)
    book.sweep()
    balance = ledger.balance_of(book.account, now=book.now)
    assert sum(e.points for e in book.entries.values()) == balance.total


@settings(max_examples=150, deadline=None)
@given(ops=SEQUENCES)
def test_balance_never_negative_when_policy_caps(ops: list[tuple[Any, ...]]) -> None:
    book = run(Book(PROGRAMS[0]), ops)
    assert ledger.balance_of(book.account, now=book.now).negative == 0


@settings(max_examples=150, deadline=None)
@given(program=st.sampled_from(PROGRAMS), ops=SEQUENCES)
def test_each_order_credits_once(
    program: specs.LoyaltyProgramSpec, ops: list[tuple[Any, ...]]
) -> None:
    book = run(Book(program), ops)
    accruals = [str(e.order_key) for e in book.entries.values() if e.kind == lots.EntryKind.ACCRUAL]
    orders_seen = {f"order:{op[1]}" for op in ops if op[0] == "order"}
    assert sorted(accruals) == sorted(orders_seen)


@settings(max_examples=150, deadline=None)
@given(program=st.sampled_from(PROGRAMS), ops=SEQUENCES)
def test_redemptions_consume_soonest_expiring_first(
    program: specs.LoyaltyProgramSpec, ops: list[tuple[Any, ...]]
) -> None:
    assert run(Book(program), ops).fifo_violations == []


@settings(max_examples=150, deadline=None)
@given(program=st.sampled_from(PROGRAMS), ops=SEQUENCES)
def test_reversals_never_exceed_what_an_order_earned(
    program: specs.LoyaltyProgramSpec, ops: list[tuple[Any, ...]]
) -> None:
    book = run(Book(program), ops)
    for lot in book.all_lots.values():
        reversed_ = -sum(
            e.points
            for e in book.entries.values()
            if e.kind == lots.EntryKind.REVERSAL and e.lot_id == lot.id
        )
        assert reversed_ <= lot.points
