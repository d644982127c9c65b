"""The spoke Protocols the hub's saga and API depend on, and the two ways a spoke call fails.

`SpokeRefused` is a definitive answer (declined, not enough points): the effect did not happen.
`SpokeUnavailable` means the spoke could not answer; `uncertain` says the effect may have happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from qsr_kit.domain import payloads


class SpokeError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SpokeRefused(SpokeError):
    pass


class SpokeUnavailable(SpokeError):
    def __init__(self, reason: str, *, uncertain: bool) -> None:
        super().__init__(reason)
        self.uncertain = uncertain


@dataclass(frozen=True)
class Authorization:
    id: str
    status: str
    amount_minor: int
    reference: str


@dataclass(frozen=True)
class Reservation:
    id: str
    reward_id: str
    # The reward as a discount for ordering's pricing: {"rewardId", "kind", "value", "sku"}.
    discount: dict[str, Any]


@dataclass(frozen=True)
class Account:
    member_id: str
    points: int
    rewards: tuple[dict[str, Any], ...]


class PaymentSpoke(Protocol):
    async def authorize(
        self, *, amount_minor: int, currency: str, token: str, reference: str, key: str
    ) -> Authorization: ...

    async def capture(
        self, authorization_id: str, *, amount_minor: int | None, key: str
    ) -> None: ...

    async def void(self, authorization_id: str, *, key: str) -> None: ...

    async def refund(self, authorization_id: str, *, amount_minor: int, key: str) -> None: ...

    async def find(self, reference: str) -> tuple[Authorization, ...]: ...


class MenuSpoke(Protocol):
    async def menu_of(self, store_id: str) -> dict[str, Any]: ...


class LoyaltySpoke(Protocol):
    async def account(self, member_id: str, *, token: str | None = None) -> Account: ...

    async def reserve(
        self, *, member_id: str, reward_id: str, order_id: str, key: str
    ) -> Reservation: ...

    async def commit(self, reservation_id: str, *, key: str) -> None: ...

    async def release(self, *, reservation_id: str | None, reference: str, key: str) -> None:
        """Release a hold; without its id, every hold made under `reference` (the reserve key)."""
        ...

    async def accrue(self, event: payloads.OrderCompleted, *, key: str) -> None:
        """Credit a completed order (external providers); the native service reads the events."""
        ...
