"""Private signing keys sealed at rest with a key-encryption key: nothing private in the database,
restarts with the same key work, a wrong or missing key stops startup."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
import pydantic
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from qsr_identity import sealing
from qsr_identity.main import create_app
from tests.qsr_identity.conftest import ISSUER, Clock, identity_settings, running


def new_kek() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


async def start_and_get_jwks(tmp_path: Path, clock: Clock, kek: str | None) -> dict[str, object]:
    app = create_app(identity_settings(tmp_path, key_encryption_key=kek), clock=clock)
    async with running(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            body: dict[str, object] = (await http.get("/.well-known/jwks.json")).json()
            return body


async def stored_keys(tmp_path: Path) -> list[dict[str, object]]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}")
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT private_jwk FROM identity_signing_keys"))).all()
    await engine.dispose()
    return [json.loads(r[0]) for r in rows]


async def test_sealed_keys_hold_no_private_material(tmp_path: Path, clock: Clock) -> None:
    await start_and_get_jwks(tmp_path, clock, new_kek())
    (stored,) = await stored_keys(tmp_path)
    assert stored["sealed"] == "A256GCM"
    assert "d" not in stored


async def test_restart_with_the_same_kek_keeps_the_keys(tmp_path: Path, clock: Clock) -> None:
    kek = new_kek()
    first = await start_and_get_jwks(tmp_path, clock, kek)
    again = await start_and_get_jwks(tmp_path, clock, kek)
    assert first == again


@pytest.mark.parametrize(
    "second", [pytest.param("other", id="wrong-kek"), pytest.param(None, id="no-kek")]
)
async def test_startup_fails_without_the_right_kek(
    tmp_path: Path, clock: Clock, second: str | None
) -> None:
    await start_and_get_jwks(tmp_path, clock, new_kek())
    with pytest.raises(AssertionError, match=r"SealingError|startup\.failed"):
        await start_and_get_jwks(tmp_path, clock, new_kek() if second else None)


def test_kek_must_be_32_bytes(tmp_path: Path) -> None:
    with pytest.raises(pydantic.ValidationError, match="32 bytes"):
        identity_settings(tmp_path, key_encryption_key="c2hvcnQ")


def test_seal_binds_the_kid() -> None:
    sealer = sealing.Sealer(os.urandom(32))
    sealed = sealer.seal({"kty": "EC"}, kid="a")
    with pytest.raises(sealing.SealingError):
        sealer.unseal(sealed, kid="b")
