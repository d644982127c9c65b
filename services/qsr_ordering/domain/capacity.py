"""Kitchen capacity: 15-minute pickup slots holding at most N orders each (Olo "orders per window").

Pure: the repository counts what is booked and enforces the limit atomically; this module says which
slot an instant falls in and, when it is full, which slots nearby still have room.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from qsr_ordering.domain import errors

SLOT = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slot_of(at: datetime) -> datetime:
    """The start of the 15-minute slot holding `at`, in UTC (zone offsets are multiples of 15)."""
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    offset = (at - _EPOCH) % SLOT
    return (at - offset).astimezone(UTC)


def next_free_slots(
    after: datetime,
    *,
    booked: Mapping[datetime, int],
    capacity: int,
    is_open: Callable[[datetime], bool],
    count: int = 3,
    horizon: int = 96,
) -> tuple[datetime, ...]:
    """Up to `count` open slots with room after the one holding `after`, within `horizon`."""
    found: list[datetime] = []
    slot = slot_of(after)
    for _ in range(horizon):
        slot += SLOT
        if booked.get(slot, 0) < capacity and is_open(slot):
            found.append(slot)
            if len(found) == count:
                break
    return tuple(found)


def ensure_room(
    at: datetime,
    *,
    booked: Mapping[datetime, int],
    capacity: int,
    is_open: Callable[[datetime], bool],
) -> datetime:
    """The slot for a pickup at `at`, or `SlotFull` carrying the next free slots."""
    slot = slot_of(at)
    if booked.get(slot, 0) >= capacity:
        free = next_free_slots(at, booked=booked, capacity=capacity, is_open=is_open)
        raise errors.SlotFull(slot, next_free=free)
    return slot
