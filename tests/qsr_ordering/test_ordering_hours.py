"""Opening hours in the store's timezone, windows past midnight, paused stores, channels."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from qsr_kit.domain import specs
from qsr_ordering.domain import errors, hours
from tests.qsr_ordering.menus import example_store

CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("local", "open_"),
    [
        pytest.param(datetime(2026, 11, 23, 6, 59), False, id="mon-before-open"),
        pytest.param(datetime(2026, 11, 23, 7, 0), True, id="mon-at-open"),
        pytest.param(datetime(2026, 11, 23, 23, 0), False, id="mon-at-close"),
        pytest.param(datetime(2026, 11, 27, 23, 30), True, id="fri-late"),
        pytest.param(datetime(2026, 11, 28, 1, 30), True, id="sat-early-from-fri-window"),
        pytest.param(datetime(2026, 11, 28, 2, 0), False, id="sat-at-fri-window-close"),
        pytest.param(datetime(2026, 11, 28, 7, 30), False, id="sat-before-own-open"),
        pytest.param(datetime(2026, 11, 30, 1, 0), False, id="mon-early-after-sun-23"),
    ],
)
def test_opening_hours_are_read_in_the_store_timezone(local: datetime, open_: bool) -> None:
    at = local.replace(tzinfo=CHICAGO).astimezone(UTC)
    assert hours.is_open(example_store(), at=at) is open_


def test_open_equal_close_means_around_the_clock() -> None:
    store = example_store(
        hours=[specs.OpeningHours(day=specs.Weekday.MON, open="00:00", close="00:00")]
    )
    assert hours.is_open(store, at=datetime(2026, 11, 23, 3, 0, tzinfo=CHICAGO))


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.is_open(example_store(), at=datetime(2026, 11, 23, 12, 0))


def test_the_business_date_of_an_after_midnight_sale_is_the_previous_day() -> None:
    at = datetime(2026, 11, 28, 1, 30, tzinfo=CHICAGO)
    assert hours.business_date_of(example_store(), at=at) == "2026-11-27"


@pytest.mark.parametrize(
    ("changes", "channel", "error"),
    [
        pytest.param({"paused": True}, specs.Channel.KIOSK, errors.StorePaused, id="paused"),
        pytest.param({}, specs.Channel.DELIVERY, errors.ChannelNotOffered, id="channel"),
    ],
)
def test_a_store_refuses_orders_it_cannot_take(
    changes: dict[str, object], channel: specs.Channel, error: type[errors.OrderingError]
) -> None:
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=CHICAGO)
    with pytest.raises(error):
        hours.ensure_accepting(example_store("store-0001", **changes), channel=channel, at=noon)


def test_a_closed_store_names_the_pickup_time() -> None:
    night = datetime(2026, 11, 23, 4, 0, tzinfo=CHICAGO)
    with pytest.raises(errors.StoreClosed) as refused:
        hours.ensure_accepting(example_store(), channel=specs.Channel.KIOSK, at=night)
    assert refused.value.field == "pickupAt"
