"""`events.from_bytes` parses in one pydantic-core pass (`model_validate_json`) and falls back to
`json.loads` + `model_validate` only to name a culprit: both read every document alike (pure)."""

from __future__ import annotations

import json

import pytest

from qsr_kit.domain import events, payloads
from tests.qsr_kit.test_kit_events import NOW, TRACEPARENT, order_completed


def _documents() -> list[bytes]:
    full = events.envelope_of(
        order_completed(), event_id=events.EventId("evt-1"), source="/qsr/ordering", time=NOW,
        traceparent=TRACEPARENT,
    )  # fmt: skip
    bare = events.envelope_of(
        order_completed(member_id=None, lines=[]), event_id=events.EventId("evt-2"),
        source="/qsr/pos", time=NOW,
    )  # fmt: skip
    extra = {
        **json.loads(events.to_bytes(full)),
        "unknownattr": 1,
        "time": "2026-11-25T13:00:00+01:00",
    }
    return [events.to_bytes(full), events.to_bytes(bare), json.dumps(extra).encode()]


@pytest.mark.parametrize("raw", _documents())
def test_one_pass_reads_what_the_two_step_path_reads(raw: bytes) -> None:
    two_step = events.Envelope.model_validate(json.loads(raw))
    assert events.from_bytes(raw) == two_step


@pytest.mark.parametrize("raw", _documents())
def test_registry_parse_gives_the_envelope_and_its_typed_payload(raw: bytes) -> None:
    envelope, payload = payloads.REGISTRY.parse(raw)
    assert (envelope, payload) == (
        events.from_bytes(raw),
        payloads.OrderCompleted.model_validate(json.loads(raw)["data"]),
    )


def test_a_failed_one_pass_still_names_the_field() -> None:
    document = json.loads(_documents()[0])
    document["type"] = "not-a-type"
    with pytest.raises(events.EventParseError) as caught:
        events.from_bytes(json.dumps(document).encode())
    assert caught.value.field == "type"
