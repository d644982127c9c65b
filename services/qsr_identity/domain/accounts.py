"""Guest and staff account rules: identifiers normalized (e-mail or E.164 phone), password policy.

Pure; the sign-up and sign-in use cases (`qsr_identity.signing_in`) call these before any storage.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, NewType

Identifier = NewType("Identifier", str)
AccountKind = Literal["guest", "staff"]

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 128  # bounds argon2 input and request size; NIST 800-63B asks for at least 64
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
_PHONE = re.compile(r"^\+[1-9][0-9]{7,14}$")  # ITU-T E.164: at most 15 digits
_PHONE_NOISE = re.compile(r"[\s().\-]")


class InvalidField(ValueError):
    """A field of a request breaks a rule; `field` names it for the problem+json answer."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def normalized_identifier(raw: str, *, field: str = "identifier") -> Identifier:
    """An e-mail (lower-cased, NFKC) or a phone number in E.164; anything else is refused."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if "@" in text:
        return normalized_email(text, field=field)
    return normalized_phone(text, field=field)


def normalized_email(raw: str, *, field: str = "email") -> Identifier:
    text = unicodedata.normalize("NFKC", raw).strip().lower()
    if len(text) > 254 or not _EMAIL.match(text):
        raise InvalidField(field, "not a valid e-mail address")
    return Identifier(text)


def normalized_phone(raw: str, *, field: str = "phone") -> Identifier:
    text = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", raw).strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if not _PHONE.match(text):
        raise InvalidField(field, "not a phone number in international form (+<country><number>)")
    return Identifier(text)


def check_password(password: str, *, identifier: str, field: str = "password") -> None:
    """NIST SP 800-63B style: length, not the identifier itself, not a single repeated character."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidField(field, f"must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidField(field, f"must be at most {MAX_PASSWORD_CHARS} characters")
    if password.strip().lower() == identifier.lower() or len(set(password)) == 1:
        raise InvalidField(field, "is too easy to guess")
