"""Wire models of the identity API: strict inputs (unknown JSON fields refused), typed outputs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# What `domain.accounts.normalized_identifier` can accept: an e-mail, or a phone in international
# form (+ or 00, digits with optional spaces, dots, dashes, parentheses).
IDENTIFIER = r"^\s*([^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}|(\+|00)[1-9][0-9 ().-]{7,24})\s*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignUp(Strict):
    identifier: str = Field(
        max_length=254, pattern=IDENTIFIER, description="e-mail or +E.164 phone"
    )
    password: str = Field(min_length=10, max_length=128)


class StaffIn(Strict):
    identifier: str = Field(max_length=254, pattern=IDENTIFIER)
    password: str = Field(min_length=10, max_length=128)
    store_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=200
    )


class LinkIn(Strict):
    id_token: str = Field(min_length=1, max_length=4096)


class AuthorizeForm(BaseModel):
    # OAuth forms ignore unknown parameters (RFC 6749 §3.1), so no extra="forbid" here.
    response_type: str = Field(min_length=1, max_length=32)
    client_id: str = Field(min_length=1, max_length=64)
    redirect_uri: str = Field(min_length=1, max_length=512)
    code_challenge: str | None = Field(default=None, max_length=128)
    code_challenge_method: str | None = Field(default=None, max_length=16)
    scope: str | None = Field(default=None, max_length=1024)
    state: str | None = Field(default=None, max_length=512)
    identifier: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=128)


class TokenForm(BaseModel):
    grant_type: str = Field(min_length=1, max_length=128)
    client_id: str | None = Field(default=None, max_length=64)
    client_secret: str | None = Field(default=None, max_length=256)
    code: str | None = Field(default=None, max_length=256)
    redirect_uri: str | None = Field(default=None, max_length=512)
    code_verifier: str | None = Field(default=None, max_length=128)
    refresh_token: str | None = Field(default=None, max_length=256)
    scope: str | None = Field(default=None, max_length=1024)
    subject_token: str | None = Field(default=None, max_length=4096)
    subject_token_type: str | None = Field(default=None, max_length=128)


class RevokeForm(BaseModel):
    token: str = Field(min_length=1, max_length=4096)
    token_type_hint: str | None = Field(default=None, max_length=64)
    client_id: str | None = Field(default=None, max_length=64)
    client_secret: str | None = Field(default=None, max_length=256)


class Accepted(Strict):
    status: Literal["accepted"] = "accepted"


class AccountOut(Strict):
    account_id: str
    kind: Literal["guest", "staff"]
    member_id: str | None
    identifier: str | None
    store_ids: list[str]


class TokenOut(Strict):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    refresh_token: str | None = None


class KeyRotated(Strict):
    kid: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    model_config = ConfigDict(extra="allow")


def problems(*statuses: int, post: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for problem+json answers, so fuzzers check the documented content type."""
    schema = Problem.model_json_schema()
    # POST bodies can also be unparseable (400) or over the limit of edge.BodyLimit (413).
    codes = tuple(sorted({*statuses, 400, 413})) if post else statuses
    return {
        s: {"description": "problem", "content": {"application/problem+json": {"schema": schema}}}
        for s in codes
    }
