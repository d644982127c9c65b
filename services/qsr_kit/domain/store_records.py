"""One record of a program's compacted store topic, as the services read it.

Pure. The operator writes them (`qsr_operator.domain.stores.store_record`): key = store id,
value = JSON `{"namespace", "name", "spec"}` with the StoreIntegration spec in camelCase; a null
value (tombstone) means the store was deleted. Secret *values* are never on the topic, only
references.

    change = store_records.parse(key=b"store-0001", value=None)  # Removed("store-0001")
"""

from __future__ import annotations

import dataclasses
import json
import re

import pydantic

from qsr_kit.domain import specs


class BadStoreRecord(ValueError):
    """A record no service can apply; `field` names what is wrong (`key`, `value`, `spec.x`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclasses.dataclass(frozen=True)
class Upserted:
    spec: specs.StoreIntegrationSpec


@dataclasses.dataclass(frozen=True)
class Removed:
    store_id: str


Change = Upserted | Removed


def parse(*, key: bytes | None, value: bytes | None) -> Change:
    """The change a record carries; raises BadStoreRecord naming the field."""
    if not key:
        raise BadStoreRecord("key", "missing; store records are keyed by store id")
    try:
        store_id = key.decode()
    except UnicodeDecodeError:
        raise BadStoreRecord("key", "not UTF-8") from None
    if value is None:
        return Removed(store_id)
    try:
        body = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadStoreRecord("value", f"not JSON ({error})") from None
    if not isinstance(body, dict) or "spec" not in body:
        raise BadStoreRecord("spec", "missing; the value is an object with a spec")
    try:
        spec = specs.StoreIntegrationSpec.model_validate(body["spec"])
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in ("spec", *first["loc"]))
        raise BadStoreRecord(where, first["msg"]) from None
    if spec.store_id != store_id:
        raise BadStoreRecord("spec.storeId", f"{spec.store_id!r} differs from the key {store_id!r}")
    return Upserted(spec)


def topics_of(text: str) -> list[str]:
    """Comma-separated topic names from a setting; blanks ignored."""
    return [name.strip() for name in text.split(",") if name.strip()]


_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"


def pattern_of(names: list[str]) -> re.Pattern[str] | None:
    """One regex for the names when any is `qsr.<namespace>.*.stores` (every program of a
    namespace), else None; raises ValueError naming a wildcard anywhere else."""
    if not any("*" in name for name in names):
        return None
    parts = []
    for name in names:
        pieces = name.split(".")
        if "*" in name and (
            len(pieces) != 4 or pieces[2] != "*" or "*" in name.replace("*", "", 1)
        ):
            raise ValueError(f"store_topics: {name!r}: only qsr.<namespace>.*.stores may use '*'")
        parts.append(".".join(_LABEL if p == "*" else re.escape(p) for p in pieces))
    return re.compile("(?:" + "|".join(parts) + ")$")
