"""Kitchen capacity: 15-minute slots of at most N orders; a full slot names the next free ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qsr_ordering.domain import capacity, errors

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
SLOT = capacity.SLOT


def always_open(_: datetime) -> bool:
    return True


@pytest.mark.parametrize(
    ("at", "slot"),
    [
        pytest.param(T0, T0, id="on-boundary"),
        pytest.param(T0 + timedelta(minutes=14, seconds=59), T0, id="end-of-slot"),
        pytest.param(T0 + timedelta(minutes=15), T0 + SLOT, id="next-slot"),
    ],
)
def test_an_instant_falls_in_its_quarter_hour(at: datetime, slot: datetime) -> None:
    assert capacity.slot_of(at) == slot


def test_a_slot_with_room_is_granted() -> None:
    assert (
        capacity.ensure_room(
            T0 + timedelta(minutes=5), booked={T0: 2}, capacity=3, is_open=always_open
        )
        == T0
    )


def test_a_full_slot_names_the_next_free_slots_skipping_full_and_closed_ones() -> None:
    booked = {T0: 3, T0 + SLOT: 3}
    closed = T0 + 2 * SLOT

    with pytest.raises(errors.SlotFull) as refused:
        capacity.ensure_room(T0, booked=booked, capacity=3, is_open=lambda s: s != closed)

    assert refused.value.next_free == (T0 + 3 * SLOT, T0 + 4 * SLOT, T0 + 5 * SLOT)


@given(
    booked_counts=st.lists(st.integers(0, 4), min_size=1, max_size=30),
    cap=st.integers(1, 4),
)
def test_suggested_slots_are_later_ordered_and_have_room(
    booked_counts: list[int], cap: int
) -> None:
    booked = {T0 + i * SLOT: n for i, n in enumerate(booked_counts)}
    free = capacity.next_free_slots(T0, booked=booked, capacity=cap, is_open=always_open)
    assert list(free) == sorted(free)
    assert all(slot > T0 and booked.get(slot, 0) < cap for slot in free)
    assert len(free) == 3
