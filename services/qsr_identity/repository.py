"""Identity storage: SQLAlchemy Core on `qsr_kit.db` engines (SQLite embedded, PostgreSQL).

Holds the queries only; use cases in `granting` / `signing_in` open one transaction per request.
Personal data (identifiers) lives here and nowhere else on the platform. Secrets are stored hashed
(passwords: argon2id; refresh tokens, codes, client secrets: SHA-256 of 256-bit random values).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from qsr_kit import db

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
metadata = sa.MetaData()

accounts = sa.Table(
    "identity_accounts",
    metadata,
    sa.Column("account_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("identifier", sa.String(254), unique=True, nullable=True),
    sa.Column("password_hash", sa.String(256), nullable=True),
    sa.Column("member_id", sa.String(64), nullable=True),
    sa.Column("store_ids", sa.JSON, nullable=False, default=list),
    sa.Column("created_at", sa.Float, nullable=False),
)
clients = sa.Table(
    "identity_clients",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("secret_hash", sa.String(64), nullable=True),  # None: a public client (app, PKCE)
    sa.Column("redirect_uris", sa.JSON, nullable=False),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
codes = sa.Table(
    "identity_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("account_id", sa.String(64), nullable=False),
    sa.Column("redirect_uri", sa.String(512), nullable=False),
    sa.Column("challenge", sa.String(64), nullable=False),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("family_id", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("used_at", sa.Float, nullable=True),
)
refresh_tokens = sa.Table(
    "identity_refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("family_id", sa.String(64), nullable=False, index=True),
    sa.Column("account_id", sa.String(64), nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("issued_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("family_expires_at", sa.Float, nullable=False),
    sa.Column("used_at", sa.Float, nullable=True),
    sa.Column("revoked_at", sa.Float, nullable=True),
)
signing_keys = sa.Table(
    "identity_signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("private_jwk", sa.JSON, nullable=False),
    sa.Column("activates_at", sa.Float, nullable=False),
    sa.Column("retires_at", sa.Float, nullable=True),
)
federated_links = sa.Table(
    "identity_federated_links",
    metadata,
    sa.Column("issuer", sa.String(512), primary_key=True),
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("account_id", sa.String(64), nullable=False, index=True),
    sa.Column("linked_at", sa.Float, nullable=False),
)


@dataclasses.dataclass(frozen=True)
class Account:
    account_id: str
    kind: str
    identifier: str | None
    password_hash: str | None
    member_id: str | None
    store_ids: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Client:
    client_id: str
    secret_hash: str | None
    redirect_uris: tuple[str, ...]
    scopes: frozenset[str]


def _account(row: Any) -> Account:
    return Account(
        account_id=row.account_id,
        kind=row.kind,
        identifier=row.identifier,
        password_hash=row.password_hash,
        member_id=row.member_id,
        store_ids=tuple(row.store_ids or ()),
    )


class Repository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls, url: str) -> Repository:
        return cls(db.engine_from_url(url))

    async def create_schema(self) -> None:
        """Alembic upgrade of the kit's and identity's branches (safe from every replica)."""
        await db.migrate(self.engine, version_locations=[MIGRATIONS], target_metadata=[metadata])

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()

    # --- accounts -------------------------------------------------------------------------

    @staticmethod
    async def add_account(conn: AsyncConnection, account: Account, *, now: float) -> bool:
        """False when the identifier is taken (the caller must not tell the client). A racing
        insert of the same identifier fails the transaction with IntegrityError instead."""
        identifier = account.identifier
        if identifier is not None and await Repository.account_by_identifier(conn, identifier):
            return False
        values = dataclasses.asdict(account) | {"store_ids": list(account.store_ids)}
        await conn.execute(accounts.insert().values(**values, created_at=now))
        return True

    @staticmethod
    async def account_by_identifier(conn: AsyncConnection, identifier: str) -> Account | None:
        row = (
            await conn.execute(sa.select(accounts).where(accounts.c.identifier == identifier))
        ).first()
        return None if row is None else _account(row)

    @staticmethod
    async def account_by_id(conn: AsyncConnection, account_id: str) -> Account | None:
        row = (
            await conn.execute(sa.select(accounts).where(accounts.c.account_id == account_id))
        ).first()
        return None if row is None else _account(row)

    # --- clients --------------------------------------------------------------------------

    @staticmethod
    async def put_client(conn: AsyncConnection, client: Client, *, now: float) -> None:
        await conn.execute(clients.delete().where(clients.c.client_id == client.client_id))
        await conn.execute(
            clients.insert().values(
                client_id=client.client_id,
                secret_hash=client.secret_hash,
                redirect_uris=list(client.redirect_uris),
                scopes=sorted(client.scopes),
                created_at=now,
            )
        )

    @staticmethod
    async def client_by_id(conn: AsyncConnection, client_id: str) -> Client | None:
        row = (
            await conn.execute(sa.select(clients).where(clients.c.client_id == client_id))
        ).first()
        if row is None:
            return None
        return Client(
            client_id=row.client_id,
            secret_hash=row.secret_hash,
            redirect_uris=tuple(row.redirect_uris),
            scopes=frozenset(row.scopes),
        )

    # --- authorization codes --------------------------------------------------------------

    @staticmethod
    async def add_code(conn: AsyncConnection, **values: Any) -> None:
        await conn.execute(codes.insert().values(**values))

    @staticmethod
    async def code_by_hash(conn: AsyncConnection, code_hash: str) -> Any:
        return (await conn.execute(sa.select(codes).where(codes.c.code_hash == code_hash))).first()

    @staticmethod
    async def mark_code_used(conn: AsyncConnection, code_hash: str, *, now: float) -> bool:
        """Compare-and-set: of two racing exchanges of one code, exactly one gets True."""
        result = await conn.execute(
            codes.update()
            .where(codes.c.code_hash == code_hash, codes.c.used_at.is_(None))
            .values(used_at=now)
        )
        return result.rowcount == 1

    # --- refresh tokens -------------------------------------------------------------------

    @staticmethod
    async def add_refresh(conn: AsyncConnection, **values: Any) -> None:
        await conn.execute(refresh_tokens.insert().values(**values))

    @staticmethod
    async def refresh_by_hash(conn: AsyncConnection, token_hash: str) -> Any:
        query = sa.select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        return (await conn.execute(query)).first()

    @staticmethod
    async def mark_refresh_used(conn: AsyncConnection, token_hash: str, *, now: float) -> bool:
        """Compare-and-set: only one of two concurrent uses of the same token wins."""
        result = await conn.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.token_hash == token_hash, refresh_tokens.c.used_at.is_(None))
            .values(used_at=now)
        )
        return result.rowcount == 1

    @staticmethod
    async def revoke_family(conn: AsyncConnection, family_id: str, *, now: float) -> int:
        result = await conn.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return result.rowcount

    # --- signing keys ---------------------------------------------------------------------

    @staticmethod
    async def signing_key_rows(conn: AsyncConnection) -> list[Any]:
        return list((await conn.execute(sa.select(signing_keys))).all())

    @staticmethod
    async def add_signing_key(conn: AsyncConnection, **values: Any) -> None:
        await conn.execute(signing_keys.insert().values(**values))

    @staticmethod
    async def set_key_retirement(conn: AsyncConnection, kid: str, retires_at: float | None) -> None:
        await conn.execute(
            signing_keys.update().where(signing_keys.c.kid == kid).values(retires_at=retires_at)
        )

    # --- federation -----------------------------------------------------------------------

    @staticmethod
    async def linked_account_id(conn: AsyncConnection, *, issuer: str, subject: str) -> str | None:
        query = sa.select(federated_links.c.account_id).where(
            federated_links.c.issuer == issuer, federated_links.c.subject == subject
        )
        return (await conn.execute(query)).scalar_one_or_none()

    @staticmethod
    async def link(
        conn: AsyncConnection, *, issuer: str, subject: str, account_id: str, now: float
    ) -> None:
        await conn.execute(
            federated_links.insert().values(
                issuer=issuer, subject=subject, account_id=account_id, linked_at=now
            )
        )
