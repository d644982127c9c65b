"""Demo accounts for the embedded mode (`qsr run`): one guest, one staff member, one app client.

Only on SQLite (a developer's machine): `IdentitySettings.seed_demo` refuses any other database.
The passwords are public demo values, printed by `qsr run`; never used outside the embedded mode.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from qsr_identity.deps import Identity
from qsr_identity.domain import oauth
from qsr_identity.repository import Account, Client, Repository

DEMO_GUEST = "guest@demo.qsr.local"
DEMO_STAFF = "staff@demo.qsr.local"
DEMO_PASSWORD = "demo-password-embedded-only"
DEMO_CLIENT = "demo-app"
DEMO_REDIRECT = "http://127.0.0.1/callback"


async def seed_demo(identity: Identity, *, member_id: str | None, store_ids: Sequence[str]) -> None:
    """Idempotent: accounts that exist are left alone."""
    password_hash = await asyncio.to_thread(identity.passwords.hash, DEMO_PASSWORD)
    guest = Account(
        uuid.uuid4().hex, "guest", DEMO_GUEST, password_hash, member_id or uuid.uuid4().hex, ()
    )
    staff = Account(uuid.uuid4().hex, "staff", DEMO_STAFF, password_hash, None, tuple(store_ids))
    client = Client(
        client_id=DEMO_CLIENT,
        secret_hash=None,
        redirect_uris=(DEMO_REDIRECT,),
        scopes=oauth.GUEST_SCOPES | oauth.STAFF_SCOPES,
    )
    now = identity.clock()
    async with identity.repository.transaction() as conn:
        for account in (guest, staff):
            await Repository.add_account(conn, account, now=now)
        await Repository.put_client(conn, client, now=now)
