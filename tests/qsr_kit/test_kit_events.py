"""The CloudEvents envelope, payload registry and topic names (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from qsr_kit.domain import events, payloads, specs, topics

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def order_completed(**overrides: object) -> payloads.OrderCompleted:
    fields: dict[str, object] = {
        "order_id": "ord-1",
        "store_id": "store-7",
        "member_id": "mem-42",
        "program": "rewards",
        "origin": payloads.Origin.APP,
        "order_key": "store-7:check-1001",
        "channel": specs.Channel.MOBILE_PICKUP,
        "completed_at": NOW,
        "currency": "USD",
        "subtotal_minor": 1250,
        "lines": [{"sku": "burger", "quantity": 2, "unit_price_minor": 625}],
    }
    fields.update(overrides)
    return payloads.OrderCompleted.model_validate(fields)


def envelope(**overrides: object) -> events.Envelope:
    return events.envelope_of(
        order_completed(**overrides),
        event_id=events.EventId("evt-1"),
        source="/qsr/ordering",
        time=NOW,
        traceparent=TRACEPARENT,
    )


def test_envelope_round_trips_through_bytes_with_typed_payload() -> None:
    env = envelope()
    parsed = events.from_bytes(events.to_bytes(env))
    assert parsed == env
    assert payloads.REGISTRY.payload_of(parsed) == order_completed()


def test_envelope_carries_cloudevents_attributes() -> None:
    document = json.loads(events.to_bytes(envelope()))
    assert document["specversion"] == "1.0"
    assert document["type"] == "io.qsr.order.completed.v1"
    assert document["subject"] == "ord-1"
    assert document["datacontenttype"] == "application/json"
    assert document["traceparent"] == TRACEPARENT


def test_order_events_are_keyed_by_store_and_loyalty_events_by_member() -> None:
    accrued = payloads.PointsAccrued(
        member_id="mem-42",
        program="rewards",
        order_key="k",
        lot_id="lot-1",
        points=12,
        available_at=NOW,
    )
    assert envelope().partitionkey == "store-7"
    assert accrued.partition_key() == "mem-42"


def test_headers_carry_traceparent_and_type() -> None:
    headers = dict(events.headers_of(envelope()))
    assert headers["traceparent"] == TRACEPARENT.encode()
    assert headers["ce_type"] == b"io.qsr.order.completed.v1"
    assert headers["ce_id"] == b"evt-1"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        pytest.param(b"{not json", "$", id="not-json"),
        pytest.param(b"[1, 2]", "$", id="not-an-object"),
        pytest.param(b'{"specversion": "1.0"}', "id", id="missing-id"),
    ],
)
def test_unreadable_bytes_name_the_field(raw: bytes, field: str) -> None:
    with pytest.raises(events.EventParseError) as caught:
        events.from_bytes(raw)
    assert caught.value.field == field


def test_bad_envelope_attribute_is_named() -> None:
    document = json.loads(events.to_bytes(envelope()))
    document["type"] = "order.completed"
    with pytest.raises(events.EventParseError) as caught:
        events.from_bytes(json.dumps(document).encode())
    assert caught.value.field == "type"


def test_bad_payload_field_is_named_with_its_path() -> None:
    document = json.loads(events.to_bytes(envelope()))
    document["data"]["lines"][0]["quantity"] = 0
    parsed = events.from_bytes(json.dumps(document).encode())
    with pytest.raises(events.EventParseError) as caught:
        payloads.REGISTRY.payload_of(parsed)
    assert caught.value.field == "data.lines.0.quantity"


def test_unknown_event_type_is_reported_as_such() -> None:
    document = json.loads(events.to_bytes(envelope()))
    document["type"] = "io.qsr.order.teleported.v1"
    parsed = events.from_bytes(json.dumps(document).encode())
    with pytest.raises(events.UnknownEventType) as caught:
        payloads.REGISTRY.payload_of(parsed)
    assert caught.value.field == "type"


def test_naive_time_is_rejected() -> None:
    with pytest.raises(events.EventParseError) as caught:
        events.envelope_of(
            order_completed(),
            event_id=events.EventId("e"),
            source="/s",
            time=datetime(2026, 1, 1),
        )
    assert caught.value.field == "time"


def test_payload_ignores_unknown_fields_within_a_version() -> None:
    document = json.loads(events.to_bytes(envelope()))
    document["data"]["new_optional_field"] = "x"
    parsed = events.from_bytes(json.dumps(document).encode())
    assert payloads.REGISTRY.payload_of(parsed) == order_completed()


def test_registry_refuses_a_type_registered_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        events.Registry([payloads.OrderCompleted, payloads.OrderCompleted])


def test_payloads_never_carry_contact_details() -> None:
    for event_type in payloads.REGISTRY.types:
        cls = payloads.REGISTRY._by_type[event_type]
        names = set(cls.model_fields)
        assert not {n for n in names if "email" in n or "phone" in n}, event_type


def test_topic_names_and_companions() -> None:
    main = topics.topic_name(namespace="brand-a", program="rewards", stream=topics.Stream.ORDERS)
    assert main == "qsr.brand-a.rewards.orders"
    assert topics.companions_of(topics.dlq_of(main)) == (
        main,
        "qsr.brand-a.rewards.orders.retry",
        "qsr.brand-a.rewards.orders.dlq",
    )
    assert topics.kind_of(topics.retry_of(main)) is topics.Kind.RETRY
    assert topics.original_of(topics.retry_of(main)) == main


def test_topic_name_part_error_names_the_part() -> None:
    with pytest.raises(ValueError, match="program"):
        topics.topic_name(namespace="ns", program="Rewards!", stream="orders")
