"""argon2id password hashing, with a dummy hash so an unknown account costs a known one's time.

CPU-bound: callers in async code run these in a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import dataclasses

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclasses.dataclass(frozen=True)
class Argon2Params:
    """OWASP Password Storage Cheat Sheet minimum for argon2id: m=19 MiB, t=2, p=1."""

    time_cost: int = 2
    memory_kib: int = 19_456
    parallelism: int = 1


class Passwords:
    def __init__(self, params: Argon2Params) -> None:
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            type=Type.ID,
        )
        # Verified against when the account does not exist: same work, same answer time.
        self._dummy = self._hasher.hash("qsr-dummy-password-for-timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True only for a real hash that matches; `None` burns the same time and answers False."""
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and bool(stored_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def burn(self, password: str) -> None:
        """Spend one hash's worth of time (sign-up of an already-known identifier)."""
        self._hasher.hash(password)
