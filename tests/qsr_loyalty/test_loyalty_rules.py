"""Rule engine table tests, taken from the example program (examples/program.yaml)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from qsr_kit.domain import specs
from qsr_loyalty.domain import orders, rules

CHICAGO = ZoneInfo("America/Chicago")
NOON = dt.datetime(2026, 11, 10, 12, 0, tzinfo=CHICAGO)
REGULAR = rules.MemberContext(orders_before=3)


def order_of(
    *lines: tuple[str, str | None, int, int],
    at: dt.datetime = NOON,
    channel: specs.Channel = specs.Channel.IN_STORE,
    discount: int = 0,
) -> orders.Order:
    return orders.Order(
        order_id="o-1",
        store_id="store-0001",
        channel=channel,
        placed_at=at,
        lines=tuple(
            orders.OrderLine(sku=s, category=c, quantity=q, unit_price_minor=p)
            for s, c, q, p in lines
        ),
        discount_minor=discount,
    )


SANDWICH = ("chicken-sandwich", "mains", 1, 1000)


@pytest.mark.parametrize(
    ("order", "member", "expected"),
    [
        pytest.param(
            order_of(("chicken-sandwich", "mains", 1, 799)), REGULAR, 79, id="base-floor-7.99-usd"
        ),
        pytest.param(order_of(("combo-family", "combos", 1, 2000)), REGULAR, 300, id="item-x1.5"),
        pytest.param(
            order_of(("drink-medium", "beverages", 2, 250)), REGULAR, 100, id="category-x2"
        ),
        pytest.param(
            order_of(SANDWICH, channel=specs.Channel.MOBILE_PICKUP), REGULAR, 120, id="channel-x1.2"
        ),
        pytest.param(
            order_of(SANDWICH, at=NOON.replace(hour=23, minute=30)),
            REGULAR,
            150,
            id="late-night-23:30",
        ),
        pytest.param(
            order_of(SANDWICH, at=dt.datetime(2026, 11, 11, 1, 59, tzinfo=CHICAGO)),
            REGULAR,
            150,
            id="late-night-after-midnight-01:59",
        ),
        pytest.param(
            order_of(SANDWICH, at=dt.datetime(2026, 11, 11, 2, 0, tzinfo=CHICAGO)),
            REGULAR,
            100,
            id="late-night-ends-02:00-exclusive",
        ),
        pytest.param(
            order_of(SANDWICH, at=dt.datetime(2026, 11, 11, 3, 30, tzinfo=dt.UTC)),
            REGULAR,
            100,
            id="store-time-not-utc-21:30-chicago",
        ),
        pytest.param(
            order_of(SANDWICH, at=dt.datetime(2026, 11, 11, 4, 30, tzinfo=dt.UTC)),
            REGULAR,
            150,
            id="store-time-not-utc-22:30-chicago",
        ),
        pytest.param(order_of(SANDWICH), rules.MemberContext(), 200, id="first-order-welcome-100"),
        pytest.param(
            order_of(SANDWICH),
            rules.MemberContext(orders_before=1, birthday=dt.date(1990, 11, 10)),
            350,
            id="birthday-250",
        ),
        pytest.param(
            order_of(SANDWICH),
            rules.MemberContext(
                orders_before=1, birthday=dt.date(1990, 11, 10), birthday_bonus_year=2026
            ),
            100,
            id="birthday-once-a-year",
        ),
        pytest.param(
            order_of(SANDWICH, at=dt.datetime(2026, 12, 3, 12, 0, tzinfo=CHICAGO)),
            REGULAR,
            200,
            id="double-points-week-x2",
        ),
        pytest.param(
            order_of(SANDWICH, at=dt.datetime(2026, 12, 8, 0, 0, tzinfo=dt.UTC)),
            REGULAR,
            100,
            id="double-points-week-ends-exclusive",
        ),
        pytest.param(
            order_of(("combo-family", None, 10, 3000)), REGULAR, 2000, id="cap-per-order-2000"
        ),
        pytest.param(
            order_of(("chicken-sandwich", None, 2, 1000)),
            rules.MemberContext(orders_before=1, earned_today=4900),
            100,
            id="cap-per-day-5000-leaves-100",
        ),
        pytest.param(
            order_of(SANDWICH),
            rules.MemberContext(orders_before=1, earned_today=5000),
            0,
            id="cap-per-day-spent",
        ),
        pytest.param(
            order_of(("x", None, 1, 1000), discount=500), REGULAR, 50, id="discount-half-paid"
        ),
    ],
)
def test_points_for_example_program(
    program: specs.LoyaltyProgramSpec,
    order: orders.Order,
    member: rules.MemberContext,
    expected: int,
) -> None:
    assert rules.points_for(order, program, member=member, store_tz=CHICAGO).points == expected


@pytest.mark.parametrize(
    ("tier_name", "expected"),
    [
        pytest.param("member", 100, id="member-x1"),
        pytest.param("gold", 125, id="gold-x1.25"),
        pytest.param("platinum", 150, id="platinum-x1.5"),
    ],
)
def test_tier_multiplier_applies(
    program: specs.LoyaltyProgramSpec, tier_name: str, expected: int
) -> None:
    tier = next(t for t in program.tiering.tiers if t.name == tier_name)
    member = rules.MemberContext(orders_before=1, tier=tier)
    assert (
        rules.points_for(order_of(SANDWICH), program, member=member, store_tz=CHICAGO).points
        == expected
    )


@pytest.mark.parametrize(
    ("rounding", "price", "expected"),
    [
        pytest.param(specs.Rounding.FLOOR, 119, 11, id="floor-11.9"),
        pytest.param(specs.Rounding.CEIL, 111, 12, id="ceil-11.1"),
        pytest.param(specs.Rounding.NEAREST, 115, 12, id="nearest-11.5-half-up"),
        pytest.param(specs.Rounding.NEAREST, 114, 11, id="nearest-11.4"),
    ],
)
def test_rounding_is_the_declared_one(
    program: specs.LoyaltyProgramSpec, rounding: specs.Rounding, price: int, expected: int
) -> None:
    variant = program.model_copy(
        update={"earning": program.earning.model_copy(update={"rounding": rounding})}
    )
    order = order_of(("chicken-sandwich", None, 1, price))
    assert rules.points_for(order, variant, member=REGULAR, store_tz=CHICAGO).points == expected


def test_accrual_names_every_rule_that_changed_it(program: specs.LoyaltyProgramSpec) -> None:
    order = order_of(
        ("combo-family", None, 1, 2000),
        ("drink-medium", "beverages", 1, 250),
        at=NOON.replace(hour=23),
        channel=specs.Channel.MOBILE_PICKUP,
    )
    accrual = rules.points_for(order, program, member=rules.MemberContext(), store_tz=CHICAGO)
    assert [s.rule for s in accrual.steps] == [
        "earning.basePointsPerUnit",
        "earning.itemMultipliers[combo-family]",
        "earning.categoryMultipliers[beverages]",
        "earning.channelMultipliers[mobile-pickup]",
        "earning.dayparts[late-night]",
        "earning.rounding",
        "earning.bonuses[welcome]",
    ]


def test_explanation_steps_add_up_to_the_points(program: specs.LoyaltyProgramSpec) -> None:
    order = order_of(
        ("combo-family", None, 7, 3099),
        at=NOON.replace(hour=22),
        channel=specs.Channel.MOBILE_PICKUP,
    )
    accrual = rules.points_for(
        order, program, member=rules.MemberContext(earned_today=4000), store_tz=CHICAGO
    )
    assert sum(s.points for s in accrual.steps) == accrual.points


def test_item_multiplier_wins_over_category(program: specs.LoyaltyProgramSpec) -> None:
    order = order_of(("combo-family", "beverages", 1, 1000))
    accrual = rules.points_for(order, program, member=REGULAR, store_tz=CHICAGO)
    assert "earning.categoryMultipliers[beverages]" not in [s.rule for s in accrual.steps]


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        pytest.param(dt.time(21, 59), False, id="before"),
        pytest.param(dt.time(22, 0), True, id="start-inclusive"),
        pytest.param(dt.time(0, 0), True, id="midnight"),
        pytest.param(dt.time(1, 59), True, id="after-midnight"),
        pytest.param(dt.time(2, 0), False, id="end-exclusive"),
    ],
)
def test_daypart_window_wraps_midnight(local: dt.time, inside: bool) -> None:
    assert rules.in_window(local, start="22:00", end="02:00") is inside


def test_natural_key_is_the_pos_check_when_known() -> None:
    app = order_of(SANDWICH).model_copy(update={"check_number": "417"})
    pos = app.model_copy(update={"order_id": "pos-guid-9"})
    assert orders.natural_key(app, store_tz=CHICAGO) == orders.natural_key(pos, store_tz=CHICAGO)
