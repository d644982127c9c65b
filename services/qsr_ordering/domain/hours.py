"""Is a store taking orders at a given instant? Opening hours in the store's own timezone.

A window whose close is before its open runs past midnight into the next day (Fri 07:00-02:00 covers
Saturday 01:30); open == close means around the clock. Time is an argument, never read from a clock.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from qsr_kit.domain import specs
from qsr_ordering.domain import errors

_DAYS = tuple(specs.Weekday)  # mon..sun, the order of datetime.weekday()


def is_open(store: specs.StoreIntegrationSpec, *, at: datetime) -> bool:
    """True when some opening window of the store covers the aware instant `at`."""
    local = local_time_of(store, at=at)
    today, yesterday = _DAYS[local.weekday()], _DAYS[(local.weekday() - 1) % 7]
    now = local.time()
    for window in store.hours:
        start, end = time.fromisoformat(window.open), time.fromisoformat(window.close)
        if start == end and window.day == today:
            return True
        if window.day == today and (start <= now < end or (end < start and now >= start)):
            return True
        if window.day == yesterday and end < start and now < end:
            return True
    return False


def local_time_of(store: specs.StoreIntegrationSpec, *, at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    return at.astimezone(ZoneInfo(store.timezone))


def business_date_of(store: specs.StoreIntegrationSpec, *, at: datetime) -> str:
    """The store's business day: a sale at 01:30 after a Friday that runs to 02:00 is Friday's."""
    local = local_time_of(store, at=at)
    earliest_open = min((time.fromisoformat(w.open) for w in store.hours), default=time(0, 0))
    if local.time() < earliest_open:
        local -= timedelta(days=1)
    return local.date().isoformat()


def ensure_accepting(
    store: specs.StoreIntegrationSpec, *, channel: specs.Channel, at: datetime
) -> None:
    """Raises why the store cannot take an order for `at` on `channel`; returns when it can."""
    if store.paused:
        raise errors.StorePaused(f"store {store.store_id} is paused", field="storeId")
    if channel not in store.channels:
        raise errors.ChannelNotOffered(
            f"store {store.store_id} does not offer {channel.value}", field="channel"
        )
    if not is_open(store, at=at):
        local = local_time_of(store, at=at)
        raise errors.StoreClosed(
            f"store {store.store_id} is closed at {local.isoformat()} ({store.timezone})",
            field="pickupAt",
        )
