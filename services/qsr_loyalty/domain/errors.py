"""Domain errors of loyalty: plain exceptions; the API maps each to a problem+json status."""

from __future__ import annotations


class LoyaltyError(Exception):
    """Base of every loyalty domain error; `field` names the input at fault when there is one."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(LoyaltyError):
    status = 404
    title = "Not found"


class InsufficientPoints(LoyaltyError):
    status = 409
    title = "Insufficient points"


class HoldNotActive(LoyaltyError):
    """Commit or cancel of a hold that was already cancelled, released or expired."""

    status = 409
    title = "Redemption is not active"


class LimitReached(LoyaltyError):
    status = 409
    title = "Reward limit reached"


class Conflict(LoyaltyError):
    status = 409
    title = "Conflict"
