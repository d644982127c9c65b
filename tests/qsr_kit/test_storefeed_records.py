"""Store topic records parsed as the services read them: the operator's format, tombstones, and
bad records rejected naming the field."""

from __future__ import annotations

import json

import pytest

from qsr_kit.domain import store_records
from qsr_operator.domain.stores import store_record
from tests.qsr_ordering.menus import example_store


def test_the_operators_record_parses_back_to_the_same_spec() -> None:
    spec = example_store("store-0002", paused=True)
    record = store_record(namespace="brand-a", name="airport", spec=spec)
    assert store_records.parse(key=record.key, value=record.value) == store_records.Upserted(spec)


def test_a_tombstone_removes_the_store_of_its_key() -> None:
    change = store_records.parse(key=b"store-0001", value=None)
    assert change == store_records.Removed("store-0001")


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        pytest.param(None, b"{}", "key", id="no-key"),
        pytest.param(b"store-0001", b"{not json", "value", id="not-json"),
        pytest.param(b"store-0001", b"[]", "spec", id="no-spec"),
        pytest.param(b"store-0001", b'{"spec": {"storeId": "store-0001"}}', "spec.", id="bad"),
    ],
)
def test_a_bad_record_is_rejected_naming_the_field(
    key: bytes | None, value: bytes, field: str
) -> None:
    with pytest.raises(store_records.BadStoreRecord) as caught:
        store_records.parse(key=key, value=value)
    assert caught.value.field.startswith(field)
    assert str(caught.value).startswith(caught.value.field + ": ")


def test_a_bad_spec_field_is_named_with_its_wire_path() -> None:
    body = store_record(namespace="n", name="s", spec=example_store()).value
    doc = json.loads(body)
    doc["spec"]["kitchen"]["ordersPerSlot"] = -1
    with pytest.raises(store_records.BadStoreRecord) as caught:
        store_records.parse(key=b"store-0001", value=json.dumps(doc).encode())
    assert caught.value.field == "spec.kitchen.ordersPerSlot"


def test_a_spec_under_another_stores_key_is_rejected() -> None:
    record = store_record(namespace="n", name="s", spec=example_store("store-0001"))
    with pytest.raises(store_records.BadStoreRecord) as caught:
        store_records.parse(key=b"store-0002", value=record.value)
    assert caught.value.field == "spec.storeId"


def test_store_topics_are_read_comma_separated() -> None:
    assert store_records.topics_of(" a.stores, ,b.stores ") == ["a.stores", "b.stores"]
    assert store_records.topics_of("") == []
