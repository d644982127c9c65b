"""CloudEvents 1.0 envelopes with typed payloads: what every service writes to its outbox and reads.

Pure: ids and times arrive as arguments. Producers build with `envelope_of`, consumers parse
bytes with `from_bytes` and get a typed payload from a `Registry`; errors name the field.

    env = events.envelope_of(payload, event_id=EventId(uuid), source="/qsr/ordering", time=now)
    raw = events.to_bytes(env)  # Kafka value (structured mode)
    payload = payloads.REGISTRY.payload_of(events.from_bytes(raw))
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Literal, NewType

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

EventId = NewType("EventId", str)
EventType = NewType("EventType", str)

# io.qsr.<entity>.<verb>.v<N>; the entity may be dotted (io.qsr.loyalty.points.accrued.v1).
EVENT_TYPE_PATTERN = r"^io\.qsr\.[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+\.v[1-9][0-9]*$"
# W3C Trace Context, version 00.
TRACEPARENT_PATTERN = r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


class EventParseError(ValueError):
    """An event that cannot be read: `field` is the dotted path of the culprit (`data.lines.0`)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class UnknownEventType(EventParseError):
    """A well-formed envelope whose `type` no registry entry claims."""


class Payload(BaseModel):
    """Base of every event payload. Ids only, never e-mails or phones.

    Tolerant reader: unknown fields are ignored, so a producer may add optional fields within a
    version; anything else is a new version (`.v2`) with its own class.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]

    def partition_key(self) -> str:
        """The Kafka key of this event's stream (member or store): order is kept per key."""
        raise NotImplementedError(f"{type(self).__name__} must say its partition key")

    def subject(self) -> str | None:
        """The CloudEvents `subject`: the id of the thing the event is about."""
        return None


class Envelope(BaseModel):
    """A CloudEvents 1.0 event (structured JSON mode) with `traceparent` and `partitionkey`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=500)
    type: str = Field(pattern=EVENT_TYPE_PATTERN)
    time: AwareDatetime
    subject: str | None = Field(default=None, max_length=500)
    datacontenttype: Literal["application/json"] = "application/json"
    traceparent: str | None = Field(default=None, pattern=TRACEPARENT_PATTERN)
    partitionkey: str = Field(min_length=1, max_length=500)
    data: dict[str, Any]

    @property
    def event_id(self) -> EventId:
        return EventId(self.id)

    @property
    def event_type(self) -> EventType:
        return EventType(self.type)


def envelope_of(
    payload: Payload,
    *,
    event_id: EventId,
    source: str,
    time: datetime,
    traceparent: str | None = None,
) -> Envelope:
    """Wrap a payload; raises EventParseError (naming the field) if an attribute is malformed."""
    return _validated(
        {
            "id": event_id,
            "source": source,
            "type": type(payload).event_type,
            "time": time,
            "subject": payload.subject(),
            "traceparent": traceparent,
            "partitionkey": payload.partition_key(),
            "data": payload.model_dump(mode="json"),
        }
    )


def to_bytes(envelope: Envelope) -> bytes:
    """The Kafka record value: compact JSON of the whole envelope."""
    return envelope.model_dump_json(exclude_none=True).encode()


def from_bytes(raw: bytes) -> Envelope:
    """Parse a record value; raises EventParseError naming the offending attribute."""
    try:  # one pass in pydantic-core (a fourth of json.loads + model_validate's time) ...
        return Envelope.model_validate_json(raw)
    except ValidationError:
        pass  # ... and when it fails, the slower path names the culprit as it always did
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventParseError("$", f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise EventParseError("$", f"expected a JSON object, got {type(document).__name__}")
    return _validated(document)


def headers_of(envelope: Envelope) -> list[tuple[str, bytes]]:
    """Kafka headers of a structured-mode record: content type, id, type and traceparent."""
    return headers_for(
        event_id=envelope.id, event_type=envelope.type, traceparent=envelope.traceparent
    )


def headers_for(
    *, event_id: str, event_type: str, traceparent: str | None
) -> list[tuple[str, bytes]]:
    """`headers_of` from the attributes alone (the relay has them without re-validating)."""
    headers = [
        ("content-type", CONTENT_TYPE.encode()),
        ("ce_id", event_id.encode()),
        ("ce_type", event_type.encode()),
    ]
    if traceparent is not None:
        headers.append(("traceparent", traceparent.encode()))
    return headers


class Registry:
    """Payload classes by event type: turns an envelope into its typed payload."""

    def __init__(self, payloads: Iterable[type[Payload]]) -> None:
        self._by_type: dict[str, type[Payload]] = {}
        for cls in payloads:
            if not re.match(EVENT_TYPE_PATTERN, cls.event_type):
                raise ValueError(f"{cls.__name__}.event_type {cls.event_type!r} is not io.qsr.*.vN")
            if cls.event_type in self._by_type:
                raise ValueError(f"event type {cls.event_type!r} registered twice")
            self._by_type[cls.event_type] = cls

    @property
    def types(self) -> frozenset[str]:
        return frozenset(self._by_type)

    def parse(self, raw: bytes) -> tuple[Envelope, Payload]:
        """`from_bytes` then `payload_of`: a record value's envelope and typed payload."""
        envelope = from_bytes(raw)
        return envelope, self.payload_of(envelope)

    def payload_of(self, envelope: Envelope) -> Payload:
        """The typed payload; else UnknownEventType or EventParseError (field `data.<path>`)."""
        cls = self._by_type.get(envelope.type)
        if cls is None:
            raise UnknownEventType("type", f"no payload registered for {envelope.type!r}")
        try:
            return cls.model_validate(envelope.data)
        except ValidationError as exc:
            raise _parse_error(exc, prefix="data") from None


def _validated(document: Mapping[str, Any]) -> Envelope:
    try:
        return Envelope.model_validate(document)
    except ValidationError as exc:
        raise _parse_error(exc, prefix="") from None


def _parse_error(exc: ValidationError, *, prefix: str) -> EventParseError:
    first = exc.errors(include_url=False)[0]
    path = ".".join(str(part) for part in (prefix, *first["loc"]) if part != "")
    return EventParseError(path or "$", first["msg"])
