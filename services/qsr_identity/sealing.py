"""Envelope encryption of private signing keys at rest: AES-256-GCM under a key-encryption key from
settings (in production from a secret store / KMS), the kid bound as associated data.

Without a key-encryption key (embedded mode) private JWKs are stored as they are.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED = "A256GCM"


class SealingError(Exception):
    """A sealed key cannot be opened: missing or wrong key-encryption key."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decoded_kek(text: str) -> bytes:
    """A key-encryption key from its base64url text; exactly 32 bytes."""
    key = _unb64(text.strip())
    if len(key) != 32:
        raise ValueError("key_encryption_key: must be 32 bytes, base64url-encoded")
    return key


class Sealer:
    def __init__(self, kek: bytes | None) -> None:
        self._aead = AESGCM(kek) if kek is not None else None

    def seal(self, jwk: dict[str, Any], *, kid: str) -> dict[str, Any]:
        if self._aead is None:
            return jwk
        nonce = os.urandom(12)
        ciphertext = self._aead.encrypt(nonce, json.dumps(jwk).encode(), kid.encode())
        return {"sealed": SEALED, "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}

    def unseal(self, stored: dict[str, Any], *, kid: str) -> dict[str, Any]:
        if stored.get("sealed") != SEALED:
            return stored  # stored before a key-encryption key was configured
        if self._aead is None:
            raise SealingError(f"signing key {kid} is sealed; key_encryption_key is not set")
        try:
            plain = self._aead.decrypt(
                _unb64(stored["nonce"]), _unb64(stored["ciphertext"]), kid.encode()
            )
        except (InvalidTag, KeyError, ValueError) as error:
            raise SealingError(f"signing key {kid} does not open with this key") from error
        opened: dict[str, Any] = json.loads(plain)
        return opened
