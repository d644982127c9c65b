"""Pricing: modifiers, combos, dayparts, tax half-up on the discounted subtotal, untaxed tips."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qsr_ordering.domain import errors, pricing
from tests.qsr_ordering.menus import sample_menu

NOON = time(12, 0)


def cart(*lines: dict[str, object], **extra: object) -> pricing.Cart:
    return pricing.Cart.model_validate({"lines": list(lines), **extra})


def test_modifiers_add_to_the_unit_price() -> None:
    quote = pricing.quote_of(
        cart({"sku": "chicken-sandwich", "quantity": 2, "modifiers": ["spicy-mayo", "honey"]}),
        sample_menu(),
        tax_rate_percent=0,
        local_time=NOON,
    )
    assert quote.lines[0].unit_minor == 699 + 50
    assert quote.subtotal_minor == 2 * (699 + 50)


def test_a_combo_is_sold_at_its_own_price() -> None:
    quote = pricing.quote_of(
        cart({"sku": "combo-family", "quantity": 1}),
        sample_menu(),
        tax_rate_percent=0,
        local_time=NOON,
    )
    assert quote.subtotal_minor == 2499


def test_tax_is_half_up_on_the_discounted_subtotal_and_tips_are_untaxed() -> None:
    quote = pricing.quote_of(
        cart(
            {"sku": "fries-large", "quantity": 1},
            tipMinor=100,
            discount={"rewardId": "five-off", "kind": "amount", "value": 200},
        ),
        sample_menu(),
        tax_rate_percent=8.25,
        local_time=NOON,
    )
    # (399 - 200) * 8.25 % = 16.4175 → 16
    assert quote.tax_minor == 16
    assert quote.total_minor == 399 - 200 + 16 + 100


def test_an_item_reward_takes_off_the_cheapest_matching_unit() -> None:
    quote = pricing.quote_of(
        cart(
            {"sku": "drink-medium", "quantity": 1, "modifiers": ["lemonade"]},
            {"sku": "drink-medium", "quantity": 1, "modifiers": ["cola"]},
            discount={"rewardId": "free-drink", "kind": "item", "sku": "drink-medium"},
        ),
        sample_menu(),
        tax_rate_percent=0,
        local_time=NOON,
    )
    assert quote.discount_minor == 249


@pytest.mark.parametrize(
    ("lines", "extra", "field"),
    [
        pytest.param([{"sku": "nope", "quantity": 1}], {}, "lines[0].sku", id="unknown-sku"),
        pytest.param(
            [
                {"sku": "fries-large", "quantity": 1},
                {"sku": "fries-large", "quantity": 1, "modifiers": ["cola"]},
            ],
            {},
            "lines[1].modifiers[0]",
            id="foreign-modifier",
        ),
        pytest.param(
            [{"sku": "drink-medium", "quantity": 1}],
            {},
            "lines[0].modifiers",
            id="required-choice-missing",
        ),
        pytest.param(
            [{"sku": "drink-medium", "quantity": 1, "modifiers": ["cola", "lemonade"]}],
            {},
            "lines[0].modifiers",
            id="too-many-choices",
        ),
        pytest.param([{"sku": "biscuit", "quantity": 1}], {}, "lines[0].sku", id="outside-daypart"),
        pytest.param(
            [{"sku": "fries-large", "quantity": 1}],
            {"discount": {"rewardId": "free-drink", "kind": "item", "sku": "drink-medium"}},
            "discount.sku",
            id="item-reward-without-item",
        ),
    ],
)
def test_a_bad_cart_is_refused_naming_the_field(
    lines: list[dict[str, object]], extra: dict[str, object], field: str
) -> None:
    with pytest.raises(errors.InvalidCart) as refused:
        pricing.quote_of(
            cart(*lines, **extra), sample_menu(), tax_rate_percent=8.25, local_time=NOON
        )
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("at", "sold"),
    [
        pytest.param(time(23, 30), True, id="before-midnight"),
        pytest.param(time(1, 59), True, id="after-midnight"),
        pytest.param(time(2, 0), False, id="window-end-excluded"),
        pytest.param(time(12, 0), False, id="noon"),
    ],
)
def test_a_daypart_past_midnight_wraps(at: time, sold: bool) -> None:
    order = cart({"sku": "midnight-wings", "quantity": 1})
    if sold:
        assert (
            pricing.quote_of(order, sample_menu(), tax_rate_percent=0, local_time=at).subtotal_minor
            == 899
        )
    else:
        with pytest.raises(errors.InvalidCart):
            pricing.quote_of(order, sample_menu(), tax_rate_percent=0, local_time=at)


_line = st.fixed_dictionaries(
    {
        "sku": st.sampled_from(["chicken-sandwich", "fries-large", "combo-family"]),
        "quantity": st.integers(1, 20),
    }
)
_discount = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"rewardId": st.just("r"), "kind": st.just("amount"), "value": st.integers(0, 100_000)}
    ),
    st.fixed_dictionaries(
        {"rewardId": st.just("r"), "kind": st.just("percent"), "value": st.integers(0, 150)}
    ),
)


@given(
    lines=st.lists(_line, min_size=1, max_size=6),
    discount=_discount,
    tip=st.integers(0, 5000),
    rate=st.sampled_from([0.0, 5.0, 8.25, 10.0, 20.5]),
)
def test_totals_add_up_and_a_discount_never_exceeds_the_subtotal(
    lines: list[dict[str, object]], discount: dict[str, object] | None, tip: int, rate: float
) -> None:
    quote = pricing.quote_of(
        cart(*lines, tipMinor=tip, discount=discount),
        sample_menu(),
        tax_rate_percent=rate,
        local_time=NOON,
    )
    assert 0 <= quote.discount_minor <= quote.subtotal_minor
    assert quote.subtotal_minor == sum(line.total_minor for line in quote.lines)
    assert quote.total_minor == quote.subtotal_minor - quote.discount_minor + quote.tax_minor + tip
    taxable = quote.subtotal_minor - quote.discount_minor
    assert abs(quote.tax_minor - taxable * rate / 100) <= 0.5 + 1e-9
