"""Guest sign-up and sign-in, staff accounts: the use cases behind the account routes.

Sign-up answers the same whether or not the identifier is known, and both paths hash once; sign-in
verifies against a dummy hash for unknown identifiers (no enumeration by message or timing).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable

import sqlalchemy as sa

from qsr_identity.deps import Identity
from qsr_identity.domain import accounts
from qsr_identity.repository import Account, Repository


class InvalidCredentials(Exception):
    """Identifier or password wrong: deliberately one message for both (→ 401)."""

    def __init__(self) -> None:
        super().__init__("identifier or password is wrong")


class AccountExists(Exception):
    """An administrator created an account whose identifier is taken (→ 409; admin routes only)."""


async def sign_up_guest(identity: Identity, *, identifier: str, password: str) -> None:
    normalized = accounts.normalized_identifier(identifier)
    accounts.check_password(password, identifier=normalized)
    password_hash = await asyncio.to_thread(identity.passwords.hash, password)
    account = Account(
        account_id=uuid.uuid4().hex,
        kind="guest",
        identifier=normalized,
        password_hash=password_hash,
        member_id=uuid.uuid4().hex,
        store_ids=(),
    )
    try:
        async with identity.repository.transaction() as conn:
            await Repository.add_account(conn, account, now=identity.clock())
    except sa.exc.IntegrityError:
        pass  # a concurrent sign-up of the same identifier: same answer as any known identifier


async def create_staff(
    identity: Identity, *, identifier: str, password: str, store_ids: Iterable[str]
) -> Account:
    normalized = accounts.normalized_identifier(identifier)
    accounts.check_password(password, identifier=normalized)
    password_hash = await asyncio.to_thread(identity.passwords.hash, password)
    account = Account(
        account_id=uuid.uuid4().hex,
        kind="staff",
        identifier=normalized,
        password_hash=password_hash,
        member_id=None,
        store_ids=tuple(sorted(set(store_ids))),
    )
    async with identity.repository.transaction() as conn:
        if not await Repository.add_account(conn, account, now=identity.clock()):
            raise AccountExists("identifier: an account with this identifier exists")
    return account


async def authenticate(identity: Identity, *, identifier: str, password: str) -> Account:
    try:
        normalized = accounts.normalized_identifier(identifier)
    except accounts.InvalidField:
        normalized = None
    account = None
    if normalized is not None:
        async with identity.repository.transaction() as conn:
            account = await Repository.account_by_identifier(conn, normalized)
    stored = account.password_hash if account is not None else None
    if not await asyncio.to_thread(identity.passwords.verify, stored, password):
        raise InvalidCredentials()
    assert account is not None
    return account
