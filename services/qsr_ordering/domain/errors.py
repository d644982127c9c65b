"""The ordering domain's refusals: plain exceptions the API maps to problem+json.

Each carries the dotted `field` it is about (when there is one) and an HTTP-neutral `code`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


class OrderingError(Exception):
    """Base of every ordering refusal; `field` names the culprit in the request."""

    code = "ordering-error"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidCart(OrderingError):
    code = "invalid-cart"


class StoreClosed(OrderingError):
    code = "store-closed"


class StorePaused(OrderingError):
    code = "store-paused"


class ChannelNotOffered(OrderingError):
    code = "channel-not-offered"


class SlotFull(OrderingError):
    """The pickup slot is at capacity; `next_free` lists the nearest slots that still have room."""

    code = "slot-full"

    def __init__(self, slot: datetime, *, next_free: Sequence[datetime]) -> None:
        free = ", ".join(s.isoformat() for s in next_free) or "none in the search window"
        super().__init__(
            f"pickup slot {slot.isoformat()} is full; next free: {free}", field="pickupAt"
        )
        self.slot = slot
        self.next_free = tuple(next_free)


class IllegalTransition(OrderingError):
    code = "illegal-transition"


class InvalidRefund(OrderingError):
    code = "invalid-refund"
