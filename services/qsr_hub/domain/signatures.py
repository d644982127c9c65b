"""Per-store webhook signatures: HMAC-SHA256 over `<timestamp>.<raw body>` with a replay window.

Headers `X-QSR-Timestamp` (unix seconds) and `X-QSR-Signature: v1=<hex>` (Stripe/Toast style). The
clock arrives as an argument; comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

TIMESTAMP_HEADER = "X-QSR-Timestamp"
SIGNATURE_HEADER = "X-QSR-Signature"
WINDOW = timedelta(minutes=5)


class SignatureError(ValueError):
    """A webhook we must not trust; `field` names the header at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def signature_of(secret: bytes, *, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(
    secret: bytes,
    *,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: datetime,
    window: timedelta = WINDOW,
) -> None:
    """Returns when the body was signed with `secret` within `window` of `now`; raises otherwise."""
    if not timestamp:
        raise SignatureError(TIMESTAMP_HEADER, "missing")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError(TIMESTAMP_HEADER, "not unix seconds")
    sent = int(timestamp)
    if abs(now.timestamp() - sent) > window.total_seconds():
        raise SignatureError(
            TIMESTAMP_HEADER, f"outside the {int(window.total_seconds())} s window"
        )
    if not signature:
        raise SignatureError(SIGNATURE_HEADER, "missing")
    expected = signature_of(secret, timestamp=sent, body=body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureError(SIGNATURE_HEADER, "does not match the body")
