"""Signing-key schedule with overlap: a new key is published before it signs, an old one stays
published until every token it signed has expired. Pure; `qsr_identity.keystore` persists it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True)
class KeyRecord:
    kid: str
    activates_at: float
    retires_at: float | None = None


def signing_kid(records: Sequence[KeyRecord], *, now: float) -> str:
    """The newest key already active and not retired."""
    active = [
        r for r in records if r.activates_at <= now and (r.retires_at is None or now < r.retires_at)
    ]
    if not active:
        raise LookupError("no active signing key")
    return max(active, key=lambda r: r.activates_at).kid


def published_kids(records: Sequence[KeyRecord], *, now: float, grace_seconds: float) -> list[str]:
    """Keys a verifier must know: upcoming, active, and retired less than `grace_seconds` ago
    (the longest access-token lifetime plus clock skew)."""
    return [r.kid for r in records if r.retires_at is None or now < r.retires_at + grace_seconds]


def rotated(
    records: Sequence[KeyRecord], *, new_kid: str, now: float, publish_ahead_seconds: float
) -> list[KeyRecord]:
    """Add `new_kid`, signing from `now + publish_ahead_seconds` (≥ verifiers' JWKS cache TTL); the
    keys active until then retire at that instant."""
    switch_at = now + publish_ahead_seconds
    kept = [
        r
        if r.retires_at is not None and r.retires_at <= switch_at
        else dataclasses.replace(r, retires_at=switch_at)
        for r in records
    ]
    return [*kept, KeyRecord(kid=new_kid, activates_at=switch_at)]
