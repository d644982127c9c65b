"""Signing keys of the identity service: persisted, scheduled by `domain.keys`, served as a JWKS.

Private JWKs are stored in the identity database, sealed with AES-256-GCM when a key-encryption
key is configured (`sealing`), and that database is reachable only by this service.
"""

from __future__ import annotations

from typing import Any

from qsr_identity.domain import keys
from qsr_identity.repository import Repository
from qsr_identity.sealing import Sealer
from qsr_kit.domain import auth_tokens


class Keystore:
    def __init__(
        self,
        repository: Repository,
        *,
        publish_ahead_seconds: float,
        grace_seconds: float,
        sealer: Sealer | None = None,
    ) -> None:
        self._repository = repository
        self._sealer = sealer or Sealer(None)
        self._publish_ahead = publish_ahead_seconds
        self._grace = grace_seconds
        self._cache: dict[str, auth_tokens.SigningKey] = {}

    async def ensure_key(self, *, now: float) -> None:
        """First start: one key, active immediately (nothing to overlap with)."""
        async with self._repository.transaction() as conn:
            if not await Repository.signing_key_rows(conn):
                key = auth_tokens.SigningKey.generate()
                await Repository.add_signing_key(
                    conn,
                    kid=key.kid,
                    private_jwk=self._sealer.seal(key.private_jwk(), kid=key.kid),
                    activates_at=now,
                )

    async def rotate(self, *, now: float) -> str:
        new = auth_tokens.SigningKey.generate()
        async with self._repository.transaction() as conn:
            records = [_record(r) for r in await Repository.signing_key_rows(conn)]
            schedule = keys.rotated(
                records, new_kid=new.kid, now=now, publish_ahead_seconds=self._publish_ahead
            )
            for record in schedule[:-1]:
                await Repository.set_key_retirement(conn, record.kid, record.retires_at)
            await Repository.add_signing_key(
                conn,
                kid=new.kid,
                private_jwk=self._sealer.seal(new.private_jwk(), kid=new.kid),
                activates_at=schedule[-1].activates_at,
            )
        return new.kid

    async def signing_key(self, *, now: float) -> auth_tokens.SigningKey:
        async with self._repository.transaction() as conn:
            rows = await Repository.signing_key_rows(conn)
        kid = keys.signing_kid([_record(r) for r in rows], now=now)
        return self._key(next(r for r in rows if r.kid == kid))

    async def jwks(self, *, now: float) -> dict[str, list[dict[str, Any]]]:
        async with self._repository.transaction() as conn:
            rows = await Repository.signing_key_rows(conn)
        published = set(
            keys.published_kids([_record(r) for r in rows], now=now, grace_seconds=self._grace)
        )
        return {"keys": [self._key(r).public_jwk() for r in rows if r.kid in published]}

    def _key(self, row: Any) -> auth_tokens.SigningKey:
        if row.kid not in self._cache:
            jwk = self._sealer.unseal(row.private_jwk, kid=row.kid)
            self._cache[row.kid] = auth_tokens.SigningKey.from_jwk(jwk)
        return self._cache[row.kid]


def _record(row: Any) -> keys.KeyRecord:
    return keys.KeyRecord(kid=row.kid, activates_at=row.activates_at, retires_at=row.retires_at)
